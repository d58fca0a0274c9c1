"""The token graph: every routable pool of every venue, as directed swap edges in numpy arrays.

A pool whose venue routes it (`flasharb.search.venue.Venue.hop_kind`) and trades tokens
`t_1..t_n` (`graph_tokens`: a Balancer stable pool's BPT is not one; native ETH is WETH) gives
one edge per ordered pair `(t_i, t_j)`, `i != j`: two for a V2 pair or a V3 pool, `n*(n-1)` for
an n-token Balancer pool; each edge keeps the route hop its venue builds for it. Pools (by uid)
and tokens get integer ids in the order of their lower-case strings, and edges are sorted by
`(pool, token_in, token_out)`, so the edges of one pool are contiguous (`pool_edge_ptr`) and
everything built on the graph is deterministic whatever order the pools came in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.errors import FlasharbValueError
from flasharb.kinds import HopKind
from flasharb.search.venue import venue_of
from flasharb.state.registry import normal_uid

if TYPE_CHECKING:
    from flasharb.search.cycles import Hop

__all__ = [
    "NO_V2_FACTORY",
    "V2_FACTORY_VENUES",
    "TokenGraph",
    "hop_kind",
    "hop_fee_pips",
    "ranges",
    "routable",
    "unique_pools",
    "v2_factory",
]

# FlashArbFacet's allowed Uniswap-V2-style factories, by the index a V2 hop names (LibRoute
# V2_FACTORY_COUNT): the facet derives each pair from its factory and tokens, so a hop carries
# this index, not the pair. flasharb.execute.deploy builds the facet with these factories.
V2_FACTORY_VENUES: tuple[str, ...] = ("uniswap_v2", "sushiswap")
NO_V2_FACTORY = -1  # a V2 pair of a venue the facet has no factory for: its hops cannot be encoded


def v2_factory(venue: str) -> int:
    """The facet's factory index of a V2 venue, or NO_V2_FACTORY."""
    try:
        return V2_FACTORY_VENUES.index(venue)
    except ValueError:
        return NO_V2_FACTORY


IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]


def hop_kind(state: PoolState) -> HopKind:
    """How FlashArbFacet swaps through a pool of this state's venue."""
    kind = venue_of(state).hop_kind
    if kind is None:
        raise FlasharbValueError(f"pool {state.uid}: the diamond has no hop for its venue yet")
    return kind


def hop_fee_pips(state: PoolState) -> int:
    """The pool's swap fee in pips (hundredths of a bip); Balancer's 1e18 fee floored to pips."""
    return venue_of(state).fee_pips(state)


def routable(state: PoolState) -> bool:
    """Whether routes may trade through the pool now: its venue has a facet hop and it trades
    two tokens or more (a Balancer stable pool whose amplification moves trades none)."""
    venue = venue_of(state)
    return venue.hop_kind is not None and len(set(venue.graph_tokens(state))) >= 2


