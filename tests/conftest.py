"""flasharb's own test fixtures on top of its pytest plugin (flasharb.pytest_plugin): an isolated
state folder, the CLI on the session fork, the parity summary; and the tiers.

Every test lives in one tier folder, and the folder sets its marker (`pytest -m unit` is
tests/unit):

    tests/unit         no chain, no network (tests/unit/conftest.py makes both fail)  make test-unit
    tests/fork         everything that starts or talks to an Anvil
    tests/experiments  the experiment runner on forks
    tests/audit        adversarial tests, Slither, the diamond fuzz                     make audit
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from flasharb.chain.node import Lab

TESTS = Path(__file__).resolve().parent
TIERS = ("unit", "fork", "experiments", "audit")


def _tier(item: pytest.Item) -> str | None:
    """The tier folder `item` lives in; None for items outside tests/ (tests_ape/)."""
    try:
        rel = item.path.resolve().relative_to(TESTS)
    except ValueError:
        return None
    if len(rel.parts) < 2 or rel.parts[0] not in TIERS:
        raise pytest.UsageError(
            f"{item.nodeid} is in no tier: move it into tests/{', tests/'.join(TIERS)}"
        )
    return rel.parts[0]


@pytest.hookimpl(tryfirst=True)  # before `-m` selects, and before the audit summary counts
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test with its folder's tier; a tier marker written by hand must agree. On a
    pytest-xdist worker, the files that hold a `slow` test come first (each file in its own
    order): `--dist loadfile` hands out files in collection order, and the wheel smoke started
    last was the run's tail, with the other worker idle."""
    for item in items:
        tier = _tier(item)
        if tier is None:
            continue
        other = {m.name for m in item.iter_markers() if m.name in TIERS} - {tier}
        if other:
            raise pytest.UsageError(
                f"{item.nodeid} is marked {', '.join(sorted(other))} but lives in tests/{tier}:"
                " the folder sets the tier, move the file or drop the marker"
            )
        item.add_marker(tier)
    if hasattr(config, "workerinput"):  # every worker collects, and in the same order
        slow = {item.path for item in items if item.get_closest_marker("slow") is not None}
        items.sort(key=lambda item: item.path not in slow)  # stable: the rest keep their order


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


# lab, session_w3, w3, owner, executor, attacker, deployment, diamond, deal, shock, impersonate,
# compile_contract, market and trader come from flasharb's pytest plugin (flasharb.pytest_plugin),
# as in any project that installs flasharb.


@pytest.fixture(scope="session")
def executor_key(session_w3: Web3) -> str:
    """A funded account that is not the owner and not the deployment's executor: an
    executor-to-be, a stranger today."""
    return str(session_w3.eth.accounts[3])


@pytest.fixture
def cli(w3: Web3, lab: Lab, tmp_path: Path) -> Any:
    """The CLI on the session fork; `w3` rolls back whatever it does."""
    from tests.helpers import Cli

    return Cli(lab.rpc_url, tmp_path)


# ---------------------------------------------------------------- pytest-xdist (`make test`)
# A worker's counters (parity cases, the audit's Slither and fuzz figures) live in the worker; it
# sends them in `workeroutput` when it finishes and the controller, which prints the terminal
# summaries, adds them up. Without xdist nothing of this runs.


def pytest_configure(config: pytest.Config) -> None:
    """Register the audit summary (tests/audit/summary.py) as a plugin: a conftest's own report
    hooks only see the tests under it, the plugin sees the session's (tier markers are set
    first, above); registered here, not in tests/audit/conftest.py, because a pytest-xdist
    controller collects nothing and loads only this conftest. And the workers' counters."""
    from tests.audit.summary import AuditSummary

    config.pluginmanager.register(AuditSummary(), "flasharb-audit-summary")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_WorkerCounters(config), "flasharb-worker-counters")


class _WorkerCounters:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        out = getattr(session.config, "workeroutput", None)  # sent once this hook has run
        if out is None:  # the controller, or no workers
            return
        from tests.parity_stats import export

        out["flasharb_parity"] = export()
        audit = session.config.pluginmanager.get_plugin("flasharb-audit-summary")
        if audit is not None:
            out["flasharb_audit"] = audit.export()

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """The controller takes a finished worker's counters."""
        from tests.parity_stats import merge

        out = getattr(node, "workeroutput", {})
        if "flasharb_parity" in out:
            merge(out["flasharb_parity"])
        audit = self.config.pluginmanager.get_plugin("flasharb-audit-summary")
        if audit is not None and "flasharb_audit" in out:
            audit.merge(out["flasharb_audit"])


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
