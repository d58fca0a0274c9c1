"""The saw-tooth search on exact quotes: where exact sizing goes when the smooth optimum's
first exact evaluation is not close enough to its bound (exact.py).

The exact profit of a route is a smooth concave curve less the pools' roundings, a saw-tooth
a few units of each intermediate token tall. Its argmax is the smallest input buying its
own amount at every hop boundary (one wei less buys the same, for one wei more profit): a
*tooth start*. `ExactRoute.min_in` finds the tooth start of any amount at any boundary, hop
by hop from the last with each pool's exact-out quote checked by exact-in quotes.

Every search here spends from one budget of single-hop quotes (`EXACT_BUDGET`): a dust route
whose teeth rival its profit stops there with the best input found so far. Nothing inexact is
ever kept: a quote refused for want of budget counts as a revert, never as an amount.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flasharb.amm.pool import PoolState
from flasharb.errors import FlasharbError
from flasharb.kinds import HopKind
from flasharb.search.cycles import Cycle
from flasharb.search.segments import RouteCurve, SmoothOptimum, level_interval
from flasharb.search.sizing import state_for
from flasharb.search.venue import venue_of

__all__ = [
    "CERTIFY_TOL",
    "EXACT_BUDGET",
    "best",
    "bracket",
    "certified",
    "Evaluation",
    "ExactRoute",
    "golden",
    "limit_search",
    "near_teeth",
    "refine",
    "shrink",
    "teeth",
    "tooth_value",
]

# Most exact single-hop quotes one search may make (0.1-1 s on dust routes through costly
# pools; a route whose first evaluation meets its bound makes none of them).
EXACT_BUDGET = 12_000
# An exact profit this close to the smooth bound is taken as is: at least 99.9995% of the
# integer optimum (the issue asks 99.999%).
CERTIFY_TOL = 5e-6
SCAN_WIDTH = 4096  # inputs (or tooth starts) scanned exhaustively around the best
# Stop narrowing at this relative width: near the top the profit is flat, a relative input
# error e costs about e^2 of the profit (1e-8 here).
REL_TOL = 1e-4
SCAN_MIN = 64  # fewest inputs either side of the best the teeth search covers
TOOTH_COST = 12  # quotes a tooth start costs (about 3 per hop: exact-out, two checks)
LOCAL = 8  # tooth starts tried either side of a golden-section result over coarse units
LOCAL_SCAN = 32  # inputs tried either side of the smooth optimum when the start token is coarse
GOLDEN = (math.sqrt(5) - 1) / 2
MAX_EXPAND = 200  # bracket growth steps (x2 each): more than any uint256 needs

Fee = Callable[[int], int]


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A route evaluated at one input by the pools' own math."""

    amounts: tuple[int, ...]
    ticks_crossed: int  # initialized V3 ticks crossed
    v4_ticks_crossed: int = 0  # initialized V4 ticks crossed (the gas model prices them apart)


