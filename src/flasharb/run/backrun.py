"""Backrun pending swaps: when the fork does not mine every transaction at once (automine off,
with or without interval mining), `flasharb run` reads the transaction pool, decodes the swaps
in it, applies each to the market's state of its pool with the exact pool math as an overlay
(`Market.evaluate`: the market itself does not move), and sends the best arbitrage through the
victim's pool with the one trader, at the trader's own fixed tip (or one wei under the
victim's when that is lower, so the block still orders it after the victim): never more. A
stranger's tip is bait (a builder who also gets the block's fees can send a swap with a huge
tip, then move the pool back so the copied-tip backrun reverts and pays the tip anyway); the
backrun needs no tip war to land after the victim, it needs to come after it in the block,
which a lower tip gives. What a reverted backrun can cost is bounded by the trader's policy
(gas limit x fee cap, at most `SendPolicy.max_loss_bps` of its expected profit) and recorded
before it is sent.

Swaps it decodes: Uniswap V3 SwapRouter `exactInputSingle`, Balancer Vault `swap` (given in),
and a V2-style pair's `swap` paid by a pending `transfer` to the pair (how `flasharb shock`
trades V2). Anything else in the pool is ignored. The backrun is planned on the moved states
(predicted), simulated as mined (eth_simulateV1 on the next block, the victim first), sent, and
reconciled when its block arrives: realized profit, and whether it landed right after the
victim. Its deadline is two blocks, like every executeArb: a backrun that misses dies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector as selector
from web3 import Web3
from web3.exceptions import TransactionNotFound

from flasharb.amm.balancer_weighted import WeightedPoolState
from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import V2PairState, checksum_address
from flasharb.amm.uniswap_v3 import V3PoolState
from flasharb.chain import addresses as A
from flasharb.errors import FlasharbError, TransactionFailed
from flasharb.execute.trader import Prepared, Trader, TradeReverted
from flasharb.journal.store import Journal
from flasharb.search.market import Market
from flasharb.search.route import v3_pool_address

__all__ = ["Backrunner", "PendingSwap", "automine"]

_EXACT_INPUT_SINGLE = selector(
    "exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))"
)
_VAULT_SWAP = selector(
    "swap((bytes32,uint8,address,address,uint256,bytes),(address,bool,address,bool),uint256,uint256)"
)
_PAIR_SWAP = selector("swap(uint256,uint256,address,bytes)")
_TRANSFER = selector("transfer(address,uint256)")


def automine(w3: Web3) -> bool:
    """Whether the node mines every transaction as it arrives (a node without
    anvil_getAutomine, a real chain, counts as not)."""
    resp = w3.provider.make_request("anvil_getAutomine", [])  # type: ignore[arg-type]
    return bool(resp.get("result", False))


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingSwap:
    """One decoded swap waiting in the pool, and what it pays for inclusion."""

    tx_hash: str
    pool: str
    token_in: str
    token_out: str
    amount_in: int
    amounts_out: tuple[int, int] | None  # a V2 pair's explicit (amount0Out, amount1Out)
    tip_wei: int  # effective priority fee per gas
    max_fee_wei: int
    call: Mapping[str, str]  # the transaction as an eth_simulateV1 call (it runs first)


def _tip(tx: Mapping[str, Any], base_fee: int) -> tuple[int, int]:
    if tx.get("maxPriorityFeePerGas") is not None:
        return int(tx["maxPriorityFeePerGas"], 16), int(tx["maxFeePerGas"], 16)
    price = int(tx["gasPrice"], 16)
    return max(price - base_fee, 0), price


def _call(tx: Mapping[str, Any]) -> dict[str, str]:
    """A pending transaction (txpool_content) as an eth_simulateV1 call object."""
    call = {k: str(tx[k]) for k in ("from", "to", "input", "value", "gas", "nonce") if tx.get(k)}
    for k in ("maxFeePerGas", "maxPriorityFeePerGas", "gasPrice"):
        if tx.get(k) is not None:
            call[k] = str(tx[k])
    return call


def decode_swap(
    tx: Mapping[str, Any],
    states: Mapping[str, PoolState],
    paid: dict[tuple[str, str], int],
    base_fee: int,
) -> PendingSwap | None:
    """The swap `tx` makes on a pool of `states`, or None. Pending transfers to a V2 pair are
    added to `paid` ((pair, token) -> amount), to be used by that pair's swap."""
    to = checksum_address(tx["to"]) if tx.get("to") else ""
    data = bytes.fromhex(str(tx["input"])[2:])
    sel, args = data[:4], data[4:]
    tip, max_fee = _tip(tx, base_fee)
    common = {
        "tx_hash": tx["hash"],
        "tip_wei": tip,
        "max_fee_wei": max_fee,
        "amounts_out": None,
        "call": _call(tx),
    }
    if to == A.UNISWAP_V3_SWAP_ROUTER and sel == _EXACT_INPUT_SINGLE:
        (t_in, t_out, fee, _to, _dl, amount, _min, _limit) = decode(
            ["(address,address,uint24,address,uint256,uint256,uint256,uint160)"], args
        )[0]
        pool = v3_pool_address(t_in, t_out, fee)
        t_in, t_out = checksum_address(t_in), checksum_address(t_out)
    elif to == A.BALANCER_VAULT and sel == _VAULT_SWAP:
        single = decode(
            [
                "(bytes32,uint8,address,address,uint256,bytes)",
                "(address,bool,address,bool)",
                "uint256",
                "uint256",
            ],
            args,
        )[0]
        if single[1] != 0:  # GIVEN_OUT: not decoded
            return None
        pool = checksum_address("0x" + single[0][:20].hex())
        t_in, t_out, amount = checksum_address(single[2]), checksum_address(single[3]), single[4]
    elif sel == _TRANSFER and len(args) >= 64:
        recipient, value = decode(["address", "uint256"], args[:64])
        pair = states.get(checksum_address(recipient))
        if isinstance(pair, V2PairState) and to in (pair.token0, pair.token1):
            paid[pair.address, to] = paid.get((pair.address, to), 0) + value
        return None
    elif sel == _PAIR_SWAP and isinstance(states.get(to), V2PairState):
        out0, out1, _to, _data = decode(["uint256", "uint256", "address", "bytes"], args)
        pair = states[to]
        assert isinstance(pair, V2PairState)
        t_in, t_out = (pair.token1, pair.token0) if out0 else (pair.token0, pair.token1)
        amount = paid.pop((pair.address, t_in), 0)
        return PendingSwap(
            pool=pair.address,
            token_in=t_in,
            token_out=t_out,
            amount_in=amount,
            **(common | {"amounts_out": (out0, out1)}),
        )
    else:
        return None
    if pool not in states:
        return None
    return PendingSwap(pool=pool, token_in=t_in, token_out=t_out, amount_in=amount, **common)


