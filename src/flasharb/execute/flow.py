"""The body of `flasharb execute` (and the demo): build the market, select, then the trader's
one path — prepare (sign, simulate as mined), send, reconcile. `--dry-run` stops after
prepare: it shows exactly the signed transactions `execute` would send (same bytes, same
hashes), because both come from the same market state through the same code."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

from web3 import Web3

from flasharb.errors import TransactionFailed
from flasharb.execute.deploy import Deployment, load
from flasharb.execute.trader import Prepared, SendPolicy, Trade, Trader, TradeReverted
from flasharb.search.market import Market, MarketConfig
from flasharb.state.tokens import token_info

__all__ = ["TradeJournal", "execute_top"]


class TradeJournal(Protocol):
    """Where scans and trades are recorded (flasharb.journal.store.Journal is one)."""

    def record_scan_result(
        self,
        block: int,
        opportunities: Sequence[Any],
        *,
        run_id: int | None = None,
        pools_changed: int | None = None,
        gas_price_wei: int | None = None,
        keep: int = 50,
    ) -> int:
        """Record one scan and its opportunities; return its id."""

    def record_trade(
        self, trade: dict[str, Any], scan_id: int | None = None, *, run_id: int | None = None
    ) -> int:
        """Record one executed trade; return its id."""

    def record_failed_trade(
        self,
        opportunity: dict[str, Any],
        reason: str,
        *,
        block: int,
        scan_id: int | None = None,
        run_id: int | None = None,
    ) -> int:
        """Record a trade that was refused before it was mined; return its id."""

    def record_reverted_trade(
        self,
        trade: dict[str, Any],
        reason: str,
        scan_id: int | None = None,
        *,
        run_id: int | None = None,
    ) -> int:
        """Record a trade mined with status 0, with its gas; return its id."""

    def record_quarantine(
        self,
        pools: Sequence[str],
        *,
        block: int,
        until_block: int,
        reason: str,
        lab: str | None,
        tx_hash: str | None = None,
        run_id: int | None = None,
    ) -> None:
        """Keep pools out of the market until a block (a route through them reverted)."""

    def quarantined(self, lab: str | None, block: int) -> dict[str, tuple[int, str]]:
        """The pools kept out of the market on `lab` at `block`."""


def execute_top(
    w3: Web3,
    *,
    top: int = 1,
    dry_run: bool = False,
    max_hops: int | None = None,
    priority_fee_wei: int | None = None,
    min_net_profit_eth: int | None = None,
    deployment: Deployment | None = None,
    journal: TradeJournal | None = None,
    run_id: int | None = None,
    market: Market | None = None,
    trader: Trader | None = None,
    lab: str | None = None,
    config: MarketConfig | None = None,
    policy: SendPolicy | None = None,
) -> dict[str, Any]:
    """Select the best `top` pool-disjoint opportunities of the market, prepare them, and
    (unless `dry_run`) send and reconcile each that simulated to a profit. Returns the
    `flasharb execute --json` document: `trades` (sent and reconciled, or the dry run's
    prepared transactions), `skipped` (refused before sending: nothing was spent) and
    `reverted` (sent, mined and reverted: gas was spent; their pools are quarantined on this
    `lab`, and `flasharb execute` exits 1).

    The market is `market`, else built from `config` (default: `market`'s, else
    `MarketConfig()`: 3 hops, a 0.1 gwei tip, no minimum),
    with `max_hops`, `priority_fee_wei` and `min_net_profit_eth` overriding it when given; the
    trader sends with `policy` (default: `SendPolicy` at the market's priority fee)."""
    dep = deployment or load(w3)
    started = time.monotonic()
    given: dict[str, Any] = {
        "max_hops": max_hops,
        "priority_fee_wei": priority_fee_wei,
        "min_net_profit_eth": min_net_profit_eth,
    }
    base = config or (market.config if market is not None else MarketConfig())
    cfg = replace(base, **{k: v for k, v in given.items() if v is not None})
    m = market or Market.build(w3, cfg)
    if journal is not None:
        m.quarantined.update(journal.quarantined(lab, m.block))
    chosen = m.select(top=top, min_net_profit_eth=cfg.min_net_profit_eth)
    scanned = time.monotonic()
    send_policy = policy or SendPolicy(priority_fee_wei=cfg.priority_fee_wei)
    t = trader or Trader(w3, dep, dep.trading_signer(), policy=send_policy)
    found = m.opportunities()
    scan_id = (
        journal.record_scan_result(m.block, found, run_id=run_id, gas_price_wei=m.gas_price_wei)
        if journal is not None
        else None
    )
    prepared = t.prepare(chosen, m.head)
    trades: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    reverted: list[dict[str, Any]] = []
    for p in prepared:
        if dry_run:
            trades.append(p.to_json() | {"realized_profit": None, "tx_hash": p.tx_hash})
            continue
        if not p.ok:
            _skip(journal, skipped, p, p.refused or "refused", m.block, scan_id, run_id)
            continue
        try:
            sent = t.send(p)
        except TransactionFailed as exc:  # the node refused it: nothing was mined
            _skip(journal, skipped, p, exc.reason, m.block, scan_id, run_id)
            continue
        try:
            trade: Trade = t.reconcile(sent)
        except TradeReverted as exc:  # mined and reverted: it cost gas
            reason = f"reverted on chain: {exc.reason}"
            rev = exc.reverted
            reverted.append(
                {
                    "route": p.to_json()["route"],
                    "reason": reason,
                    "tx_hash": p.tx_hash,
                    "gas_used": str(rev.gas_used),
                    "gas_cost_wei": str(rev.gas_cost_wei),
                }
            )
            if journal is not None:
                journal.record_reverted_trade(rev.to_json(), reason, scan_id, run_id=run_id)
            until = m.quarantine(p.plan.cycle.pools, reason)
            if journal is not None:
                journal.record_quarantine(
                    p.plan.cycle.pools,
                    block=m.block,
                    until_block=until,
                    reason=reason,
                    lab=lab,
                    tx_hash=p.tx_hash,
                    run_id=run_id,
                )
            continue
        row = trade.to_json()
        trades.append(row)
        if journal is not None:
            journal.record_trade(row, scan_id, run_id=run_id)
    venues = {info.address: info.venue for info in m.registry}
    for row in trades:
        for hop in row["route"]:
            hop["venue"] = venues.get(hop["pool"], hop["kind"])
    tokens = {t for o in chosen for h in o.cycle.hops for t in (h.token_in, h.token_out)}
    return {
        "block": m.block,
        "dry_run": dry_run,
        "diamond": dep.diamond,
        "sender": t.sender,
        "trades": trades,
        "skipped": skipped,
        "reverted": reverted,
        "tokens": token_info(w3, tokens),
        "opportunities_found": len(found),
        "timings": {
            "scan": round(scanned - started, 3),
            "execute": round(time.monotonic() - scanned, 3),
        },
    }


def _skip(
    journal: TradeJournal | None,
    skipped: list[dict[str, Any]],
    p: Prepared,
    reason: str,
    block: int,
    scan_id: int | None,
    run_id: int | None,
) -> None:
    row = p.to_json()
    skipped.append({"route": row["route"], "reason": reason, "tx_hash": p.tx_hash})
    if journal is not None:
        journal.record_failed_trade(
            row,
            reason,
            block=block,
            scan_id=scan_id,
            run_id=run_id,
        )
