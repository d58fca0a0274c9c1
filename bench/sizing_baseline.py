"""Baseline for bench/sizing.py: `search.exact` as it was before the segment-model sizing
(commit c69b5f0), copied verbatim below this paragraph so the bench can time the old method
against the new one in the same process. Bench-only: nothing in src/flasharb imports it.

The original module docstring:
Exact integer sizing of any route, on the true profit function (hop-by-hop quotes).

For a cycle with V3 or Balancer hops there is no closed form: the profit
`P(x) = F(x) - x`, with `F` the chain of each pool's own `quote_exact_in`, is searched directly.
`F` is a composition of floored concave maps, so `P` is concave up to a saw-tooth a few units
of the coarsest token on the route tall.

1. Seed: the constant-product closed form on the route's stand-in (rates.py: V3 virtual
   reserves, Balancer spot-price stand-in), or a given seed.
2. Bracket the maximum by growing steps from the seed; integer golden-section search narrows
   it until it is `2*SCAN_MIN` inputs wide or `REL_TOL` of the input.
3. Teeth, when they are worth more than `TOOTH_TOL` of the profit: the exact argmax is the
   smallest input buying its own amount at *every* hop boundary (one wei less buys the
   same, for one wei more profit). Inputs that could beat the best lie where the smooth
   profit is within a tooth of its top, a window the stand-in's curvature sizes. If that
   window holds at most `SCAN_WIDTH` teeth at the boundary where they are cheapest to
   enumerate, all are tried: exhaustive. If not, and one token's teeth dwarf the others',
   golden-section search runs over *its* tooth starts (smooth again but for the small
   teeth), then `LOCAL` either side. Otherwise the profit is dust next to the teeth,
   and `SCAN_MIN` either side of the best are tried.
4. Shrink the best input to the smallest one paying the same output.

A quote that raises (the pool would revert, cannot pay, or its state was read too narrowly)
makes that input infeasible. Pure constant-product routes use `sizing.optimize`, which also
proves its result; this search proves nothing (`profit_bound` is None), but the tests hold it
to 99.99% of the brute-force optimum.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v3 import V3PoolState
from flasharb.errors import FlasharbError
from flasharb.kinds import HopKind
from flasharb.search.cycles import Cycle
from flasharb.search.rates import pool_edge_params
from flasharb.search.sizing import SizedCycle, optimize, state_for

__all__ = ["SCAN_WIDTH", "optimize_route", "route_seed", "size_cycle", "ticks_crossed"]

SCAN_WIDTH = 4096  # inputs (or tooth starts) scanned exhaustively around the best
# Stop narrowing at this relative width: near the top the profit is flat, a relative input
# error e costs about e^2 of the profit (1e-8 here).
REL_TOL = 1e-4
# Teeth are searched only when worth more than this fraction of the profit: a search that
# skips them loses a few teeth at most, so 1e-5 keeps the capture above 99.99%.
TOOTH_TOL = 1e-5
SCAN_MIN = 64  # fewest inputs either side of the best the teeth search covers
LOCAL = 8  # tooth starts tried either side of a golden-section result over coarse units
GOLDEN = (math.sqrt(5) - 1) / 2
MAX_EXPAND = 200  # bracket growth steps (x2 each): more than any uint256 needs
MARGIN = 1e-9  # a route whose float marginal rate is below 1 - MARGIN cannot pay at all


class _Route:
    """The hops of a cycle with their states; exact forward and backward quotes."""

    __slots__ = ("seen", "steps")

    def __init__(self, cycle: Cycle, states: Mapping[str, PoolState]) -> None:
        self.steps = [(state_for(states, hop), hop.token_in, hop.token_out) for hop in cycle.hops]
        self.seen: dict[int, int | None] = {}

    def forward(self, x: int, depth: int | None = None) -> int | None:
        """Amount after `depth` hops (all by default); None if a hop raises or pays 0."""
        for state, token_in, token_out in self.steps[:depth]:
            try:
                x = state.quote_exact_in(token_in, token_out, x)
            except FlasharbError:
                return None
            if x <= 0:
                return None
        return x

    def profit(self, x: int) -> int | None:
        """Exact profit at input x (memoised); None where the route reverts."""
        if x in self.seen:
            return self.seen[x]
        out = self.forward(x) if x > 0 else None
        p = None if out is None else out - x
        self.seen[x] = p
        return p

    def min_in(self, depth: int, y: int) -> int | None:
        """Smallest input whose amount after `depth` hops is at least `y` (None if none is)."""
        if depth == 0:
            return y if y > 0 else None
        v = y
        for state, token_in, token_out in reversed(self.steps[:depth]):
            try:
                v = state.quote_exact_out(token_in, token_out, v)
            except FlasharbError:
                return None
        x = v  # enough by the pools' own exact-out rounding; make it exact both ways
        step = 1
        while (got := self.forward(x, depth)) is None or got < y:
            x += step
            step *= 2
            if step > 2**64:
                return None
        lo = 0  # forward(lo) < y or lo == 0
        step = 1
        while x - step > lo:
            got = self.forward(x - step, depth)
            if got is None or got < y:
                lo = x - step
                break
            x -= step
            step *= 2
        while x - lo > 1:  # invariant: forward(x) >= y, forward(lo) < y (or lo == 0)
            mid = (lo + x) // 2
            got = self.forward(mid, depth)
            if got is not None and got >= y:
                x = mid
            else:
                lo = mid
        return x


def _key(p: int | None) -> float | int:
    return -math.inf if p is None else p


def _stand_in(cycle: Cycle, states: Mapping[str, PoolState]) -> tuple[float, float, int]:
    """(r, c) of the route's constant-product stand-in, and its closed-form optimum."""
    r, c = 1.0, 0.0
    for hop in cycle.hops:
        rate, curv = pool_edge_params(state_for(states, hop), hop.token_in, hop.token_out)
        c += curv * r
        r *= rate
    if r <= 1.0 or c <= 0.0:
        return r, c, 0
    return r, c, max(int((math.sqrt(r) - 1.0) / c), 1)


