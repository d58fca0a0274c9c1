"""Exact sizing on seeded random routes against optima this file computes itself.

- Tiny pools (inputs in the thousands): the optimum by brute force over every input, for the
  gross profit, the profit net of a V3 flash fee and of a V2 flash-swap fee, and within a cap.
- Mainnet-sized pools of V2 pairs, V3 pools crossing several initialized ticks and Balancer
  weighted pools (50/50, 80/20, three tokens; 6-, 8- and 18-decimal tokens), 2-4 hops: the
  optimum by an independent dense search on exact quotes (integer ternary search over the
  whole range, then every integer around the best input of anyone).
- Candidates of a seeded synthetic market (search/synthetic.py) whose profit is not dust.

Every returned amount is checked against the pools' own quotes, and the V3 ticks crossed
against a second pass. The bar is the issue's: 99.999% of the optimum.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import V2PairState, checksum_address
from flasharb.amm.uniswap_v3.tick_math import get_tick_at_sqrt_ratio
from flasharb.errors import FlasharbError, FlasharbValueError
from flasharb.kinds import HopKind
from flasharb.search.cycles import Cycle, enumerate_cycles
from flasharb.search.exact import size_cycle, ticks_crossed
from flasharb.search.segments import route_curve, smooth_optimum
from flasharb.search.sizing import SizedCycle, simulate
from flasharb.search.teeth import tooth_value
from flasharb_testing.pool_builders import (
    TICK_SPACING,
    full_range,
    sqrt_price_x96_of,
    v3_pool,
    weighted_pool,
)
from flasharb_testing.synthetic import generate
from tests.unit.test_search_exact import tiny_pool

CAPTURE = 0.99999  # the bar
States = dict[str, PoolState]
Fee = Callable[[int], int]


def address(n: int) -> str:
    return checksum_address("0x" + f"{n:040x}")


def v3_flash_fee(x: int, pips: int = 500) -> int:
    """UniswapV3Pool.flash: FullMath.mulDivRoundingUp(amount, fee, 1e6)."""
    return -(-x * pips // 10**6)


def v2_flash_fee(x: int, pips: int = 3000) -> int:
    """The least a V2 flash swap of x repays on top: ceil(x * 1e6 / (1e6 - fee)) - x."""
    return -(-x * 10**6 // (10**6 - pips)) - x


FEES: dict[str, tuple[Fee | None, float]] = {
    "no fee": (None, 0.0),
    "v3 flash 500": (v3_flash_fee, 500 / 1e6),
    "v2 flash swap": (v2_flash_fee, 3000 / 997_000),
}


def gross(cycle: Cycle, states: States, x: int) -> int | None:
    """Exact profit by the pools' own quotes, hop by hop; None where the route reverts."""
    try:
        return simulate(cycle, states, x)[-1] - x
    except FlasharbError:
        return None


def check_exact(sized: SizedCycle, states: States) -> None:
    """Every number returned is the pools' own: amounts, profit, V3 ticks crossed."""
    if sized.amount_in == 0:
        assert sized.profit == 0
        return
    assert list(sized.amounts) == simulate(sized.cycle, states, sized.amount_in)
    assert sized.profit == sized.amount_out - sized.amount_in == sized.amounts[-1] - sized.amount_in
    assert sized.ticks_crossed == ticks_crossed(sized.cycle, states, sized.amount_in)


def net(sized: SizedCycle, fee: Fee | None) -> int:
    if sized.amount_in == 0:
        return 0
    return sized.profit - (fee(sized.amount_in) if fee else 0)


# ---------------------------------------------------------------- tiny pools, every input

A, B, C = (address(0xA0 + i) for i in range(3))
KINDS = ("v2", "v3", "bal")


def tiny_ring(seed: int) -> tuple[list[PoolState], States, int]:
    """2 or 3 tiny pools of random kinds (one V3 or Balancer at least) around A, all skewed
    the same way: one direction pays."""
    rng = random.Random(seed)
    hops = 2 + seed % 2
    kinds = [rng.choice(KINDS) for _ in range(hops)]
    if all(k == "v2" for k in kinds):
        kinds[rng.randrange(hops)] = rng.choice(["v3", "bal"])
    skew = rng.uniform(0.02, 0.05)
    if hops == 2:
        legs, prices = [(A, B), (A, B)], [math.exp(skew), math.exp(-skew)]
    else:
        legs, prices = [(A, B), (B, C), (C, A)], [math.exp(skew)] * 3
    pools = [
        tiny_pool(kind, i, t0, t1, price, rng)
        for i, (kind, (t0, t1), price) in enumerate(zip(kinds, legs, prices, strict=True))
    ]
    return pools, {p.address: p for p in pools}, hops