def apply_swap(state: PoolState, swap: PendingSwap) -> PoolState:
    """`state` after `swap`, by the pool's own exact math."""
    if isinstance(state, V3PoolState):
        return state.apply(state.swap(swap.token_in == state.token0, swap.amount_in))
    if isinstance(state, WeightedPoolState):
        out = state.quote_exact_in(swap.token_in, swap.token_out, swap.amount_in)
        return state.apply_swap(swap.token_in, swap.token_out, swap.amount_in, out)
    assert isinstance(state, V2PairState)
    out0, out1 = swap.amounts_out or (0, 0)
    in0, in1 = (swap.amount_in, 0) if swap.token_in == state.token0 else (0, swap.amount_in)
    r0, r1 = state.reserve0 + in0 - out0, state.reserve1 + in1 - out1
    return replace(state, reserve0=r0, reserve1=r1)


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
                if swap is not None and swap.tx_hash not in self.seen and swap.amount_in > 0:
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
                moved = {victim.pool: apply_swap(market.states[victim.pool], victim)}
            except FlasharbError:
                continue  # a swap the synced state cannot follow (ticks not read, limits)
            tip = min(self.trader.policy.priority_fee_wei, victim.tip_wei - 1)  # never higher
            if tip < 0:
                continue  # a zero-tip victim: nothing can be ordered after it by tip
            gas_price = market.head.next_base_fee + tip
            found = [
                o
                for o in market.evaluate(moved, gas_price_wei=gas_price)
                if victim.pool in o.cycle.pools and o.net_profit > 0
            ]
            scan_id = journal.record_scan_result(
                market.block, found, run_id=run_id, pools_changed=1, gas_price_wei=gas_price
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
