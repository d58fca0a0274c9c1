"""The float model of a route (search/segments.py) against the pools' own integer math.

The model only seeds and bounds exact sizing, but the bound is only as good as the model:
each curve must follow its pool's exact quotes to within the pool's roundings, across V3
tick crossings, up to where the exact swap stops, and for Balancer pools of any weights and
decimals.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace

import pytest

from flasharb.amm.uniswap_v2 import V2PairState, checksum_address
from flasharb.amm.uniswap_v3 import V3PoolState
from flasharb.amm.uniswap_v3.tick_math import get_tick_at_sqrt_ratio
from flasharb.errors import FlasharbError
from flasharb.search.cycles import enumerate_cycles
from flasharb.search.segments import (
    RouteCurve,
    hop_curve,
    level_interval,
    route_curve,
    smooth_optimum,
)
from flasharb.venues.uniswap_v3 import V3Curve
from flasharb_testing.pool_builders import (
    TICK_SPACING,
    full_range,
    sqrt_price_x96_of,
    v3_pool,
    weighted_pool,
)


def address(n: int) -> str:
    return checksum_address("0x" + f"{n:040x}")


T0, T1, T2 = address(0xA0), address(0xA1), address(0xA2)


def ticked_pool(seed: int, *, fee: int = 500, window: int = 1) -> V3PoolState:
    """A V3 pool with a full-range position and five narrow ones around the price (so a
    trade of a few percent crosses several initialized ticks), `window` words read each side."""
    rng = random.Random(seed)
    spacing = TICK_SPACING[fee]
    price = rng.uniform(0.2, 5.0) * 10 ** rng.choice([-12, 0, 12])
    sqrt_price = sqrt_price_x96_of(price)
    tick = get_tick_at_sqrt_ratio(sqrt_price)
    base = 10 ** rng.randint(18, 24)
    positions = [(*full_range(spacing), 4 * base)]
    for _ in range(5):
        lo = (tick - rng.randint(1, 40) * spacing) // spacing * spacing
        hi = (tick + rng.randint(1, 40) * spacing) // spacing * spacing + spacing
        positions.append((lo, hi, base * rng.randint(1, 4)))
    here = (tick // spacing) >> 8
    return v3_pool(
        address=address(0x300 + seed),
        token0=T0,
        token1=T1,
        fee=fee,
        sqrt_price_x96=sqrt_price,
        positions=positions,
        word_range=(here - window, here + window),
    )


def exact_out(pool: V3PoolState, zero_for_one: bool, x: int) -> tuple[int, int] | None:
    """(amount out, initialized ticks crossed) of the exact swap; None if it cannot fill."""
    try:
        result = pool.swap(zero_for_one, x)
    except FlasharbError:
        return None
    return (result.amount_out, result.ticks_crossed) if result.filled else None


class TestV3Curve:
    def test_a_walked_curve_answers_a_negative_input_as_a_fresh_one(self) -> None:
        """An earlier hop's float error can hand a curve a slightly negative input: it is read
        on the first range, however far the curve was walked before (it was the last range)."""
        pool = ticked_pool(1)
        walked, fresh = V3Curve(pool, True), V3Curve(pool, True)
        assert walked.at(1e40) is None or len(walked.starts) > 1
        assert len(walked.starts) > 1, "the walk must leave the first range"
        assert walked.at(-1e6) == fresh.at(-1e6)

    @pytest.mark.parametrize("zero_for_one", [True, False], ids=["0to1", "1to0"])
    @pytest.mark.parametrize("seed", range(6), ids=lambda s: f"seed{s}")
    def test_follows_the_exact_swap_across_ticks(self, seed: int, zero_for_one: bool) -> None:
        pool = ticked_pool(seed, fee=[100, 500, 3000][seed % 3])
        curve = V3Curve(pool, zero_for_one)
        sqrt_price = pool.sqrt_price_x96 / 2**96  # virtual reserve of the token in:
        virtual = pool.liquidity / sqrt_price if zero_for_one else pool.liquidity * sqrt_price
        first = curve.at(0.0)
        assert first is not None
        crossed, x = 0, virtual * 1e-5
        while (exact := exact_out(pool, zero_for_one, int(x))) is not None:
            point = curve.at(float(int(x)))
            assert point is not None
            out, crossed = exact
            assert out <= point[0] * (1 + 1e-12) + 1  # the pool rounds in its favour
            # by a few units: the fee's floor, and at each tick crossed the input rounded up
            # and the fee's ceiling (units of the token in), and each step's output floor
            rounding = (1 + 2 * crossed) * first[1] + (crossed + 1)
            assert out >= point[0] * (1 - 1e-12) - rounding
            x *= 1.25
        assert crossed >= 2, "the fixture should cross initialized ticks"
        assert curve.at(x * 1.01) is None  # the exact swap stopped: so does the curve

    def test_marginal_rate_is_the_price_after_fee(self) -> None:
        pool = ticked_pool(1)
        sqrt_price = pool.sqrt_price_x96 / 2**96
        for zero_for_one in (True, False):
            curve = V3Curve(pool, zero_for_one)
            virtual = pool.liquidity / sqrt_price if zero_for_one else pool.liquidity * sqrt_price
            first = curve.at(0.0)
            price = sqrt_price**2 if zero_for_one else sqrt_price**-2
            assert first is not None and first[1] == pytest.approx(price * (1 - pool.fee / 1e6))
            for x in (virtual * 1e-6, virtual * 1e-3, virtual * 3e-2):
                point = curve.at(x)
                assert point is not None
                h = x * 1e-6
                upper, lower = curve.at(x + h), curve.at(x - h)
                assert upper is not None and lower is not None
                slope = (upper[0] - lower[0]) / (2 * h)
                assert slope == pytest.approx(point[1], rel=1e-6)
                assert point[2] < 0  # concave

    @pytest.mark.parametrize("zero_for_one", [True, False], ids=["0to1", "1to0"])
    def test_ends_where_the_bitmap_window_ends(self, zero_for_one: bool) -> None:
        """Past the words read, the exact swap raises IncompleteStateError: so does the curve
        (None), at the same input to within float error."""
        pool = ticked_pool(4, fee=100, window=0)  # one word: 256 ticks of spacing 1
        curve = V3Curve(pool, zero_for_one)
        hi = 1.0
        while curve.at(hi) is not None:
            hi *= 2
        limit = curve.limit
        assert math.isfinite(limit) and hi / 2 <= limit < hi
        assert exact_out(pool, zero_for_one, int(limit * (1 - 1e-9))) is not None
        assert exact_out(pool, zero_for_one, int(limit * (1 + 1e-9)) + 2) is None


class TestOtherCurves:
    def test_v2_is_the_moebius_map(self) -> None:
        pair = V2PairState(
            address=address(1), token0=T0, token1=T1, reserve0=10**21, reserve1=3 * 10**24
        )
        curve = hop_curve(pair, T0, T1)
        for x in (10**15, 10**18, 10**20):
            point = curve.at(float(x))
            assert point is not None
            assert pair.quote_exact_in(T0, T1, x) == pytest.approx(point[0], rel=1e-12, abs=1)

    @pytest.mark.parametrize("weights", [(5, 5), (8, 2), (2, 8)], ids=["50-50", "80-20", "20-80"])
    @pytest.mark.parametrize("decimals", [(18, 6), (8, 18), (6, 8)], ids=lambda d: f"{d[0]}-{d[1]}")
    def test_balancer_follows_the_exact_quote(
        self, weights: tuple[int, int], decimals: tuple[int, int]
    ) -> None:
        pool = weighted_pool(
            address=address(2),
            tokens=[T0, T1],
            balances=[4 * 10 ** (decimals[0] + 4), 7 * 10 ** (decimals[1] + 4)],
            decimals=list(decimals),
            weights=[weights[0] * 10**17, weights[1] * 10**17],
            swap_fee=3 * 10**15,
        )
        for token_in, token_out, i in ((T0, T1, 0), (T1, T0, 1)):
            curve = hop_curve(pool, token_in, token_out)
            for frac in (1e-7, 1e-4, 1e-2, 0.25):
                x = int(pool.balances[i] * frac)
                point = curve.at(float(x))
                assert point is not None
                exact = pool.quote_exact_in(token_in, token_out, x)
                # LogExpMath's error and its 18-decimal power: 1e-14 and 1e-18 of the balance
                pow_error = 3e-14 * pool.balances[1 - i] + 2
                assert exact <= point[0] * (1 + 1e-12) + pow_error
                assert exact >= point[0] * (1 - 1e-12) - pow_error
            assert curve.at(pool.balances[i] * 0.31) is None  # BAL#304 past 30% (after fee)

    def test_a_pool_shares_one_curve_per_direction_while_its_state_stands(self) -> None:
        """Curves are kept per state and direction (every route through a pool reuses one):
        a three-token pool's two ways out of T0 are two curves, a new state is a new curve."""
        pool = weighted_pool(
            address=address(3),
            tokens=[T0, T1, T2],
            balances=[4 * 10**22, 7 * 10**22, 9 * 10**22],
            decimals=[18, 18, 18],
            weights=[4 * 10**17, 3 * 10**17, 3 * 10**17],
            swap_fee=3 * 10**15,
        )
        to_t1, to_t2 = hop_curve(pool, T0, T1), hop_curve(pool, T0, T2)
        assert hop_curve(pool, T0, T1) is to_t1 and to_t1 is not to_t2
        x = 10.0**20
        for curve, out in ((to_t1, T1), (to_t2, T2)):
            point = curve.at(x)
            assert point is not None
            exact = pool.quote_exact_in(T0, out, int(x))
            assert exact == pytest.approx(point[0], rel=1e-9)
        moved = replace(pool, balances=[5 * 10**22, 7 * 10**22, 9 * 10**22])
        assert hop_curve(moved, T0, T1) is not to_t1


