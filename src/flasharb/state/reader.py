"""Batched pool state reads: one eth_call returns the swap state of hundreds of pools.

`PoolStateReader` (contracts/readers/) runs as state-override code at an unused address, so
nothing is deployed and the same read works on a fork of real mainnet. Per pool it returns:
V2 reserves; V3 slot0 (sqrtPriceX96, tick), liquidity, the tick-bitmap words around the
current tick's word (`ReadConfig.words_per_side`, `window_ticks`) and the liquidityNet of every
initialized tick in them; Balancer weighted pool balances (Vault.getPoolTokens), normalized
weights and swap fee. The answer is packed bytes (layout in the contract's @dev), decoded here
with int.from_bytes over memoryview slices: ABI-decoding nested arrays of 1,000 pools costs
more than the call.

Uniswap V3 pools of the canonical factory are read through their storage (`ReadConfig.v3_slots`,
on by default): the same eth_call overrides each such pool's code with `SLOT_READER_CODE`, and
the reader SLOADs exactly the slots the state needs (slot0, liquidity, the bitmap words, one
slot per initialized tick where the `ticks()` getter reads four). On an Anvil fork every
distinct account and slot a call touches is a round trip to the fork's database: a pool with 6
ticks in a 3-word window takes 12 instead of 31, and its read 1.5-2x less time. Other V3 pools
(another factory: maybe another storage layout) are read through their getters, and so are
V2 pairs and Balancer pools. Measured and rejected: a V2 pair read through its one reserves
slot costs what `getReserves()` costs (the pair's account is loaded either way: it and the slot
are the only round trips); Balancer weights and fee from a cache would save 2 of a pool's ~10
round trips (~2 ms for 50 pools), but weights move in some pools (LBPs) and only the sync could
say when a cached fee is stale. The fast path trusts that a pool of the canonical factory runs
the canonical code: true on any chain, broken only by an `anvil_setCode` on the pool.

Requests are cut into calls under `ReadConfig.gas_budget` with a per-pool gas estimate
(`ReadCost`); if an estimate is short, the contract stops before the pool it cannot finish and
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
from flasharb.chain.addresses import UNISWAP_V3_FACTORY
from flasharb.errors import FlasharbValueError
from flasharb.kinds import HopKind
from flasharb.state._rpc import READER_ADDRESS, block_param, reader_code, request, resolve_block
from flasharb.state.registry import PoolInfo

__all__ = [
    "SLOT_READER_CODE",
    "AnyPoolState",
    "ReadCost",
    "ReadConfig",
    "ReadResult",
    "read_states",
    "words_per_side",
]

AnyPoolState = V2PairState | V3PoolState | WeightedPoolState

READER = "PoolStateReader"
_READ = function_signature_to_4byte_selector("read(bytes)")
_TX_BASE_GAS = 21_000 + 4 * 16 + 2 * 32 * 16  # intrinsic gas, selector and ABI head (worst case)
_CALLDATA_GAS = 16  # per request byte (non-zero; zeros cost less)

# Request kinds (the contract's @dev)
_V2, _V3, _WEIGHTED, _V3_SLOTS = 1, 2, 3, 4

SLOT_READER_CODE = bytes.fromhex("5f5b368110600b57365ff35b8035548152602001600156")
"""Code given to a pool, for one eth_call, so that the reader can read its storage: for each
32-byte word of calldata, SLOAD it as a key; return the values, in order.

    00 PUSH0                      i = 0
    01 JUMPDEST                   loop:
    02 CALLDATASIZE DUP2 LT       i < calldatasize ?
    05 PUSH1 0x0b JUMPI           -> body
    08 CALLDATASIZE PUSH0 RETURN  return memory[0, calldatasize)
    0b JUMPDEST                   body:
    0c DUP1 CALLDATALOAD SLOAD    sload(calldata[i])
    0f DUP2 MSTORE                memory[i] = it
    11 PUSH1 0x20 ADD             i += 32
    14 PUSH1 0x01 JUMP            -> loop
