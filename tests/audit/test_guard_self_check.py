"""The "nothing lost" guard can fail: a storage word it lists, a balance it reads, and a write at
a slot it does not list (caught by the prestate diff of the mined transaction) each trip it."""

from __future__ import annotations

from typing import Any

import pytest
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.cheats import deal
from flasharb.chain.rpc import send
from tests.audit.nothing_lost import NothingLost


def _owner_tx(w3: Web3, diamond: Any, owner: str, fn: str, *args: Any) -> None:
    send(w3, {"from": owner, "to": diamond.address, "data": diamond.encode_abi(fn, list(args))})


def test_a_listed_storage_word_trips_it(
    w3: Web3, diamond: Any, owner: str, nothing_lost: NothingLost
) -> None:
    with pytest.raises(AssertionError, match=r"guard\.paused\|capCount"):  # noqa: SIM117
        with nothing_lost.guard():
            _owner_tx(w3, diamond, owner, "setPaused", True)


def test_a_balance_trips_it(w3: Web3, deployment: Any, nothing_lost: NothingLost) -> None:
    with pytest.raises(AssertionError, match=rf"diamond\.balance\[{A.DAI}\]"):  # noqa: SIM117
        with nothing_lost.guard():
            deal(w3, A.DAI, deployment.diamond, 1)


def test_an_unlisted_slot_trips_it(
    w3: Web3, diamond: Any, owner: str, nothing_lost: NothingLost
) -> None:
    stranger = "0x" + "5a" * 20  # not among the accounts whose executor flag is read
    with pytest.raises(AssertionError, match="a transaction wrote to the diamond"):  # noqa: SIM117
        with nothing_lost.guard():
            _owner_tx(w3, diamond, owner, "setExecutor", Web3.to_checksum_address(stranger), True)
