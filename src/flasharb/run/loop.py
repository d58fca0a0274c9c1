"""The body of `flasharb run`: on every new head, sync the pools the logs touched, scan, execute
the best pool-disjoint opportunities that clear the guard, and journal every scan and trade.

One `Runner.step()` handles whatever blocks appeared since the last: `StateSync` re-reads only
the pools their logs touched (and finds new pools); when none changed, nothing is re-scanned.
Each trade is simulated first by the executor and sent with the search's gas cost as the
on-chain `minProfit`, so a trade that would lose money reverts in simulation and is journaled as
failed, never mined.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from web3 import Web3

from flasharb.errors import TransactionFailed
from flasharb.execute.deploy import Deployment
from flasharb.execute.executor import Executor
from flasharb.journal.store import Journal
from flasharb.run.background import BackgroundSwaps
from flasharb.run.backrun import Backrunner, automine
from flasharb.search.rank import Opportunity, select_disjoint
from flasharb.search.scan import DEFAULT_PRIORITY_FEE_WEI, scan
from flasharb.state.sync import StateSync

__all__ = ["BlockReport", "RunConfig", "RunTotals", "Runner"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunConfig:
    max_hops: int = 3
    priority_fee_wei: int = DEFAULT_PRIORITY_FEE_WEI
    min_profit_eth_wei: int = 0  # the guard: execute only above this net profit, in ETH wei
    top: int = 2  # trades per block at most (pool-disjoint)
    background_swaps: int = 0  # random swaps sent before each step (tests, experiments)
    seed: int = 1
    backrun: bool = True  # when the node does not automine: backrun swaps in the tx pool

    def to_json(self) -> dict[str, Any]:
        return {
            "max_hops": self.max_hops,
            "priority_fee_wei": str(self.priority_fee_wei),
            "min_profit_eth_wei": str(self.min_profit_eth_wei),
            "top": self.top,
            "background_swaps": self.background_swaps,
            "seed": self.seed,
            "backrun": self.backrun,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockReport:
    """What one step saw and did; `trades` / `failed` are journal-shaped dicts."""

    block: int
    pools_changed: int
    scanned: bool
    opportunities: int
    best_net_profit_eth: int | None
    trades: Sequence[dict[str, Any]]
    failed: Sequence[dict[str, Any]]
    background_swaps: int
    scan_id: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "block": self.block,
            "pools_changed": self.pools_changed,
            "scanned": self.scanned,
            "opportunities": self.opportunities,
            "best_net_profit_eth": _s(self.best_net_profit_eth),
            "trades": [
                {k: t[k] for k in ("tx_hash", "block", "profit_token", "realized_profit")}
                | {"gas_used": str(t["gas_used"]), "hops": len(t["route"])}
                for t in self.trades
            ],
            "failed": [{"reason": f["reason"]} for f in self.failed],
            "background_swaps": self.background_swaps,
            "scan_id": self.scan_id,
        }


@dataclass
class RunTotals:
    blocks: int = 0
    scans: int = 0
    trades: int = 0
    failed: int = 0
    background_swaps: int = 0
    profit: dict[str, int] = field(default_factory=dict)  # realized, per profit token
    gas_cost_wei: int = 0

    def add(self, r: BlockReport) -> None:
        self.blocks += 1
        self.scans += r.scanned
        self.trades += len(r.trades)
        self.failed += len(r.failed)
        self.background_swaps += r.background_swaps
        for t in r.trades:
            token = str(t["profit_token"])
            self.profit[token] = self.profit.get(token, 0) + int(t["realized_profit"])
            self.gas_cost_wei += int(t["gas_cost_wei"])

    def to_json(self) -> dict[str, Any]:
        return {
            "blocks": self.blocks,
            "scans": self.scans,
            "trades": self.trades,
            "failed": self.failed,
            "background_swaps": self.background_swaps,
            "realized_profit": {k: str(v) for k, v in sorted(self.profit.items())},
            "gas_cost_wei": str(self.gas_cost_wei),
        }


def _s(v: int | None) -> str | None:
    return None if v is None else str(v)


class Runner:
    """Watches one fork. `start()` opens a run in the journal; `step()` handles new blocks;
    `finish(status)` closes the run. The node is never started or stopped here."""

    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        journal: Journal,
        config: RunConfig | None = None,
        *,
        rpc_url: str | None = None,
    ) -> None:
        self.w3 = w3
        self.config = config or RunConfig()
        self.journal = journal
        self.executor = Executor(w3, deployment)
        self.rpc_url = rpc_url
        self.totals = RunTotals()
        self.background = (
            BackgroundSwaps(w3, seed=self.config.seed, per_step=self.config.background_swaps)
            if self.config.background_swaps
            else None
        )
        self.sync: StateSync | None = None
        self.run_id: int | None = None
        self.backrunner: Backrunner | None = None  # set by start() when the node holds txs

    def start(self) -> int:
        self.sync = StateSync.start(self.w3)
        params = self.config.to_json() | {"start_block": self.sync.block}
        self.run_id = self.journal.begin_run("run", params=params, rpc_url=self.rpc_url)
        if self.config.backrun and not automine(self.w3):
            cfg = self.config
            self.backrunner = Backrunner(
                self.executor, max_hops=cfg.max_hops, min_profit_eth_wei=cfg.min_profit_eth_wei
            )
        return self.run_id

    def finish(self, status: str) -> dict[str, Any]:
        summary = self.totals.to_json()
        if self.run_id is not None:
            self.journal.end_run(self.run_id, status, summary)
        return summary

    def step(self, *, first: bool = False) -> BlockReport | None:
        """Send the background swaps (if any), then handle every block since the last step;
        None if the head did not move."""
        sync = self.sync
        assert sync is not None and self.run_id is not None, "call start() first"
        swaps = len(self.background.step(sync.registry, sync.states)) if self.background else 0
        head = int(self.w3.eth.block_number)
        if head <= sync.block and not first:
            if self.backrunner is not None:  # no new block: look at the pending swaps
                self.backrunner.backrun(sync.states, self.journal, self.run_id)
            return None
        backruns = self.backrunner.settle(self.journal, self.run_id) if self.backrunner else []
        changed = sync.sync(head).changed
        if not changed and not first:  # nothing moved: the last scan still stands
            report = BlockReport(
                block=head,
                pools_changed=0,
                scanned=False,
                opportunities=0,
                best_net_profit_eth=None,
                trades=backruns,
                failed=[],
                background_swaps=swaps,
                scan_id=None,
            )
            self.totals.add(report)
            return report
        cfg = self.config
        res = scan(
            self.w3, max_hops=cfg.max_hops, priority_fee_wei=cfg.priority_fee_wei, block=head
        )
        scan_id = self.journal.record_scan_result(
            head,
            res.opportunities,
            run_id=self.run_id,
            pools_changed=len(changed),
            gas_price_wei=res.gas_price_wei,
        )
        states: Mapping[str, Any] | None = getattr(res, "states", None)  # exact pool states
        trades, failed = self._execute(self._cleared(res.opportunities), head, scan_id, states)
        trades = backruns + trades
        if self.backrunner is not None:  # the swaps waiting for the next block, on this state
            self.backrunner.backrun(sync.states, self.journal, self.run_id)
        best = res.opportunities[0].net_profit_eth if res.opportunities else None
        report = BlockReport(
            block=head,
            pools_changed=len(changed),
            scanned=True,
            opportunities=len(res.opportunities),
            best_net_profit_eth=best,
            trades=trades,
            failed=failed,
            background_swaps=swaps,
            scan_id=scan_id,
        )
        self.totals.add(report)
        return report

    def _cleared(self, opportunities: Sequence[Opportunity]) -> list[Opportunity]:
        guard = self.config.min_profit_eth_wei
        ok = [o for o in opportunities if o.net_profit > 0 and o.net_profit_eth > guard]
        return select_disjoint(ok)[: self.config.top]

    def _execute(
        self,
        chosen: Sequence[Opportunity],
        head: int,
        scan_id: int,
        states: Mapping[str, Any] | None,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        trades: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for opp in chosen:  # pool-disjoint: one trade does not move another's pools
            try:
                trade = self.executor.execute(opp, states=states).to_json()
            except TransactionFailed as exc:  # simulated to a loss, or reverted: not mined
                self.journal.record_failed_trade(
                    opp.to_json(), exc.reason, block=head, scan_id=scan_id, run_id=self.run_id
                )
                failed.append({"reason": exc.reason, "route": opp.to_json()["route"]})
                continue
            self.journal.record_trade(trade, scan_id, run_id=self.run_id)
            trades.append(trade)
        return trades, failed