class ExactRoute:
    """The hops of a cycle with their states; exact forward and backward quotes, and the
    objective `out - x - fee(x)` on `1 <= x <= cap`."""

    __slots__ = ("best_p", "best_x", "cap", "fee", "left", "seen", "steps", "swaps", "v4")

    def __init__(
        self,
        cycle: Cycle,
        states: Mapping[str, PoolState],
        fee: Fee | None = None,
        cap: int | None = None,
    ) -> None:
        self.steps = [(state_for(states, hop), hop.token_in, hop.token_out) for hop in cycle.hops]
        venues = [venue_of(state) for state, _, _ in self.steps]
        self.swaps = [v.swap for v in venues]  # exact, with ticks
        self.v4 = [v.hop_kind is HopKind.UNISWAP_V4 for v in venues]  # whose ticks are V4's
        self.seen: dict[int, int | None] = {}
        self.best_x, self.best_p = 0, 0  # the best input seen (0, 0: none pays)
        self.fee = fee
        self.cap = cap
        self.left = EXACT_BUDGET  # single-hop quotes the search may still make

    def hop(self, k: int, x: int) -> int | None:
        """Hop k's output for x in (one quote); None if it raises or pays 0, or once the
        search has spent its budget (nothing is then recorded: every amount the search keeps
        is exact)."""
        if self.left <= 0 or x <= 0:
            return None
        self.left -= 1
        state, token_in, token_out = self.steps[k]
        try:
            out = state.quote_exact_in(token_in, token_out, x)
        except FlasharbError:
            return None
        return out if out > 0 else None

    def forward(self, x: int, depth: int | None = None) -> int | None:
        """Amount after `depth` hops (all by default); None if a hop raises or pays 0, or
        the budget is spent."""
        for k in range(len(self.steps) if depth is None else depth):
            got = self.hop(k, x)
            if got is None:
                return None
            x = got
        return x

    def evaluate(self, x: int) -> Evaluation | None:
        """The amounts after each hop at input x, by the pools' own math (each venue's exact
        `swap`, which counts the initialized ticks a V3 or V4 swap crosses); None where the
        route reverts."""
        amounts, crossed, v4_crossed = [], 0, 0
        for (state, token_in, token_out), swap, v4 in zip(
            self.steps, self.swaps, self.v4, strict=True
        ):
            if x <= 0:
                return None
            try:
                x, ticks = swap(state, token_in, token_out, x)
            except FlasharbError:
                return None
            if v4:
                v4_crossed += ticks
            else:
                crossed += ticks
            if x <= 0:
                return None
            amounts.append(x)
        return Evaluation(tuple(amounts), crossed, v4_crossed)

    def objective(self, x: int, out: int) -> int:
        return out - x - (self.fee(x) if self.fee is not None else 0)

    def profit(self, x: int) -> int | None:
        """Exact objective at input x (memoised); None where the route reverts or x is
        outside [1, cap]."""
        if x in self.seen:
            return self.seen[x]
        out = self.forward(x) if x > 0 and (self.cap is None or x <= self.cap) else None
        p = None if out is None else self.objective(x, out)
        self.record(x, p)
        return p

    def record(self, x: int, p: int | None) -> None:
        """Remember the objective at x (None: reverts), and the best input seen: ties go to
        the smaller input."""
        self.seen[x] = p
        if p is not None and (p > self.best_p or (p == self.best_p and 0 < x < self.best_x)):
            self.best_x, self.best_p = x, p

    def min_in(self, depth: int, y: int) -> int | None:
        """Smallest input whose amount after `depth` hops is at least `y` (None if none is).

        Hop by hop from the last: every hop pays a nondecreasing amount, so the route buys
        `y` iff the amount before hop k reaches the least one hop k turns into `y`.
        """
        for k in range(depth - 1, -1, -1):
            got = self.hop_min_in(k, y)
            if got is None:
                return None
            y = got
        return y if y > 0 else None

    def hop_min_in(self, k: int, y: int) -> int | None:
        """Least input hop k turns into at least `y`: the pool's own exact-out quote (enough,
        as the pool rounds in its favour), then exact-in quotes to make it exact both ways."""
        if y <= 0:
            return 0
        if self.left <= 0:
            return None
        self.left -= 1
        state, token_in, token_out = self.steps[k]
        try:
            x = state.quote_exact_out(token_in, token_out, y)
        except FlasharbError:
            return None
        step = 1
        while (got := self.hop(k, x)) is None or got < y:  # not enough after all: go up
            if self.left <= 0 or step > 2**128:
                return None
            x += step
            step *= 2
        lo, step = 0, 1  # hop(lo) < y or lo == 0
        while x - step > lo:  # more than enough: come down
            got = self.hop(k, x - step)
            if got is None or got < y:
                lo = x - step
                break
            x -= step
            step *= 2
        while x - lo > 1:  # invariant: hop(x) >= y, hop(lo) < y (or lo == 0)
            mid = (lo + x) // 2
            got = self.hop(k, mid)
            if got is not None and got >= y:
                x = mid
            else:
                lo = mid
        return x


def _key(p: int | None) -> float | int:
    return -math.inf if p is None else p


def bracket(route: ExactRoute, x0: int) -> tuple[int, int, int]:
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


def golden(route: ExactRoute, lo: int, hi: int) -> tuple[int, int]:
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


def best(route: ExactRoute) -> tuple[int, int]:
    """(x, objective) of the best input seen; ties to the smaller input; (0, 0) if none pays."""
    return route.best_x, route.best_p


def tooth_profit(route: ExactRoute, depth: int, u: int) -> int | None:
    """Objective at the smallest input buying `u` units at hop boundary `depth`."""
    x = route.min_in(depth, u)
    return None if x is None else route.profit(x)


