"""The fork toolkit: deal finds balance slots by probing, snapshots roll back, time moves."""

from __future__ import annotations

import pytest
from web3 import Web3

from flasharb.chain.cheats import (
    advance_time,
    balance_of,
    deal,
    find_balance_slot,
    impersonating,
    mine,
    snapshot,
)
from flasharb.errors import FlasharbValueError
from flasharb.replica.spec import load_spec


class TestDeal:
    """deal() works on every token of the replica, whatever its storage layout."""

    def test_every_token(self, w3: Web3, attacker: str) -> None:
        for token in load_spec().tokens:
            supply_slot = find_balance_slot(w3, token.address, attacker)
            deal(w3, token.address, attacker, 12345 * 10**token.decimals)
            assert balance_of(w3, token.address, attacker) == 12345 * 10**token.decimals, (
                supply_slot
            )

    def test_probing_leaves_no_trace(self, w3: Web3, attacker: str, owner: str) -> None:
        token = load_spec().token("USDC").address
        before = balance_of(w3, token, owner)
        find_balance_slot(w3, token, attacker)
        assert balance_of(w3, token, owner) == before
        assert balance_of(w3, token, attacker) == 0

    def test_not_a_token(self, w3: Web3, attacker: str) -> None:
        with pytest.raises(FlasharbValueError, match="balanceOf|balance slot"):
            deal(w3, w3.eth.accounts[1], attacker, 1)


class TestTimeAndSnapshots:
    """mine/advance_time move the chain; snapshot() undoes everything inside it."""

    def test_advance_time_and_mine(self, w3: Web3) -> None:
        start = w3.eth.get_block("latest")
        advance_time(w3, 3600)
        after = w3.eth.get_block("latest")
        assert after["number"] == start["number"] + 1
        assert after["timestamp"] >= start["timestamp"] + 3600
        mine(w3, 5)
        assert w3.eth.block_number == after["number"] + 5

    def test_snapshot_rolls_back(self, w3: Web3, attacker: str) -> None:
        token = load_spec().token("DAI").address
        block = w3.eth.block_number
        with snapshot(w3):
            deal(w3, token, attacker, 10**24)
            mine(w3, 3)
        assert balance_of(w3, token, attacker) == 0
        assert w3.eth.block_number == block

    def test_impersonating_sends_as_anyone(self, w3: Web3) -> None:
        nobody = Web3.to_checksum_address("0x" + "5e" * 20)
        with impersonating(w3, nobody, eth=10**18):
            tx = w3.eth.send_transaction({"from": nobody, "to": nobody, "value": 1})
            assert w3.eth.wait_for_transaction_receipt(tx)["from"] == nobody
