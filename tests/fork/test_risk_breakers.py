"""The circuit breakers of `flasharb run` (issue 17) on the replica fork: each limit trips on a
condition produced for real, pauses the child on chain (`paused()` is true afterwards), says in
the journal which limit, its use and its threshold; the child trades no more, in this run or the
next, until `flasharb risk resume`.

Losses are real reverts: a proxy in front of the fork mines one empty block before every signed
transaction reaches the node (a transaction that arrives one block late), and the trades carry
a one-block deadline, so executeArb reverts with DeadlinePassed and its gas is lost."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from flasharb.chain.node import Lab
from flasharb.chain.rpc import connect
from flasharb.execute.deploy import Deployment, deploy_capital
from flasharb.journal.store import Journal
from flasharb.run.loop import BlockReport, RunConfig, Runner
from flasharb.run.risk import RiskLimits, is_paused
from tests.fork.fault_proxy import FaultProxy
from tests.helpers import Cli

MAX_STEPS = 8  # a guard against a run that never trades; each breaker trips in its first block


@dataclass
class Outcome:
    runner: Runner
    journal: Journal
    reports: list[BlockReport]

    @property
    def tripped_at(self) -> BlockReport:
        return next(r for r in self.reports if r.tripped)


@pytest.fixture
def late(lab: Lab) -> Iterator[FaultProxy]:
    """A proxy that mines an empty block before forwarding each eth_sendRawTransaction."""
    node = connect(lab.rpc_url)

    def mine_first(n: int, methods: list[str]) -> None:
        if "eth_sendRawTransaction" in methods:
            node.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    with FaultProxy(lab.rpc_url, hook=mine_first) as proxy:
        yield proxy


def _run(
    w3: Web3, deployment: Deployment, path: Path, limits: RiskLimits, **config: Any
) -> Outcome:
    journal = Journal(path)
    runner = Runner(
        w3,
        deployment,
        journal,
        RunConfig(top=2, background_swaps=2, seed=5, limits=limits, **config),
    )
    runner.start()
    reports: list[BlockReport] = []
    for i in range(MAX_STEPS):
        report = runner.step(first=i == 0)
        if report is not None:
            reports.append(report)
            if report.tripped:
                break
    return Outcome(runner, journal, reports)


def _cost(w3: Web3, rows: list[dict[str, Any]]) -> int:
    """The gas these journaled trades cost, from their receipts."""
    total = 0
    for row in rows:
        r = w3.eth.get_transaction_receipt(row["tx_hash"])
        total += r["gasUsed"] * r["effectiveGasPrice"]
    return total


def _assert_tripped(
    w3: Web3, out: Outcome, deployment: Deployment, limit: str, value: int, threshold: int
) -> None:
    report = out.tripped_at
    (trip,) = report.tripped
    assert (trip.child, trip.limit, trip.value, trip.threshold) == (
        deployment.diamond,
        limit,
        value,
        threshold,
    )
    assert is_paused(w3, deployment.diamond)  # on chain
    (event,) = out.journal.risk_events(out.runner.lab, deployment.diamond)
    assert (event["event"], event["limit_name"]) == ("tripped", limit)
    assert (event["value"], event["threshold"], event["block"]) == (
        str(value),
        str(threshold),
        report.block,
    )
    pause = w3.eth.get_transaction_receipt(event["tx_hash"])
    assert pause["status"] == 1 and pause["to"] == deployment.diamond
    # the child trades no more: its executor sends nothing in the next blocks
    nonce = w3.eth.get_transaction_count(deployment.executor)
    for _ in range(3):
        after = out.runner.step()
        assert after is None or (not after.trades and not after.reverted)
    assert w3.eth.get_transaction_count(deployment.executor) == nonce
    assert out.runner.halted()[deployment.diamond].limit == limit


class TestEachBreakerTrips:
    def test_daily_gas_budget(self, w3: Web3, deployment: Deployment, tmp_path: Path) -> None:
        out = _run(w3, deployment, tmp_path / "j.sqlite", RiskLimits(daily_gas_wei=1))
        report = out.tripped_at
        assert report.trades and not report.reverted  # good trades: their gas alone trips it
        spent = _cost(w3, [dict(t) for r in out.reports for t in r.trades])
        _assert_tripped(w3, out, deployment, "daily_gas", spent, 1)

    def test_daily_net_loss(
        self, w3: Web3, deployment: Deployment, tmp_path: Path, late: FaultProxy
    ) -> None:
        limits = RiskLimits(daily_loss_wei=10**9)  # 1 gwei of ETH: one lost gas bill is more
        out = _run(connect(late.url), deployment, tmp_path / "j.sqlite", limits, deadline_blocks=1)
        report = out.tripped_at
        assert report.reverted and not report.trades
        lost = _cost(w3, [dict(r) for r in report.reverted])
        _assert_tripped(w3, out, deployment, "daily_loss", lost, 10**9)

    def test_maximum_drawdown(
        self, w3: Web3, deployment: Deployment, tmp_path: Path, late: FaultProxy
    ) -> None:
        limits = RiskLimits(max_drawdown_wei=1)
        out = _run(connect(late.url), deployment, tmp_path / "j.sqlite", limits, deadline_blocks=1)
        lost = _cost(w3, [dict(r) for r in out.tripped_at.reverted])
        _assert_tripped(w3, out, deployment, "drawdown", lost, 1)

    def test_consecutive_reverted_trades(
        self, w3: Web3, deployment: Deployment, tmp_path: Path, late: FaultProxy
    ) -> None:
        limits = RiskLimits(max_consecutive_reverts=2)
        out = _run(connect(late.url), deployment, tmp_path / "j.sqlite", limits, deadline_blocks=1)
        reverted = [r for rep in out.reports for r in rep.reverted]
        assert len(reverted) == 2 and all(
            w3.eth.get_transaction_receipt(r["tx_hash"])["status"] == 0 for r in reverted
        )
        _assert_tripped(w3, out, deployment, "consecutive_reverts", 2, 2)
        rows = out.journal.rows("SELECT status, gas_cost_wei FROM trades WHERE status='reverted'")
        assert [int(r["gas_cost_wei"]) for r in rows] == [int(r["gas_cost_wei"]) for r in reverted]


@pytest.mark.slow  # four `flasharb run`s, each building its market
def test_a_tripped_child_waits_for_resume_across_runs(w3: Web3, cli: Cli) -> None:
    """Through the CLI: a run trips, a rerun does not trade the child, `risk status` shows it,
    `risk resume` unpauses it (owner), the next run trades with fresh windows."""
    dep = cli.json("deploy")
    diamond, executor = dep["diamond"], dep["executor"]
    run = ["run", "--blocks", "3", "--background-swaps", "2", "--seed", "3", "--json"]

    first = cli.run(*run, "--max-daily-gas", "1")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout.splitlines()[-1])
    (trip,) = summary["tripped"]
    assert (trip["child"], trip["limit"], trip["threshold"]) == (diamond, "daily_gas", "1")
    assert is_paused(w3, diamond)

    status = cli.json("risk", "status")
    (gas_line,) = [s for s in status["status"] if s["limit"] == "daily_gas"]
    assert gas_line["state"] == f"tripped at block {trip['block']}" and gas_line["paused"]
    assert gas_line["use"] == trip["value"] and status["limits_from"].startswith("run ")

    nonce = w3.eth.get_transaction_count(executor)
    again = cli.run(*run)
    assert again.returncode == 0, again.stderr
    assert "paused by its daily_gas breaker" in again.stderr
    assert json.loads(again.stdout.splitlines()[-1])["trades"] == 0
    assert w3.eth.get_transaction_count(executor) == nonce  # nothing sent

    resumed = cli.json("risk", "resume", "--child", "diamond")
    assert resumed["was"]["limit"] == "daily_gas" and resumed["was_paused"]
    assert not is_paused(w3, diamond)
    err = cli.error("risk", "resume", "--child", "diamond", code=2)
    assert "neither tripped nor paused" in err

    after = cli.run(*run, "--max-daily-gas", "1ether")
    assert after.returncode == 0, after.stderr
    done = json.loads(after.stdout.splitlines()[-1])
    assert done["trades"] > 0 and done["tripped"] == [] and done["halted"] == {}
    (gas_line,) = [s for s in cli.json("risk", "status")["status"] if s["limit"] == "daily_gas"]
    assert gas_line["state"] == "ok" and 0 < int(gas_line["use"]) < 10**18  # counted anew


def test_a_child_of_a_master_is_paused_by_the_risk_key_and_its_sibling_trades_on(
    w3: Web3, owner: str, tmp_path: Path
) -> None:
    """With a master, the breaker pauses the child with its `pause()`, signed by the risk
    guardian's key (not the owner's); the block's best trade then goes to the next child. One
    trade per block (top 1): the first child takes it, spends gas, trips at once."""
    dep = deploy_capital(w3, owner, 2, record=False)
    journal = Journal(tmp_path / "j.sqlite")
    config = RunConfig(top=1, background_swaps=2, seed=5, limits=RiskLimits(daily_gas_wei=1))
    runner = Runner(w3, dep, journal, config)
    runner.start()
    (_, a), (_, b) = runner.children
    trips: list[Any] = []
    nonce_a: int | None = None
    nonce_b = 0
    for i in range(3 * MAX_STEPS):
        report = runner.step(first=i == 0)
        if report is None:
            continue
        trips += report.tripped
        if len(trips) == 1 and nonce_a is None:
            nonce_a = w3.eth.get_transaction_count(a.executor)
            nonce_b = w3.eth.get_transaction_count(b.executor)
        if len(trips) == 2:
            break
    first, second = trips
    assert (first.child, second.child) == (a.diamond, b.diamond)
    for trip in trips:
        assert trip.limit == "daily_gas"
        pause = w3.eth.get_transaction(trip.tx_hash)
        assert pause["from"] == dep.risk and pause["to"] == trip.child  # the guardian's key
        assert is_paused(w3, trip.child)
    # after its trip the first child sent nothing; the second traded (and then tripped too)
    assert w3.eth.get_transaction_count(a.executor) == nonce_a
    assert w3.eth.get_transaction_count(b.executor) > nonce_b
    assert set(runner.halted()) == {a.diamond, b.diamond}