"""
_SLOT_READER_HEX = "0x" + SLOT_READER_CODE.hex()

_REASONS = {
    (_V2, 1): "getReserves() reverted or did not return two uint112 reserves",
    (_V3, 1): "slot0() reverted or returned a malformed price/tick",
    (_V3, 2): "liquidity() reverted or did not return a uint128",
    (_V3, 3): "its tick spacing is outside 1..16383",
    (_V3, 4): "tickBitmap(word) reverted",
    (_V3, 5): "ticks(tick) reverted",
    (_WEIGHTED, 1): "Vault.getPoolTokens(poolId) reverted or returned malformed data",
    (_WEIGHTED, 2): "getNormalizedWeights() reverted or has a weight per token missing",
    (_WEIGHTED, 3): "getSwapFeePercentage() reverted",
    (_V3_SLOTS, 1): "reading slot0 and liquidity from its storage failed",
    (_V3_SLOTS, 3): "its tick spacing is outside 1..16383",
    (_V3_SLOTS, 4): "reading its tick-bitmap words from storage failed",
    (_V3_SLOTS, 5): "reading its ticks from storage failed",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadCost:
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
    # V3 pools read through their storage (ReadConfig.v3_slots)
    v3_slots_base: int = 10_000  # cold pool, slot0 and liquidity slots, three calls
    v3_slots_word: int = 3_000  # per bitmap word: one cold slot and its key
    v3_slots_tick: int = 3_000  # per initialized tick: one cold slot and its key

    def estimate(self, info: PoolInfo, words: int, ticks: int | None, slots: bool = False) -> int:
        if info.kind is HopKind.UNISWAP_V2:
            return self.v2
        if info.kind is HopKind.UNISWAP_V3:
            n_ticks = self.v3_ticks_per_word * words if ticks is None else ticks
            if slots:
                return (
                    self.v3_slots_base + words * self.v3_slots_word + n_ticks * self.v3_slots_tick
                )
            return self.v3_base + words * self.v3_word + n_ticks * self.v3_tick
        return self.weighted_base + len(info.tokens) * self.weighted_token


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadConfig:
    """How to read. The V3 window: `words_per_side` bitmap words on each side of the current
    tick's word; None (the default): the fewest words, at least 1, that hold `window_ticks` ticks
    on each side. A word holds 256 x tick spacing ticks, so 512 ticks (a 5.3% price move, the
    least that 2 words per side gave) is 2 words at tick spacing 1 and 1 word at spacing 10 (a
    29% move at least), 60 (4.6x) and 200 (167x). A quote that needs a word outside the window
    raises IncompleteStateError."""

    words_per_side: int | None = None  # V3: None = from window_ticks and the tick spacing
    window_ticks: int = 512  # V3: least ticks on each side, when words_per_side is None
    gas_budget: int = 20_000_000  # gas of one eth_call; nodes cap calls at 30M-50M
    # Calls sent at once, for a read of at least parallel_min_gas per call. On an Anvil fork a
    # call waits on the fork database at every slot it reads; two calls keep it busy: measured
    # on 1,000 pools, 1 call 65-118 ms (by the machine's load), 2 calls 59-73 ms.
    parallel_calls: int = 2
    parallel_min_gas: int = 4_000_000  # a small read (a sync's few pools) stays one call
    read_cost: ReadCost = field(default_factory=ReadCost)
    # V3 pools of the canonical factory: read their storage slots (False: their getters)
    v3_slots: bool = True

    def __post_init__(self) -> None:
        if self.words_per_side is not None and not 0 <= self.words_per_side <= 3000:
            raise FlasharbValueError(
                f"words_per_side must be in 0..3000, not {self.words_per_side}"
            )
        if not 0 <= self.window_ticks <= 2 * 887_272:
            raise FlasharbValueError(f"window_ticks must be in 0..1774544, not {self.window_ticks}")
        if self.parallel_calls < 1:
            raise FlasharbValueError(f"parallel_calls must be >= 1, not {self.parallel_calls}")
        if self.parallel_min_gas < 0:
            raise FlasharbValueError(f"parallel_min_gas must be >= 0, not {self.parallel_min_gas}")
        if self.gas_budget < 500_000:
            raise FlasharbValueError(f"gas_budget {self.gas_budget} is too small; use >= 500000")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadResult:
    """States of the pools read, by address, and the pools that failed with the reason."""

    block: int
    states: dict[str, AnyPoolState]
    failed: dict[str, str]
    calls: int  # eth_calls made


def _reads_slots(info: PoolInfo, cfg: ReadConfig) -> bool:
    """Whether `info` is read through its storage: a V3 pool of the canonical factory (whose
    pools all run the same code, so share one storage layout), with `v3_slots` on."""
    return cfg.v3_slots and info.kind is HopKind.UNISWAP_V3 and info.source == UNISWAP_V3_FACTORY


def words_per_side(info: PoolInfo, cfg: ReadConfig) -> int:
    """Bitmap words read on each side of a V3 pool's current word (0 for other pools)."""
    if info.kind is not HopKind.UNISWAP_V3:
        return 0
    if cfg.words_per_side is not None:
        return cfg.words_per_side
    per_word = 256 * info.tick_spacing
    return max(1, -(-cfg.window_ticks // per_word))  # ceil


@lru_cache(maxsize=16_384)
def _entry(info: PoolInfo, words_per_side: int, slots: bool) -> bytes:
    address = bytes.fromhex(info.address[2:])
    if info.kind is HopKind.UNISWAP_V2:
        return bytes((_V2,)) + address
    if info.kind is HopKind.UNISWAP_V3:
        spacing = (info.tick_spacing & 0xFFFFFF).to_bytes(3, "big")
        kind = _V3_SLOTS if slots else _V3
        return bytes((kind,)) + address + spacing + words_per_side.to_bytes(2, "big")
    return bytes((_WEIGHTED,)) + address + info.pool_id


def read_states(
    w3: Web3,
    pools: Sequence[PoolInfo],
    *,
    block: int | str | None = None,
    config: ReadConfig | None = None,
    tick_counts: Mapping[str, int] | None = None,
) -> ReadResult:
    """State of every pool in `pools` at `block` (default: the head), in as few eth_calls as the
    gas budget allows, sent concurrently (at least `config.parallel_calls` of them when each gets
    `config.parallel_min_gas`). `tick_counts` (address -> initialized ticks last seen) sharpens
    the V3 gas estimate."""
    cfg = config or ReadConfig()
    number = resolve_block(w3, block)
    counts = tick_counts or {}
    wps = [words_per_side(p, cfg) for p in pools]
    slots = [_reads_slots(p, cfg) for p in pools]
    entries = [_entry(p, w, s) for p, w, s in zip(pools, wps, slots, strict=True)]
    model = cfg.read_cost
    gas = [
        model.estimate(p, 2 * w + 1, counts.get(p.address), s) + _CALLDATA_GAS * len(e)
        for p, w, e, s in zip(pools, wps, entries, slots, strict=True)
    ]
    parallel = cfg.parallel_calls
    if cfg.parallel_min_gas:
        parallel = max(1, min(parallel, sum(gas) // cfg.parallel_min_gas))
    ranges = _split(gas, cfg.gas_budget, parallel)
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
            slot_pools = [
                self.pools[k].address for k in range(pos, end) if self.entries[k][0] == _V3_SLOTS
            ]
            raw = _call(self.w3, data, self.block, self.budget, slot_pools)
            calls += 1
            mv = memoryview(raw)[64 : 64 + int.from_bytes(raw[32:64], "big")]
            done = _decode(mv, self.pools, self.entries, pos, end, states, failed)
            if done == 0:  # the first pool alone does not fit in a whole call
                p = self.pools[pos]
                failed[p.address] = (
                    f"{p.venue} pool {p.address}: its read needs more than the gas budget "
                    f"({self.budget}); lower words_per_side or raise gas_budget"
                )
                done = 1
            pos += done
        return states, failed, calls


def _call(w3: Web3, data: bytes, block: int, gas: int, slot_pools: Sequence[str]) -> bytes:
    """eth_call of the reader on `data`, with the reader's code and, for each pool read through
    its storage, the slot reader's code as state overrides (raw request: web3's formatters cost
    more than the call on a 100 kB answer)."""
    tx = {"to": READER_ADDRESS, "data": "0x" + data.hex(), "gas": hex(gas)}
    override: dict[str, dict[str, str]] = {READER_ADDRESS: {"code": reader_code(READER)}}
    for address in slot_pools:
        override[address] = {"code": _SLOT_READER_HEX}
    out = request(w3, "eth_call", [tx, block_param(block), override], f"{READER} eth_call")
    return bytes.fromhex(out[2:])


def _decode(
    mv: memoryview,
    pools: Sequence[PoolInfo],
    entries: Sequence[bytes],
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
            failed[info.address] = _reason(info, entries[k][0], step)
            i += 2
        else:
            i = _DECODERS[info.kind](mv, i + 1, info, states, failed)
        k += 1
    return k - start


def _reason(info: PoolInfo, kind: int, step: int) -> str:
    what = _REASONS.get((kind, step), f"read step {step} failed")
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
        version=info.version,
    )
    return i


_Decoder = Callable[[memoryview, int, PoolInfo, dict[str, AnyPoolState], dict[str, str]], int]
_DECODERS: dict[HopKind, _Decoder] = {
    HopKind.UNISWAP_V2: _decode_v2,
    HopKind.UNISWAP_V3: _decode_v3,
    HopKind.BALANCER: _decode_weighted,
}