def teeth(route: ExactRoute, lo: int, hi: int, centre: int, bound: float = math.inf) -> None:
    """Search the tooth starts over [lo, hi], the inputs that could beat the best.

    - All of them, at the boundary where they are cheapest to enumerate, if there are at
      most SCAN_WIDTH there and the budget affords them (a tooth start past the input costs
      about TOOTH_COST quotes): the search is then exhaustive over [lo, hi].
    - Else, if one boundary's teeth are much taller than all others together (a token worth
      far more per unit than its neighbours), profit over *its tooth starts* is smooth but
      for the others: golden-section search over its units, then LOCAL units either side
      of the best. The other teeth may still mislead it by about their height.
    - Else (teeth everywhere, too many to try: a dust profit) the SCAN_MIN tooth starts
      either side of `centre`.

    Tooth starts are tried nearest `centre` first; the search stops once the best meets
    `bound` (a bound on every exact profit, `certified`).
    """
    if route.cap is not None:
        hi = min(hi, route.cap)
    if hi < max(lo, 1):
        return
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
    if units[depth] > SCAN_WIDTH or units[depth] * (TOOTH_COST if depth else n) > route.left:
        value = [units[0] / max(u, 1) for u in units]  # inputs per unit: a tooth's height
        coarse = max(range(len(spans)), key=lambda d: (value[d], -d))
        radius = SCAN_MIN
        if coarse > 0 and value[coarse] > 4 * (sum(value) - value[coarse]):
            depth, (first, last) = coarse, spans[coarse]
            golden_teeth(route, depth, first, last)
            centre, _ = best(route)
            radius = LOCAL
        at = route.forward(centre, depth) if depth else centre
        if at is None:
            return
        first, last = max(at - radius, first), min(at + radius, last)
    at = route.forward(centre, depth) if depth else centre  # most promising first
    at = min(max(at or first, first), last)
    for k in range(max(at - first, last - at) + 1):
        for u in {at - k, at + k}:
            if first <= u <= last and u >= 1:
                tooth_profit(route, depth, u)
        if route.left <= 0 or certified(route.best_p, bound):
            return


def golden_teeth(route: ExactRoute, depth: int, u_lo: int, u_hi: int) -> None:
    """Golden-section search over the tooth starts of the units at boundary `depth`."""
    while u_hi - u_lo > 2 * LOCAL:
        a = u_hi - int((u_hi - u_lo) * GOLDEN)
        b = u_lo + int((u_hi - u_lo) * GOLDEN)
        if a >= b:
            break
        if _key(tooth_profit(route, depth, a)) >= _key(tooth_profit(route, depth, b)):
            u_hi = b
        else:
            u_lo = a


def certified(value: int, bound: float) -> bool:
    """Whether an exact profit is within CERTIFY_TOL of a bound on every exact profit, or
    provably the integer optimum (less than one unit below it)."""
    return value > 0 and (bound - value < 1.0 or bound - value <= CERTIFY_TOL * value)


def near_teeth(
    route: ExactRoute, curve: RouteCurve, x_smooth: float, x0: int, bound: float
) -> None:
    """The few inputs next to x0 most likely to beat it, until one meets the bound.

    At the hop boundary with the tallest teeth (one unit worth the most start token), the
    smooth profit over its units peaks next to the unit x0 buys: try the tooth starts (the
    least input buying a unit there) of that unit and its neighbours, nearest first. If the
    start token itself is the coarsest (a 6- or 8-decimal token with 18-decimal legs), its
    rounding shows in the input and the output (fee roundings, the last floor): try the
    inputs next to x0 instead.
    """
    rates = curve.rates(x_smooth)
    n = len(route.steps)
    if rates is None:
        return
    heights, value = [0.0] * (n + 1), 1.0
    for d in range(n, 0, -1):  # heights[d]: one unit at boundary d, in start token
        heights[d] = value
        value *= rates[d - 1]
    coarse = max(range(1, n + 1), key=lambda d: (heights[d], d))
    if coarse == n:
        for k in range(1, LOCAL_SCAN + 1):
            route.profit(x0 - k)
            route.profit(x0 + k)
            if certified(best(route)[1], bound):
                return
        return
    at = route.forward(x0, coarse)
    if at is None:
        return
    for j in (0, 1, -1, 2, -2, 3, -3):
        tooth_profit(route, coarse, at + j)
        if certified(best(route)[1], bound):
            return


def shrink(route: ExactRoute, best_x: int) -> None:
    """Try the smallest input paying the same output as `best_x` (one wei less input for
    the same output is one wei more profit)."""
    out = route.forward(best_x)
    if out is None:
        return
    shrunk = route.min_in(len(route.steps), out)
    if shrunk is not None and shrunk < best_x:
        route.profit(shrunk)


