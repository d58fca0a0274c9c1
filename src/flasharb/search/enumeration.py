"""Vectorised enumeration of the simple cycles of 2-4 hops rooted at flash-borrowable tokens.

Paths are grown with sort-merge joins on numpy arrays, never one walk per path:

- 2 hops: `s -a-> a` joined with the edges `a -> s`;
- 3 hops: the 2-paths `s -> a -> b` joined with the edges `b -> s`;
- 4 hops: meet in the middle, the 2-paths `s -> a -> b` joined on `(b, s)` with the
  2-paths `b -> c -> s`, so no 3-path that cannot close is ever built.

A cycle never uses a pool twice and never revisits a token (its start token appears only at
both ends). Order: start token, hop count, pool ids along the route, then the intermediate
tokens (which only matter when a multi-token Balancer pool carries two different pairs of a
route's tokens).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from flasharb.errors import FlasharbValueError
from flasharb.search.graph import TokenGraph, ranges

__all__ = ["MAX_HOPS", "MIN_HOPS", "CycleArrays", "check_hops", "enumerate_cycle_arrays"]

MAX_HOPS = 4  # longest route FlashArbFacet executes; also bounds enumeration cost
MIN_HOPS = 2  # a 1-hop "cycle" would need token_in == token_out

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CycleArrays:
    """Cycles as rows: `edges[i, :hops[i]]` are the edge ids in route order, -1 padded."""

    start: npt.NDArray[np.int32]  # token id borrowed and repaid
    edges: npt.NDArray[np.int32]  # (n, MAX_HOPS)
    hops: npt.NDArray[np.int8]


def check_hops(min_hops: int, max_hops: int) -> None:
    if not MIN_HOPS <= min_hops <= max_hops <= MAX_HOPS:
        raise FlasharbValueError(
            f"need {MIN_HOPS} <= min_hops <= max_hops <= {MAX_HOPS}, "
            f"got min_hops={min_hops}, max_hops={max_hops}"
        )


def _join(left_key: IntArray, right_key: IntArray) -> tuple[IntArray, IntArray]:
    """Every (i, j) with left_key[i] == right_key[j]: i ascending, then j ascending."""
    order = np.argsort(right_key, kind="stable")
    sorted_keys = right_key[order]
    lo = np.searchsorted(sorted_keys, left_key, side="left")
    hi = np.searchsorted(sorted_keys, left_key, side="right")
    counts = (hi - lo).astype(np.int64)
    li = np.repeat(np.arange(left_key.shape[0], dtype=np.int64), counts)
    rj = order[ranges(lo.astype(np.int64), counts)]
    return li, rj.astype(np.int64)


def enumerate_cycle_arrays(
    graph: TokenGraph, start_ids: Sequence[int], min_hops: int, max_hops: int
) -> CycleArrays:
    """All cycles of `min_hops..max_hops` hops starting at the tokens `start_ids`."""
    check_hops(min_hops, max_hops)
    n_tokens = np.int64(max(len(graph.tokens), 1))
    ep = graph.edge_pool.astype(np.int64)
    ei = graph.edge_in.astype(np.int64)
    eo = graph.edge_out.astype(np.int64)
    is_start = np.zeros(len(graph.tokens), dtype=np.bool_)
    is_start[np.asarray(list(start_ids), dtype=np.int64)] = True
    pair_key = ei * n_tokens + eo  # the edge's (token_in, token_out)

    blocks: list[tuple[int, IntArray, list[IntArray]]] = []  # (hops, start, edge columns)
    first = np.flatnonzero(is_start[ei]) if ei.size else np.zeros(0, dtype=np.int64)
    s1, a1 = ei[first], eo[first]

    if min_hops <= 2 <= max_hops:
        li, e2 = _join(a1 * n_tokens + s1, pair_key)
        e1 = first[li]
        keep = ep[e1] != ep[e2]
        blocks.append((2, s1[li][keep], [e1[keep], e2[keep]]))

    if max_hops >= 3:
        li, e2 = _join(a1, ei)  # s -> a -> b
        e1 = first[li]
        s2 = s1[li]
        keep = (eo[e2] != s2) & (ep[e2] != ep[e1])
        p_e1, p_e2, p_s = e1[keep], e2[keep], s2[keep]
        p_key = eo[p_e2] * n_tokens + p_s  # (b, s)

        if min_hops <= 3:
            li, e3 = _join(p_key, pair_key)  # b -> s
            c1, c2, cs = p_e1[li], p_e2[li], p_s[li]
            keep = (ep[e3] != ep[c1]) & (ep[e3] != ep[c2])
            blocks.append((3, cs[keep], [c1[keep], c2[keep], e3[keep]]))

        if max_hops >= 4:
            last = np.flatnonzero(is_start[eo])  # c -> s
            li, e3 = _join(ei[last], eo)  # b -> c -> s
            e4 = last[li]
            s4 = eo[e4]
            keep = (ei[e3] != s4) & (ep[e3] != ep[e4])
            q_e3, q_e4 = e3[keep], e4[keep]
            q_key = ei[q_e3] * n_tokens + eo[q_e4]  # (b, s)
            li, rj = _join(p_key, q_key)
            c1, c2, c3, c4 = p_e1[li], p_e2[li], q_e3[rj], q_e4[rj]
            pools = [ep[c] for c in (c1, c2, c3, c4)]
            keep = (
                (eo[c1] != ei[c4])  # a != c
                & (pools[0] != pools[2])
                & (pools[0] != pools[3])
                & (pools[1] != pools[2])
                & (pools[1] != pools[3])
            )
            blocks.append((4, p_s[li][keep], [c1[keep], c2[keep], c3[keep], c4[keep]]))

    return _sorted(graph, blocks)


def _sorted(graph: TokenGraph, blocks: list[tuple[int, IntArray, list[IntArray]]]) -> CycleArrays:
    n = sum(int(start.shape[0]) for _, start, _ in blocks)
    start = np.zeros(n, dtype=np.int32)
    edges = np.full((n, MAX_HOPS), -1, dtype=np.int32)
    hops = np.zeros(n, dtype=np.int8)
    row = 0
    for h, s, columns in blocks:
        m = int(s.shape[0])
        start[row : row + m] = s
        hops[row : row + m] = h
        for j, column in enumerate(columns):
            edges[row : row + m, j] = column
        row += m
    if n == 0:
        return CycleArrays(start=start, edges=edges, hops=hops)
    padded = np.where(edges >= 0, edges, 0)
    pools = np.where(edges >= 0, graph.edge_pool[padded], -1).astype(np.int64) + 1
    inner = np.where(edges >= 0, graph.edge_in[padded], -1).astype(np.int64) + 1
    n_pools, n_tokens = len(graph.pools) + 1, len(graph.tokens) + 1
    if max(n_pools, n_tokens) < 2**17:  # pack the keys into three int64s: a faster sort
        k1 = ((start.astype(np.int64) * 8 + hops) * n_pools + pools[:, 0]) * n_pools + pools[:, 1]
        k2 = pools[:, 2] * n_pools + pools[:, 3]
        order = _order(k1, k2, (inner[:, 1] * n_tokens + inner[:, 2]) * n_tokens + inner[:, 3])
    else:
        keys = [inner[:, j] for j in range(MAX_HOPS - 1, 0, -1)]  # least significant first
        keys += [pools[:, j] for j in range(MAX_HOPS - 1, -1, -1)]
        keys += [hops, start]
        order = np.lexsort(keys)
    return CycleArrays(start=start[order], edges=edges[order], hops=hops[order])


def _order(k1: IntArray, k2: IntArray, k3: IntArray) -> IntArray:
    """`np.lexsort((k3, k2, k1))`, in two plain sorts: k1 is replaced by its dense rank so
    that (rank, k2) packs into one int64; k3 only breaks ties of equal pool sequences, which
    need two pools holding the same two tokens of a route (multi-token Balancer pools)."""
    first = np.argsort(k1)
    ranked = k1[first]
    rank = np.empty_like(k1)
    rank[first] = np.concatenate(([0], np.cumsum(ranked[1:] != ranked[:-1])))
    packed = rank * (int(k2.max()) + 1) + k2  # < n * 2^34
    order = np.argsort(packed)
    sorted_packed = packed[order]
    if np.any(sorted_packed[1:] == sorted_packed[:-1]):
        order = np.lexsort((k3, packed))
    return order.astype(np.int64)