def every_input(cycle: Cycle, states: States) -> dict[int, int]:
    """Gross profit at every input from 1 until the route has reverted 2,000 times in a row,
    or its profit is 1,000 wei below its best and zero (the profit is concave up to teeth of
    a few wei here: it never comes back)."""
    out, x, failing, best = {}, 1, 0, 0
    while failing < 2000 or x < 1000:
        p = gross(cycle, states, x)
        if p is None:
            failing += 1
        else:
            failing = 0
            out[x] = p
            best = max(best, p)
            if p < -1000 and x > 1000:
                break
        x += 1
        assert x < 400_000, "the fixture is too deep for brute force"
    return out


class TestTinyPoolsAgainstEveryInput:
    """Profits of tens to hundreds of wei: 99.999% means the exact integer optimum, for the
    gross profit, net of either flash fee, and within a cap."""

    @pytest.mark.parametrize("seed", range(10), ids=lambda s: f"seed{s}")
    def test_gross_net_and_capped(self, seed: int) -> None:
        pools, states, hops = tiny_ring(seed)
        checked = 0
        for cycle in enumerate_cycles(pools, [A], max_hops=hops, min_hops=hops):
            profits = every_input(cycle, states)
            for name, (fee, rate) in FEES.items():
                objective = {x: p - (fee(x) if fee else 0) for x, p in profits.items()}
                best = max([0, *objective.values()])
                sized = size_cycle(cycle, states, fee=fee, fee_rate=rate)
                check_exact(sized, states)
                assert net(sized, fee) == best, (name, cycle.key)
                if best <= 0:
                    continue
                checked += 1
                argmax = min(x for x, v in objective.items() if v == best)
                cap = max(argmax * 3 // 4, 1)  # binding: below every input making the best
                capped_best = max([0, *(v for x, v in objective.items() if x <= cap)])
                capped = size_cycle(cycle, states, fee=fee, fee_rate=rate, cap=cap)
                check_exact(capped, states)
                assert capped.amount_in <= cap
                assert net(capped, fee) == capped_best, (name, "cap", cycle.key)
                loose = size_cycle(cycle, states, fee=fee, fee_rate=rate, cap=10 * argmax)
                assert net(loose, fee) == best
        assert checked >= 3, "the fixture should make one direction profitable"


# ---------------------------------------------------------------- mainnet-sized pools

# symbol -> (address, decimals, price in ETH): the decimals that make rounding interesting
TOKENS = {
    "WETH": (address(0xEEE1), 18, 1.0),
    "USDC": (address(0xA0B8), 6, 1 / 3000),
    "WBTC": (address(0x2260), 8, 20.0),
    "DAI": (address(0x6B17), 18, 1 / 3000),
}


def realistic_pool(n: int, kind: str, a: str, b: str, skew: float, rng: random.Random) -> PoolState:
    """A mainnet-deep pool of `a`/`b` (100-5,000 ETH a side), the price of `a` off by `skew`."""
    (ta, da, pa), (tb, db, pb) = TOKENS[a], TOKENS[b]
    if ta.lower() > tb.lower():
        (ta, da, pa), (tb, db, pb), skew = (tb, db, pb), (ta, da, pa), 1 / skew
    depth = math.exp(rng.uniform(math.log(100), math.log(5000)))
    amount0, amount1 = depth / pa * 10**da, depth / pb * 10**db * skew
    if kind == "v2":
        return V2PairState(
            address=address(0x1000 + n),
            token0=ta,
            token1=tb,
            reserve0=int(amount0),
            reserve1=int(amount1),
            fee_pips=rng.choice([3000, 2500]),
        )
    if kind == "bal":
        heavy = rng.choice([0.5, 0.8, 0.2])
        w0 = int(heavy * 10**18)
        return weighted_pool(
            address=address(0x1000 + n),
            tokens=[ta, tb],
            balances=[int(amount0 * 2 * heavy), int(amount1 * 2 * (1 - heavy))],
            decimals=[da, db],
            weights=[w0, 10**18 - w0],
            swap_fee=rng.choice([1, 3, 5]) * 10**15,
        )
    fee = rng.choice([500, 3000, 10_000])
    spacing = TICK_SPACING[fee]
    sqrt_price = sqrt_price_x96_of(amount1 / amount0)
    tick = get_tick_at_sqrt_ratio(sqrt_price)
    base = int(math.sqrt(amount0 * amount1))
    positions = [(*full_range(spacing), base // 4)]
    for half_ticks, mult in ((rng.randint(20, 90), 3), (rng.randint(100, 600), 2)):
        half = max(half_ticks, spacing)  # narrow ranges: the optimum crosses their ends
        lower = (tick - half) // spacing * spacing
        upper = -(-(tick + half + 1) // spacing) * spacing
        positions.append((lower, upper, base * mult))
    words = [(t // spacing) >> 8 for lower, upper, _ in positions[1:] for t in (lower, upper)]
    return v3_pool(
        address=address(0x1000 + n),
        token0=ta,
        token1=tb,
        fee=fee,
        sqrt_price_x96=sqrt_price,
        positions=positions,
        word_range=(min(words) - 1, max(words) + 1),
    )


def realistic_ring(seed: int) -> tuple[list[PoolState], States, int]:
    """A WETH-rooted ring of 2-4 hops through 6-, 8- and 18-decimal tokens, every pool of a
    random kind and 0.7-2.5% off the same way (one direction pays)."""
    rng = random.Random(seed)
    hops = 2 + seed % 3
    others = rng.sample(["USDC", "WBTC", "DAI"], hops - 1)
    if hops == 2:
        legs = [("WETH", others[0]), ("WETH", others[0])]
        skews = [1 + rng.uniform(0.007, 0.025), 1 / (1 + rng.uniform(0.007, 0.025))]
    else:
        path = ["WETH", *others]
        legs = [(path[i], path[(i + 1) % hops]) for i in range(hops)]
        skews = [1 + rng.uniform(0.007, 0.025) for _ in range(hops)]
    kinds = [rng.choice(KINDS) for _ in legs]
    if all(k == "v2" for k in kinds):
        kinds[rng.randrange(hops)] = rng.choice(["v3", "bal"])
    pools = [
        realistic_pool(i, kind, a, b, skew, rng)
        for i, (kind, (a, b), skew) in enumerate(zip(kinds, legs, skews, strict=True))
    ]
    return pools, {p.address: p for p in pools}, hops


def dense_optimum(
    cycle: Cycle, states: States, fee: Fee | None, found: list[int], cap: int | None = None
) -> int:
    """Best objective on [1, cap] by an independent search: from 1e9 wei, double while the
    objective grows, integer ternary search over [1, twice that], then every integer within
    400 of the best input of that search and of `found`."""

    def objective(x: int) -> float:
        p = gross(cycle, states, x) if 0 < x <= (cap or x) else None
        return -math.inf if p is None else p - (fee(x) if fee else 0)

    hi = 10**9
    while objective(2 * hi) >= objective(hi) > -math.inf and hi < 2**200:
        hi *= 2
    lo, hi = 1, 2 * max(hi, *found)
    while hi - lo > 2:
        m1, m2 = lo + (hi - lo) // 3, hi - (hi - lo) // 3
        if objective(m1) < objective(m2):
            lo = m1
        else:
            hi = m2
    best = max(objective(x) for c in [*found, lo] for x in range(max(c - 400, 1), c + 401))
    return max(int(best), 0) if best > -math.inf else 0


class TestMainnetSizedRoutes:
    """Deep pools, mispriced by a percent or two: profits of 1e15-1e20 wei, where one tooth
    of USDC or WBTC is far below 1e-5 of the profit."""

    @pytest.mark.parametrize("fee_name", list(FEES))
    @pytest.mark.parametrize("seed", range(12), ids=lambda s: f"seed{s}")
    def test_within_a_thousandth_of_a_percent(self, seed: int, fee_name: str) -> None:
        fee, rate = FEES[fee_name]
        pools, states, hops = realistic_ring(seed)
        weth = TOKENS["WETH"][0]
        paying = 0
        for cycle in enumerate_cycles(pools, [weth], max_hops=hops, min_hops=hops):
            sized = size_cycle(cycle, states, fee=fee, fee_rate=rate)
            check_exact(sized, states)
            best = dense_optimum(cycle, states, fee, [sized.amount_in])
            assert net(sized, fee) >= CAPTURE * best, (fee_name, cycle.key)
            if best > 10**15:
                paying += 1
        assert paying >= 1, "one direction of the ring should pay"

    @pytest.mark.parametrize("seed", range(6), ids=lambda s: f"seed{s}")
    def test_a_binding_cap_takes_the_cap(self, seed: int) -> None:
        """Below the optimum the profit rises: the best input within a cap is (next to) it."""
        pools, states, hops = realistic_ring(seed)
        weth = TOKENS["WETH"][0]
        for cycle in enumerate_cycles(pools, [weth], max_hops=hops, min_hops=hops):
            free = size_cycle(cycle, states)
            if free.profit <= 0:
                continue
            cap = free.amount_in // 3
            capped = size_cycle(cycle, states, cap=cap)
            check_exact(capped, states)
            assert capped.amount_in <= cap
            at_cap = gross(cycle, states, cap)
            assert at_cap is not None and capped.profit >= at_cap  # nothing in the cap does better
            assert capped.profit >= CAPTURE * dense_optimum(cycle, states, None, [cap], cap)

    @pytest.mark.parametrize("seed", range(4), ids=lambda s: f"seed{s}")
    def test_optimum_past_the_state_read(self, seed: int) -> None:
        """A V3 pool 4-6% off whose state holds one bitmap word (256 ticks of spacing 1, ~2.6%
        of price): the profit still rises where the known ticks end, so the best input is the
        largest the route takes there."""
        rng = random.Random(seed)
        weth, usdc = TOKENS["WETH"][0], TOKENS["USDC"][0]
        pair = realistic_pool(0, "v2", "WETH", "USDC", 1.0, rng)
        assert isinstance(pair, V2PairState)
        price = (
            pair.reserve1 / pair.reserve0 if pair.token0 == weth else pair.reserve0 / pair.reserve1
        )
        skew = 1 + rng.uniform(0.04, 0.06)
        t0, t1 = sorted([weth, usdc], key=str.lower)
        raw = price * skew if t0 == weth else 1 / (price * skew)  # token1 per token0
        sqrt_price = sqrt_price_x96_of(raw)
        tick = get_tick_at_sqrt_ratio(sqrt_price)
        depth = math.isqrt(pair.reserve0 * pair.reserve1)  # the pair's L: the V3 pool is shallower
        pool = v3_pool(
            address=address(0x2000),
            token0=t0,
            token1=t1,
            fee=100,
            sqrt_price_x96=sqrt_price,
            positions=[(-887_272, 887_272, depth // 20), (tick - 50, tick + 50, depth // 5)],
            word_range=(tick >> 8, tick >> 8),
            tick_spacing=1,
        )
        states: States = {p.address: p for p in (pair, pool)}
        cycles = enumerate_cycles(states.values(), [weth], max_hops=2)
        limited = [c for c in cycles if smooth_optimum(route_curve(c, states)).at_limit]
        assert limited, "the fixture should put the optimum past the window"
        for cycle in limited:
            sized = size_cycle(cycle, states)
            check_exact(sized, states)
            assert sized.profit > 0
            assert gross(cycle, states, 2 * sized.amount_in) is None  # the window's end is near
            assert sized.profit >= CAPTURE * dense_optimum(cycle, states, None, [sized.amount_in])


class TestSyntheticMarket:
    """The engine's own kind of candidates: mixed cycles of a seeded synthetic market whose
    smooth profit is at least 1e5 teeth (not dust)."""

    @pytest.mark.parametrize("seed", [3, 5], ids=lambda s: f"seed{s}")
    def test_candidates(self, seed: int) -> None:
        market = generate(300, seed=seed, dislocated=0.05)
        states = market.states()
        checked = 0
        for cycle in enumerate_cycles(market.pools, market.flash_tokens, max_hops=3):
            if all(hop.kind is HopKind.UNISWAP_V2 for hop in cycle.hops):
                continue
            curve = route_curve(cycle, states)
            smooth = smooth_optimum(curve)
            if smooth.value < 1e5 * tooth_value(curve, smooth.x, len(cycle.hops)):
                continue
            sized = size_cycle(cycle, states)
            check_exact(sized, states)
            assert sized.profit >= CAPTURE * dense_optimum(cycle, states, None, [sized.amount_in])
            checked += 1
        assert checked >= 5


class TestTerms:
    """What the capital source passes in."""

    def test_bad_fee_rate_and_cap_are_one_line_errors(self) -> None:
        pools, states, _ = realistic_ring(0)
        cycle = enumerate_cycles(pools, [TOKENS["WETH"][0]], max_hops=2)[0]
        with pytest.raises(FlasharbValueError, match="fee_rate"):
            size_cycle(cycle, states, fee_rate=-0.1)
        with pytest.raises(FlasharbValueError, match="fee_rate"):
            size_cycle(cycle, states, fee_rate=math.nan)
        with pytest.raises(FlasharbValueError, match="cap"):
            size_cycle(cycle, states, cap=0)

    def test_a_fee_above_the_route_rate_leaves_nothing(self) -> None:
        pools, states, hops = realistic_ring(1)
        for cycle in enumerate_cycles(pools, [TOKENS["WETH"][0]], max_hops=hops, min_hops=hops):
            sized = size_cycle(cycle, states, fee=lambda x: x // 2, fee_rate=0.5)
            assert (sized.amount_in, sized.profit) == (0, 0)