def refine(
    route: ExactRoute,
    curve: RouteCurve,
    smooth: SmoothOptimum,
    fee_rate: float,
    x0: int,
    bound: float,
) -> None:
    """Search past the smooth optimum's first exact evaluation (x0, recorded in
    `route.seen` unless the route reverted there), within the budget.

    1. The tooth starts next to x0 at the coarsest boundary (`near_teeth`).
    2. If the best is still short of `bound` by no more than a few teeth: every input that
       could beat it by one unit has a smooth profit within the bound's slack of that, an
       interval the model gives (`segments.level_interval`); search its tooth starts.
    3. Where the profit still rises when a pool's known depth ends (the model's optimum is
       at its limit: a V3 bitmap window read too narrowly, Balancer's 30%), the best input
       is the largest the route takes: bisection between the last input the model takes
       and the first it refuses, until within the bound (`limit_search`).
    4. Otherwise (x0 reverted, or the gap is not the teeth'): the quote-based search from
       x0, bracket, golden section to REL_TOL, then the teeth around its best (or, on a
       small pool whose saw-tooth misled it, every input up to SCAN_WIDTH).
    """
    if smooth.at_limit and limit_search(route, curve, smooth, fee_rate, bound):
        return
    best_x, best_p = best(route)
    if best_x == 0:
        best_x = x0
    tooth = tooth_value(curve, smooth.x, len(route.steps))
    if not smooth.at_limit and best_p > 0:
        near_teeth(route, curve, smooth.x, best_x, bound)
        best_x, best_p = best(route)
    if certified(best_p, bound):
        return
    if not smooth.at_limit and best_p > 0 and bound - best_p <= 4 * tooth + CERTIFY_TOL * bound:
        slack = bound - smooth.value
        lo, hi = level_interval(curve, fee_rate, smooth, best_p + 1 - slack)
        teeth(route, max(int(lo), 1), int(hi) + 1, best_x, bound)
        return
    lo, _, hi = bracket(route, best_x)
    lo, hi = golden(route, lo, hi)
    best_x, best_p = best(route)
    if best_p <= 0 and hi <= 2 * SCAN_WIDTH:
        for y in range(1, SCAN_WIDTH + 1):
            route.profit(y)
        teeth(route, max(lo - SCAN_WIDTH, 1), hi + SCAN_WIDTH, (lo + hi) // 2)
    elif best_p > 0 and tooth > CERTIFY_TOL * best_p:
        half = SCAN_MIN
        if smooth.curvature < 0:
            half = max(half, int(2 * math.sqrt(2 * tooth / -smooth.curvature)) + 1)
        teeth(route, max(best_x - half, 1), best_x + half, best_x)


def limit_search(
    route: ExactRoute, curve: RouteCurve, smooth: SmoothOptimum, fee_rate: float, bound: float
) -> bool:
    """The largest input the route takes, near the model's limit `smooth.x`, to within the
    bound; True if found (False: the exact route refuses everything near it)."""
    point = curve.at(smooth.x)
    slope = 0.0 if point is None else max(point[1] - 1.0 - fee_rate, 0.0)
    bound += slope * smooth.x * 1e-6  # past the model's limit the profit rises at `slope`
    lo, step = int(smooth.x * (1 - 1e-9)), max(int(smooth.x * 1e-9), 1)
    while route.profit(lo) is None:  # the exact limit is below the model's: step down
        lo -= step
        step *= 2
        if lo < 1 or route.left <= 0:
            return False
    hi, step = int(smooth.x * (1 + 1e-9)) + 1, max(int(smooth.x * 1e-9), 1)
    while route.profit(hi) is not None:  # above it: step up
        lo, hi, step = hi, hi + step, step * 2
        if route.left <= 0 or step > smooth.x:
            return False
    while hi - lo > 1 and not certified(best(route)[1], bound):
        mid = (lo + hi) // 2
        if route.profit(mid) is None:
            hi = mid
        else:
            lo = mid
    return best(route)[1] > 0


def tooth_value(curve: RouteCurve, x: float, hops: int) -> float:
    """Float value, in the start token, of one unit at each hop boundary plus one wei, from
    the marginal rates at input x (the height of the tallest teeth there)."""
    rates = curve.rates(x) or [0.0] * hops
    value, total = 1.0, 1.0
    for rate in reversed(rates[1:]):
        value *= rate
        total += value
    return total
