"""Shared fixtures: one replica-as-upstream fork per session, a snapshot per test, role accounts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from flasharb.chain.cheats import snapshot
from flasharb.chain.node import Lab
from flasharb.chain.rpc import connect
from flasharb.replica.lab import start_replica_lab


@pytest.fixture(scope="session", autouse=True)
def _isolated_state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keep tests away from the developer's .flasharb/ (node records, deployments)."""
    d = tmp_path_factory.mktemp("flasharb-state")
    mp = pytest.MonkeyPatch()
    mp.setenv("FLASHARB_STATE_DIR", str(d))
    mp.delenv("FLASHARB_RPC_URL", raising=False)
    mp.delenv("FLASHARB_FORK_URL", raising=False)
    yield d
    mp.undo()


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    """The replica served by an upstream anvil, and an anvil fork of it; both stopped at the end."""
    with start_replica_lab() as running:
        yield running


@pytest.fixture(scope="session")
def session_w3(lab: Lab) -> Web3:
    return connect(lab.rpc_url)


@pytest.fixture
def w3(session_w3: Web3) -> Iterator[Web3]:
    """The fork, rolled back after the test: every test starts from the same state."""
    with snapshot(session_w3):
        yield session_w3


@pytest.fixture(scope="session")
def owner(session_w3: Web3) -> str:
    return str(session_w3.eth.accounts[0])


@pytest.fixture(scope="session")
def attacker(session_w3: Web3) -> str:
    return str(session_w3.eth.accounts[7])


@pytest.fixture(scope="session")
def executor_key(session_w3: Web3) -> str:
    """A second funded account: not the owner (an executor-to-be, a stranger today)."""
    return str(session_w3.eth.accounts[3])


@pytest.fixture(scope="session")
def deployment(session_w3: Web3, owner: str, lab: Lab) -> Any:
    """The diamond, deployed once per session before any per-test snapshot."""
    from flasharb.execute.deploy import deploy

    return deploy(session_w3, owner, lab.rpc_url, record=False)


@pytest.fixture(scope="session")
def diamond(session_w3: Web3, deployment: Any) -> Any:
    from flasharb.execute.deploy import diamond_abi

    return session_w3.eth.contract(address=deployment.diamond, abi=diamond_abi())


@pytest.fixture
def cli(w3: Web3, lab: Lab, tmp_path: Path) -> Any:
    """The CLI on the session fork; `w3` rolls back whatever it does."""
    from tests.helpers import Cli

    return Cli(lab.rpc_url, tmp_path)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print what the parity suites compared: cases per venue, wei differences, ticks crossed."""
    from tests.parity_stats import NOTES, STATS

    if not STATS and not NOTES:
        return
    tr = terminalreporter
    tr.section("pool math parity (Python vs the real contracts)")
    for venue, s in sorted(STATS.items()):
        tr.write_line(
            f"{venue:<12} {s.cases:>6} cases ({s.exact_in} exact-in, {s.exact_out} exact-out, "
            f"{s.reverts_matched} matched reverts)  max diff {s.max_wei_diff} wei"
            + (
                f"  ticks crossed {s.ticks_crossed} (max {s.max_ticks_in_one_swap} in one swap)"
                if s.ticks_crossed
                else ""
            )
        )
    for line in NOTES:
        tr.write_line(line)