def mixed_route(seed: int) -> tuple[RouteCurve, float]:
    """A profitable V3 -> Balancer -> V2 ring and its curve; returns (curve, rate at 0)."""
    v3 = ticked_pool(seed)
    price0 = v3.sqrt_price_x96**2 / 2**192  # T1 per T0
    bal = weighted_pool(
        address=address(3),
        tokens=[T1, T2],
        balances=[10**24, 2 * 10**24],
        decimals=[18, 18],
        weights=[8 * 10**17, 2 * 10**17],
        swap_fee=10**15,
    )
    # T2 per T1 at spot: (B2/w2)/(B1/w1) = 8; then back to T0 at a price 3% better
    rate_back = 1.03 / (price0 * 8.0)
    pair = V2PairState(
        address=address(4),
        token0=T0,
        token1=T2,
        reserve0=int(10**24 * rate_back),
        reserve1=10**24,
    )
    states = {p.address: p for p in (v3, bal, pair)}
    cycle = next(
        c
        for c in enumerate_cycles(states.values(), [T0], max_hops=3, min_hops=3)
        if c.hops[0].pool == v3.address
    )
    curve = route_curve(cycle, states)
    first = curve.at(0.0)
    assert first is not None
    return curve, first[1]


class TestSmoothOptimum:
    @pytest.mark.parametrize("fee_rate", [0.0, 5e-4, 0.003])
    @pytest.mark.parametrize("seed", range(4), ids=lambda s: f"seed{s}")
    def test_marginal_rate_meets_one_plus_fee(self, seed: int, fee_rate: float) -> None:
        curve, rate = mixed_route(seed)
        assert rate > 1.01
        opt = smooth_optimum(curve, fee_rate)
        point = curve.at(opt.x)
        assert point is not None and not opt.at_limit and not opt.at_cap
        assert point[1] == pytest.approx(1.0 + fee_rate, rel=1e-9)
        for step in (1e-3, 1e-6):  # a maximum: both sides are lower
            for x in (opt.x * (1 - step), opt.x * (1 + step)):
                other = curve.at(x)
                assert other is not None
                assert other[0] - (1 + fee_rate) * x <= opt.value * (1 + 1e-12)

    def test_a_binding_cap_is_the_optimum(self) -> None:
        curve, _ = mixed_route(0)
        free = smooth_optimum(curve)
        capped = smooth_optimum(curve, 0.0, free.x / 2)
        assert capped.at_cap and capped.x == free.x / 2 and capped.value < free.value
        assert smooth_optimum(curve, 0.0, free.x * 2).x == pytest.approx(free.x, rel=1e-9)

    def test_unprofitable_at_the_margin_is_zero(self) -> None:
        curve, rate = mixed_route(2)
        opt = smooth_optimum(curve, rate - 1.0 + 1e-3)  # a fee above the route's best rate
        assert (opt.x, opt.value) == (0.0, 0.0)

    def test_level_interval_holds_the_level_set(self) -> None:
        curve, _ = mixed_route(3)
        opt = smooth_optimum(curve)
        level = opt.value * (1 - 1e-6)
        lo, hi = level_interval(curve, 0.0, opt, level)
        assert lo < opt.x < hi
        for x in (lo, hi):  # just outside
            point = curve.at(x)
            assert point is None or point[0] - x <= level * (1 + 1e-12)
        for x in (lo + (opt.x - lo) * 0.01, hi - (hi - opt.x) * 0.01):  # just inside
            point = curve.at(x)
            assert point is not None and point[0] - x >= level
