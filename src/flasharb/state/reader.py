"""Batched pool state reads: one eth_call returns the swap state of hundreds of pools.

`PoolStateReader` (contracts/readers/) runs as state-override code at an unused address, so
nothing is deployed and the same read works on a fork of real mainnet. Per pool it returns:
V2 reserves; V3 slot0 (sqrtPriceX96, tick), liquidity, the tick-bitmap words within
`words_per_side` of the current tick's word and the liquidityNet of every initialized tick in
them; Balancer weighted pool balances (Vault.getPoolTokens), normalized weights and swap fee.
The answer is packed bytes (layout in the contract's @dev), decoded here with int.from_bytes
over memoryview slices: ABI-decoding nested arrays of 1,000 pools costs more than the call.

Requests are cut into calls under `ReadConfig.gas_budget` with a per-pool gas estimate
(`GasModel`); if an estimate is short, the contract stops before the pool it cannot finish and
the rest goes into the next call. A pool whose read fails does not fail the batch: it is
reported in `ReadResult.failed` with the reason, and has no state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache

from eth_utils import function_signature_to_4byte_selector
from web3 import Web3

from flasharb.amm.balancer_weighted import WeightedPoolState
from flasharb.amm.uniswap_v2 import V2PairState
from flasharb.amm.uniswap_v3 import V3PoolState
from flasharb.errors import FlasharbValueError
from flasharb.state._rpc import call_reader, resolve_block
from flasharb.state.registry import PoolInfo, PoolKind

__all__ = ["AnyPoolState", "GasModel", "ReadConfig", "ReadResult", "read_states"]

AnyPoolState = V2PairState | V3PoolState | WeightedPoolState

READER = "PoolStateReader"
_READ = function_signature_to_4byte_selector("read(bytes)")
_TX_BASE_GAS = 21_000 + 4 * 16 + 2 * 32 * 16  # intrinsic gas, selector and ABI head (worst case)
_CALLDATA_GAS = 16  # per request byte (non-zero; zeros cost less)

_REASONS = {
    (PoolKind.V2, 1): "getReserves() reverted or did not return two uint112 reserves",
    (PoolKind.V3, 1): "slot0() reverted or returned a malformed price/tick",
    (PoolKind.V3, 2): "liquidity() reverted or did not return a uint128",
    (PoolKind.V3, 3): "its tick spacing is outside 1..16383",
    (PoolKind.V3, 4): "tickBitmap(word) reverted",
    (PoolKind.V3, 5): "ticks(tick) reverted",
    (PoolKind.WEIGHTED, 1): "Vault.getPoolTokens(poolId) reverted or returned malformed data",
    (PoolKind.WEIGHTED, 2): "getNormalizedWeights() reverted or has a weight per token missing",
    (PoolKind.WEIGHTED, 3): "getSwapFeePercentage() reverted",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class GasModel:
    """Execution gas per pool read, to cut requests into calls (cold account and slot costs
    dominate; measured on the replica with some room to spare). Underestimates are safe: the
    contract stops early and the rest is resent."""

    v2: int = 9_000  # cold pair + getReserves (one cold slot)
    v3_base: int = 17_000  # cold pool + slot0 + liquidity
    v3_word: int = 4_000  # per tickBitmap word (one cold slot)
    v3_tick: int = 12_000  # per initialized tick: ticks() reads four cold slots
    v3_ticks_per_word: int = 2  # guess when the pool's tick count is not known
    weighted_base: int = 25_000  # cold pool, Vault pool lookup, weights, fee
    weighted_token: int = 7_000  # per token: balance slot, token list slot, the weight

    def estimate(self, info: PoolInfo, words: int, ticks: int | None) -> int:
        if info.kind is PoolKind.V2:
            return self.v2
        if info.kind is PoolKind.V3:
            n_ticks = self.v3_ticks_per_word * words if ticks is None else ticks
            return self.v3_base + words * self.v3_word + n_ticks * self.v3_tick
        return self.weighted_base + len(info.tokens) * self.weighted_token


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadConfig:
    words_per_side: int = 2  # V3: bitmap words read on each side of the current tick's word
    gas_budget: int = 20_000_000  # gas of one eth_call; nodes cap calls at 30M-50M
    parallel_calls: int = 1  # calls sent at once (an Anvil fork serves them on several cores)
    gas_model: GasModel = field(default_factory=GasModel)

    def __post_init__(self) -> None:
        if not 0 <= self.words_per_side <= 3000:
            raise FlasharbValueError(
                f"words_per_side must be in 0..3000, not {self.words_per_side}"
            )
        if self.parallel_calls < 1:
            raise FlasharbValueError(f"parallel_calls must be >= 1, not {self.parallel_calls}")
        if self.gas_budget < 500_000:
            raise FlasharbValueError(f"gas_budget {self.gas_budget} is too small; use >= 500000")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadResult:
    """States of the pools read, by address, and the pools that failed with the reason."""

    block: int
    states: dict[str, AnyPoolState]
    failed: dict[str, str]
    calls: int  # eth_calls made


@lru_cache(maxsize=16_384)
def _entry(info: PoolInfo, words_per_side: int) -> bytes:
    address = bytes.fromhex(info.address[2:])
    if info.kind is PoolKind.V2:
        return b"\x01" + address
    if info.kind is PoolKind.V3:
        spacing = (info.tick_spacing & 0xFFFFFF).to_bytes(3, "big")
        return b"\x02" + address + spacing + words_per_side.to_bytes(2, "big")
    return b"\x03" + address + info.pool_id


def read_states(
    w3: Web3,
    pools: Sequence[PoolInfo],
    *,
    block: int | str | None = None,
    config: ReadConfig | None = None,
    tick_counts: Mapping[str, int] | None = None,
) -> ReadResult:
    """State of every pool in `pools` at `block` (default: the head), in as few eth_calls as the
    gas budget allows (at least `config.parallel_calls`, sent concurrently). `tick_counts`
    (address -> initialized ticks last seen) sharpens the V3 gas estimate."""
    cfg = config or ReadConfig()
    number = resolve_block(w3, block)
    wps = cfg.words_per_side
    counts = tick_counts or {}
    words = 2 * wps + 1
    entries = [_entry(p, wps) for p in pools]
    gas = [
        cfg.gas_model.estimate(p, words, counts.get(p.address)) + _CALLDATA_GAS * len(e)
        for p, e in zip(pools, entries, strict=True)
    ]
    ranges = _split(gas, cfg.gas_budget, cfg.parallel_calls)
    job = _Job(w3=w3, pools=pools, entries=entries, gas=gas, block=number, budget=cfg.gas_budget)
    if len(ranges) <= 1:
        parts = [job.run(*r) for r in ranges]
    else:
        with ThreadPoolExecutor(max_workers=len(ranges)) as ex:
            parts = list(ex.map(lambda r: job.run(*r), ranges))
    states: dict[str, AnyPoolState] = {}
    failed: dict[str, str] = {}
    for part_states, part_failed, _calls in parts:
        states.update(part_states)
        failed.update(part_failed)
    return ReadResult(
        block=number, states=states, failed=failed, calls=sum(c for _s, _f, c in parts)
    )


def _split(gas: Sequence[int], budget: int, parallel: int) -> list[tuple[int, int]]:
    """Cut [0, len(gas)) into ranges: one per call under `budget`, and at least `parallel`
    ranges of about equal gas (if there are that many pools)."""
    n, total = len(gas), sum(gas)
    if n == 0:
        return []
    limit = budget - _TX_BASE_GAS
    out: list[tuple[int, int]] = []
    start, used, cum = 0, 0, 0
    for k, g in enumerate(gas):
        share_done = cum * parallel >= total * (len(out) + 1)  # this range has its share
        if k > start and (used + g > limit or share_done):
            out.append((start, k))
            start, used = k, 0
        used += g
        cum += g
    out.append((start, n))
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class _Job:
    w3: Web3
    pools: Sequence[PoolInfo]
    entries: Sequence[bytes]
    gas: Sequence[int]
    block: int
    budget: int

    def run(self, pos: int, stop: int) -> tuple[dict[str, AnyPoolState], dict[str, str], int]:
        """Read pools[pos:stop], resending what a call could not finish."""
        states: dict[str, AnyPoolState] = {}
        failed: dict[str, str] = {}
        calls = 0
        while pos < stop:
            end, used = pos, _TX_BASE_GAS
            while end < stop and (end == pos or used + self.gas[end] <= self.budget):
                used += self.gas[end]
                end += 1
            body = b"".join(self.entries[pos:end])
            head = _READ + (32).to_bytes(32, "big") + len(body).to_bytes(32, "big")
            data = head + body + b"\0" * (-len(body) % 32)
            raw = call_reader(self.w3, READER, data, self.block, gas=self.budget)
            calls += 1
            length = int.from_bytes(raw[32:64], "big")
            done = _decode(memoryview(raw)[64 : 64 + length], self.pools, pos, end, states, failed)
            if done == 0:  # the first pool alone does not fit in a whole call
                p = self.pools[pos]
                failed[p.address] = (
                    f"{p.venue} pool {p.address}: its read needs more than the gas budget "
                    f"({self.budget}); lower words_per_side or raise gas_budget"
                )
                done = 1
            pos += done
        return states, failed, calls


def _decode(
    mv: memoryview,
    pools: Sequence[PoolInfo],
    start: int,
    end: int,
    states: dict[str, AnyPoolState],
    failed: dict[str, str],
) -> int:
    """Decode the records of pools[start:end] from `mv`; returns how many records it held."""
    i, k, size = 0, start, len(mv)
    while i < size and k < end:
        info = pools[k]
        if mv[i] == 0:
            step = mv[i + 1]
            failed[info.address] = _reason(info, step)
            i += 2
        else:
            i = _DECODERS[info.kind](mv, i + 1, info, states, failed)
        k += 1
    return k - start


def _reason(info: PoolInfo, step: int) -> str:
    what = _REASONS.get((info.kind, step), f"read step {step} failed")
    return f"{info.venue} pool {info.address}: {what}"


def _decode_v2(
    mv: memoryview, i: int, info: PoolInfo, states: dict[str, AnyPoolState], _f: dict[str, str]
) -> int:
    fb = int.from_bytes
    states[info.address] = V2PairState(
        address=info.address,
        token0=info.tokens[0],
        token1=info.tokens[1],
        reserve0=fb(mv[i : i + 14], "big"),
        reserve1=fb(mv[i + 14 : i + 28], "big"),
        fee_pips=info.fee,
        venue=info.venue,
    )
    return i + 28


def _decode_v3(
    mv: memoryview, i: int, info: PoolInfo, states: dict[str, AnyPoolState], failed: dict[str, str]
) -> int:
    fb = int.from_bytes
    sqrt_price = fb(mv[i : i + 20], "big")
    tick = fb(mv[i + 20 : i + 23], "big", signed=True)
    liquidity = fb(mv[i + 23 : i + 39], "big")
    lo = fb(mv[i + 39 : i + 41], "big", signed=True)
    hi = fb(mv[i + 41 : i + 43], "big", signed=True)
    i += 43
    spacing = info.tick_spacing
    bitmap: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for word in range(lo, hi + 1):
        bits = fb(mv[i : i + 32], "big")
        bitmap[word] = bits
        i += 32
        base = word << 8
        while bits:
            low = bits & -bits
            ticks[(base + low.bit_length() - 1) * spacing] = fb(mv[i : i + 16], "big", signed=True)
            i += 16
            bits ^= low
    if sqrt_price == 0:
        failed[info.address] = f"uniswap_v3 pool {info.address}: not initialized (no price yet)"
        return i
    states[info.address] = V3PoolState(
        address=info.address,
        token0=info.tokens[0],
        token1=info.tokens[1],
        fee=info.fee,
        tick_spacing=spacing,
        sqrt_price_x96=sqrt_price,
        tick=tick,
        liquidity=liquidity,
        tick_bitmap=bitmap,
        ticks=ticks,
        word_range=(lo, hi),
        venue=info.venue,
    )
    return i


def _decode_weighted(
    mv: memoryview, i: int, info: PoolInfo, states: dict[str, AnyPoolState], failed: dict[str, str]
) -> int:
    fb = int.from_bytes
    n = mv[i]
    i += 1
    balances = tuple(fb(mv[j : j + 32], "big") for j in range(i, i + 32 * n, 32))
    i += 32 * n
    weights = tuple(fb(mv[j : j + 32], "big") for j in range(i, i + 32 * n, 32))
    i += 32 * n
    fee = fb(mv[i : i + 32], "big")
    i += 32
    if n != len(info.tokens):
        failed[info.address] = (
            f"balancer pool {info.address}: the Vault lists {n} tokens, the registry "
            f"{len(info.tokens)}; rediscover the pool"
        )
        return i
    states[info.address] = WeightedPoolState(
        address=info.address,
        pool_id=info.pool_id,
        tokens=info.tokens,
        balances=balances,
        decimals=info.decimals,
        normalized_weights=weights,
        swap_fee=fee,
        venue=info.venue,
    )
    return i


_Decoder = Callable[[memoryview, int, PoolInfo, dict[str, AnyPoolState], dict[str, str]], int]
_DECODERS: dict[PoolKind, _Decoder] = {
    PoolKind.V2: _decode_v2,
    PoolKind.V3: _decode_v3,
    PoolKind.WEIGHTED: _decode_weighted,
}
