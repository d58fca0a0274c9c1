"""Bellman-Ford on -log(rate after fee): a negative cycle is a route that pays at the margin.

A cross-check of the cycle index, in floats (it decides nothing): every negative cycle it
finds that is short enough, uses each pool once and passes a flash-borrowable token must be
in the index and pass its screen there (`cross_check`). Relaxation is vectorised over all
edges at once (a round is one numpy pass), from a virtual source at distance 0 to every token.

    checks = cross_check(engine.graph, engine.rates.log_rate, engine.index.start,
                         engine.index.edges, set(engine.graph.token_ids(flash_tokens)))

After `len(tokens)` rounds, any token still improving leads, through the predecessor edges,
into a cycle of the predecessor graph, and such cycles are negative. To find more than the
ones the predecessor graph happens to hold, `negative_cycles` bans the weakest edge of each
cycle found and runs again, up to `max_cycles`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from flasharb.amm.pool import PoolState
from flasharb.search.cycles import CycleIndex
from flasharb.search.engine import SearchEngine
from flasharb.search.enumeration import MAX_HOPS
from flasharb.search.graph import TokenGraph

__all__ = ["CrossCheck", "NegativeCycle", "cross_check", "engine_of", "negative_cycles"]

TOL = 1e-12  # improvements and cycle weights smaller than this are float noise


@dataclass(frozen=True, slots=True, kw_only=True)
class NegativeCycle:
    """A closed walk over edges, each token once; `log_rate` = -weight > 0."""

    edges: tuple[int, ...]  # edge ids in route order
    tokens: tuple[str, ...]  # tokens visited, the first again at the end
    pools: tuple[str, ...]
    log_rate: float  # sum of log rates after fee: > 0 pays at the margin


def _relax(
    graph: TokenGraph, weight: npt.NDArray[np.float64], rounds: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """(predecessor edge per token, tokens improved in the last round)."""
    n = len(graph.tokens)
    dist = np.zeros(n)
    pred = np.full(n, -1, dtype=np.int64)
    live = np.flatnonzero(np.isfinite(weight))
    ei, eo, w = graph.edge_in[live], graph.edge_out[live], weight[live]
    improved = np.zeros(n, dtype=np.bool_)
    for _ in range(rounds):
        cand = dist[ei] + w
        best = dist.copy()
        np.minimum.at(best, eo, cand)
        improved = best < dist - TOL
        if not improved.any():
            break
        hits = np.flatnonzero((cand == best[eo]) & improved[eo])
        tokens, first = np.unique(eo[hits], return_index=True)
        pred[tokens] = live[hits[first]]
        dist = np.where(improved, best, dist)
    return pred, improved


def _cycles_from(
    graph: TokenGraph, pred: npt.NDArray[np.int64], starts: npt.NDArray[np.int64]
) -> list[tuple[int, ...]]:
    n = len(graph.tokens)
    found: dict[frozenset[int], tuple[int, ...]] = {}
    for start in starts.tolist():
        token = start
        for _ in range(n):  # walk back into the cycle
            e = int(pred[token])
            if e < 0:
                break
            token = int(graph.edge_in[e])
        else:
            walk: list[int] = []
            at = token
            while True:
                e = int(pred[at])
                walk.append(e)
                at = int(graph.edge_in[e])
                if at == token or len(walk) > n:
                    break
            edges = tuple(reversed(walk))  # route order
            found.setdefault(frozenset(edges), edges)
    return list(found.values())


def negative_cycles(
    graph: TokenGraph, log_rate: npt.NDArray[np.float64], *, max_cycles: int = 64
) -> list[NegativeCycle]:
    """Negative cycles of `-log_rate` (one entry per edge; -inf for a dead edge), the most
    profitable at the margin first."""
    weight = -np.asarray(log_rate[: graph.n_edges], dtype=np.float64)
    banned = weight.copy()
    found: dict[frozenset[int], NegativeCycle] = {}
    while len(found) < max_cycles:
        pred, improved = _relax(graph, banned, len(graph.tokens) + 1)
        if not improved.any():
            break
        cycles = _cycles_from(graph, pred, np.flatnonzero(improved))
        if not cycles:
            break
        for edges in cycles:
            total = -float(weight[list(edges)].sum())
            banned[max(edges, key=lambda e: weight[e])] = np.inf  # drop the weakest edge
            if total > TOL and frozenset(edges) not in found:
                found[frozenset(edges)] = NegativeCycle(
                    edges=edges,
                    tokens=tuple(graph.tokens[graph.edge_in[e]] for e in edges)
                    + (graph.tokens[graph.edge_in[edges[0]]],),
                    pools=tuple(graph.pools[graph.edge_pool[e]] for e in edges),
                    log_rate=total,
                )
    return sorted(found.values(), key=lambda c: (-c.log_rate, c.edges))[:max_cycles]


@dataclass(frozen=True, slots=True, kw_only=True)
class CrossCheck:
    """Where a Bellman-Ford cycle stands in the index."""

    cycle: NegativeCycle
    status: str  # indexed | too long | reuses a pool | no flash token
    cycle_ids: tuple[int, ...]  # index ids of its rotations rooted at flash tokens


def cross_check(
    graph: TokenGraph,
    log_rate: npt.NDArray[np.float64],
    index_start: npt.NDArray[np.int32],
    index_edges: npt.NDArray[np.int32],
    flash_token_ids: set[int],
    *,
    max_cycles: int = 64,
) -> list[CrossCheck]:
    """Find negative cycles and look each one up in the index arrays (`CycleIndex.start`,
    `CycleIndex.edges`): every rotation that starts at a flash token must be a row.

    Status "indexed" with empty `cycle_ids` would be an index bug; the tests assert it never
    happens.
    """
    rows: dict[tuple[int, ...], int] = {}
    for i, (s, edges) in enumerate(zip(index_start.tolist(), index_edges.tolist(), strict=True)):
        rows[(s, *(e for e in edges if e >= 0))] = i
    out = []
    for cycle in negative_cycles(graph, log_rate, max_cycles=max_cycles):
        edges = cycle.edges
        starts = [k for k, e in enumerate(edges) if int(graph.edge_in[e]) in flash_token_ids]
        if len(edges) > MAX_HOPS:
            status = "too long"
        elif len(set(cycle.pools)) < len(cycle.pools):
            status = "reuses a pool"
        elif not starts:
            status = "no flash token"
        else:
            status = "indexed"
        ids = []
        for k in starts:
            rotated = edges[k:] + edges[:k]
            row = rows.get((int(graph.edge_in[rotated[0]]), *rotated))
            if row is not None:
                ids.append(row)
        out.append(CrossCheck(cycle=cycle, status=status, cycle_ids=tuple(ids)))
    return out


def engine_of(pools: list[PoolState], starts: list[str]) -> SearchEngine:
    """The search engine over `pools` (cycles of up to four hops from `starts`) whose index the
    cross-check looks cycles up in."""
    index = CycleIndex.build(pools, starts, max_hops=4)
    return SearchEngine(index, {p.uid: p for p in pools})
