"""A route's smooth output in floats, segment by segment, and its smooth optimum: where exact
sizing starts, and what it is checked against.

Every hop is modelled by the real-valued curve its pool's integer math rounds (floats only
seed and check; every amount returned to a user is an exact quote, exact.py); each venue gives
its pools' curve (`flasharb.search.venue.Venue.curve`), e.g.:

- V2 pair: `y = g*R_out*x / (R_in + g*x)`, a Moebius map (exact up to the floors).
- V3 / V4 pool: between two initialized ticks the swap is constant product on the virtual
  reserves `L/sqrtP` (token0) and `L*sqrtP` (token1) with the fee taken off the input first,
  so again a Moebius map; its marginal rate is `g*sqrtP'^2` (token0 in) or `g/sqrtP'^2` at
  the price `sqrtP'` the swap reaches. At an initialized tick the liquidity changes by the
  tick's liquidityNet and the next segment starts where this one ends, at the same price (the
  marginal rate is continuous, its slope jumps). Segments are walked from the current tick
  outwards with the pool's own `tick_bitmap` / `ticks` and TickMath, lazily, only as far as
  an input asks, and end where the state's bitmap window ends (the exact swap raises there).
  ref: v3-core SqrtPriceMath.sol `getNextSqrtPriceFromAmount0RoundingUp` /
  `getAmount1Delta` (the formulas these curves are the real-valued form of).
- Balancer weighted pool: `y = B_out*(1 - (B_in/(B_in + g*x))^(w_in/w_out))`, computed as
  `-B_out*expm1(-rho*log1p(g*x/B_in))` (no cancellation for small trades), less the pool's
  own pow error allowance (`powUp` adds 1e-14 of the power: `POW_ERROR`). A 50/50 pool is a
  Moebius map. ref: WeightedMath.sol `_calcOutGivenIn`.

The route's output `F(x)` is their composition, concave, so the net `F(x) - (1 + f)*x` (f: a
flash loan's fee rate) has one maximum, where `F'(x) = 1 + f`. For a Moebius map
`F'(x)^(-1/2)` is linear in x, so Newton's method on `F'^(-1/2) - (1 + f)^(-1/2)` lands on the
optimum in one step while every hop stays in its segment: that step *is* the closed form
`x* = (sqrt(K*M/(1 + f)) - M)/N` of the composed segment maps. When it crosses ticks, the next
step uses the new segments' maps; a bracket (F' above / below 1 + f) keeps the iteration safe
and bisects where a step leaves it (Balancer pools with unequal weights, where the map is not
Moebius, converge quadratically).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from flasharb.amm.pool import PoolState
from flasharb.search.cycles import Cycle
from flasharb.search.sizing import state_for
from flasharb.search.venue import venue_of

__all__ = [
    "Curve",
    "Point",
    "RouteCurve",
    "SmoothOptimum",
    "forget_curves",
    "hop_curve",
    "level_interval",
    "route_curve",
    "smooth_optimum",
]

MAX_STEPS = 60  # Newton / bisection steps; 2-5 are typical
X_TOL = 1e-11  # relative input tolerance: a relative input error e costs ~e^2 of the profit

Point = tuple[float, float, float]  # (y, dy/dx, d2y/dx2)


class Curve(Protocol):
    """One pool in one direction: `at(x)` is (output, its first and second derivative) at
    input x, None past what the pool can take."""

    def at(self, x: float) -> Point | None: ...


def hop_curve(state: PoolState, token_in: str, token_out: str) -> Curve:
    """The smooth curve of one pool in one direction, by its venue: shared by every route
    through that pool while its state stands (a curve is a pure function of the state; a V3
    curve walks its ticks lazily, once for all of them). Kept until `forget_curves` (the book
    calls it on every update: only the states of the current block stay reachable from here),
    or until `_CURVES_KEPT` are kept."""
    key = (id(state), token_in, token_out)
    found = _CURVES.get(key)
    if found is not None and found[0] is state:
        return found[1]
    if len(_CURVES) >= _CURVES_KEPT:
        _CURVES.clear()
    curve = venue_of(state).curve(state, token_in, token_out)
    _CURVES[key] = (state, curve)  # the state is held: its id cannot name another meanwhile
    return curve


def forget_curves() -> None:
    """Drop every kept curve (and the states they hold)."""
    _CURVES.clear()


_CURVES_KEPT = 8192  # curves kept at most (two per pool of a replica-sized market)
_CURVES: dict[tuple[int, str, str], tuple[PoolState, Curve]] = {}


class RouteCurve:
    """The composition of a route's hop curves: `at(x)` is the output after the last hop and
    its first two derivatives, None past what a pool can take."""

    __slots__ = ("curves",)

    def __init__(self, curves: Sequence[Curve]) -> None:
        self.curves = tuple(curves)

    def at(self, x: float) -> Point | None:
        y, d1, d2 = x, 1.0, 0.0
        for curve in self.curves:
            point = curve.at(y)
            if point is None:
                return None
            y, e1, e2 = point
            d2 = e2 * d1 * d1 + e1 * d2  # (h o f)'' = h''(f) f'^2 + h'(f) f''
            d1 *= e1
        return y, d1, d2

    def rates(self, x: float) -> list[float] | None:
        """Each hop's marginal rate (output per input) at route input `x`."""
        y, out = x, []
        for curve in self.curves:
            point = curve.at(y)
            if point is None:
                return None
            y = point[0]
            out.append(point[1])
        return out


