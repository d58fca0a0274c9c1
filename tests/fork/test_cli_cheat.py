"""`flasharb cheat`: deal, impersonate, snapshot, revert and mine from the command line."""

from __future__ import annotations

import pytest
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.cheats import balance_of
from tests.helpers import Cli

WHO = "0x000000000000000000000000000000000000bEEF"


class TestDeal:
    @pytest.mark.parametrize(
        ("token", "amount", "address", "wei"),
        [
            ("WETH", "500ether", A.WETH, 500 * 10**18),
            ("usdc", "2.5e6USDC", A.USDC, 25 * 10**11),
            ("USDT", "1000", A.USDT, 1000),  # USDT's own storage layout
            (A.DAI, "7.25DAI", A.DAI, 725 * 10**16),
        ],
        ids=["weth", "usdc", "usdt", "dai-by-address"],
    )
    def test_token_balance(
        self, cli: Cli, w3: Web3, token: str, amount: str, address: str, wei: int
    ) -> None:
        out = cli.json("cheat", "deal", token, WHO, amount)
        assert out["balance"] == str(wei)
        assert balance_of(w3, address, WHO) == wei  # what the token itself says

    def test_ether(self, cli: Cli, w3: Web3) -> None:
        cli.json("cheat", "deal", "ETH", WHO, "12.5ether")
        assert w3.eth.get_balance(WHO) == 125 * 10**17  # type: ignore[arg-type]


def test_impersonate_then_send_as_that_account(cli: Cli, w3: Web3) -> None:
    cli.json("cheat", "deal", "ETH", WHO, "1ether")
    cli.json("cheat", "impersonate", WHO)
    tx = w3.eth.send_transaction({"from": WHO, "to": A.WETH, "value": 10**17})  # wrap 0.1 ETH
    assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    assert balance_of(w3, A.WETH, WHO) == 10**17
    assert cli.json("cheat", "impersonate", WHO, "--stop")["impersonating"] is False
    with pytest.raises(Exception, match="(?i)unknown account|not unlocked|No Signer"):
        w3.eth.send_transaction({"from": WHO, "to": A.WETH, "value": 1})


def test_snapshot_mine_revert(cli: Cli, w3: Web3) -> None:
    start = w3.eth.block_number
    snap = cli.json("cheat", "snapshot")
    assert snap["block"] == start
    cli.json("cheat", "deal", "WETH", WHO, "3ether")
    mined = cli.json("cheat", "mine", "5")
    assert mined["block"] == start + 5 == w3.eth.block_number
    back = cli.json("cheat", "revert", snap["snapshot"])
    assert back["block"] == start == w3.eth.block_number
    assert balance_of(w3, A.WETH, WHO) == 0
    line = cli.error("cheat", "revert", snap["snapshot"], code=2)  # used up by the revert
    assert f"no snapshot {snap['snapshot']}" in line and "flasharb cheat snapshot" in line


def test_mine_with_an_interval(cli: Cli, w3: Web3) -> None:
    t0 = w3.eth.get_block("latest")["timestamp"]
    start = w3.eth.block_number
    cli.json("cheat", "mine", "2", "--interval", "60")
    assert w3.eth.block_number == start + 2
    assert w3.eth.get_block("latest")["timestamp"] - t0 == 120  # not the fork's 2 x 12 s


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["deal", "WTFH", WHO, "1"], ["TOKEN", "unknown token 'WTFH'"]),
        (["deal", "WETH", "0x12", "1"], ["ACCOUNT", "40 hex digits"]),
        (["deal", "WETH", WHO, "0"], ["AMOUNT", "not positive"]),
        (["deal", "WETH", WHO, "5USDC"], ["5USDC is in USDC", "token is WETH"]),
        (["deal", "ETH", WHO, "5USDC"], ["5USDC is in USDC", "token is ETH"]),
        (["deal", A.UNISWAP_V2_FACTORY, WHO, "1"], [A.UNISWAP_V2_FACTORY, "balanceOf"]),
        (["revert", "xyz"], ["'xyz' is not a snapshot id"]),
        (["revert", "0xffffffff"], ["no snapshot 0xffffffff"]),  # far past the ids a run takes
        (["mine", "0"], ["BLOCKS", "0"]),
        (["impersonate", "bob"], ["ACCOUNT", "40 hex digits"]),
    ],
    ids=[
        "unknown-token", "bad-account", "zero", "wrong-unit", "eth-wrong-unit", "not-a-token",
        "bad-id", "unknown-id", "mine-zero", "bad-impersonate",
    ],
)  # fmt: skip
def test_bad_input(cli: Cli, w3: Web3, args: list[str], says: list[str]) -> None:
    block = w3.eth.block_number
    line = cli.error("cheat", *args, code=2)
    assert all(s in line for s in says), line
    assert w3.eth.block_number == block
