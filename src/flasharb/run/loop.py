"""The body of `flasharb run`: one `Market` for the whole run, moved forward block by block, and
the one trading path (`Trader`) from the selected opportunities to their receipts.

On every new head, `Runner.step()`:

1. `market.update(head)`: the new blocks' logs and the head's header in one round trip, the
   states of the pools the logs touched in one eth_call (and lender balances if they moved),
   then only the cycles through those pools are re-evaluated; the rest of the book is
   re-costed at the new gas price. No rediscovery, no full read, no index rebuild (unless a
   new pool appears in the logs).
2. `market.picks(top, guard)`: the one selection policy, one pick at a time, best first.
3. Each pick, as soon as it is known: `trader.prepare(...)` (plan, sign, simulate as mined)
   and `send` if it may be sent; then the next pick. The step's timings
   (`BlockReport.phases`) measure this path from the moment the new head was seen to the
   first send, and what the later picks took after it (`after_first`).
4. After sending: reconcile each receipt, journal the block's best `JOURNAL_KEEP`
   opportunities (exact; only what could be among them is sized: the rest of the book stays
   lazy) and every trade (or why it was refused; a trade mined with status 0 with its gas, a
   loss). Measured and rejected: journaling the whole book made exact, as `scan` lists it:
   it sized every candidate of the block after the sends (at 4 hops, seconds a block).
5. The circuit breakers (run/risk.py) fold the block's mined trades per child and pause any
   child that reached a limit; a paused child trades no more in this run or the next, until
   `flasharb risk resume`.

Children: every trading diamond of the deployment (the master's children, or the one diamond,
flasharb.execute.children) trades through its own `Trader`, signing with its own executor key.
The block's picks go to the children that may trade, round-robin by rank (the best to the
first).

A pending swap (when the node does not automine) is backrun through `market.evaluate` (an
overlay: the market itself does not move) and the same trader (run/backrun.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from time import perf_counter
from typing import Any

from web3 import Web3

from flasharb.chain.rpc import lab_id
from flasharb.errors import TransactionFailed
from flasharb.execute.children import capital_moves, trading_diamonds
from flasharb.execute.deploy import Deployment
from flasharb.execute.trader import Prepared, SendPolicy, Trader, TradeReverted
from flasharb.journal.pnl import Fill
from flasharb.journal.store import Journal
from flasharb.run.background import BackgroundSwaps
from flasharb.run.backrun import Backrunner, automine
from flasharb.run.risk import RiskBook, RiskLimits, Trip
from flasharb.search.market import DEFAULT_PRIORITY_FEE_WEI, Market, MarketConfig, MarketUpdate
from flasharb.search.rank import SelectStats
from flasharb.state._rpc import head as read_head

__all__ = ["JOURNAL_KEEP", "BlockReport", "RunConfig", "RunTotals", "Runner"]

JOURNAL_KEEP = 50  # opportunities journaled per block: the best, exact


@dataclass(frozen=True, slots=True, kw_only=True)
class RunConfig:
    max_hops: int = 3
    priority_fee_wei: int = DEFAULT_PRIORITY_FEE_WEI
    min_profit_eth_wei: int = 0  # the guard: execute only above this net profit, in ETH wei
    top: int = 2  # trades per block at most (pool-disjoint); 0: send nothing but backruns
    background_swaps: int = 0  # random swaps sent before each step (tests, experiments)
    seed: int = 1
    backrun: bool = True  # when the node does not automine: backrun swaps in the tx pool
    # executeArb's deadline, in blocks after the head (None: 2, and on an automining node at
    # least `top`: each transaction is its own block there, so a step's k-th trade lands k
    # blocks after the head and reverted with DeadlinePassed under a fixed 2)
    deadline_blocks: int | None = None
    bribe_bps: int = 0  # share of each trade's profit paid to block.coinbase (SendPolicy)
    limits: RiskLimits = field(default_factory=RiskLimits)  # the circuit breakers
    screen: bool = True  # probe tokens before their pools enter the market (issue 14)
    # the market's venues, token lists and floors (a project's: flasharb.config); the fields
    # above override its max hops, priority fee, minimum profit and screen
    market_config: MarketConfig | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "max_hops": self.max_hops,
            "priority_fee_wei": str(self.priority_fee_wei),
            "min_profit_eth_wei": str(self.min_profit_eth_wei),
            "top": self.top,
            "background_swaps": self.background_swaps,
            "seed": self.seed,
            "backrun": self.backrun,
            "deadline_blocks": self.deadline_blocks,
            "bribe_bps": self.bribe_bps,
            "risk": self.limits.to_json(),
            "screen": self.screen,
        }

    def policy(self, automining: bool) -> SendPolicy:
        deadline = self.deadline_blocks
        if deadline is None:
            deadline = max(2, self.top) if automining else 2
        return SendPolicy(
            priority_fee_wei=self.priority_fee_wei,
            deadline_blocks=deadline,
            bribe_bps=self.bribe_bps,
        )

    def market(self) -> MarketConfig:
        return replace(
            self.market_config or MarketConfig(),
            max_hops=self.max_hops,
            priority_fee_wei=self.priority_fee_wei,
            min_net_profit_eth=self.min_profit_eth_wei,
            screen=self.screen,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockReport:
    """What one step saw and did; `trades` / `reverted` / `failed` are journal-shaped dicts
    (`reverted`: mined with status 0, their gas spent). `phases`: the milliseconds of each stage
    from the head being seen to the first send (`head_to_send`; `select`, `size`, `fund_cost`,
    `encode_sign`, `simulate` and `send` are the first pick's), the later picks and their sends
    (`after_first`), then `settle` (receipts, journal) and `risk` (the breakers) after the
    sends; absent stages did not run. `tripped`:
    the children a breaker paused after this block."""

    block: int
    pools_changed: int
    scanned: bool
    opportunities: int  # journaled: the best, at most JOURNAL_KEEP
    best_net_profit_eth: int | None
    trades: Sequence[dict[str, Any]]
    failed: Sequence[dict[str, Any]]
    background_swaps: int
    scan_id: int | None
    phases: dict[str, float] = field(default_factory=dict)
    reverted: Sequence[dict[str, Any]] = ()
    tripped: Sequence[Trip] = ()

    def to_json(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.reverted:
            extra["reverted"] = [
                {
                    "tx_hash": r["tx_hash"],
                    "child": r.get("child"),
                    "gas_cost_wei": r["gas_cost_wei"],
                }
                for r in self.reverted
            ]
        if self.tripped:
            extra["tripped"] = [t.to_json() for t in self.tripped]
        return extra | {
            "block": self.block,
            "pools_changed": self.pools_changed,
            "scanned": self.scanned,
            "opportunities": self.opportunities,
            "best_net_profit_eth": _s(self.best_net_profit_eth),
            "trades": [
                {k: t[k] for k in ("tx_hash", "block", "profit_token", "realized_profit")}
                | {"gas_used": str(t["gas_used"]), "hops": len(t["route"])}
                | {"child": t.get("child")}
                | {k: t[k] for k in ("backrun_of", "after_victim") if k in t}
                for t in self.trades
            ],
            "failed": [{"reason": f["reason"]} for f in self.failed],
            "background_swaps": self.background_swaps,
            "scan_id": self.scan_id,
            "phases_ms": {k: round(v, 3) for k, v in self.phases.items()},
        }


@dataclass
class RunTotals:
    blocks: int = 0
    scans: int = 0
    trades: int = 0
    reverted: int = 0  # mined with status 0 (their gas is in gas_cost_wei)
    failed: int = 0  # never mined: refused before sending, or by the node
    background_swaps: int = 0
    profit: dict[str, int] = field(default_factory=dict)  # realized, per profit token
    gas_cost_wei: int = 0
    tripped: list[Trip] = field(default_factory=list)

    def add(self, r: BlockReport) -> None:
        self.blocks += 1
        self.scans += r.scanned
        self.trades += len(r.trades)
        self.reverted += len(r.reverted)
        self.failed += len(r.failed)
        self.background_swaps += r.background_swaps
        for t in r.trades:
            token = str(t["profit_token"])
            self.profit[token] = self.profit.get(token, 0) + int(t["realized_profit"])
            self.gas_cost_wei += int(t["gas_cost_wei"])
        for t in r.reverted:
            self.gas_cost_wei += int(t["gas_cost_wei"])
        self.tripped.extend(r.tripped)

    def to_json(self) -> dict[str, Any]:
        return {
            "blocks": self.blocks,
            "scans": self.scans,
            "trades": self.trades,
            "reverted": self.reverted,
            "failed": self.failed,
            "background_swaps": self.background_swaps,
            "realized_profit": {k: str(v) for k, v in sorted(self.profit.items())},
            "gas_cost_wei": str(self.gas_cost_wei),
            "tripped": [t.to_json() for t in self.tripped],
        }


def _s(v: int | None) -> str | None:
    return None if v is None else str(v)


def _ms(seconds: float) -> float:
    return seconds * 1000.0


class Runner:
    """Watches one fork. `start()` builds the market, opens a run in the journal and loads the
    breakers' state; `step()` handles new blocks; `finish(status)` closes the run. The node is
    never started or stopped here.

    `children` (label, the child as a Deployment) default to every trading diamond of
    `deployment`; a given `trader` trades alone (its deployment is the only child)."""

    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        journal: Journal,
        config: RunConfig | None = None,
        *,
        rpc_url: str | None = None,
        trader: Trader | None = None,
        children: Sequence[tuple[str, Deployment]] | None = None,
    ) -> None:
        self.w3 = w3
        self.config = config or RunConfig()
        self.journal = journal
        self.deployment = deployment
        if trader is not None:
            kids: list[tuple[str, Deployment]] = [("diamond", trader.dep)]
            self.traders = {trader.dep.diamond: trader}
        else:
            kids = list(children) if children is not None else trading_diamonds(deployment)
            policy = self.config.policy(automine(w3))
            self.traders = {
                dep.diamond: Trader(w3, dep, dep.trading_signer(), policy=policy) for _, dep in kids
            }
        self.children = kids
        self.trader = self.traders[kids[0][1].diamond]  # the backrunner's (the first child's)
        self.rpc_url = rpc_url
        self.totals = RunTotals()
        self.background = (
            BackgroundSwaps(w3, seed=self.config.seed, per_step=self.config.background_swaps)
            if self.config.background_swaps
            else None
        )
        self.market: Market | None = None
        self.run_id: int | None = None
        self.lab: str | None = None
        self.backrunner: Backrunner | None = None  # set by start() when the node holds txs
        self.risk: RiskBook | None = None  # set by start()
        self._capital_from = deployment.block  # the next block whose capital moves to journal

    def start(self) -> int:
        self.market = Market.build(self.w3, self.config.market())
        params = self.config.to_json() | {
            "start_block": self.market.block,
            "children": {label: dep.diamond for label, dep in self.children},
        }
        self.lab = lab_id(self.w3)
        self.run_id = self.journal.begin_run(
            "run", params=params, rpc_url=self.rpc_url, lab=self.lab
        )
        self.market.quarantined.update(self.journal.quarantined(self.lab, self.market.block))
        self.risk = RiskBook(
            self.w3, self.journal, self.lab, self.config.limits, self.children, run_id=self.run_id
        )
        self.sync_capital(self.market.block)
        if self.config.backrun and not automine(self.w3):
            self.backrunner = Backrunner(
                self.market,
                self.trader,
                min_profit_eth_wei=self.config.min_profit_eth_wei,
                on_revert=self.quarantine,
            )
        return self.run_id

    def halted(self) -> dict[str, Trip]:
        """The children a breaker tripped (and no one resumed): child -> its trip."""
        assert self.risk is not None, "call start() first"
        return {c: t for c in self.traders if (t := self.risk.halted(c)) is not None}

    def active(self) -> list[Trader]:
        """The traders of the children that may trade, in the children's order."""
        halted = self.halted()
        return [self.traders[dep.diamond] for _, dep in self.children if dep.diamond not in halted]

    def finish(self, status: str) -> dict[str, Any]:
        summary = self.totals.to_json()
        if self.risk is not None:
            summary["halted"] = {c: t.to_json() for c, t in self.halted().items()}
        if self.run_id is not None:
            self.journal.end_run(self.run_id, status, summary)
        return summary

    def step(self, *, first: bool = False) -> BlockReport | None:
        """Send the background swaps (if any), then handle every block since the last step;
        None if the head did not move."""
        market = self.market
        assert market is not None and self.run_id is not None, "call start() first"
        swaps = len(self.background.step(market.registry, market.states)) if self.background else 0
        head = read_head(self.w3)
        if head <= market.block and not first:
            if self.backrunner is not None and self.backrunner.trader in self.active():
                self.backrunner.backrun(self.journal, self.run_id)  # pending swaps, no block
            return None
        seen = perf_counter()
        update = market.update(head)
        updated = perf_counter()
        if not update.changed and not first:  # nothing moved: the last evaluation stands
            backruns, reverted = self._settle()
            self.sync_capital(market.block)
            t_settled = perf_counter()
            tripped = self._breakers(backruns, reverted)
            phases = self._phases(update, updated - seen)
            phases |= {"settle": _ms(t_settled - updated), "risk": _ms(perf_counter() - t_settled)}
            report = BlockReport(
                block=market.block,
                pools_changed=0,
                scanned=False,
                opportunities=0,
                best_net_profit_eth=None,
                trades=backruns,
                failed=[],
                background_swaps=swaps,
                scan_id=None,
                phases=phases,
                reverted=reverted,
                tripped=tripped,
            )
            self.totals.add(report)
            return report
        active = self.active()
        picks = (
            market.picks(top=self.config.top, min_net_profit_eth=self.config.min_profit_eth_wei)
            if self.config.top and active
            else iter(())
        )
        # each pick is signed, simulated and sent before the next is looked for (the policy's
        # picks come best first): the best trade leaves as soon as nothing can beat it
        phases = self._phases(update, updated - seen)
        timing = {"sign": 0.0, "simulate": 0.0}
        sent: list[tuple[Trader, Prepared]] = []
        refused: list[tuple[Prepared, str]] = []
        first_send: float | None = None
        for k, pick in enumerate(picks):
            if k == 0:
                self._pick_phases(phases, perf_counter() - updated, market.book.last_select)
            trader = active[k % len(active)]  # dealt round-robin by rank (the best to the first)
            for p in trader.prepare([pick], market.head):
                if k == 0:
                    timing = {key: trader.last_timings.get(key, 0.0) for key in timing}
                if not p.ok:
                    refused.append((p, p.refused or "refused"))
                    continue
                if first_send is None:
                    first_send = perf_counter()
                try:
                    sent.append((trader, trader.send(p)))
                except TransactionFailed as exc:
                    refused.append((p, exc.reason))
                if k == 0 and first_send is not None:
                    phases["send"] = _ms(perf_counter() - first_send)
        sent_at = perf_counter()
        if "select" not in phases and self.config.top and active:  # nothing to pick
            self._pick_phases(phases, sent_at - updated, market.book.last_select)
        if sent or refused:
            phases |= {"encode_sign": _ms(timing["sign"]), "simulate": _ms(timing["simulate"])}
        if first_send is not None:
            phases["head_to_send"] = _ms(first_send - seen)
            phases["after_first"] = _ms(sent_at - first_send)
        # everything below happens after the sends: receipts and the journal (the block's
        # best JOURNAL_KEEP, exact; the rest of the book stays lazy)
        found = market.opportunities(limit=JOURNAL_KEEP)
        scan_id = self.journal.record_scan_result(
            market.block,
            found,
            run_id=self.run_id,
            pools_changed=update.pools_changed,
            gas_price_wei=market.gas_price_wei,
        )
        trades, reverted = self._settle()
        failed: list[dict[str, Any]] = []
        for trader, p in sent:
            try:
                row = trader.reconcile(p).to_json()
            except TradeReverted as exc:  # mined and reverted: its gas is spent, its pools out
                reason = f"reverted on chain: {exc.reason}"
                self.quarantine(p, reason)
                rev = exc.reverted.to_json()
                self.journal.record_reverted_trade(rev, reason, scan_id, run_id=self.run_id)
                reverted.append(rev | {"reason": reason})
                continue
            self.journal.record_trade(row, scan_id, run_id=self.run_id)
            trades.append(row)
        for p, reason in refused:
            opp = p.to_json()
            self.journal.record_failed_trade(
                opp, reason, block=market.block, scan_id=scan_id, run_id=self.run_id
            )
            failed.append({"reason": reason, "route": opp["route"], "child": p.to})
        if self.backrunner is not None and self.backrunner.trader in self.active():
            self.backrunner.backrun(self.journal, self.run_id)  # the swaps waiting, this state
        self.sync_capital(market.block)
        t_settled = perf_counter()
        tripped = self._breakers(trades, reverted)
        phases |= {"settle": _ms(t_settled - sent_at), "risk": _ms(perf_counter() - t_settled)}
        report = BlockReport(
            block=market.block,
            pools_changed=update.pools_changed,
            scanned=True,
            opportunities=len(found),
            best_net_profit_eth=found[0].net_profit_eth if found else None,
            trades=trades,
            failed=failed,
            background_swaps=swaps,
            scan_id=scan_id,
            phases=phases,
            reverted=reverted,
            tripped=tripped,
        )
        self.totals.add(report)
        return report

    def sync_capital(self, to_block: int) -> None:
        """Journal the allocations, recalls and withdrawals of the children up to `to_block`
        (each log once: the journal refuses a second row for it)."""
        kids = [dep.diamond for _, dep in self.children]
        moves = capital_moves(self.w3, self.deployment.master, kids, self._capital_from, to_block)
        if moves:
            self.journal.record_capital(moves, lab=self.lab, run_id=self.run_id)
        self._capital_from = to_block + 1

    def _breakers(
        self, trades: Sequence[dict[str, Any]], reverted: Sequence[dict[str, Any]]
    ) -> list[Trip]:
        """Fold the block's mined trades into each child's limits; pause whoever reached one."""
        assert self.risk is not None and self.market is not None
        self.risk.add(
            [Fill.of(t, status="executed") for t in trades]
            + [Fill.of(r, status="reverted") for r in reverted]
        )
        return self.risk.check(self.market.block)

    def quarantine(self, p: Prepared, reason: str) -> None:
        """Keep the pools of a route that reverted on chain out of the market, and journal it."""
        assert self.market is not None
        pools = p.plan.cycle.pools
        until = self.market.quarantine(pools, reason)
        self.journal.record_quarantine(
            pools,
            block=self.market.block,
            until_block=until,
            reason=reason,
            lab=self.lab,
            tx_hash=p.tx_hash,
            run_id=self.run_id,
        )

    def _settle(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The backruns mined since the last step: (trades, reverted)."""
        if self.backrunner is None:
            return [], []
        trades = self.backrunner.settle(self.journal, self.run_id or 0)
        return trades, self.backrunner.take_reverted()

    @staticmethod
    def _pick_phases(phases: dict[str, float], seconds: float, stats: SelectStats | None) -> None:
        """The first pick's time, split: what its sizing and costing took, and the rest
        (bounds and the queue: `select`)."""
        phases["select"] = _ms(seconds)
        if stats is not None:
            phases["size"] = phases.get("size", 0.0) + _ms(stats.size_s + stats.refine_s)
            phases["fund_cost"] = phases.get("fund_cost", 0.0) + _ms(stats.cost_s)
            lazy = stats.size_s + stats.refine_s + stats.cost_s
            phases["select"] = _ms(max(seconds - lazy, 0.0))

    @staticmethod
    def _phases(update: MarketUpdate, total: float) -> dict[str, float]:
        out = {"update": _ms(total), "sync": _ms(update.sync_s), "lenders": _ms(update.lenders_s)}
        out["evaluate"] = _ms(update.evaluate_s)
        if update.book is not None:
            out |= {
                "screen": _ms(update.book.screen_s),
                "size": _ms(update.book.size_s),
                "fund_cost": _ms(update.book.cost_s),
            }
        return out
