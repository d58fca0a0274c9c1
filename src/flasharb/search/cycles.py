"""Arbitrage cycles over the token graph, and an index from each pool to the cycles through it.

A cycle borrows `token` (the flash-loan token), swaps it through 2-4 pools of any venue and
ends in `token` again. The index keeps the cycles as numpy rows of edge ids and, for every
pool, the ids of the cycles through it as a CSR pair (`pool_ptr`, `pool_cycles`), so a state
change re-evaluates only `cycle_ids_touching(changed)` (DESIGN.md section 4). `Cycle` objects
are built only when asked for.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from flasharb.amm.pool import PoolState
from flasharb.errors import FlasharbValueError
from flasharb.kinds import HopKind
from flasharb.search.enumeration import (
    MAX_HOPS,
    MIN_HOPS,
    CycleArrays,
    check_hops,
    enumerate_cycle_arrays,
)
from flasharb.search.graph import TokenGraph, ranges

__all__ = ["MAX_HOPS", "MIN_HOPS", "Cycle", "CycleIndex", "Hop", "enumerate_cycles"]

# Cycle objects `CycleIndex.cycle` keeps, the most recently used: the cycles the book sizes and
# re-costs block after block. Measured on the replica (67,540 cycles at 3 hops): a Cycle is
# about 340 bytes and costs about 20 us to build from the arrays, against milliseconds to size
# it. Unbounded, the cache only grew: `make soak`'s live objects rose by 28,389 Cycles between
# trade 150 and 600, toward every cycle of the index (23 MB here, gigabytes for the millions of
# cycles of a mainnet fork) in a process meant to run for days.
CYCLE_CACHE = 4_096  # the book's bounds read hops without a Cycle (`hops_of`)


@dataclass(frozen=True, slots=True, kw_only=True)
class Hop:
    """One swap of a route: sell `token_in` into `pool`, receive `token_out`.

    A Uniswap V4 pool has no address: `pool` is its PoolId in hex (the key its state is kept
    under), `pool_id` the 32 bytes, `fee_pips` and `tick_spacing` its key's fee and spacing, and
    a native-ETH pool trades under WETH's name with `native` set (the facet wraps and unwraps).
    """

    pool: str  # the pool's uid: its address, or a V4 pool's 0x-hex PoolId
    token_in: str
    token_out: str
    fee_pips: int  # hundredths of a bip, copied from the pool state at enumeration
    kind: HopKind = HopKind.UNISWAP_V2  # how FlashArbFacet swaps through the pool
    pool_id: bytes = b""  # a Balancer pool's 32-byte Vault id (the packed path names the id)
    factory: int = 0  # a V2 pair's factory index in FlashArbFacet (graph.V2_FACTORY_VENUES)
    tick_spacing: int = (
        0  # a V4 pool's tick spacing (its PoolKey: tokens, fee_pips, spacing, no hooks)
    )
    native: bool = False  # a V4 pool whose WETH side is native ETH: the route still says WETH
    # the pool trades more than two tokens (a Balancer pool of 3+): the pools alone do not fix
    # the route's tokens
    wide: bool = False
    # what its venue's swap costs beyond its kind's GasModel figure, in gas (a ComposableStable
    # pool's StableMath; a 20230206 weighted pool, which keeps no oracle, less)
    gas: int = field(default=0, compare=False)
    # the hop as LibRoute reads it (kind byte first), from its venue; empty: derived from the
    # fields above by the venue of `kind` when the path is encoded
    packed: bytes = field(default=b"", compare=False, repr=False)

    def __post_init__(self) -> None:
        if type(self.kind) is not HopKind:  # a label or a code: one vocabulary, checked here
            object.__setattr__(self, "kind", HopKind.parse(self.kind))


@dataclass(frozen=True, slots=True, kw_only=True)
class Cycle:
    """A closed route that starts and ends in `token`, the token borrowed and repaid."""

    token: str
    hops: tuple[Hop, ...]
    # derived once in __post_init__: read for every cycle on every block (selection, costing)
    _pools: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _key: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.hops:
            raise FlasharbValueError("a cycle needs at least one hop")
        if self.hops[0].token_in != self.token or self.hops[-1].token_out != self.token:
            raise FlasharbValueError(
                f"cycle must start and end in {self.token}: "
                f"{self.hops[0].token_in} ... {self.hops[-1].token_out}"
            )
        for prev, nxt in pairwise(self.hops):
            if prev.token_out != nxt.token_in:
                raise FlasharbValueError(
                    f"broken route: hop via {prev.pool} gives {prev.token_out}, "
                    f"next hop via {nxt.pool} takes {nxt.token_in}"
                )
        pools = tuple(hop.pool for hop in self.hops)
        object.__setattr__(self, "_pools", pools)
        if any(hop.wide for hop in self.hops):
            key = (self.token, *pools, *(hop.token_out for hop in self.hops[:-1]))
        else:
            key = (self.token, *pools)
        object.__setattr__(self, "_key", key)

    @property
    def pools(self) -> tuple[str, ...]:
        """Pool addresses in route order."""
        return self._pools

    @property
    def tokens(self) -> tuple[str, ...]:
        """Tokens visited, `token` at both ends."""
        return (self.token, *(hop.token_out for hop in self.hops))

    @property
    def key(self) -> tuple[str, ...]:
        """Identity for dedup: the start token and the pools in order, which fix every hop of
        two-token pools; a route through a wider pool (a Balancer pool of three or more
        tokens, `Hop.wide`) adds the intermediate tokens."""
        return self._key


class CycleIndex:
    """Every cycle of `min_hops..max_hops` hops from the start tokens, plus pool -> cycles.

    Arrays (row i is cycle i, in `enumerate_cycles` order):
        start: token id borrowed; edges: (n, MAX_HOPS) edge ids, -1 padded; hops: hop count.
        pool_ptr, pool_cycles: cycles through pool p are pool_cycles[pool_ptr[p]:pool_ptr[p+1]],
            ascending.
    """

    __slots__ = ("_cycles", "edges", "graph", "hops", "pool_cycles", "pool_ptr", "start")

    def __init__(self, graph: TokenGraph, arrays: CycleArrays) -> None:
        self.graph = graph
        self.start = arrays.start
        self.edges = arrays.edges
        self.hops = arrays.hops
        self._cycles: OrderedDict[int, Cycle] = OrderedDict()  # the last used, CYCLE_CACHE
        n = self.edges.shape[0]
        valid = self.edges >= 0
        pools = graph.edge_pool[np.where(valid, self.edges, 0)]
        rows = np.broadcast_to(np.arange(n, dtype=np.int32)[:, None], self.edges.shape)
        flat_pools, flat_rows = pools[valid], rows[valid]  # row-major: cycle ids ascending
        order = np.argsort(flat_pools, kind="stable")
        self.pool_cycles: npt.NDArray[np.int32] = flat_rows[order]
        counts = np.bincount(flat_pools, minlength=len(graph.pools))
        self.pool_ptr = np.zeros(len(graph.pools) + 1, dtype=np.int64)
        np.cumsum(counts, out=self.pool_ptr[1:])

    @classmethod
    def build(
        cls,
        pools: Iterable[PoolState],
        start_tokens: Iterable[str],
        max_hops: int = 3,
        min_hops: int = 2,
    ) -> CycleIndex:
        """Enumerate the cycles (see `enumerate_cycles`) of the graph of `pools` and index them.

        Raises:
            FlasharbValueError: bad hop bounds, an address given twice with different states,
                or a state of a type the engine does not know.
        """
        check_hops(min_hops, max_hops)
        graph = TokenGraph.build(pools)
        starts = graph.token_ids(start_tokens)
        return cls(graph, enumerate_cycle_arrays(graph, starts, min_hops, max_hops))

    def __len__(self) -> int:
        return int(self.edges.shape[0])

    def cycle(self, i: int) -> Cycle:
        """Cycle `i`, built from the arrays (the `CYCLE_CACHE` last used are kept: an equal
        object may be built again later, never a different cycle)."""
        cache = self._cycles
        cycle = cache.get(i)
        if cycle is not None:
            cache.move_to_end(i)
            return cycle
        g = self.graph
        hops = tuple(g.edge_hops[e] for e in self.edges[i, : int(self.hops[i])].tolist())
        cycle = Cycle(token=g.tokens[self.start[i]], hops=hops)
        cache[i] = cycle
        if len(cache) > CYCLE_CACHE:
            cache.popitem(last=False)
        return cycle

    def hops_of(self, i: int) -> tuple[Hop, ...]:
        """Cycle `i`'s hops, without building (or keeping) the Cycle: what a bound needs."""
        g = self.graph
        return tuple(g.edge_hops[e] for e in self.edges[i, : int(self.hops[i])].tolist())

    @property
    def cycles(self) -> tuple[Cycle, ...]:
        """Every cycle as an object: fine for hundreds of pools, slow for millions of cycles
        (use the arrays and `cycle(i)` there)."""
        return tuple(self.cycle(i) for i in range(len(self)))

    def cycle_ids_of_pool(self, pool: str) -> npt.NDArray[np.int32]:
        """Ids of the cycles through `pool`, ascending (empty if it is in no cycle)."""
        pid = self.graph.pool_index.get(pool)
        if pid is None:
            try:
                pid = self.graph.pool_id(pool)
            except FlasharbValueError:
                return np.zeros(0, dtype=np.int32)
        return self.pool_cycles[self.pool_ptr[pid] : self.pool_ptr[pid + 1]]

    def cycle_ids_touching(self, pools: Iterable[str]) -> npt.NDArray[np.int64]:
        """Ids of the cycles through any of `pools` (any case; unknown ones give nothing),
        each once, ascending."""
        pids = []
        for pool in pools:
            pid = self.graph.pool_index.get(pool)
            if pid is None:
                try:
                    pid = self.graph.pool_id(pool)
                except FlasharbValueError:
                    continue
            pids.append(pid)
        return self.cycle_ids_of_pool_ids(np.asarray(pids, dtype=np.int64))

    def cycle_ids_of_pool_ids(self, pool_ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Ids of the cycles through any of the pools with these ids, each once, ascending."""
        if pool_ids.size == 0:
            return np.zeros(0, dtype=np.int64)
        starts = self.pool_ptr[pool_ids]
        ids = self.pool_cycles[ranges(starts, self.pool_ptr[pool_ids + 1] - starts)]
        unique: npt.NDArray[np.int64] = np.unique(ids).astype(np.int64)
        return unique

    def cycles_touching(self, pools: Iterable[str]) -> list[Cycle]:
        """Cycles through any of `pools` (addresses in any case), each once, in index order."""
        return [self.cycle(int(i)) for i in self.cycle_ids_touching(pools)]


def enumerate_cycles(
    pools: Iterable[PoolState],
    start_tokens: Iterable[str],
    max_hops: int = 3,
    min_hops: int = 2,
) -> list[Cycle]:
    """Every simple cycle of `min_hops..max_hops` hops rooted at one of `start_tokens`.

    A cycle never uses a pool twice and never revisits a token: its start token appears only
    at both ends. The two directions of a ring are distinct cycles, and a ring through several
    start tokens appears once per start token (the borrowed token differs). A Balancer pool
    gives an edge for every ordered pair of its tokens.

    Order is deterministic whatever the input order: by start token, then hop count, then the
    pool addresses along the route (lower case), then the intermediate tokens.
    """
    return list(CycleIndex.build(pools, start_tokens, max_hops, min_hops).cycles)
