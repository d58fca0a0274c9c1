"""Exact sizing of mixed routes (V2, V3, Balancer hops) against brute force over every input."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import pytest

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import V2PairState, checksum_address
from flasharb.amm.uniswap_v3 import V3PoolState
from flasharb.amm.uniswap_v3.tick_math import get_tick_at_sqrt_ratio
from flasharb.errors import FlasharbError
from flasharb.search.cycles import Cycle, enumerate_cycles
from flasharb.search.exact import optimize_route, route_seed, size_cycle, ticks_crossed
from flasharb.search.sizing import optimize, simulate
from flasharb_testing.pool_builders import sqrt_price_x96_of, v3_pool, weighted_pool
from flasharb_testing.synthetic import generate
from tests.unit.test_search_sizing import ROUTES as ROUTES_V2
from tests.unit.test_search_sizing import profitable_cycles, route_states


def address(n: int) -> str:
    return checksum_address("0x" + f"{n:040x}")


A, B, C = (address(0xA0 + i) for i in range(3))
States = dict[str, PoolState]


def tiny_pool(kind: str, n: int, t0: str, t1: str, price: float, rng: random.Random) -> PoolState:
    """A pool small enough that every input it accepts can be tried: `price` is t1 per t0.

    V3: tick spacing 1, two positions around the price, three bitmap words known (a swap
    past them raises); Balancer: at most 30% of a balance goes in. Either bounds the inputs
    a route through it accepts to a few thousand.
    """
    if kind == "v2":
        r0 = rng.randint(100_000, 600_000)
        return V2PairState(
            address=address(0x100 + n),
            token0=t0,
            token1=t1,
            reserve0=r0,
            reserve1=int(r0 * price),
            fee_pips=rng.choice([500, 3000, 10_000]),
        )
    if kind == "v3":
        sqrt_price = sqrt_price_x96_of(price)
        tick = get_tick_at_sqrt_ratio(sqrt_price)
        liquidity = rng.randint(1_000_000, 4_000_000)
        narrow, wide = rng.randint(5, 60), rng.randint(60, 200)
        word = tick >> 8
        return v3_pool(
            address=address(0x100 + n),
            token0=t0,
            token1=t1,
            fee=rng.choice([100, 500, 3000]),
            sqrt_price_x96=sqrt_price,
            positions=[
                (tick - narrow, tick + narrow, liquidity),
                (tick - wide, tick + wide, liquidity // 2),
            ],
            word_range=(word - 1, word + 1),
            tick_spacing=1,
        )
    heavy = rng.choice([5 * 10**17, 8 * 10**17])
    b0 = rng.randint(100_000, 400_000)
    return weighted_pool(
        address=address(0x100 + n),
        tokens=[t0, t1],
        balances=[b0, int(price * b0 * (10**18 - heavy) / heavy)],
        decimals=[18, 18],
        weights=[heavy, 10**18 - heavy],
        swap_fee=rng.choice([1, 3, 10]) * 10**15,
    )


def exact_profit(cycle: Cycle, states: States, x: int) -> int | None:
    try:
        amounts = simulate(cycle, states, x)
    except FlasharbError:  # a pool would revert, cannot pay, or its state ends there
        return None
    return amounts[-1] - x


def brute_force(cycle: Cycle, states: States) -> tuple[int, int]:
    """(best profit, smallest input making it) over every input from 1 up to where the route
    has reverted for 2,000 inputs in a row (V3 window or Balancer ratio exhausted)."""
    best, best_x, x, failing = 0, 0, 1, 0
    while failing < 2000 or x < 1000:
        p = exact_profit(cycle, states, x)
        if p is None:
            failing += 1
        else:
            failing = 0
            if p > best:
                best, best_x = p, x
        x += 1
        assert x < 400_000, "route does not end: the fixture is too deep for brute force"
    return best, best_x


def mispriced(kinds: Sequence[str], seed: int) -> tuple[list[PoolState], States]:
    """Two pools of A/B priced 4-10% apart, or an A-B-C ring 6-15% off: one direction pays."""
    rng = random.Random(seed)
    skew = rng.uniform(0.02, 0.05)
    if len(kinds) == 2:
        legs, prices = [(A, B), (A, B)], [math.exp(skew), math.exp(-skew)]
    else:
        legs, prices = [(A, B), (B, C), (C, A)], [math.exp(skew)] * 3
    pools = [
        tiny_pool(kind, i, t0, t1, price, rng)
        for i, (kind, (t0, t1), price) in enumerate(zip(kinds, legs, prices, strict=True))
    ]
    return pools, {p.address: p for p in pools}


ROUTES = [
    ("v3", "v3"),
    ("v3", "v2"),
    ("v2", "bal"),
    ("bal", "v3"),
    ("bal", "bal"),
    ("v3", "v2", "v3"),
    ("bal", "v3", "v2"),
    ("v2", "bal", "v3"),
]


class TestAgainstBruteForce:
    """The sizing captures at least 99.99% of the best profit any integer input makes: on
    these pools (profits of tens to hundreds of wei) that means the exact optimum. Among
    inputs of equal profit any may be returned (the search stops once an input provably
    meets the bound)."""

    @pytest.mark.parametrize("seed", range(3), ids=lambda s: f"seed{s}")
    @pytest.mark.parametrize("kinds", ROUTES, ids="-".join)
    def test_small_pools(self, kinds: tuple[str, ...], seed: int) -> None:
        pools, states = mispriced(kinds, 1000 * len(kinds) + seed)
        cycles = enumerate_cycles(pools, [A], max_hops=len(kinds), min_hops=len(kinds))
        profitable = 0
        for cycle in cycles:
            best, best_x = brute_force(cycle, states)
            sized = optimize_route(cycle, states)
            assert sized.profit * 10_000 >= best * 9_999
            assert sized.profit <= best  # brute force saw every input
            if best > 0:
                profitable += 1
                assert exact_profit(cycle, states, sized.amount_in) == sized.profit
                assert sized.profit == best  # the exact optimum (at best_x or another input)
                assert sized.amount_in >= best_x  # brute force kept the smallest argmax
            else:
                assert (sized.amount_in, sized.profit) == (0, 0)
        assert profitable >= 1, "the fixture should make one direction profitable"

    @pytest.mark.parametrize("seed", range(12), ids=lambda s: f"seed{s}")
    def test_small_v2_pools_match_the_proven_optimizer(self, seed: int) -> None:
        """Pure V2 routes: the proven optimizer is exact, so both must agree to the wei."""
        rng = random.Random(seed)
        hops = 2 + seed % 2
        legs = [(A, B), (A, B)] if hops == 2 else [(A, B), (B, C), (C, A)]
        pools = [
            V2PairState(
                address=address(0x100 + i),
                token0=t0,
                token1=t1,
                reserve0=rng.randint(50, 20_000),
                reserve1=rng.randint(50, 20_000),
                fee_pips=rng.choice([500, 3000, 10_000]),
            )
            for i, (t0, t1) in enumerate(legs)
        ]
        states: States = {p.address: p for p in pools}
        for cycle in enumerate_cycles(pools, [A], max_hops=hops):
            proven = optimize(cycle, states)  # type: ignore[arg-type]
            assert proven.exact
            assert optimize_route(cycle, states).profit == proven.profit


class TestMainnetSizedV2:
    """On mainnet-sized V2 pools the quote-based search keeps 99.99% of the proven optimum."""

    @pytest.mark.parametrize("seed", range(4), ids=lambda s: f"seed{s}")
    @pytest.mark.parametrize("path", ROUTES_V2, ids="-".join)
    def test_realistic_pairs(self, path: list[str], seed: int) -> None:
        v2_states = route_states(path, random.Random(f"{path}{seed}"))
        states: States = dict(v2_states)
        cycles = profitable_cycles(v2_states, len(path))
        assert cycles
        for cycle in cycles:
            proven = optimize(cycle, states)  # type: ignore[arg-type]
            found = optimize_route(cycle, states)
            assert found.profit * 10_000 >= proven.profit * 9_999
            assert found.profit <= proven.profit_bound  # type: ignore[operator]

    @pytest.mark.parametrize("seed", [5, 6], ids=lambda s: f"seed{s}")
    def test_synthetic_market_v2_cycles(self, seed: int) -> None:
        """Long-tail tokens with coarse units (6 decimals, worth 100 USDC units each) make
        tall teeth: the search must find the right one."""
        market = generate(400, seed=seed, dislocated=0.02)
        states: States = market.states()
        v2 = [p for p in market.pools if isinstance(p, V2PairState)]
        checked = 0
        for cycle in enumerate_cycles(v2, market.flash_tokens, max_hops=3):
            proven = optimize(cycle, states)  # type: ignore[arg-type]
            if proven.profit <= 0:
                continue
            checked += 1
            found = optimize_route(cycle, states)
            assert found.profit * 10_000 >= proven.profit * 9_999, cycle.key
        assert checked >= 10


class TestResult:
    """What the search returns besides the amount."""

    def test_unprofitable_at_the_margin_is_zero_and_proven(self) -> None:
        pools, states = mispriced(("v3", "bal"), 7)
        losing = [c for c in enumerate_cycles(pools, [A], max_hops=2) if route_seed(c, states) == 0]
        assert losing
        for cycle in losing:
            sized = optimize_route(cycle, states)
            assert (sized.amount_in, sized.profit, sized.exact, sized.profit_bound) == (
                0,
                0,
                True,
                0,
            )

    def test_seed_past_the_pools_depth_still_finds_the_optimum(self) -> None:
        """A seed where every hop reverts (V3 state window exhausted) walks back down."""
        pools, states = mispriced(("v3", "v3"), 2)
        for cycle in enumerate_cycles(pools, [A], max_hops=2):
            best, _ = brute_force(cycle, states)
            assert exact_profit(cycle, states, 10**12) is None
            assert optimize_route(cycle, states, seed=10**12).profit == best

    def test_ticks_crossed_are_the_v3_swaps_own(self) -> None:
        pools, states = mispriced(("v3", "v3"), 0)
        for cycle in enumerate_cycles(pools, [A], max_hops=2):
            sized = optimize_route(cycle, states)
            if sized.amount_in == 0:
                continue
            counted, amount = 0, sized.amount_in
            for hop in cycle.hops:
                pool = states[hop.pool]
                assert isinstance(pool, V3PoolState)
                result = pool.swap(hop.token_in == pool.token0, amount)
                counted, amount = counted + result.ticks_crossed, result.amount_out
            assert sized.ticks_crossed == counted == ticks_crossed(cycle, states, sized.amount_in)
            assert counted > 0  # the narrow position ends before the optimum

    def test_pure_v2_routes_use_the_proven_optimizer(self) -> None:
        pools = [
            V2PairState(address=address(1), token0=A, token1=B, reserve0=10**21, reserve1=10**21),
            V2PairState(
                address=address(2), token0=A, token1=B, reserve0=10**21, reserve1=11 * 10**20
            ),
        ]
        states: States = {p.address: p for p in pools}
        for cycle in enumerate_cycles(pools, [A], max_hops=2):
            assert size_cycle(cycle, states) == optimize(cycle, states)  # type: ignore[arg-type]
