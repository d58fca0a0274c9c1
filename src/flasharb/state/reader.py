"""Batched pool state reads: one eth_call returns the swap state of hundreds of pools, of every
venue.

`PoolStateReader` (contracts/readers/) runs as state-override code at an unused address, so
nothing is deployed and the same read works on a fork of real mainnet. It knows no venue: the
request is a run of segments, each naming a venue's reader contract (contracts/readers/venues/,
placed by state override at an address derived from its name) and that reader's entries for its
pools; it hands each segment to its reader and returns the records back to back, after the
block's timestamp (what a time-dependent pool is quoted at). Each venue builds its pools'
entries, estimates their gas, names any other override it needs and decodes its records
(`flasharb.state.venue.PoolSource`); records are packed bytes decoded with int.from_bytes over
memoryview slices: ABI-decoding nested arrays of 1,000 pools costs more than the call.

Requests are cut into calls under `ReadConfig.gas_budget` with each venue's per-pool gas
estimate (`ReadCost` scales them); if an estimate is short, a venue reader stops before the pool
it cannot finish, the dispatcher before the next segment, and the rest goes into the next call.
A pool whose read fails does not fail the batch: it is reported in `ReadResult.failed` with the
reason, and has no state.

Measured and kept: the dispatcher costs one STATICCALL per segment (one per venue in a call) and
one more code override per venue reader: bench/market_update.py reads the replica's pools in the
same time as the single reader it replaced (the figures are in the venues note). Each venue's own
choices (the V3 pools' storage slots, the V4 pools' extsload) are in its module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, lru_cache

from eth_utils import function_signature_to_4byte_selector, keccak
from web3 import Web3

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.state._rpc import READER_ADDRESS, block_param, reader_code, request, resolve_block
from flasharb.state.registry import PoolInfo
from flasharb.state.venue import (
    PoolSource,
    ReadConfig,
    ReadContext,
    ReadCost,
    Venues,
    builtin_venues,
)

__all__ = [
    "AnyPoolState",
    "ReadConfig",
    "ReadCost",
    "ReadResult",
    "read_states",
    "reader_address",
    "words_per_side",
]

AnyPoolState = PoolState

READER = "PoolStateReader"
_READ = function_signature_to_4byte_selector("read(bytes)")
_TX_BASE_GAS = 21_000 + 4 * 16 + 2 * 32 * 16  # intrinsic gas, selector and ABI head (worst case)
_CALLDATA_GAS = 16  # per request byte (non-zero; zeros cost less)
_SEGMENT_GAS = 24 * 16 + 3_000  # a segment's head and the dispatcher's call to its reader


@cache
def reader_address(name: str) -> str:
    """Where a venue reader's code is placed for the read: an address derived from its name,
    which no account of any chain has."""
    return checksum_address("0x" + keccak(text=f"flasharb.reader.{name}")[12:].hex())


def words_per_side(info: PoolInfo, cfg: ReadConfig) -> int:
    """Bitmap words read on each side of a tick-based pool's current word (0 for others)."""
    if info.tick_spacing <= 0:
        return 0
    if cfg.words_per_side is not None:
        return cfg.words_per_side
    per_word = 256 * info.tick_spacing
    return max(1, -(-cfg.window_ticks // per_word))  # ceil


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadResult:
    """States of the pools read, by uid, and the pools that failed with the reason."""

    block: int
    states: dict[str, AnyPoolState]
    failed: dict[str, str]
    calls: int  # eth_calls made
    timestamp: int = 0  # the block's


def _venues(venues: Venues | None) -> dict[str, PoolSource]:
    return {v.name: v for v in (venues.venues if venues is not None else builtin_venues())}


@lru_cache(maxsize=16_384)
def _entry(venue: PoolSource, info: PoolInfo, cfg: ReadConfig) -> bytes:
    return venue.read_entry(info, cfg)


def read_states(
    w3: Web3,
    pools: Sequence[PoolInfo],
    *,
    block: int | str | None = None,
    config: ReadConfig | None = None,
    tick_counts: Mapping[str, int] | None = None,
    venues: Venues | None = None,
) -> ReadResult:
    """State of every pool in `pools` at `block` (default: the head), in as few eth_calls as the
    gas budget allows, sent concurrently (at least `config.parallel_calls` of them when each gets
    `config.parallel_min_gas`). `tick_counts` (uid -> initialized ticks last seen) sharpens the
    gas estimate of tick-based pools. Each pool is read by its venue in `venues` (default: the
    built-in venues)."""
    cfg = config or ReadConfig()
    number = resolve_block(w3, block)
    by_name = _venues(venues)
    counts = tick_counts or {}
    failed: dict[str, str] = {}
    todo: list[tuple[PoolSource, PoolInfo]] = []
    for info in pools:
        venue = by_name.get(info.venue)
        if venue is None:
            failed[info.uid] = f"pool {info.uid}: no venue {info.venue!r} to read it"
        else:
            todo.append((venue, info))
    order = {v.name: k for k, v in enumerate(by_name.values())}
    todo.sort(key=lambda vi: order[vi[0].name])  # one segment per venue in each call
    entries = [_entry(v, p, cfg) for v, p in todo]
    gas = [
        cfg.read_cost.scale(v.read_gas(p, cfg, counts.get(p.uid))) + _CALLDATA_GAS * len(e)
        for (v, p), e in zip(todo, entries, strict=True)
    ]
    parallel = cfg.parallel_calls
    if cfg.parallel_min_gas:
        parallel = max(1, min(parallel, sum(gas) // cfg.parallel_min_gas))
    ranges = _split(gas, cfg.gas_budget, parallel)
    job = _Job(w3=w3, todo=todo, entries=entries, gas=gas, block=number, config=cfg)
    if len(ranges) <= 1:
        parts = [job.run(*r) for r in ranges]
    else:
        with ThreadPoolExecutor(max_workers=len(ranges)) as ex:
            parts = list(ex.map(lambda r: job.run(*r), ranges))
    got: dict[str, AnyPoolState] = {}
    timestamp = 0
    for part_states, part_failed, _calls, ts in parts:
        got.update(part_states)
        failed.update(part_failed)
        timestamp = timestamp or ts
    states = {p.uid: got[p.uid] for p in pools if p.uid in got}  # the caller's order
    return ReadResult(
        block=number,
        states=states,
        failed=failed,
        calls=sum(c for _s, _f, c, _t in parts),
        timestamp=timestamp,
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
    todo: Sequence[tuple[PoolSource, PoolInfo]]
    entries: Sequence[bytes]
    gas: Sequence[int]
    block: int
    config: ReadConfig

    def run(self, pos: int, stop: int) -> tuple[dict[str, AnyPoolState], dict[str, str], int, int]:
        """Read todo[pos:stop], resending what a call could not finish."""
        states: dict[str, AnyPoolState] = {}
        failed: dict[str, str] = {}
        calls, timestamp = 0, 0
        budget = self.config.gas_budget
        while pos < stop:
            end, used, reader = pos, _TX_BASE_GAS, ""
            while end < stop:
                extra = _SEGMENT_GAS if self.todo[end][0].reader != reader else 0
                if end > pos and used + self.gas[end] + extra > budget:
                    break
                used += self.gas[end] + extra
                reader = self.todo[end][0].reader
                end += 1
            segments = _segments(self.todo, pos, end)
            body = b"".join(
                bytes.fromhex(reader_address(venue.reader)[2:])
                + sum(len(self.entries[k]) for k in range(a, b)).to_bytes(4, "big")
                + b"".join(self.entries[a:b])
                for venue, a, b in segments
            )
            head = _READ + (32).to_bytes(32, "big") + len(body).to_bytes(32, "big")
            data = head + body + b"\0" * (-len(body) % 32)
            overrides: dict[str, str] = {}
            for k in range(pos, end):
                venue, info = self.todo[k]
                overrides.update(venue.read_overrides(info, self.config))
            raw = _call(
                self.w3, data, self.block, budget, [v.reader for v, _, _ in segments], overrides
            )
            calls += 1
            mv = memoryview(raw)[64 : 64 + int.from_bytes(raw[32:64], "big")]
            timestamp = int.from_bytes(mv[:8], "big")
            ctx = ReadContext(block=self.block, timestamp=timestamp, config=self.config)
            done = _decode(mv, self.todo, segments, ctx, states, failed)
            if done == 0:  # the first pool alone does not fit in a whole call
                venue, p = self.todo[pos]
                failed[p.uid] = (
                    f"{p.venue} pool {p.uid}: its read needs more than the gas budget "
                    f"({budget}); lower words_per_side or raise gas_budget"
                )
                done = 1
            pos += done
        return states, failed, calls, timestamp


def _segments(
    todo: Sequence[tuple[PoolSource, PoolInfo]], start: int, end: int
) -> list[tuple[PoolSource, int, int]]:
    """Runs of todo[start:end] read by one venue reader: (venue, first, past the last)."""
    out: list[tuple[PoolSource, int, int]] = []
    k = start
    while k < end:
        venue, j = todo[k][0], k + 1
        while j < end and todo[j][0].reader == venue.reader:
            j += 1
        out.append((venue, k, j))
        k = j
    return out


def _call(
    w3: Web3,
    data: bytes,
    block: int,
    gas: int,
    readers: Sequence[str],
    extra: Mapping[str, str],
) -> bytes:
    """eth_call of the dispatcher on `data`, with its code, its venue readers' code and the
    venues' other overrides as state overrides (raw request: web3's formatters cost more than
    the call on a 100 kB answer)."""
    tx = {"to": READER_ADDRESS, "data": "0x" + data.hex(), "gas": hex(gas)}
    override: dict[str, dict[str, str]] = {READER_ADDRESS: {"code": reader_code(READER)}}
    for name in readers:
        override[reader_address(name)] = {"code": reader_code(name)}
    for address, code in extra.items():
        override[address] = {"code": code}
    out = request(w3, "eth_call", [tx, block_param(block), override], f"{READER} eth_call")
    return bytes.fromhex(out[2:])


def _decode(
    mv: memoryview,
    todo: Sequence[tuple[PoolSource, PoolInfo]],
    segments: Sequence[tuple[PoolSource, int, int]],
    ctx: ReadContext,
    states: dict[str, AnyPoolState],
    failed: dict[str, str],
) -> int:
    """Decode the records of each segment; returns how many pools, from the first, were read
    (a segment cut short ends the count: what follows it is resent)."""
    i, done = 8, 0
    for _reader, start, end in segments:
        if i + 4 > len(mv):
            break
        size = int.from_bytes(mv[i : i + 4], "big")
        i += 4
        stop, k = i + size, start
        while i < stop and k < end:
            venue, info = todo[k]  # a reader may serve several venues (weighted v1 and v3)
            if mv[i] == 0:
                why = venue.read_failure(info, ctx.config, mv[i + 1])
                failed[info.uid] = f"{info.venue} pool {info.uid}: {why}"
                i += 2
            else:
                i, got = venue.decode(mv, i + 1, info, ctx)
                if isinstance(got, str):
                    failed[info.uid] = got
                else:
                    states[info.uid] = got
            k += 1
        done += k - start
        i = stop
        if k < end:
            break
    return done
