"""Optimal input for cycles of constant-product pools, in exact integers.

One V2 hop with `g = 1e6 - fee_pips` pays `out = K*x / (M + N*x)` with `K = g*R_out`,
`M = 1e6*R_in`, `N = g` (ref: UniswapV2Library.sol `getAmountOut`, without the floor). Such
Moebius maps compose: `(K1, M1, N1)` then `(K2, M2, N2)` is
`(K1*K2, M1*M2, M2*N1 + N2*K1)`. A cycle is profitable iff `K > M`, and the smooth profit
`K*x/(M + N*x) - x` peaks at `x* = (sqrt(K*M) - M) / N` with value `(sqrt(K) - sqrt(M))**2 / N`.

The contract floors every hop, so the exact profit is a step function a few units below the
smooth one. `optimize` starts from the closed form and searches the exact function; the smooth
peak value is an upper bound on any exact profit, so when the two meet the result is proven
optimal (`SizedCycle.optimality_gap == 0`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from math import isqrt
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import FEE_DENOMINATOR, V2PairState, checksum_address
from flasharb.errors import FlasharbValueError
from flasharb.kinds import HopKind
from flasharb.search.cycles import Cycle, Hop
from flasharb.state.registry import normal_uid

__all__ = [
    "SizedCycle",
    "closed_form_amount_in",
    "mobius",
    "optimize",
    "profit_upper_bound",
    "screen",
    "simulate",
    "state_for",
]

SCAN_RADIUS = 8  # integers scanned either side of the closed form
UNIT_RADIUS = 4  # intermediate-token units tried either side at every hop boundary
UNIT_ROUNDS = 4  # re-centre the unit search on the best point this many times at most
EXACT_BUDGET = 256  # most candidate inputs scanned to prove an optimum (~2 us each)
# With a flash fee the objective has a second saw-tooth (the fee rounds up): more to scan.
FEE_EXACT_BUDGET = 2048
SCREEN_MARGIN = 1e-9  # float screen lets through cycles this close to break-even

S = TypeVar("S", bound=PoolState)
_HopParams = tuple[int, int, int]  # (g, reserve_in * 1e6, reserve_out)


@dataclass(frozen=True, slots=True, kw_only=True)
class SizedCycle:
    """A cycle with its best input and the exact amounts the contract would see."""

    cycle: Cycle
    amount_in: int  # borrowed, in cycle.token wei; 0 if no input makes a profit
    amount_out: int  # back after the last hop
    profit: int  # amount_out - amount_in, before flash fee and gas
    amounts: tuple[int, ...]  # after each hop; amounts[-1] == amount_out
    profit_bound: int | None  # no input can make more; None: no bound known (V3, Balancer)
    exact: bool  # True if amount_in is proven to be the exact integer argmax
    ticks_crossed: int = 0  # initialized V3 ticks crossed at amount_in (gas)
    v4_ticks_crossed: int = 0  # initialized V4 ticks crossed at amount_in (gas, priced apart)

    @property
    def optimality_gap(self) -> int | None:
        """Wei of profit that might still be missed; 0 proves `amount_in` optimal; None
        without a bound."""
        if self.profit_bound is None:
            return None
        return max(self.profit_bound, 0) - self.profit


def state_for(states: Mapping[str, S], hop: Hop) -> S:
    """The state of the hop's pool (keyed by EIP-55 address, or as given)."""
    state = states.get(hop.pool)
    if state is None:
        state = states.get(normal_uid(hop.pool))
    if state is None:
        raise FlasharbValueError(
            f"no state for pool {hop.pool} ({hop.token_in} -> {hop.token_out}); read it first"
        )
    return state


def _hop_params(cycle: Cycle, states: Mapping[str, V2PairState]) -> list[_HopParams]:
    params: list[_HopParams] = []
    for hop in cycle.hops:
        if hop.kind is not HopKind.UNISWAP_V2:
            raise FlasharbValueError(f"hop kind {hop.kind!r} via {hop.pool}: not a V2 pair")
        state = state_for(states, hop)
        if state.fee_pips != hop.fee_pips:
            raise FlasharbValueError(
                f"pool {state.address}: hop fee {hop.fee_pips} pips != pool fee {state.fee_pips}"
            )
        if state.other(hop.token_in) != checksum_address(hop.token_out):
            raise FlasharbValueError(
                f"pool {state.address} does not swap {hop.token_in} -> {hop.token_out}"
            )
        reserve_in, reserve_out = state.reserves_for(hop.token_in)
        params.append((FEE_DENOMINATOR - state.fee_pips, reserve_in * FEE_DENOMINATOR, reserve_out))
    return params


