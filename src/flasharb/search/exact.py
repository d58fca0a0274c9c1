"""Exact integer sizing of any route: the smooth optimum in floats, then exact quotes.

The objective `P(x) = F(x) - x - fee(x)`, with `F` the chain of each pool's own
`quote_exact_in` and `fee` a flash loan's exact fee, is a smooth concave curve less the
pools' roundings (a saw-tooth a few units of each intermediate token tall). So:

1. Smooth optimum (segments.py): every hop modelled by the real-valued curve its integer math
   rounds (V2 Moebius maps; V3 constant product on the virtual reserves of each initialized
   tick range, walked through the pool's own bitmap; Balancer's weighted power curve), and
   the input where the composed marginal rate meets `1 + fee_rate` found by Newton steps that
   are the closed form of the composed segment maps (2-5 steps, no exact quote).
2. One exact evaluation there, hop by hop with the pools' own math (V3 hops through `swap`,
   which also counts the initialized ticks crossed: the gas model's input, no second pass).
   Every rounding favours the pool, so the smooth maximum (plus LogExpMath's 1e-14 in
   Balancer hops and float error, both allowed for) bounds every exact profit. If the exact
   profit is within `CERTIFY_TOL` of that bound, or less than one unit below it (then it is
   the integer optimum), it is returned: at least 99.9995% of the integer optimum without a
   search. Near the top the profit is flat (a relative input error e costs ~e^2 of it) and
   Newton stops at a relative error of 1e-11, so only the teeth can fail this check: a
   profit that is dust next to one unit of a coarse token (6-decimal USDC, 8-decimal WBTC).
3. Teeth (teeth.py, within a budget of EXACT_BUDGET single-hop quotes): the tooth starts
   next to the optimum at the coarsest boundary, then the inputs where the smooth profit
   could still beat the best by one unit, then, if the model's optimum was unusable (the
   route reverts there, or a pool's depth ends first), the previous quote-based search.

A quote that raises (the pool would revert, cannot pay, or its state was read too narrowly)
makes that input infeasible. Pure constant-product routes use `sizing.optimize`, which also
proves its result; this search proves nothing (`profit_bound` is None), and the tests hold it
to 99.999% of a brute-force integer optimum.

Measured (bench/sizing.py, the replica after the shock, 258 mixed candidates, three runs on
a shared 2-core machine; baseline = the previous search, bench/sizing_baseline.py, same
process): median 56-61 us per candidate against 750-850 us (13-14x), p95 110-136 us against
2.4-2.6 ms; 255 of 258 sized by one route evaluation (3 quotes, against 108); worst profit
0.99999995 of the reference optimum (the baseline's: 0.9999886); all 378 candidates sized in
25-58 ms against 314-367 ms. Of the time, ~11 us is the model, ~15 us the exact evaluation.
On a synthetic 4-hop market where 146 of 370 mixed candidates are dust next to their teeth
(profits below ~1e-3 ETH): median 138-162 us, p95 7-11 ms (bounded search), 17 candidates
below 0.99999 of the reference (each short by at most 2e-7 ETH; the baseline: 0.9851 worst).
A compiled core was not built: the exact evaluation must stay the pools' own Python math, and
compiling the 11 us model would save less than a third of the median.

Measured and rejected:
- the previous method alone (bracket by growing steps from the stand-in seed, integer golden
  section, tooth search): 30-50 exact route evaluations per candidate, where one suffices.
- a secant or Newton step on exact quotes after the smooth optimum: on every replica
  candidate the first exact evaluation already met the bound to 1e-8; the extra quotes
  (a V3 quote is 10-30 us, a Balancer one 5-120 us) bought nothing.
- shrinking every result to the smallest input paying the same output: a backward search for
  at most one tooth of input (< 1e-7 of the profit on every replica candidate); done only
  when the search of step 3 ran.
- the V3 path without tick crossings (the stand-in at the current price, rates.py) as the
  model: after the shock its optimum was up to 1.8x off where ticks are crossed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from flasharb.amm.pool import PoolState
from flasharb.errors import FlasharbValueError
from flasharb.kinds import HopKind
from flasharb.search.cycles import Cycle, Hop
from flasharb.search.rates import pool_edge_params
from flasharb.search.segments import RouteCurve, hop_curve, route_curve, smooth_optimum
from flasharb.search.sizing import SizedCycle, optimize, state_for
from flasharb.search.teeth import (
    CERTIFY_TOL,
    EXACT_BUDGET,
    Evaluation,
    ExactRoute,
    best,
    certified,
    refine,
    shrink,
)
from flasharb.search.venue import venue_of

__all__ = [
    "CERTIFY_TOL",
    "EXACT_BUDGET",
    "gross_bound",
    "optimize_route",
    "route_seed",
    "size_cycle",
    "ticks_crossed",
]

FLOAT_TOL = 1e-13  # relative float error allowed the smooth bound, of the input and output
MARGIN = 1e-9  # a route whose marginal rate is below 1 - MARGIN cannot pay at all

Fee = Callable[[int], int]


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
    """Closed-form optimum of the route's constant-product stand-in at the current prices
    (rates.py; 0 if it cannot pay): what the vectorised screen computes, not the sizing."""
    return _stand_in(cycle, states)[2]


def _pow_slack(steps: Sequence[tuple[PoolState, str, str]], curve: RouteCurve, x: float) -> float:
    """How far the pools' own approximations (Balancer's LogExpMath: 1e-14 of the power, either
    way) may put the exact output above the smooth curve, in the start token (each venue's
    `pow_slack`, carried back through the later hops' rates); `steps`: each hop's (state, token
    in, token out)."""
    slacks = [venue_of(state).pow_slack(state, token_out) for state, _, token_out in steps]
    if not any(slacks):
        return 0.0
    rates = curve.rates(x)
    if rates is None:
        return 0.0
    slack, down = 0.0, 1.0
    for own, rate in zip(reversed(slacks), reversed(rates), strict=True):
        slack += own * down
        down *= rate
    return slack


def optimize_route(
    cycle: Cycle,
    states: Mapping[str, PoolState],
    seed: int | None = None,
    *,
    fee: Fee | None = None,
    fee_rate: float = 0.0,
    cap: int | None = None,
) -> SizedCycle:
    """Best integer input for any route (see the module doc): the argmax of
    `amounts[-1] - x - fee(x)` over `1 <= x <= cap`; `profit` stays gross.

    Nothing profitable gives amount_in 0, profit 0 (proven, with `profit_bound` 0, when the
    route's marginal rate at zero size is below 1). Otherwise `profit_bound` is None: no bound
    is proven for routes with V3 or Balancer hops.
    """
    route = ExactRoute(cycle, states, fee, cap)
    curve = route_curve(cycle, states)
    top = math.inf if cap is None else float(cap)
    smooth = smooth_optimum(curve, fee_rate, top)  # not from `seed`: the same result without
    if smooth.rate < 1.0 - MARGIN:  # F concave with F'(0) = rate < 1: F(x) < x everywhere
        return _zero(cycle, proven=True)
    if smooth.rate <= (1.0 + fee_rate) * (1.0 - MARGIN) or smooth.x <= 0.0:
        return _zero(cycle, proven=False)  # the fee takes more than the route's best rate
    x = min(max(int(round(smooth.x)), 1), cap if cap is not None else 2**256)
    bound = smooth.value + _pow_slack(route.steps, curve, smooth.x)
    bound += FLOAT_TOL * (smooth.x + abs(smooth.value))
    if not smooth.at_limit:
        if bound < 1.0:
            return _zero(cycle, proven=False)  # not one unit of profit at any input
        found = route.evaluate(x)
        if found is not None:
            value = route.objective(x, found.amounts[-1])
            if certified(value, bound):
                return _sized(cycle, x, found)
            route.record(x, value)
    refine(route, curve, smooth, fee_rate, x, bound)
    best_x, best_p = best(route)
    if best_p <= 0:
        return _zero(cycle, proven=False)
    shrink(route, best_x)
    best_x, _ = best(route)
    found = route.evaluate(best_x)
    assert found is not None  # best_p > 0 was computed from the same quotes
    return _sized(cycle, best_x, found)


def gross_bound(
    cycle: Cycle | Sequence[Hop], states: Mapping[str, PoolState], seed: float | None = None
) -> float | None:
    """An upper bound of the gross profit `size_cycle` can find for `cycle` (start-token wei,
    float), from the smooth model alone (no exact quote, ~10-30 us): the bound step 2 of the
    module doc certifies against. None where the model cannot bound it (the pools' depth ends
    before the optimum: the search beyond is quote-based). `seed`: where the search for the
    smooth optimum starts (the screen's optimum: fewer steps; the optimum found is the same).
    A cycle's hops will do (`CycleIndex.hops_of`: no Cycle built)."""
    hops = cycle.hops if isinstance(cycle, Cycle) else cycle
    steps = [(state_for(states, h), h.token_in, h.token_out) for h in hops]
    curve = RouteCurve([hop_curve(state, t_in, t_out) for state, t_in, t_out in steps])
    smooth = smooth_optimum(curve, 0.0, math.inf, seed=seed)
    if smooth.rate <= 1.0 - MARGIN or smooth.x <= 0.0:
        return 0.0  # optimize_route finds nothing either
    if smooth.at_limit:
        return None
    slack = _pow_slack(steps, curve, smooth.x)
    return max(smooth.value + slack + FLOAT_TOL * (smooth.x + abs(smooth.value)), 0.0)


def _sized(cycle: Cycle, x: int, found: Evaluation) -> SizedCycle:
    amounts = found.amounts
    return SizedCycle(
        cycle=cycle,
        amount_in=x,
        amount_out=amounts[-1],
        profit=amounts[-1] - x,
        amounts=amounts,
        profit_bound=None,
        exact=False,
        ticks_crossed=found.ticks_crossed,
        v4_ticks_crossed=found.v4_ticks_crossed,
    )


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


def ticks_crossed(cycle: Cycle, states: Mapping[str, PoolState], amount_in: int) -> tuple[int, int]:
    """Initialized ticks the route crosses at `amount_in`, (V3, V4): each costs gas, V4's at
    its own figure. Sizing counts them during its own final evaluation
    (`SizedCycle.ticks_crossed`, `v4_ticks_crossed`); this re-quotes."""
    crossed, v4_crossed, amount = 0, 0, amount_in
    for hop in cycle.hops:
        state = state_for(states, hop)
        amount, ticks = venue_of(state).swap(state, hop.token_in, hop.token_out, amount)
        if hop.kind is HopKind.UNISWAP_V4:
            v4_crossed += ticks
        else:
            crossed += ticks
    return crossed, v4_crossed


def _check_terms(fee_rate: float, cap: int | None) -> None:
    if not (math.isfinite(fee_rate) and fee_rate >= 0.0):
        raise FlasharbValueError(f"fee_rate must be a finite rate >= 0, got {fee_rate}")
    if cap is not None and cap < 1:
        raise FlasharbValueError(f"cap must be at least 1 wei (what the source lends), not {cap}")


def size_cycle(
    cycle: Cycle,
    states: Mapping[str, PoolState],
    seed: int | None = None,
    *,
    fee: Fee | None = None,
    fee_rate: float = 0.0,
    cap: int | None = None,
) -> SizedCycle:
    """Exact sizing: the proven constant-product optimizer for pure V2 routes, else the
    smooth optimum checked by exact quotes (module doc).

    Args:
        seed: the screen's closed form, accepted for the engine's call; the result does not
            depend on it (the smooth search's first Newton step from 0 is that closed form).
        fee: a flash loan's exact fee on an input x (monotone, >= 0); the input then
            maximises `amounts[-1] - x - fee(x)`. `profit` stays gross: the caller computes
            the fee.
        fee_rate: the fee's marginal rate d fee/dx, for the float model (V3 flash:
            fee_pips/1e6; V2 flash swap: f/(1-f)).
        cap: the most the capital source can lend: 1 <= amount_in <= cap.

    Raises:
        FlasharbValueError: a negative or non-finite fee_rate, a cap below 1, a pool without
            state.
    """
    _check_terms(fee_rate, cap)
    if all(hop.kind is HopKind.UNISWAP_V2 for hop in cycle.hops):
        return optimize(cycle, states, fee=fee, fee_rate=fee_rate, cap=cap)  # type: ignore[arg-type]
    return optimize_route(cycle, states, seed, fee=fee, fee_rate=fee_rate, cap=cap)
