"""Venues as plug-ins: what the state layer asks of a venue, and the set of venues a market reads.

A venue is one configured deployment of a kind of pool: Uniswap V2 and SushiSwap are two venues
of one kind (one module, two instances), as are the Balancer weighted pools of the 20210418 and
the 20230206 factories. The state layer's drivers know no venue: discovery
(`flasharb.state.discovery`), the batched reader (`flasharb.state.reader`) and the log sync
(`flasharb.state.sync`) iterate a `Venues` set and call the `PoolSource` methods below, which
each venue module implements:

- discovery: which logs announce its pools (`creation`), pools that exist before the scanned
  range (`enumerate`: a V2 factory's `allPairs`), and what a creation log makes of a pool
  (`created`: it may probe the chain; what it refuses, it records in the registry's `skipped`
  with the reason);
- the batched read: the venue's reader contract (contracts/readers/venues/), the entry a pool
  adds to the request, its gas, state overrides it needs, and the decoding of its record;
- the sync: the logs that move its pools' state (`watches`), logs that change what a pool *is*
  (`on_log`: a fee, an amplification schedule), and pools whose quotes move with time alone
  (`volatile`: re-read every block).

The venues themselves live in `flasharb.venues`, a layer above the search, because a venue also
tells the search how to price, route, fund and pay gas for its pools (`flasharb.search.venue`).
`builtin_venues` loads them by module name: a plug-in load, the one place below
`flasharb.venues` that names it (tests/test_layers.py holds it to that).
"""

from __future__ import annotations

import importlib
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, Protocol, runtime_checkable

from web3 import Web3

from flasharb.amm.pool import PoolState
from flasharb.errors import FlasharbValueError
from flasharb.state._rpc import RawLog
from flasharb.state.registry import PoolInfo, PoolRegistry

__all__ = [
    "PLUGIN_PACKAGE",
    "PoolSource",
    "ReadConfig",
    "ReadContext",
    "ReadCost",
    "Scan",
    "Venues",
    "Watch",
    "builtin_venues",
]

