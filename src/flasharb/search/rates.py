"""Float marginal rates per edge, and the vectorised screen and closed form over cycles.

The only floats of the search (DESIGN.md section 4): they pick candidates and seed the exact
integer search, nothing shown to a user or sent on-chain comes from them.

Every edge is summarised as a constant-product stand-in `out = r*x / (1 + c*x)`: `r` is the
marginal rate after fee at zero size, `c` its curvature. Each venue gives its pools' (r, c)
(`flasharb.search.venue.Venue.edge_params`), e.g.:

- V2 pair: `r = g*R_out/R_in`, `c = g/R_in`, `g = 1 - fee` (exact up to the floors).
- V3 / V4 pool: the same on the virtual reserves of the current tick range, `L*2^96/sqrtP` of
  token0 and `L*sqrtP/2^96` of token1; exact while the swap stays in the range.
- Balancer weighted pool: `r = g*(B_out/w_out)/(B_in/w_in)`, the spot price after fee, on
  stand-in reserves `R_in = B_in*w_out/w_in`, `R_out = B_out`.

Composition of `(r1, c1)` then `(r2, c2)` is `(r1*r2, c1 + c2*r1)`: the Moebius map
`K*x/(M + N*x)` of sizing.py divided through by M. A cycle is profitable at the margin iff
`r > 1`; the smooth optimum is `x* = (sqrt(r) - 1)/c` with profit `(sqrt(r) - 1)^2/c`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from flasharb.amm.pool import PoolState
from flasharb.errors import FlasharbValueError
from flasharb.search.graph import TokenGraph
from flasharb.search.venue import venue_of

__all__ = ["EdgeRates", "closed_form", "compose", "pool_edge_params"]

FloatArray = npt.NDArray[np.float64]


def pool_edge_params(state: PoolState, token_in: str, token_out: str) -> tuple[float, float]:
    """(r, c) of one direction of `state`, by its venue; (0, 0) when the pool cannot trade that
    way (no reserves, no in-range liquidity)."""
    return venue_of(state).edge_params(state, token_in, token_out)


class EdgeRates:
    """`(r, c)` and `log r` of every edge of a graph, plus a neutral sentinel edge at index
    `n_edges` (r = 1, c = 0) that pads short cycles to MAX_HOPS columns."""

    __slots__ = ("curv", "graph", "log_rate", "rate")

    def __init__(self, graph: TokenGraph, states: Mapping[str, PoolState]) -> None:
        self.graph = graph
        n = graph.n_edges
        self.rate: FloatArray = np.ones(n + 1)
        self.curv: FloatArray = np.zeros(n + 1)
        self.log_rate: FloatArray = np.zeros(n + 1)
        self.update(states, range(len(graph.pools)))

    def copy(self) -> EdgeRates:
        """An independent copy (an overlay's rates: the arrays are copied, the graph shared)."""
        out = EdgeRates.__new__(EdgeRates)
        out.graph = self.graph
        out.rate, out.curv, out.log_rate = self.rate.copy(), self.curv.copy(), self.log_rate.copy()
        return out

    def update(self, states: Mapping[str, PoolState], pool_ids: range | list[int]) -> None:
        """Recompute the edges of the pools `pool_ids` from `states` (keyed by address)."""
        g = self.graph
        ptr, tokens = g.pool_edge_ptr, g.tokens
        edge_in, edge_out = g.edge_in, g.edge_out
        rate, curv = self.rate, self.curv
        touched = []
        for p in pool_ids:
            uid = g.pools[p]
            state = states.get(uid)
            if state is None:
                raise FlasharbValueError(f"no state for pool {uid}; read it first")
            params = venue_of(state).edge_params
            lo, hi = int(ptr[p]), int(ptr[p + 1])
            for e in range(lo, hi):
                rate[e], curv[e] = params(state, tokens[edge_in[e]], tokens[edge_out[e]])
            touched.append((lo, hi))
        if not touched:
            return
        if len(touched) == len(g.pools):
            edges: npt.NDArray[np.int64] | slice = slice(0, g.n_edges)
        else:
            edges = np.concatenate([np.arange(lo, hi) for lo, hi in touched])
        with np.errstate(divide="ignore"):
            self.log_rate[edges] = np.log(rate[edges])  # -inf for a dead edge


def compose(
    rate: FloatArray, curv: FloatArray, padded_edges: npt.NDArray[np.int32]
) -> tuple[FloatArray, FloatArray]:
    """(r, c) of each row of `padded_edges` (edge ids, short rows padded with the sentinel)."""
    rates = np.take(rate, padded_edges)
    curvs = np.take(curv, padded_edges)
    r = rates[:, 0].copy()
    c = curvs[:, 0].copy()
    for j in range(1, padded_edges.shape[1]):
        c += curvs[:, j] * r
        r *= rates[:, j]
    return r, c


def closed_form(r: FloatArray, c: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(x*, smooth profit at x*) per cycle; (0, 0) where `r <= 1` or the cycle is dead."""
    live = (r > 1.0) & (c > 0.0)
    root = np.sqrt(np.where(live, r, 1.0))
    safe_c = np.where(live, c, 1.0)
    x_star = np.where(live, (root - 1.0) / safe_c, 0.0)
    profit = np.where(live, (root - 1.0) ** 2 / safe_c, 0.0)
    return x_star, profit
