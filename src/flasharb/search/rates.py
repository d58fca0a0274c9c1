"""Float marginal rates per edge, and the vectorised screen and closed form over cycles.

The only floats of the search (DESIGN.md section 4): they pick candidates and seed the exact
integer search, nothing shown to a user or sent on-chain comes from them.

Every edge is summarised as a constant-product stand-in `out = r*x / (1 + c*x)`: `r` is the
marginal rate after fee at zero size, `c` its curvature.

- V2 pair: `r = g*R_out/R_in`, `c = g/R_in`, `g = 1 - fee` (exact up to the floors).
- V3 pool: the same on the virtual reserves of the current tick range, `L*2^96/sqrtP` of
  token0 and `L*sqrtP/2^96` of token1, so `r = g*P` (token0 in) or `g/P` (token1 in) with
  `P = (sqrtP/2^96)^2`; exact while the swap stays in the range.
- Balancer weighted pool: `r = g*(B_out/w_out)/(B_in/w_in)`, the spot price after fee. The
  pool scales balances to 18 decimals, but the factors cancel in a raw-units-in, raw-units-out
  rate, so raw balances give the same number. Stand-in reserves `R_in = B_in*w_out/w_in`,
  `R_out = B_out` (a 50/50 pool is exactly constant product).

Composition of `(r1, c1)` then `(r2, c2)` is `(r1*r2, c1 + c2*r1)`: the Moebius map
`K*x/(M + N*x)` of sizing.py divided through by M. A cycle is profitable at the margin iff
`r > 1`; the smooth optimum is `x* = (sqrt(r) - 1)/c` with profit `(sqrt(r) - 1)^2/c`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from flasharb.amm.balancer_weighted import WeightedPoolState
from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import V2PairState
from flasharb.amm.uniswap_v3 import V3PoolState
from flasharb.errors import FlasharbValueError
from flasharb.search.graph import TokenGraph

__all__ = ["EdgeRates", "closed_form", "compose", "pool_edge_params"]

FloatArray = npt.NDArray[np.float64]
Q96 = float(2**96)
_ONE_E18 = 1e18
_PIPS = 1e6


def pool_edge_params(state: PoolState, token_in: str, token_out: str) -> tuple[float, float]:
    """(r, c) of one direction of `state`; (0, 0) when the pool cannot trade that way (no
    reserves, no in-range liquidity)."""
    if isinstance(state, V2PairState):
        if token_in == state.token0:
            r_in, r_out = float(state.reserve0), float(state.reserve1)
        else:
            r_in, r_out = float(state.reserve1), float(state.reserve0)
        g = 1.0 - state.fee_pips / _PIPS
    elif isinstance(state, V3PoolState):
        if state.liquidity == 0 or state.sqrt_price_x96 == 0:
            return 0.0, 0.0  # a swap of any size first crosses to liquidity elsewhere
        sqrt_p = state.sqrt_price_x96 / Q96
        liquidity = float(state.liquidity)
        x_virtual, y_virtual = liquidity / sqrt_p, liquidity * sqrt_p
        r_in, r_out = (x_virtual, y_virtual) if token_in == state.token0 else (y_virtual, x_virtual)
        g = 1.0 - state.fee / _PIPS
    elif isinstance(state, WeightedPoolState):
        i, j = state.index_of(token_in), state.index_of(token_out)
        w_in, w_out = state.normalized_weights[i], state.normalized_weights[j]
        r_in = float(state.balances[i]) * w_out / w_in
        r_out = float(state.balances[j])
        g = 1.0 - state.swap_fee / _ONE_E18
    else:
        raise FlasharbValueError(f"pool {state.address}: unknown pool type {type(state).__name__}")
    if r_in <= 0.0 or r_out <= 0.0 or not (math.isfinite(r_in) and math.isfinite(r_out)):
        return 0.0, 0.0
    return g * r_out / r_in, g / r_in


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
            address = g.pools[p]
            state = states.get(address)
            if state is None:
                raise FlasharbValueError(f"no state for pool {address}; read it first")
            lo, hi = int(ptr[p]), int(ptr[p + 1])
            for e in range(lo, hi):
                rate[e], curv[e] = pool_edge_params(state, tokens[edge_in[e]], tokens[edge_out[e]])
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