def _compose(params: Sequence[_HopParams]) -> tuple[int, int, int]:
    k, m, n = 1, 1, 0  # identity map x / (1 + 0x)
    for g, reserve_in_scaled, reserve_out in params:
        k2, m2, n2 = g * reserve_out, reserve_in_scaled, g
        k, m, n = k * k2, m * m2, m2 * n + n2 * k
    return k, m, n


def mobius(cycle: Cycle, states: Mapping[str, V2PairState]) -> tuple[int, int, int]:
    """`(K, M, N)` such that the cycle, without per-hop flooring, pays `K*x / (M + N*x)`."""
    return _compose(_hop_params(cycle, states))


def _closed_form(k: int, m: int, n: int) -> int:
    if k <= m:
        return 0
    return max((isqrt(k * m) - m) // n, 0)


def closed_form_amount_in(cycle: Cycle, states: Mapping[str, V2PairState]) -> int:
    """`floor((sqrt(K*M) - M) / N)`, the smooth optimum; 0 if the cycle is unprofitable."""
    return _closed_form(*mobius(cycle, states))


def _profit_bound(k: int, m: int, n: int) -> int:
    """floor((sqrt(K) - sqrt(M))**2 / N) exactly: the largest t with t*N <= K + M - 2*sqrt(KM)."""
    if k <= m:
        return 0
    t = (k + m - 2 * isqrt(k * m)) // n  # isqrt rounds down, so t may be a little high
    while t > 0 and (k + m - t * n < 0 or (k + m - t * n) ** 2 < 4 * k * m):
        t -= 1
    return t


def profit_upper_bound(cycle: Cycle, states: Mapping[str, V2PairState]) -> int:
    """No input makes more profit than this: each floor only lowers the smooth curve."""
    return _profit_bound(*mobius(cycle, states))


def simulate(cycle: Cycle, states: Mapping[str, PoolState], amount_in: int) -> list[int]:
    """Exact amounts after each hop, computed hop by hop as the contract does.

    ref: UniswapV2Library.sol `getAmountsOut` (the contract calls `getAmountOut` per hop and
    sends the result straight to the next pair); V3 and Balancer hops use their pool's own
    `quote_exact_in`.

    Raises:
        FlasharbValueError: `amount_in <= 0`, or a hop pays 0 (a V2 pair reverts with
            `UniswapV2: INSUFFICIENT_OUTPUT_AMOUNT`; the route refuses it for every venue).
        InsufficientLiquidityError: a pool on the route has no reserves or cannot pay.
    """
    amounts: list[int] = []
    amount = amount_in
    for hop in cycle.hops:
        amount = state_for(states, hop).quote_exact_in(hop.token_in, hop.token_out, amount)
        if amount == 0:
            raise FlasharbValueError(
                f"hop {len(amounts)} via {hop.pool} pays 0 {hop.token_out} "
                "(UniswapV2: INSUFFICIENT_OUTPUT_AMOUNT)"
            )
        amounts.append(amount)
    return amounts


def _chain_out(params: Sequence[_HopParams], x: int) -> int:
    """Same arithmetic as `get_amount_out` per hop (checked against `simulate` in tests);
    0 if any hop pays 0, i.e. the route would revert."""
    for g, reserve_in_scaled, reserve_out in params:
        a = x * g
        x = a * reserve_out // (reserve_in_scaled + a)
        if x == 0:
            return 0
    return x


def _chain_min_in(params: Sequence[_HopParams], y: int) -> int | None:
    """Smallest input whose chain output is at least `y` (None if the pools cannot pay `y`).

    Per hop: `floor(g*x*R_out / (1e6*R_in + g*x)) >= y` iff `x >= y*1e6*R_in / (g*(R_out - y))`.
    Unlike `get_amount_in` this is the exact ceiling, not floor + 1.
    """
    for g, reserve_in_scaled, reserve_out in reversed(params):
        if y >= reserve_out:
            return None
        y = -(-(y * reserve_in_scaled) // (g * (reserve_out - y)))
    return y


def _zero(cycle: Cycle, bound: int, *, exact: bool) -> SizedCycle:
    return SizedCycle(
        cycle=cycle,
        amount_in=0,
        amount_out=0,
        profit=0,
        amounts=(0,) * len(cycle.hops),
        profit_bound=max(bound, 0),
        exact=exact,
    )


Fee = Callable[[int], int]
_RATE_ONE = 2**64  # fee rates as fractions of 2^64 in the integer closed form and proof


def _fee_fraction(fee_rate: float, *, lower: bool) -> int:
    """fee_rate * 2^64 as an integer; `lower` rounds safely below the float (which may sit a
    hair above the true rational rate, e.g. 0.0005 for 500 pips)."""
    if fee_rate <= 0.0:
        return 0
    scaled = fee_rate * _RATE_ONE
    return max(int(scaled * (1.0 - 2.0**-40)) - 1, 0) if lower else int(round(scaled))


class _Search:
    """Exact objective `out - x - fee(x)` of a route at integer inputs in [1, cap],
    memoised, tracking the best input seen."""

    __slots__ = ("best", "best_profit", "cap", "fee", "params", "seen")

    def __init__(
        self, params: Sequence[_HopParams], fee: Fee | None = None, cap: int | None = None
    ) -> None:
        self.params = params
        self.fee = fee
        self.cap = cap
        self.seen: dict[int, int] = {}
        self.best = 0  # input 0: no trade, profit 0
        self.best_profit = 0

    def profit(self, x: int) -> int | None:
        if x < 1 or (self.cap is not None and x > self.cap):
            return None
        p = self.seen.get(x)
        if p is None:
            out = _chain_out(self.params, x)
            p = out - x - (self.fee(x) if self.fee is not None and out else 0)
            self.seen[x] = p
            if p > self.best_profit or (p == self.best_profit and 0 < x < self.best):
                self.best, self.best_profit = x, p
        return p

    def unit_neighbours(self, x: int) -> None:
        """Try the smallest inputs buying `u + d` at every hop boundary, |d| <= UNIT_RADIUS.

        The exact profit is a saw-tooth: each tooth starts at the smallest input that buys a
        given amount at some hop boundary (more input buys nothing until the next unit).
        """
        amount = x
        for depth in range(1, len(self.params) + 1):
            amount = _chain_out(self.params[depth - 1 : depth], amount)
            if amount == 0:
                return
            for u in range(max(amount - UNIT_RADIUS, 1), amount + UNIT_RADIUS + 1):
                x_min = _chain_min_in(self.params[:depth], u)
                if x_min is not None:
                    self.profit(x_min)

    def prove(self, k: int, m: int, n: int, fee_part: int) -> bool:
        """Scan every input that could still beat the best; True if that settles the optimum.

        Exact profit never exceeds the smooth one and the fee is at least `fee_part / 2^64`
        of the input, so an input beating the best by 1 wei needs
        `K*x/(M + N*x) - (1 + phi)*x >= t`, i.e. (times 2^64)
        `(Q+P)*N*x**2 + ((Q+P)*M + Q*N*t - Q*K)*x + Q*M*t <= 0`: an interval of x, cut at the
        cap. The exact argmax is the smallest input buying its amount at every hop boundary
        (the fee only grows with x), so it suffices to try, at the boundary where the interval
        spans the fewest units, the smallest input for each unit. Skipped (False) above
        `EXACT_BUDGET` units.
        """
        t = self.best_profit + 1
        q, p = _RATE_ONE, fee_part
        a = (q + p) * n
        b = q * k - (q + p) * m - q * n * t
        disc = b * b - 4 * a * q * m * t
        if b <= 0 or disc < 0:
            return True  # no input reaches t
        s = isqrt(disc)
        lo = max((b - s) // (2 * a) - 1, 1)  # widened by one for the integer square root
        hi = (b + s) // (2 * a) + 1
        if self.cap is not None:
            hi = min(hi, self.cap)
        if hi < lo:
            return True
        depth, first, last = 0, lo, hi
        u_lo, u_hi = lo, hi
        for d in range(1, len(self.params) + 1):
            hop = self.params[d - 1 : d]
            u_lo, u_hi = _chain_out(hop, u_lo) if u_lo else 0, _chain_out(hop, u_hi)
            if u_hi - max(u_lo, 1) < last - first:
                depth, first, last = d, max(u_lo, 1), u_hi
        if last - first + 1 > (EXACT_BUDGET if self.fee is None else FEE_EXACT_BUDGET):
            return False
        for u in range(first, last + 1):
            x = u if depth == 0 else _chain_min_in(self.params[:depth], u)
            if x is not None:
                self.profit(x)
        return True


def _capped_bound(k: int, m: int, n: int, cap: int | None) -> int:
    """No input in [1, cap] makes more gross profit than this (the smooth profit rises up to
    its peak, so below the peak the smooth profit at the cap bounds it)."""
    bound = _profit_bound(k, m, n)
    if cap is None or bound <= 0 or cap >= _closed_form(k, m, n) + 1:
        return bound
    return min(bound, k * cap // (m + n * cap) - cap)


def optimize(
    cycle: Cycle,
    states: Mapping[str, V2PairState],
    *,
    fee: Fee | None = None,
    fee_rate: float = 0.0,
    cap: int | None = None,
) -> SizedCycle:
    """Best integer input for the cycle, by exact hop-by-hop profit.

    1. Closed form `x*` from the composed Moebius map (with a flash fee of rate f, of the map
       scaled by `1/(1 + f)`: `x* = (sqrt(K*M/(1+f)) - M)/N`), cut at `cap`; `profit_bound`
       (the smooth peak within the cap) caps every exact gross profit.
    2. Exact objective `out - x - fee(x)` at every integer within `SCAN_RADIUS` of `x*`.
    3. Rounding at a coarse intermediate token (6-decimal USDC between 18-decimal legs) makes
       the exact profit a saw-tooth (teeth ~3e8 wei tall for USDC): from the best point, try
       the smallest input buying each of `UNIT_RADIUS` units either side at every hop
       boundary, re-centring up to `UNIT_ROUNDS` times.
    4. Unless the best meets `profit_bound`, bound the inputs that could still beat it by the
       smooth curve and scan their tooth starts if there are at most `EXACT_BUDGET`.

    `exact` says whether the result is proven to be the integer argmax of the objective on
    [1, cap] (it meets the bound, or step 4 ran). With a fee the proof assumes
    `fee(x) >= fee_rate * x`, true of the V3 and V2 flash fees (both round up); `profit_bound`
    stays a bound on the gross profit, so `optimality_gap` is then not the objective's gap.
    Otherwise it is the best point examined, `optimality_gap` wei below the bound at most:
    typically a few wei, up to ~1e8 wei on routes through two coarse tokens (WBTC and USDC).
    Profit <= 0 gives amount_in 0, profit 0. Ties go to the smaller input. An integer
    golden-section search on `[1, 2x*]` is not used: on the saw-tooth it stops wherever the
    teeth mislead it and lost up to 1e8 wei against the closed form.
    """
    params = _hop_params(cycle, states)
    if any(reserve_in == 0 or reserve_out == 0 for _, reserve_in, reserve_out in params):
        return _zero(cycle, 0, exact=True)  # the route would revert
    k, m, n = _compose(params)
    bound = _capped_bound(k, m, n, cap)
    if bound <= 0:
        return _zero(cycle, bound, exact=True)  # proven: no input makes even 1 wei
    seed_part = _fee_fraction(fee_rate, lower=False)
    x_star = _closed_form(k * _RATE_ONE, m * (_RATE_ONE + seed_part), n * (_RATE_ONE + seed_part))
    if cap is not None:
        x_star = min(x_star, cap)

    search = _Search(params, fee, cap)
    for x in range(max(x_star - SCAN_RADIUS, 1), x_star + SCAN_RADIUS + 1):
        search.profit(x)
    centre = 0
    for _ in range(UNIT_ROUNDS):
        if search.best_profit >= bound or search.best == centre:
            break
        centre = search.best
        search.unit_neighbours(centre)
    fee_part = _fee_fraction(fee_rate, lower=True) if fee is not None else 0
    exact = search.best_profit >= bound or search.prove(k, m, n, fee_part)
    if search.best_profit <= 0:
        return _zero(cycle, bound, exact=exact)
    best = search.best
    shrunk = _chain_min_in(params, _chain_out(params, best))  # same output, less input?
    if shrunk is not None and shrunk < best:
        search.profit(shrunk)
        best = search.best
    amounts = tuple(simulate(cycle, states, best))
    return SizedCycle(
        cycle=cycle,
        amount_in=best,
        amount_out=amounts[-1],
        profit=amounts[-1] - best,
        amounts=amounts,
        profit_bound=bound,
        exact=exact,
    )


def screen(cycles: Sequence[Cycle], states: Mapping[str, V2PairState]) -> npt.NDArray[np.bool_]:
    """Float pre-filter: True where a cycle may be profitable (`K > M`), vectorised.

    The only floats in the search. It computes prod(g/1e6 * R_out/R_in) > 1 - SCREEN_MARGIN,
    so near break-even it errs towards True; `optimize` decides exactly. Cycles through a pool
    without reserves are False.
    """
    if not cycles:
        return np.zeros(0, dtype=np.bool_)
    width = max(len(cycle.hops) for cycle in cycles)
    float_fee = np.ones((len(cycles), width))
    float_reserve_in = np.ones((len(cycles), width))
    float_reserve_out = np.ones((len(cycles), width))
    for i, cycle in enumerate(cycles):
        for j, hop in enumerate(cycle.hops):
            state = state_for(states, hop)
            reserve_in, reserve_out = state.reserves_for(hop.token_in)
            float_fee[i, j] = (FEE_DENOMINATOR - state.fee_pips) / FEE_DENOMINATOR
            float_reserve_in[i, j] = float(reserve_in)
            float_reserve_out[i, j] = float(reserve_out)
    live = np.all((float_reserve_in > 0) & (float_reserve_out > 0), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        float_ratio = np.prod(float_fee * float_reserve_out / float_reserve_in, axis=1)
    result: npt.NDArray[np.bool_] = live & (float_ratio > 1.0 - SCREEN_MARGIN)
    return result