def unique_pools(pools: Iterable[PoolState]) -> list[PoolState]:
    """One state per uid, sorted by lower-case uid; the same uid with two different states is
    an error (which one is current?)."""
    by_uid: dict[str, PoolState] = {}
    for pool in pools:
        if not isinstance(getattr(pool, "uid", None), str):
            venue_of(pool)  # raises, naming the state's class
        seen = by_uid.get(pool.uid)
        if seen is not None and seen != pool:
            raise FlasharbValueError(f"pool {pool.uid} given twice with different state")
        by_uid[pool.uid] = pool
    return [by_uid[uid] for uid in sorted(by_uid, key=str.lower)]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class TokenGraph:
    """Pools, tokens and directed edges. Ids index `pools` and `tokens`; edge arrays are
    parallel, one entry per edge."""

    pools: tuple[str, ...]  # uids, ordered by lower case
    tokens: tuple[str, ...]  # EIP-55 addresses, ordered by lower-case address
    edge_pool: Int32Array  # pool id of each edge
    edge_in: Int32Array  # token id sold into the pool
    edge_out: Int32Array  # token id bought
    edge_kind: npt.NDArray[np.int8]  # HopKind code
    edge_fee: Int32Array  # pips, as `hop_fee_pips`
    pool_edge_ptr: IntArray  # edges of pool p are pool_edge_ptr[p]:pool_edge_ptr[p + 1]
    pool_index: dict[str, int] = field(repr=False)
    token_index: dict[str, int] = field(repr=False)
    edge_hops: tuple[Hop, ...] = field(repr=False)  # the route hop of each edge, by its venue
    edge_gas: IntArray = field(repr=False)  # each edge's hop's venue gas (`Hop.gas`)

    @classmethod
    def build(cls, states: Iterable[PoolState]) -> TokenGraph:
        """The graph of `states` (duplicates of one state are dropped; pools whose venue the
        diamond cannot swap through yet are left out)."""
        pools = []
        members = []
        for pool in unique_pools(states):
            if not routable(pool):
                continue  # nothing to route through (yet): read, priced, not in the graph
            pools.append(pool)
            members.append(venue_of(pool).graph_tokens(pool))
        tokens = sorted({t for ts in members for t in ts}, key=str.lower)
        token_index = {t: i for i, t in enumerate(tokens)}
        pool_rows: list[int] = []
        ins: list[int] = []
        outs: list[int] = []
        kinds: list[int] = []
        fees: list[int] = []
        hops: list[Hop] = []
        counts = np.zeros(len(pools), dtype=np.int64)
        for p, (pool, ts) in enumerate(zip(pools, members, strict=True)):
            venue = venue_of(pool)
            kind = int(hop_kind(pool))
            fee = venue.fee_pips(pool)
            ids = sorted(token_index[t] for t in ts)
            for a in ids:
                for b in ids:
                    if a != b:
                        pool_rows.append(p)
                        ins.append(a)
                        outs.append(b)
                        kinds.append(kind)
                        fees.append(fee)
                        hops.append(venue.hop(pool, tokens[a], tokens[b]))
            counts[p] = len(ids) * (len(ids) - 1)
        ptr = np.zeros(len(pools) + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        return cls(
            pools=tuple(pool.uid for pool in pools),
            tokens=tuple(tokens),
            edge_pool=np.asarray(pool_rows, dtype=np.int32),
            edge_in=np.asarray(ins, dtype=np.int32),
            edge_out=np.asarray(outs, dtype=np.int32),
            edge_kind=np.asarray(kinds, dtype=np.int8),
            edge_fee=np.asarray(fees, dtype=np.int32),
            pool_edge_ptr=ptr,
            pool_index={uid: i for i, uid in enumerate(pool.uid for pool in pools)},
            token_index=token_index,
            edge_hops=tuple(hops),
            edge_gas=np.asarray([h.gas for h in hops], dtype=np.int64),
        )

    @property
    def n_edges(self) -> int:
        return int(self.edge_pool.shape[0])

    def pool_id(self, uid: str) -> int:
        """Id of the pool `uid` (any case); FlasharbValueError if it is not in the graph."""
        pid = self.pool_index.get(uid)
        if pid is None:
            pid = self.pool_index.get(normal_uid(uid))
            if pid is None:
                raise FlasharbValueError(
                    f"pool {uid} is not in the token graph; rebuild the index with it"
                )
        return pid

    def token_ids(self, tokens: Iterable[str]) -> list[int]:
        """Sorted unique ids of those of `tokens` (any case) that some pool holds."""
        ids = {self.token_index.get(checksum_address(t), -1) for t in tokens}
        return sorted(i for i in ids if i >= 0)

    def edges_of(self, pool_ids: Sequence[int] | IntArray) -> IntArray:
        """Edge ids of the given pools, in edge order per pool."""
        pids = np.asarray(pool_ids, dtype=np.int64)
        if pids.size == 0:
            return np.zeros(0, dtype=np.int64)
        starts = self.pool_edge_ptr[pids]
        counts = self.pool_edge_ptr[pids + 1] - starts
        return ranges(starts, counts)


def ranges(starts: IntArray, counts: IntArray) -> IntArray:
    """Concatenation of `arange(s, s + c)` for each (s, c), vectorised."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.cumsum(counts) - counts  # where each run starts in the output
    out = np.arange(total, dtype=np.int64)
    out += np.repeat(starts - offsets, counts)
    return out
