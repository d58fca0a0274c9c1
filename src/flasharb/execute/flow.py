"""Scan, pick disjoint opportunities, simulate and execute them: the body of `flasharb execute`."""

from __future__ import annotations

import time
from typing import Any, Protocol, cast

from web3 import Web3

from flasharb.errors import TransactionFailed
from flasharb.execute.deploy import Deployment, load
from flasharb.execute.executor import Executor
from flasharb.search.rank import Opportunity
from flasharb.search.scan import DEFAULT_PRIORITY_FEE_WEI, ScanResult, scan
from flasharb.state.tokens import token_info


class TradeJournal(Protocol):
    """Where scans and trades are recorded (flasharb.journal.store.Journal is one)."""

    def record_scan(self, block: int, opportunities: int, best_net_profit_eth: int | None) -> int:
        """Record one scan; return its id."""

    def record_trade(self, trade: dict[str, Any], scan_id: int | None = None) -> int:
        """Record one executed trade; return its id."""


def _journal_scan(journal: TradeJournal | None, res: ScanResult) -> int | None:
    if journal is None:
        return None
    best = res.opportunities[0].net_profit_eth if res.opportunities else None
    return journal.record_scan(res.block, len(res.opportunities), best)


def execute_top(
    w3: Web3,
    *,
    top: int = 1,
    dry_run: bool = False,
    max_hops: int = 3,
    priority_fee_wei: int = DEFAULT_PRIORITY_FEE_WEI,
    deployment: Deployment | None = None,
    journal: TradeJournal | None = None,
) -> dict[str, Any]:
    dep = deployment or load(w3)
    ex = Executor(w3, dep)
    started = time.monotonic()
    res = scan(w3, max_hops=max_hops, priority_fee_wei=priority_fee_wei)
    scanned = time.monotonic()
    first_block, found = res.block, len(res.opportunities)
    scan_id = _journal_scan(journal, res)
    trades: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    chosen: list[Opportunity] = []
    if dry_run:  # nothing changes on chain: simulate the best disjoint set as it stands
        for opp in res.selected[:top]:
            chosen.append(opp)
            row = opp.to_json()
            row["predicted_profit"] = str(opp.gross_profit - opp.flash_fee)
            try:
                source = (
                    None
                    if opp.flash is None
                    else ex.source_of(opp.cycle.token, opp.flash, opp.amount_in)
                )
                simulated = ex.simulate(
                    opp.cycle, opp.amount_in, opp.gas_cost, source=source, states=res.states
                )
                row["simulated_profit"] = str(simulated)
            except TransactionFailed as exc:
                row["simulated_profit"] = None
                row["error"] = exc.reason
            trades.append(row)
    else:  # each trade moves its pools: take the best, then look again
        while len(trades) < top and res.opportunities:
            opp = res.opportunities[0]
            chosen.append(opp)
            try:
                trade = ex.execute(opp, states=res.states).to_json()  # the scan's states and plan
            except TransactionFailed as exc:  # simulated to a loss or reverted: recorded, not sent
                skipped.append({"route": opp.to_json()["route"], "reason": exc.reason})
                break
            trades.append(trade)
            if journal is not None:
                journal.record_trade(trade, scan_id)
            res = scan(w3, max_hops=max_hops, priority_fee_wei=priority_fee_wei)
            scan_id = _journal_scan(journal, res)
    venues = {p.address: p.venue for p in res.pools}
    for row in trades:
        for hop in cast(list[dict[str, Any]], row["route"]):
            hop["venue"] = venues.get(hop["pool"], hop["kind"])
    tokens = {t for o in chosen for h in o.cycle.hops for t in (h.token_in, h.token_out)}
    return {
        "block": first_block,
        "dry_run": dry_run,
        "diamond": dep.diamond,
        "trades": trades,
        "skipped": skipped,
        "tokens": token_info(w3, tokens),
        "opportunities_found": found,
        "timings": {
            "scan": round(scanned - started, 3),
            "execute": round(time.monotonic() - scanned, 3),
        },
    }