def route_seed(cycle: Cycle, states: Mapping[str, PoolState]) -> int:
    """Closed-form optimum of the route's constant-product stand-in (0 if it cannot pay)."""
    return _stand_in(cycle, states)[2]


def _bracket(route: _Route, x0: int) -> tuple[int, int, int]:
    """(lo, mid, hi) with P(mid) >= P(lo) and P(mid) >= P(hi), lo < mid < hi (lo may be 0)."""
    f = route.profit
    mid = max(x0, 1)
    while mid > 1 and f(mid) is None:  # past what the pools can take: come back
        mid //= 2
    step = max(mid // 16, 1)
    lo, hi = max(mid - step, 0), mid + step
    if _key(f(hi)) > _key(f(mid)):  # climb right
        while True:
            step *= 2
            lo, mid, hi = mid, hi, hi + step
            if _key(f(hi)) <= _key(f(mid)) or step > 2**MAX_EXPAND:
                return lo, mid, hi
    while lo > 0 and _key(f(lo)) > _key(f(mid)):  # climb left, towards 0
        step *= 2
        lo, mid, hi = max(lo - step, 0), lo, mid
    return lo, mid, hi


def _golden(route: _Route, lo: int, hi: int) -> tuple[int, int]:
    """Narrow [lo, hi] around the maximum of P until 2*SCAN_MIN wide or REL_TOL relative."""
    f = route.profit
    while hi - lo > 2 * SCAN_MIN and hi - lo > REL_TOL * hi:
        a = hi - int((hi - lo) * GOLDEN)
        b = lo + int((hi - lo) * GOLDEN)
        if a >= b:
            break
        if _key(f(a)) >= _key(f(b)):
            hi = b
        else:
            lo = a
    return lo, hi


def _best(route: _Route) -> tuple[int, int]:
    """(x, profit) of the best input seen; ties to the smaller input; (0, 0) if none pays."""
    best_x, best_p = 0, 0
    for x, p in route.seen.items():
        if p is not None and (p > best_p or (p == best_p and 0 < x < best_x)):
            best_x, best_p = x, p
    return best_x, best_p


def _tooth_profit(route: _Route, depth: int, u: int) -> int | None:
    """Profit at the smallest input buying `u` units at hop boundary `depth`."""
    x = route.min_in(depth, u)
    return None if x is None else route.profit(x)


def _teeth(route: _Route, lo: int, hi: int, centre: int) -> None:
    """Search the tooth starts over [lo, hi], the inputs that could beat the best.

    - All of them, at the boundary where they are cheapest to enumerate, if there are at
      most SCAN_WIDTH there: the search is then exhaustive over [lo, hi].
    - Else, if one boundary's teeth are much taller than all others together (a token worth
      far more per unit than its neighbours), profit over *its tooth starts* is smooth but
      for the others: golden-section search over its units, then LOCAL units either side
      of the best. The other teeth may still mislead it by about their height.
    - Else (teeth everywhere, too many to try: a dust profit) the SCAN_MIN tooth starts
      either side of `centre`.
    """
    n = len(route.steps)
    spans = [(max(lo, 1), hi)]  # unit range at each boundary, depth 0 = inputs
    for d in range(1, n + 1):
        b = route.forward(hi, d)
        if b is None:  # the top of the range reverts by this hop
            break
        spans.append((route.forward(max(lo, 1), d) or 1, b))  # None: buys nothing yet
    units = [b - a + 1 for a, b in spans]
    depth = min(range(len(spans)), key=lambda d: (units[d] * (n + 3 * d), d))
    first, last = spans[depth]
    if units[depth] > SCAN_WIDTH:
        value = [units[0] / max(u, 1) for u in units]  # inputs per unit: a tooth's height
        coarse = max(range(len(spans)), key=lambda d: (value[d], -d))
        radius = SCAN_MIN
        if coarse > 0 and value[coarse] > 4 * (sum(value) - value[coarse]):
            depth, (first, last) = coarse, spans[coarse]
            _golden_teeth(route, depth, first, last)
            centre, _ = _best(route)
            radius = LOCAL
        at = route.forward(centre, depth) if depth else centre
        if at is None:
            return
        first, last = max(at - radius, first), min(at + radius, last)
    for u in range(max(first, 1), last + 1):
        _tooth_profit(route, depth, u)


def _golden_teeth(route: _Route, depth: int, u_lo: int, u_hi: int) -> None:
    """Golden-section search over the tooth starts of the units at boundary `depth`."""
    while u_hi - u_lo > 2 * LOCAL:
        a = u_hi - int((u_hi - u_lo) * GOLDEN)
        b = u_lo + int((u_hi - u_lo) * GOLDEN)
        if a >= b:
            break
        if _key(_tooth_profit(route, depth, a)) >= _key(_tooth_profit(route, depth, b)):
            u_hi = b
        else:
            u_lo = a


def optimize_route(
    cycle: Cycle, states: Mapping[str, PoolState], seed: int | None = None
) -> SizedCycle:
    """Best integer input for any route, by exact hop-by-hop quotes (see the module doc).

    Profit <= 0 at every input tried gives amount_in 0, profit 0. `profit_bound` is None: no
    bound is proven for routes with V3 or Balancer hops.
    """
    route = _Route(cycle, states)
    rate, curv, x_star = _stand_in(cycle, states)
    if rate < 1.0 - MARGIN:  # F concave with F'(0) = rate < 1: F(x) < x everywhere
        return _zero(cycle, proven=True)
    x0 = x_star if seed is None else seed
    lo, _, hi = _bracket(route, max(x0, 1))
    lo, hi = _golden(route, lo, hi)
    best_x, best_p = _best(route)
    tooth = _tooth_value(cycle, states)
    if best_p <= 0 and hi <= 2 * SCAN_WIDTH:
        # a small pool whose saw-tooth misled the search: every input up to the bracket's
        # top, and the teeth around it (a dust cycle of large pools stops here with 0)
        for x in range(1, SCAN_WIDTH + 1):
            route.profit(x)
        _teeth(route, max(lo - SCAN_WIDTH, 1), hi + SCAN_WIDTH, (lo + hi) // 2)
        best_x, best_p = _best(route)
    elif best_p > 0 and tooth > TOOTH_TOL * best_p:
        # inputs that could beat the best lie where the smooth profit is within a tooth of
        # its top: |x - x*| <= sqrt(tooth / k), k = c / sqrt(r) its curvature (x2 for safety)
        half = SCAN_MIN
        if curv > 0:
            half = max(half, int(2 * math.sqrt(tooth * math.sqrt(rate) / curv)))
        _teeth(route, max(best_x - half, 1), best_x + half, best_x)
        best_x, best_p = _best(route)
    if best_p <= 0:
        return _zero(cycle, proven=False)
    out = route.forward(best_x)
    assert out is not None  # best_p > 0 was computed from it
    shrunk = route.min_in(len(route.steps), out)
    if shrunk is not None and shrunk < best_x:
        route.profit(shrunk)
        best_x, best_p = _best(route)
    amounts = simulate_amounts(route, best_x)
    return SizedCycle(
        cycle=cycle,
        amount_in=best_x,
        amount_out=amounts[-1],
        profit=amounts[-1] - best_x,
        amounts=amounts,
        profit_bound=None,
        exact=False,
        ticks_crossed=ticks_crossed(cycle, states, best_x),
    )


def _tooth_value(cycle: Cycle, states: Mapping[str, PoolState]) -> float:
    """Float estimate, in the start token, of one unit at each hop boundary plus one wei."""
    value, total = 1.0, 1.0
    for hop in reversed(cycle.hops[1:]):
        rate, _ = pool_edge_params(state_for(states, hop), hop.token_in, hop.token_out)
        value *= rate
        total += value
    return total


def simulate_amounts(route: _Route, x: int) -> tuple[int, ...]:
    amounts = []
    for state, token_in, token_out in route.steps:
        x = state.quote_exact_in(token_in, token_out, x)
        amounts.append(x)
    return tuple(amounts)


def _zero(cycle: Cycle, *, proven: bool) -> SizedCycle:
    return SizedCycle(
        cycle=cycle,
        amount_in=0,
        amount_out=0,
        profit=0,
        amounts=(0,) * len(cycle.hops),
        profit_bound=0 if proven else None,
        exact=proven,
    )


def ticks_crossed(cycle: Cycle, states: Mapping[str, PoolState], amount_in: int) -> int:
    """Initialized V3 ticks the route crosses at `amount_in` (each costs gas)."""
    crossed, amount = 0, amount_in
    for hop in cycle.hops:
        state = state_for(states, hop)
        if isinstance(state, V3PoolState):
            result = state.swap(hop.token_in == state.token0, amount)
            crossed += result.ticks_crossed
            amount = result.amount_out
        else:
            amount = state.quote_exact_in(hop.token_in, hop.token_out, amount)
    return crossed


def size_cycle(
    cycle: Cycle, states: Mapping[str, PoolState], seed: int | None = None
) -> SizedCycle:
    """Exact sizing: the proven constant-product optimizer for pure V2 routes, else the
    quote-based search."""
    if all(hop.kind is HopKind.UNISWAP_V2 for hop in cycle.hops):
        return optimize(cycle, states)  # type: ignore[arg-type]  # V2 states, checked there
    return optimize_route(cycle, states, seed)
