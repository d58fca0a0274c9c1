"""Backrun pending swaps: when the fork does not mine every transaction at once (automine off,
with or without interval mining), `flasharb run` reads the transaction pool, decodes the swaps
in it, applies each to the market's states of its pools with the exact pool math as an
overlay (`Market.evaluate`: the market itself does not move), and sends the best arbitrage
through a pool the victim moved with the one trader, at the trader's own fixed tip (or one
wei under the victim's when that is lower, so the block still orders it after the victim):
never more. A
stranger's tip is bait (a builder who also gets the block's fees can send a swap with a huge
tip, then move the pool back so the copied-tip backrun reverts and pays the tip anyway); the
backrun needs no tip war to land after the victim, it needs to come after it in the block,
which a lower tip gives. What a reverted backrun can cost is bounded by the trader's policy
(gas limit x fee cap, at most `SendPolicy.max_loss_bps` of its expected profit) and recorded
before it is sent.

Swaps it decodes (flasharb.run.swaps): Uniswap V3 SwapRouter `exactInputSingle`, Balancer
Vault `swap` (given in), a V2-style pair's `swap` paid by a pending `transfer` to the pair (how
`flasharb shock` trades V2), UniswapV2Router02's swaps (ETH and fee-on-transfer variants
included) and the UniversalRouter's V2, V3 (multi-hop) and V4 swap commands; a swap through
several pools moves them all in the overlay, and a backrun may go through any of them (not
through a pool the market cannot follow: a V4 pool it has no state for, and whatever comes
after it on the victim's path). Anything else in the pool is ignored. The backrun is planned
on the moved states (predicted), simulated as mined (eth_simulateV1 on the next block, the
victim first), sent, and reconciled when its block arrives: realized profit, and whether it
landed right after the victim. Its deadline is two blocks, like every executeArb: a backrun
that misses dies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.exceptions import TransactionNotFound

from flasharb.errors import FlasharbError, TransactionFailed
from flasharb.execute.trader import Prepared, Trader, TradeReverted
from flasharb.journal.store import Journal
from flasharb.run.swaps import PendingSwap, apply_swap, decode_swap
from flasharb.search.market import Market

__all__ = ["Backrunner", "PendingSwap", "automine"]


def automine(w3: Web3) -> bool:
    """Whether the node mines every transaction as it arrives (a node without
    anvil_getAutomine, a real chain, counts as not)."""
    resp = w3.provider.make_request("anvil_getAutomine", [])  # type: ignore[arg-type]
    return bool(resp.get("result", False))


@dataclass(frozen=True, slots=True, kw_only=True)
class SentBackrun:
    victim: PendingSwap
    prepared: Prepared
    scan_id: int

    @property
    def plan(self) -> Any:
        return self.prepared.plan


class Backrunner:
    """Finds and sends backruns of pending swaps on the market's overlay; `settle()` reconciles
    those that were mined."""

    def __init__(
        self,
        market: Market,
        trader: Trader,
        *,
        min_profit_eth_wei: int = 0,
        on_revert: Callable[[Prepared, str], None] | None = None,
    ) -> None:
        self.on_revert = on_revert  # a sent backrun that reverted on chain (quarantine it)
        self.market = market
        self.trader = trader
        self.w3 = trader.w3
        self.guard = min_profit_eth_wei
        self.seen: set[str] = set()
        self.sent: list[SentBackrun] = []
        self.reverted: list[dict[str, Any]] = []  # mined with status 0 since take_reverted()

    def pending(self) -> list[PendingSwap]:
        """New decodable swaps in the pool, in (sender, nonce) order."""
        content = self.w3.provider.make_request("txpool_content", [])  # type: ignore[arg-type]
        base_fee = self.market.head.next_base_fee
        paid: dict[tuple[str, str], int] = {}
        out = []
        pool: dict[str, dict[str, Any]] = (content.get("result") or {}).get("pending") or {}
        for _sender, txs in sorted(pool.items()):
            for _nonce, tx in sorted(txs.items(), key=lambda kv: int(kv[0])):
                swap = decode_swap(tx, self.market.states, paid, base_fee)
                if swap is not None and swap.tx_hash not in self.seen:
                    out.append(swap)
        return out

    def backrun(self, journal: Journal, run_id: int) -> list[str]:
        """Send a backrun for every new pending swap worth one; failures journaled. Returns
        the sent transactions' hashes."""
        market = self.market
        sent = []
        for victim in self.pending():
            self.seen.add(victim.tx_hash)
            try:
                moved, blind = apply_swap(market.states, victim)
            except FlasharbError:
                continue  # a swap the synced state cannot follow (ticks not read, limits)
            if not moved:
                continue  # nothing the market knows moves
            tip = min(self.trader.policy.priority_fee_wei, victim.tip_wei - 1)  # never higher
            if tip < 0:
                continue  # a zero-tip victim: nothing can be ordered after it by tip
            gas_price = market.head.next_base_fee + tip
            found = [
                o
                for o in market.evaluate(moved, gas_price_wei=gas_price)
                if moved.keys() & set(o.cycle.pools)
                and not blind & set(o.cycle.pools)
                and o.net_profit > 0
            ]
            scan_id = journal.record_scan_result(
                market.block,
                found,
                run_id=run_id,
                pools_changed=len(moved),
                gas_price_wei=gas_price,
            )
            best = next((o for o in found if o.net_profit_eth > self.guard), None)
            if best is None:
                continue
            prepared = self.trader.prepare(
                [best], market.head, before=[victim.call], priority_fee_wei=tip
            )[0]
            try:
                self.trader.send(prepared)
            except (TransactionFailed, FlasharbError) as exc:
                reason = getattr(exc, "reason", str(exc))
                journal.record_failed_trade(
                    prepared.to_json(),
                    reason,
                    block=market.block,
                    scan_id=scan_id,
                    run_id=run_id,
                )
                continue
            self.sent.append(SentBackrun(victim=victim, prepared=prepared, scan_id=scan_id))
            sent.append(prepared.tx_hash)
        return sent

    def settle(self, journal: Journal, run_id: int) -> list[dict[str, Any]]:
        """Journal every sent backrun that has been mined; the trades, each with `backrun_of`
        (the victim) and `after_victim` (next in the same block)."""
        done, waiting = [], []
        for s in self.sent:
            try:
                receipt = self.w3.eth.get_transaction_receipt(s.prepared.tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                waiting.append(s)
                continue
            done.append(self._reconcile(s, receipt, journal, run_id))
        self.sent = waiting
        return [d for d in done if d is not None]

    def take_reverted(self) -> list[dict[str, Any]]:
        """The backruns mined with status 0 since the last call (journal-shaped, with gas)."""
        out, self.reverted = self.reverted, []
        return out

    def _reconcile(
        self, s: SentBackrun, receipt: Any, journal: Journal, run_id: int
    ) -> dict[str, Any] | None:
        try:
            trade = self.trader.reconcile(s.prepared, dict(receipt)).to_json()
        except TradeReverted as exc:  # mined and reverted: its gas is a loss
            reason = f"backrun of {s.victim.tx_hash} reverted in {s.prepared.tx_hash}"
            rev = exc.reverted.to_json()
            journal.record_reverted_trade(rev, reason, s.scan_id, run_id=run_id)
            self.reverted.append(rev | {"reason": reason})
            if self.on_revert is not None:
                self.on_revert(s.prepared, reason)
            return None
        journal.record_trade(trade, s.scan_id, run_id=run_id)
        victim = self.w3.eth.get_transaction_receipt(s.victim.tx_hash)  # type: ignore[arg-type]
        after = (
            victim["blockNumber"] == trade["block"]
            and victim["transactionIndex"] + 1 == trade["index"]
        )
        return trade | {"backrun_of": s.victim.tx_hash, "after_victim": after}