def route_curve(cycle: Cycle, states: Mapping[str, PoolState]) -> RouteCurve:
    return RouteCurve(
        [hop_curve(state_for(states, h), h.token_in, h.token_out) for h in cycle.hops]
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SmoothOptimum:
    """Where the smooth net profit `F(x) - (1 + fee_rate)*x` peaks on `[0, cap]`."""

    x: float  # the argmax (0.0: nothing pays at the margin)
    value: float  # the smooth net profit there
    curvature: float  # F''(x) <= 0: the net loses ~curvature/2 * dx^2 around x
    rate: float  # F'(0): the route's marginal rate at zero size
    at_cap: bool  # the cap binds: F'(cap) >= 1 + fee_rate
    at_limit: bool  # the pools' depth ends first (V3 bitmap window, Balancer's 30% in)


def smooth_optimum(
    curve: RouteCurve,
    fee_rate: float = 0.0,
    cap: float = math.inf,
    seed: float | None = None,
) -> SmoothOptimum:
    """Newton's method on `F'(x)^(-1/2) = (1 + fee_rate)^(-1/2)`, bracketed (module doc),
    from `seed` if given, else from 0 (whose first step is the closed form of the composed
    maps at the current prices)."""
    target = 1.0 + fee_rate
    first = curve.at(0.0)
    rate = 0.0 if first is None else first[1]
    if first is None or rate <= target or cap <= 0.0:
        return SmoothOptimum(
            x=0.0, value=0.0, curvature=0.0, rate=rate, at_cap=False, at_limit=False
        )
    inv = target**-0.5
    lo, lo_point = 0.0, first  # F'(lo) > target
    hi, hi_feasible = cap, True  # F'(hi) <= target, or hi is infeasible, or the cap
    if math.isfinite(cap):
        top = curve.at(cap)
        if top is None:
            hi_feasible = False
        elif top[1] >= target:
            return _optimum(cap, top, target, rate, at_cap=True, at_limit=False)
    x = seed if seed is not None and 0.0 < seed < hi else _newton(first, target, inv)
    for _ in range(MAX_STEPS):
        if not lo < x < hi:  # the step left the bracket (or was infinite): bisect / grow
            x = 0.5 * (lo + hi) if math.isfinite(hi) else max(16.0 * lo, 1.0)
        point = curve.at(x)
        if point is None:
            hi, hi_feasible = x, False
        elif point[1] > target:
            lo, lo_point = x, point
        else:
            hi, hi_feasible = x, True
        if math.isfinite(hi) and hi - lo <= X_TOL * hi:  # collapsed
            # onto the optimum, or onto where the route stops quoting, still paying there
            at_limit = not hi_feasible
            return _optimum(lo, lo_point, target, rate, at_cap=False, at_limit=at_limit)
        if point is None:
            x = 0.5 * (lo + hi)
            continue
        step = _newton(point, target, inv)
        if abs(step) <= X_TOL * x:
            return _optimum(x, point, target, rate, at_cap=False, at_limit=False)
        x += step
    return _optimum(lo, lo_point, target, rate, at_cap=False, at_limit=False)


def level_interval(
    curve: RouteCurve, fee_rate: float, optimum: SmoothOptimum, level: float
) -> tuple[float, float]:
    """An interval holding every input where the smooth net `F(x) - (1 + fee_rate)*x` is at
    least `level` (below its peak): the net is concave, so the set is an interval around the
    optimum. Each end is reached by Newton steps from outside, which stay outside on a concave
    curve (the tangent lies above it), bisecting where a pool stops quoting.
    """
    target = 1.0 + fee_rate
    x0 = optimum.x
    if optimum.value <= level:
        return x0, x0

    def net(x: float) -> tuple[float, float] | None:
        point = curve.at(x)
        return None if point is None else (point[0] - target * x, point[1] - target)

    width = math.sqrt(2.0 * (optimum.value - level) / max(-optimum.curvature, 1e-300))
    ends = []
    for side in (-1.0, 1.0):
        inner, outer = x0, x0 + side * min(2.0 * width, 1e300)
        for _ in range(MAX_STEPS):  # grow until outside the level set, 0 or infeasible
            if outer <= 0.0:
                outer = 0.0
                break
            here = net(outer)
            if here is None or here[0] < level:
                break
            inner, outer = outer, x0 + 2.0 * (outer - x0)
        for _ in range(MAX_STEPS):
            here = net(outer) if outer > 0.0 else None
            if here is None:  # 0, or the pools stop quoting: bisect towards the inside
                if outer <= 0.0:
                    break
                mid = 0.5 * (inner + outer)
                inner, outer = (mid, outer) if (m := net(mid)) and m[0] >= level else (inner, mid)
                if abs(outer - inner) <= 1e-9 * abs(outer) + 0.5:
                    break
                continue
            value, slope = here
            if value >= level or slope * side >= 0.0:
                break  # float noise at the level set's edge
            step = (level - value) / slope
            outer += step
            if abs(step) <= 1e-9 * abs(outer) + 0.5:
                break
        ends.append(outer)
    return max(ends[0], 0.0), ends[1]


def _newton(point: Point, target: float, inv: float) -> float:
    """Newton step on `F'^(-1/2) - inv` from `point` (exact for one Moebius segment);
    +-inf where the curve is not strictly concave there (the bracket takes over)."""
    _, d1, d2 = point
    if d2 >= 0.0 or d1 <= 0.0:
        return math.inf if d1 > target else -math.inf
    return 2.0 * (d1 - inv * d1 * math.sqrt(d1)) / d2


def _optimum(
    x: float, point: Point, target: float, rate: float, *, at_cap: bool, at_limit: bool
) -> SmoothOptimum:
    return SmoothOptimum(
        x=x,
        value=point[0] - target * x,
        curvature=point[2],
        rate=rate,
        at_cap=at_cap,
        at_limit=at_limit,
    )
