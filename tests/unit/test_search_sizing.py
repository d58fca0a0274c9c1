"""Sizing: Moebius composition, closed form, exact simulation, and the integer optimum."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from fractions import Fraction

import numpy as np
import pytest

from flasharb.amm.uniswap_v2 import V2PairState, checksum_address
from flasharb.errors import FlasharbValueError, InsufficientLiquidityError
from flasharb.search.cycles import Cycle, enumerate_cycles
from flasharb.search.sizing import (
    SizedCycle,
    closed_form_amount_in,
    mobius,
    optimize,
    profit_upper_bound,
    screen,
    simulate,
)


def address(n: int) -> str:
    return checksum_address("0x" + f"{n:040x}")


# symbol -> (address, decimals, USD price): the decimals that make rounding interesting
TOKENS = {
    "WETH": (address(0xEEE1), 18, 3000),
    "USDC": (address(0xA0B8), 6, 1),
    "DAI": (address(0x6B17), 18, 1),
    "WBTC": (address(0x2260), 8, 60_000),
}
WETH = TOKENS["WETH"][0]

States = dict[str, V2PairState]


def realistic_pair(n: int, a: str, b: str, depth_eth: int, skew_bps: int) -> V2PairState:
    """A `a`/`b` pair holding `depth_eth` ETH worth on each side, `a` side off by `skew_bps`."""
    addr_a, dec_a, usd_a = TOKENS[a]
    addr_b, dec_b, usd_b = TOKENS[b]
    usd = depth_eth * 3000
    return V2PairState(
        address=address(0x1000 + n),
        token0=addr_a,
        token1=addr_b,
        reserve0=usd * 10**dec_a * (10_000 + skew_bps) // (usd_a * 10_000),
        reserve1=usd * 10**dec_b // usd_b,
    )


def route_states(path: Sequence[str], rng: random.Random) -> States:
    """Pools for a WETH-rooted route, mispriced by 1-5% so one direction pays: two venues of
    one pair (skewed opposite ways) for 2 hops, a ring (skewed the same way) for 3."""
    if len(path) == 2:
        legs, signs = [(path[0], path[1]), (path[0], path[1])], [1, -1]
    else:
        legs, signs = [(path[i], path[(i + 1) % len(path)]) for i in range(len(path))], [1] * 3
    pools = [
        realistic_pair(
            i,
            a,
            b,
            depth_eth=rng.randint(10**3, 10**6) // (10 if len(path) > 2 else 1),
            skew_bps=sign * rng.randint(50, 250),
        )
        for i, ((a, b), sign) in enumerate(zip(legs, signs, strict=True))
    ]
    return {p.address: p for p in pools}


def profitable_cycles(states: States, hops: int) -> list[Cycle]:
    cycles = enumerate_cycles(states.values(), [WETH], max_hops=hops, min_hops=hops)
    return [c for c in cycles if profit_upper_bound(c, states) > 0]


def exact_profit(cycle: Cycle, states: States, x: int) -> int:
    try:
        return simulate(cycle, states, x)[-1] - x
    except FlasharbValueError:  # a hop pays 0: the route reverts
        return -x


def min_input_for(cycle: Cycle, states: States, depth: int, amount: int) -> int | None:
    """Smallest input that delivers at least `amount` after `depth` hops (exact inversion)."""
    for hop in reversed(cycle.hops[:depth]):
        state = states[hop.pool]
        reserve_in, reserve_out = state.reserves_for(hop.token_in)
        if amount >= reserve_out:
            return None
        g = 1_000_000 - state.fee_pips
        amount = -(-(amount * reserve_in * 1_000_000) // (g * (reserve_out - amount)))
    return amount


def brute_force(cycle: Cycle, states: States, centres: Sequence[int], width: int) -> int:
    """Best exact profit over every integer within `width` of each centre, and over the
    smallest inputs buying each of `width` units either side at every hop boundary (where
    the saw-tooth of per-hop floors has its teeth)."""
    best = 0
    for centre in centres:
        for x in range(max(centre - width, 1), centre + width + 1):
            best = max(best, exact_profit(cycle, states, x))
        amounts = simulate(cycle, states, centre)
        for depth, amount in enumerate(amounts, start=1):
            for u in range(max(amount - width, 1), amount + width + 1):
                x_min = min_input_for(cycle, states, depth, u)
                if x_min is not None:
                    best = max(best, exact_profit(cycle, states, x_min))
    return best


ROUTES = [
    ["WETH", "USDC"],
    ["WETH", "DAI"],
    ["WETH", "WBTC"],
    ["WETH", "USDC", "DAI"],
    ["WETH", "DAI", "WBTC"],
    ["WETH", "WBTC", "USDC"],
]


class TestMobius:
    """The composed map is the hop-by-hop curve without the floors."""

    @pytest.mark.parametrize("path", ROUTES, ids="-".join)
    def test_composition_matches_sequential_float_evaluation(self, path: list[str]) -> None:
        rng = random.Random(str(path))
        states = route_states(path, rng)
        for cycle in enumerate_cycles(states.values(), [WETH], max_hops=len(path)):
            k, m, n = mobius(cycle, states)
            for x in (10**12, 10**17, 10**19, 10**21, 10**23):
                composed = float(Fraction(k * x, m + n * x))
                sequential = float(x)
                for hop in cycle.hops:
                    state = states[hop.pool]
                    r_in, r_out = state.reserves_for(hop.token_in)
                    with_fee = sequential * (1_000_000 - state.fee_pips) / 1_000_000
                    sequential = with_fee * r_out / (r_in + with_fee)
                assert composed == pytest.approx(sequential, rel=1e-9)

    @pytest.mark.parametrize("path", ROUTES, ids="-".join)
    def test_closed_form_maximises_the_smooth_profit(self, path: list[str]) -> None:
        rng = random.Random("cf" + str(path))
        states = route_states(path, rng)
        for cycle in profitable_cycles(states, len(path)):
            k, m, n = mobius(cycle, states)
            x0 = closed_form_amount_in(cycle, states)

            def smooth(x: int, k: int = k, m: int = m, n: int = n) -> Fraction:
                return Fraction(k * x, m + n * x) - x

            assert smooth(x0) >= smooth(x0 - 1) and smooth(x0 + 1) >= smooth(x0 + 2)
            assert max(smooth(x0), smooth(x0 + 1)) >= profit_upper_bound(cycle, states)


class TestSimulate:
    """simulate chains get_amount_out exactly as the contract does."""

    def test_chains_get_amount_out(self) -> None:
        states = route_states(["WETH", "WBTC", "USDC"], random.Random(1))
        cycle = enumerate_cycles(states.values(), [WETH], max_hops=3)[0]
        amount, expected = 10**18, []
        for hop in cycle.hops:
            amount = states[hop.pool].amount_out(hop.token_in, amount)
            expected.append(amount)
        assert simulate(cycle, states, 10**18) == expected

    def test_hop_paying_zero_reverts(self) -> None:
        states = route_states(["WETH", "USDC"], random.Random(2))
        cycle = enumerate_cycles(states.values(), [WETH], max_hops=2)[0]
        with pytest.raises(FlasharbValueError, match="INSUFFICIENT_OUTPUT_AMOUNT"):
            simulate(cycle, states, 1)  # 1 wei of WETH buys 0 USDC

    def test_missing_pool_state_names_the_pool(self) -> None:
        states = route_states(["WETH", "USDC"], random.Random(2))
        cycle = enumerate_cycles(states.values(), [WETH], max_hops=2)[0]
        del states[cycle.hops[1].pool]
        with pytest.raises(FlasharbValueError, match=cycle.hops[1].pool):
            simulate(cycle, states, 10**18)

    def test_empty_pool_is_insufficient_liquidity(self) -> None:
        states = route_states(["WETH", "USDC"], random.Random(2))
        cycle = enumerate_cycles(states.values(), [WETH], max_hops=2)[0]
        drained = states[cycle.hops[0].pool]
        states[drained.address] = V2PairState(
            address=drained.address,
            token0=drained.token0,
            token1=drained.token1,
            reserve0=0,
            reserve1=0,
        )
        with pytest.raises(InsufficientLiquidityError):
            simulate(cycle, states, 10**18)


class TestOptimizeAgainstBruteForce:
    """optimize finds the exact integer optimum that brute force finds, or within 0.01%."""

    @pytest.mark.parametrize("seed", range(6), ids=lambda s: f"seed{s}")
    @pytest.mark.parametrize("path", ROUTES, ids="-".join)
    def test_realistic_pools(self, path: list[str], seed: int) -> None:
        rng = random.Random(f"{path}{seed}")
        states = route_states(path, rng)
        cycles = profitable_cycles(states, len(path))
        assert cycles, "the fixture should make at least one direction profitable"
        for cycle in cycles:
            sized = optimize(cycle, states)
            x0 = closed_form_amount_in(cycle, states)
            reference = brute_force(cycle, states, [x0, sized.amount_in], width=100)
            assert sized.profit_bound is not None  # V2 routes always carry their bound
            assert sized.profit <= sized.profit_bound
            assert reference <= sized.profit_bound  # the bound holds for every input tried
            assert reference >= sized.profit  # the neighbourhood includes optimize's own input
            if sized.exact:
                assert sized.profit == reference
            assert sized.profit * 10_000 >= reference * 9_999
            assert sized.profit * 10_000 >= sized.profit_bound * 9_999

    @pytest.mark.parametrize("seed", range(60), ids=lambda s: f"seed{s}")
    def test_small_pools_match_exhaustive_search(self, seed: int) -> None:
        """Tiny reserves, where rounding dominates: every input that could make a profit (past
        `(K - M) / N` even the smooth profit is negative)."""
        rng = random.Random(seed)
        hops = 2 + seed % 2
        tokens = [address(0xA0 + i) for i in range(hops)]
        legs = [(0, 1), (0, 1)] if hops == 2 else [(0, 1), (1, 2), (2, 0)]
        pools = [
            V2PairState(
                address=address(0x100 + i),
                token0=tokens[a],
                token1=tokens[b],
                reserve0=rng.randint(50, 20_000),
                reserve1=rng.randint(50, 20_000),
                fee_pips=rng.choice([500, 3000, 10_000]),
            )
            for i, (a, b) in enumerate(legs)
        ]
        states = {p.address: p for p in pools}
        for cycle in enumerate_cycles(pools, [tokens[0]], max_hops=hops):
            k, m, n = mobius(cycle, states)
            limit = max((k - m) // n + 2, 2)
            sized = optimize(cycle, states)
            best = max([0, *(exact_profit(cycle, states, x) for x in range(1, limit))])
            assert sized.exact
            assert sized.profit == best
            if best > 0:
                assert exact_profit(cycle, states, sized.amount_in) == best


def v3_flash_fee(x: int) -> int:
    """UniswapV3Pool.flash at 500 pips: mulDivRoundingUp(x, 500, 1e6)."""
    return -(-x * 500 // 10**6)


def v2_flash_fee(x: int) -> int:
    """A V2 flash swap at 0.3%: ceil(x * 1e6 / 997000) - x on top."""
    return -(-x * 10**6 // 997_000) - x


class TestOptimizeWithFeeAndCap:
    """A flash loan's fee (the input maximises the profit net of it) and a lender's cap."""

    @pytest.mark.parametrize(
        ("fee", "rate"),
        [(v3_flash_fee, 500 / 1e6), (v2_flash_fee, 3000 / 997_000)],
        ids=["v3-flash", "v2-flash-swap"],
    )
    @pytest.mark.parametrize("seed", range(8), ids=lambda s: f"seed{s}")
    def test_small_pools_net_of_fee_within_cap(
        self, seed: int, fee: Callable[[int], int], rate: float
    ) -> None:
        """Every input that could pay: the net optimum and the capped optimum, proven."""
        rng = random.Random(100 + seed)
        pools = [
            V2PairState(
                address=address(0x100 + i),
                token0=address(0xA0),
                token1=address(0xA1),
                reserve0=rng.randint(5_000, 20_000),
                reserve1=rng.randint(5_000, 20_000),
                fee_pips=rng.choice([500, 3000]),
            )
            for i in range(2)
        ]
        states = {p.address: p for p in pools}
        paying = 0
        for cycle in enumerate_cycles(pools, [address(0xA0)], max_hops=2):
            k, m, n = mobius(cycle, states)
            limit = max((k - m) // n + 2, 2)
            net = {x: exact_profit(cycle, states, x) - fee(x) for x in range(1, limit)}
            best = max([0, *net.values()])
            sized = optimize(cycle, states, fee=fee, fee_rate=rate)
            assert sized.exact
            assert (sized.profit - fee(sized.amount_in) if sized.amount_in else 0) == best
            if best <= 0:
                continue
            paying += 1
            assert list(sized.amounts) == simulate(cycle, states, sized.amount_in)
            cap = max(x for x, v in net.items() if v == best) // 2
            capped = optimize(cycle, states, fee=fee, fee_rate=rate, cap=cap)
            capped_best = max([0, *(v for x, v in net.items() if x <= cap)])
            assert capped.exact and capped.amount_in <= cap
            assert capped.profit - fee(capped.amount_in) == capped_best
            assert capped.profit <= capped.profit_bound  # type: ignore[operator]
            gross_within_cap = max(exact_profit(cycle, states, x) for x in range(1, cap + 1))
            assert gross_within_cap <= capped.profit_bound  # type: ignore[operator]
            # the smooth profit at the cap, below the peak: a tighter bound than the route's
            assert capped.profit_bound < optimize(cycle, states).profit_bound  # type: ignore[operator]
        assert paying == 1  # two pools at different prices: one direction pays

    def test_realistic_pools_net_of_a_v3_flash_fee(self) -> None:
        """The fee moves the optimum down; the scaled closed form lands on it."""
        states = route_states(["WETH", "WBTC", "USDC"], random.Random(11))
        for cycle in profitable_cycles(states, 3):
            gross = optimize(cycle, states)
            sized = optimize(cycle, states, fee=v3_flash_fee, fee_rate=500 / 1e6)
            assert 0 < sized.amount_in < gross.amount_in
            net = sized.profit - v3_flash_fee(sized.amount_in)
            for x in (sized.amount_in - 1, sized.amount_in + 1, gross.amount_in):
                assert exact_profit(cycle, states, x) - v3_flash_fee(x) <= net


class TestOptimizeResult:
    """The sized result is self-consistent and zero when there is nothing to take."""

    @pytest.fixture
    def states(self) -> States:
        return route_states(["WETH", "WBTC", "USDC"], random.Random(11))

    def test_amounts_are_what_simulate_returns(self, states: States) -> None:
        for cycle in profitable_cycles(states, 3):
            sized = optimize(cycle, states)
            assert sized.amount_in > 0
            assert list(sized.amounts) == simulate(cycle, states, sized.amount_in)
            assert sized.amount_out == sized.amounts[-1]
            assert sized.profit == sized.amount_out - sized.amount_in
            assert sized.profit_bound is not None
            assert sized.optimality_gap == sized.profit_bound - sized.profit >= 0

    def test_unprofitable_direction_gives_zero(self, states: States) -> None:
        losing = [
            c
            for c in enumerate_cycles(states.values(), [WETH], max_hops=3)
            if profit_upper_bound(c, states) == 0
        ]
        assert losing
        for cycle in losing:
            assert closed_form_amount_in(cycle, states) == 0
            assert optimize(cycle, states) == SizedCycle(
                cycle=cycle,
                amount_in=0,
                amount_out=0,
                profit=0,
                amounts=(0, 0, 0),
                profit_bound=0,
                exact=True,
            )

    def test_balanced_pools_give_zero(self) -> None:
        """Same price on both venues: the fees eat everything."""
        pools = [realistic_pair(i, "WETH", "USDC", depth_eth=5000, skew_bps=0) for i in range(2)]
        states = {p.address: p for p in pools}
        for cycle in enumerate_cycles(pools, [WETH], max_hops=2):
            sized = optimize(cycle, states)
            assert (sized.amount_in, sized.profit) == (0, 0)

    def test_drained_pool_gives_zero(self, states: States) -> None:
        cycle = profitable_cycles(states, 3)[0]
        pool = states[cycle.hops[1].pool]
        drained = {
            **states,
            pool.address: V2PairState(
                address=pool.address,
                token0=pool.token0,
                token1=pool.token1,
                reserve0=0,
                reserve1=pool.reserve1,
            ),
        }
        assert optimize(cycle, drained).amount_in == 0

    def test_more_than_bound_is_impossible(self, states: States) -> None:
        """Any input, however chosen, stays at or under the bound."""
        rng = random.Random(5)
        for cycle in profitable_cycles(states, 3):
            bound = profit_upper_bound(cycle, states)
            x0 = closed_form_amount_in(cycle, states)
            for _ in range(500):
                x = max(x0 + rng.randint(-(x0 // 2), x0 // 2), 1)
                assert exact_profit(cycle, states, x) <= bound


class TestScreen:
    """The float screen agrees with the exact K > M test, and is the only float path."""

    def test_agrees_with_exact_profitability(self) -> None:
        states: States = {}
        for i, path in enumerate(ROUTES):
            for p in route_states(path, random.Random(i)).values():
                moved = V2PairState(
                    address=address(0x5000 + len(states)),
                    token0=p.token0,
                    token1=p.token1,
                    reserve0=p.reserve0,
                    reserve1=p.reserve1,
                )
                states[moved.address] = moved
        cycles = enumerate_cycles(states.values(), [WETH], max_hops=3)
        mask = screen(cycles, states)
        assert mask.dtype == np.bool_
        assert mask.shape == (len(cycles),)
        for cycle, flagged in zip(cycles, mask, strict=True):
            k, m, _ = mobius(cycle, states)
            assert bool(flagged) == (k > m)

    def test_empty_input(self) -> None:
        assert screen([], {}).shape == (0,)

    def test_drained_pool_is_screened_out(self) -> None:
        states = route_states(["WETH", "USDC"], random.Random(4))
        cycles = enumerate_cycles(states.values(), [WETH], max_hops=2)
        first = next(iter(states.values()))
        states[first.address] = V2PairState(
            address=first.address,
            token0=first.token0,
            token1=first.token1,
            reserve0=first.reserve0,
            reserve1=0,
        )
        assert not screen(cycles, states).any()