PLUGIN_PACKAGE = "flasharb.venues"  # its `builtin()` gives the built-in venues


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadCost:
    """How much of each venue's own estimate of a pool read's gas to plan with, in percent
    (the venues measured theirs on the replica, with some room to spare). Underestimates are
    safe: the readers stop early and the rest is resent; 0 plans every pool at 1 gas."""

    percent: int = 100

    def __post_init__(self) -> None:
        if self.percent < 0:
            raise FlasharbValueError(f"read cost percent must be >= 0, not {self.percent}")

    def scale(self, gas: int) -> int:
        return max(1, gas * self.percent // 100)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadConfig:
    """How to read. The window of tick-based pools (Uniswap V3, V4): `words_per_side` bitmap
    words on each side of the current tick's word; None (the default): the fewest words, at
    least 1, that hold `window_ticks` ticks on each side. A word holds 256 x tick spacing ticks,
    so 512 ticks (a 5.3% price move, the least that 2 words per side gave) is 2 words at tick
    spacing 1 and 1 word at spacing 10 (a 29% move at least), 60 (4.6x) and 200 (167x). A
    quote that needs a word outside the window raises IncompleteStateError."""

    words_per_side: int | None = None  # None = from window_ticks and the tick spacing
    window_ticks: int = 512  # least ticks on each side, when words_per_side is None
    gas_budget: int = 20_000_000  # gas of one eth_call; nodes cap calls at 30M-50M
    # Calls sent at once, for a read of at least parallel_min_gas per call. On an Anvil fork a
    # call waits on the fork database at every slot it reads; two calls keep it busy: measured
    # on 1,000 pools, 1 call 65-118 ms (by the machine's load), 2 calls 59-73 ms.
    parallel_calls: int = 2
    parallel_min_gas: int = 4_000_000  # a small read (a sync's few pools) stays one call
    read_cost: ReadCost = field(default_factory=ReadCost)
    # V3 pools of the canonical factory: read their storage slots (False: their getters)
    v3_slots: bool = True
    # The block time the next block is mined at, after the one read: pools whose quotes move
    # with time (Balancer stable pools: amplification updates, rate caches) are quoted there.
    slot_seconds: int = 12

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
        if self.slot_seconds < 0:
            raise FlasharbValueError(f"slot_seconds must be >= 0, not {self.slot_seconds}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadContext:
    """What decoding a record may need besides the record: the block read and its time."""

    block: int
    timestamp: int  # the block's, as the reader saw it
    config: ReadConfig

    @property
    def quote_timestamp(self) -> int:
        """The block time a trade sent now executes at: the next block's."""
        return self.timestamp + self.config.slot_seconds


@dataclass(frozen=True, slots=True, kw_only=True)
class Scan:
    """One discovery pass: the chain, the block, and how to query it."""

    w3: Web3
    block: int
    from_block: int  # first block scanned for creation logs
    log_chunk: int  # blocks per eth_getLogs
    pairs_per_call: int  # entries of a factory's list per eth_call


@dataclass(frozen=True, slots=True)
class Watch:
    """A log whose first topic is `topic` and that moves a pool's swap state. With `emitter`
    None the pool's own contract emits it (the log's address is the pool's uid); otherwise it
    counts only from `emitter`, and its second topic is the pool's id (`PoolInfo.pool_id`: the
    Balancer Vault's, the V4 PoolManager's)."""

    topic: bytes
    emitter: str | None = None


@runtime_checkable
class PoolSource(Hashable, Protocol):
    """What the state layer's drivers ask of a venue (module doc)."""

    @property
    def name(self) -> str:
        """The venue's label (JSON, the registry, the config file): `uniswap_v2`, ..."""
        ...

    @property
    def reader(self) -> str:
        """Its reader contract (contracts/readers/venues/): `read(bytes) returns (bytes)`."""
        ...

    def creation(self) -> tuple[tuple[str, ...], tuple[bytes, ...]]:
        """The contracts whose logs announce its pools, and those logs' first topics (only
        logs from these contracts count: anyone can emit a look-alike event)."""
        ...

    def enumerate(self, scan: Scan, registry: PoolRegistry) -> list[PoolInfo]:
        """Pools found without logs (a factory's list), decimals still to read (`()`)."""
        ...

    def created(self, scan: Scan, registry: PoolRegistry, logs: Sequence[RawLog]) -> list[PoolInfo]:
        """The pools these creation logs (from its `creation` contracts and topics, in chain
        order) announce, decimals still to read; pools it refuses go to `registry.skip`."""
        ...

    def read_entry(self, info: PoolInfo, config: ReadConfig) -> bytes:
        """The pool's entry in its reader's request."""
        ...

    def read_gas(self, info: PoolInfo, config: ReadConfig, ticks: int | None) -> int:
        """Execution gas of the pool's read (`ticks`: initialized ticks last seen, if known)."""
        ...

    def read_overrides(self, info: PoolInfo, config: ReadConfig) -> Mapping[str, str]:
        """State-override code the read needs besides the readers' (address -> 0x-hex)."""
        ...

    def decode(
        self, mv: memoryview, i: int, info: PoolInfo, ctx: ReadContext
    ) -> tuple[int, PoolState | str]:
        """Decode the pool's successful record from byte `i` (after its status byte): where
        the next record starts, and the state or, when the record says the pool cannot be
        used, the reason."""
        ...

    def read_failure(self, info: PoolInfo, config: ReadConfig, step: int) -> str:
        """Why the read of `info` failed at `step` (the reader's failure record)."""
        ...

    def watches(self) -> tuple[Watch, ...]:
        """The logs that move its pools' swap state."""
        ...

    def on_log(self, info: PoolInfo, log: RawLog) -> PoolInfo | None:
        """What `info` becomes after a watched `log` of its pool, when the log changes what the
        pool is rather than its state (None: unchanged)."""
        ...

    def refreshed(self, info: PoolInfo, state: PoolState) -> PoolInfo | None:
        """`info` brought in line with a fresh `state` (a fee the owner changed), or None."""
        ...

    def volatile(self, state: PoolState) -> bool:
        """Whether its quotes move with time alone (re-read at every block)."""
        ...

    def moved(self, old: PoolState, new: PoolState) -> bool:
        """Whether a volatile pool's quotes differ between two reads (else it is not reported
        as changed, and its cycles are not re-evaluated)."""
        ...


@cache
def builtin_venues() -> tuple[PoolSource, ...]:
    """flasharb's own venues, from `flasharb.venues` (loaded on first use: module doc)."""
    module: Any = importlib.import_module(PLUGIN_PACKAGE)
    venues = tuple(module.builtin())
    for v in venues:
        if not isinstance(v, PoolSource):
            raise FlasharbValueError(f"{PLUGIN_PACKAGE}.builtin() gave {v!r}: not a venue")
    return venues


@dataclass(frozen=True, slots=True, kw_only=True)
class Venues:
    """The venues a market reads, in order of priority, and how discovery scans for them.

    The default is every built-in venue. Log queries run from `from_block` (0 on the replica;
    on a fork of mainnet, a block before the deployments, e.g. 10_000_835 for Uniswap V2) in
    ranges of `log_chunk` blocks.
    """

    venues: tuple[PoolSource, ...] = field(default_factory=builtin_venues)
    from_block: int = 0
    log_chunk: int = 10_000  # blocks per eth_getLogs (real RPCs cap the range)
    pairs_per_call: int = 1_000  # allPairs entries per eth_call

    def __post_init__(self) -> None:
        names = [v.name for v in self.venues]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise FlasharbValueError(f"venue {twice[0]} is listed twice; give each venue one name")
        if self.log_chunk < 1:
            raise FlasharbValueError(f"log chunk must be at least 1 block, got {self.log_chunk}")

    @classmethod
    def builtin(cls) -> Venues:
        return cls()

    def __iter__(self) -> Iterator[PoolSource]:
        return iter(self.venues)

    def __len__(self) -> int:
        return len(self.venues)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.venues)

    def get(self, name: str) -> PoolSource | None:
        for v in self.venues:
            if v.name == name:
                return v
        return None

    def __getitem__(self, name: str) -> PoolSource:
        found = self.get(name)
        if found is None:
            raise FlasharbValueError(
                f"venue {name!r} is not one of {', '.join(self.names) or 'none'}"
            )
        return found

    def only(self, *names: str) -> Venues:
        """These venues alone (each must be one of this set), in this set's order."""
        for n in names:
            self[n]
        return replace(self, venues=tuple(v for v in self.venues if v.name in names))

    def without(self, *names: str) -> Venues:
        for n in names:
            self[n]
        return replace(self, venues=tuple(v for v in self.venues if v.name not in names))

    def plus(self, *venues: PoolSource) -> Venues:
        """This set and `venues` after it."""
        return replace(self, venues=(*self.venues, *venues))

    def scan(self, w3: Web3, block: int) -> Scan:
        return Scan(
            w3=w3,
            block=block,
            from_block=self.from_block,
            log_chunk=self.log_chunk,
            pairs_per_call=self.pairs_per_call,
        )

    def creation_sources(self) -> dict[str, list[tuple[PoolSource, frozenset[bytes]]]]:
        """Contract -> the venues whose pools its logs announce, with those logs' topics."""
        out: dict[str, list[tuple[PoolSource, frozenset[bytes]]]] = {}
        for v in self.venues:
            emitters, topics = v.creation()
            for e in emitters:
                out.setdefault(e, []).append((v, frozenset(topics)))
        return out

    def creation_topics(self) -> tuple[bytes, ...]:
        seen: dict[bytes, None] = {}
        for v in self.venues:
            for t in v.creation()[1]:
                seen[t] = None
        return tuple(seen)
