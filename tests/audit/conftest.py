"""Fixtures of the audit suite: the "nothing lost" guard, the diamond's inventory, an allowed
executor that is not the owner, and the hostile token zoo."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, cast

import pytest

# the helpers assert too: show their values on failure (must run before they are imported)
pytest.register_assert_rewrite("tests.audit.attack", "tests.audit.nothing_lost")

# ruff: noqa: E402 - the imports below must follow register_assert_rewrite
from eth_utils import function_abi_to_4byte_selector
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.artifacts import contract
from flasharb.chain.cheats import deal
from flasharb.execute.deploy import FACETS
from flasharb.replica import zoo
from flasharb_testing import routes as R
from tests.audit.attack import AUDIT_CONTRACTS
from tests.audit.nothing_lost import NothingLost

INVENTORY: dict[str, int] = {A.USDC: 10**12, A.WETH: 10**21, A.DAI: 10**24, A.USDT: 10**11}


def _known_selectors() -> list[bytes]:
    """Every selector a facet or an audit contract declares: their routing entries are read."""
    out: list[bytes] = []
    for name in (*FACETS, *AUDIT_CONTRACTS):
        out += [
            function_abi_to_4byte_selector(cast(Any, e))
            for e in contract(name).abi
            if e["type"] == "function"
        ]
    return sorted(set(out)) + [bytes.fromhex("deadbeef"), bytes.fromhex("12345678")]


@pytest.fixture(scope="session")
def _lost(session_w3: Web3, deployment: Any) -> NothingLost:
    by_token: dict[str, list[str]] = defaultdict(list)
    for p in R.registry(session_w3):
        for t in p.tokens:
            by_token[t].append(p.address)
    return NothingLost(
        session_w3,
        deployment.diamond,
        deployment.owner,
        sorted(by_token),
        {t: tuple(ps) for t, ps in by_token.items()},
        [str(a) for a in session_w3.eth.accounts],
        _known_selectors(),
    )


@pytest.fixture
def nothing_lost(w3: Web3, _lost: NothingLost) -> NothingLost:
    """`with nothing_lost.guard(tokens=..., spenders=..., accounts=...):` around an attack."""
    return _lost


@pytest.fixture
def stocked(w3: Web3, deployment: Any) -> dict[str, int]:
    """The diamond holds inventory worth stealing."""
    for token, amount in INVENTORY.items():
        deal(w3, token, deployment.diamond, amount)
    return INVENTORY


@pytest.fixture
def hot_key(w3: Web3, diamond: Any, owner: str, executor_key: str) -> str:
    """An allowed executor that is not the owner (a hot key: may trade, nothing else)."""
    tx = diamond.functions.setExecutor(executor_key, True).transact({"from": owner})
    assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    return executor_key


@pytest.fixture
def zoo_tokens(w3: Web3, attacker: str) -> dict[str, str]:
    """One of each hostile zoo token, owned by the attacker (who holds the supply)."""
    return zoo.deploy_zoo(w3, attacker)
