"""`select`, the policy every command sends by: best first, each pick disjoint from those
before, against the policy stated apart from the code and against brute force."""

from __future__ import annotations

import random
from itertools import combinations

import pytest

from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.search import select
from flasharb.search.capital import FlashSource
from flasharb.search.cycles import Cycle, Hop
from flasharb.search.rank import Opportunity
from flasharb.search.valuation import EthPrice


def address(n: int) -> str:
    return checksum_address("0x" + f"{n:040x}")


WETH = address(0xEEE1)


def cycle_through(pools: list[int], tag: int) -> Cycle:
    """A WETH cycle through `pools` (ids), with intermediate tokens unique to `tag`."""
    tokens = [WETH, *(address(0xF000 + 16 * tag + i) for i in range(len(pools) - 1)), WETH]
    hops = tuple(
        Hop(pool=address(p), token_in=tokens[i], token_out=tokens[i + 1], fee_pips=3000)
        for i, p in enumerate(pools)
    )
    return Cycle(token=WETH, hops=hops)


def opportunity(pools: list[int], net: int, tag: int) -> Opportunity:
    route = cycle_through(pools, tag)
    return Opportunity(
        cycle=route,
        source=FlashSource.balancer(),
        amount_in=10**18,
        amounts=(*([1] * (len(route.hops) - 1)), 10**18 + net),
        ticks_crossed=0,
        flash_fee=0,
        gas_estimate=0,
        gas_price_wei=0,
        gas_cost=0,
        net_profit=net,
        net_profit_eth=net,
        price=EthPrice(token=WETH, pool=WETH, num=1, den=1, depth_weth=0),
    )


def random_opportunities(rng: random.Random, n: int, n_pools: int) -> list[Opportunity]:
    return [
        opportunity(rng.sample(range(1, n_pools + 1), rng.randint(2, 4)), rng.randint(1, 1000), i)
        for i in range(n)
    ]


def disjoint(picked: list[Opportunity]) -> bool:
    pools = [p for o in picked for p in o.cycle.pools]
    return len(pools) == len(set(pools))


def is_first_disjoint_best(picked: list[Opportunity], opps: list[Opportunity], top: int) -> bool:
    """The policy stated apart from the code: every pick outranks (net, then route) every
    eligible route disjoint from the picks before it, and fewer than `top` picks means no
    eligible route is disjoint from them all."""
    eligible = [o for o in opps if o.net_profit > 0]
    for i, o in enumerate(picked):
        rivals = [r for r in eligible if r is not o and disjoint([*picked[:i], r])]
        if o not in eligible or not disjoint(picked[: i + 1]):
            return False
        if any((-r.net_profit_eth, r.cycle.key) < (-o.net_profit_eth, o.cycle.key) for r in rivals):
            return False
    return len(picked) == top or not any(
        disjoint([*picked, r]) for r in eligible if r not in picked
    )


def brute_force_top(opps: list[Opportunity], top: int) -> int:
    best = 0
    for k in range(1, top + 1):
        for subset in combinations(opps, k):
            if disjoint(list(subset)):
                best = max(best, sum(o.net_profit_eth for o in subset))
    return best


class TestSelectTop:
    """`select`, the policy every command sends by: the best route, then the best one sharing no
    pool with it, and so on, at most `top`; checked against the policy stated apart and against
    brute force over every subset (the best set of `top`: it may be worth more)."""

    @pytest.mark.parametrize("seed", range(30), ids=lambda s: f"seed{s}")
    @pytest.mark.parametrize("top", [1, 2, 3])
    def test_each_pick_is_the_best_disjoint_from_those_before(self, seed: int, top: int) -> None:
        rng = random.Random(100 + seed)
        opps = random_opportunities(rng, rng.randint(3, 13), rng.randint(5, 12))
        picked = select.select(opps, top=top)
        assert disjoint(picked) and 1 <= len(picked) <= top
        assert is_first_disjoint_best(picked, opps, top)
        values = [o.net_profit_eth for o in picked]
        assert values == sorted(values, reverse=True)
        assert picked[0].net_profit_eth == brute_force_top(opps, 1)  # the best route first
        assert sum(values) <= brute_force_top(opps, top)

    def test_the_heaviest_route_goes_first_even_when_two_lighter_sum_more(self) -> None:
        """The heaviest route conflicts with both others, which together are worth more: the
        heaviest is sent (it leaves first; the pair would be worth 12 against 10)."""
        a = opportunity([1, 2], 10, 0)
        b, c = opportunity([1, 3], 6, 1), opportunity([2, 4], 6, 2)
        assert select.select([a, b, c], top=2) == [a]
        assert select.select([a, b, c], top=1) == [a]
        d = opportunity([5, 6], 1, 3)
        assert select.select([a, b, c, d], top=2) == [a, d]

    def test_ties_go_to_the_route_first_in_order(self) -> None:
        a, b = opportunity([1, 2], 7, 0), opportunity([3, 4], 7, 1)
        first = min((a, b), key=lambda o: o.cycle.key)
        assert select.select([b, a], top=1) == [first]
        assert select.select([a, b], top=2) == sorted((a, b), key=lambda o: o.cycle.key)

    def test_guard_and_losses_are_left_out(self) -> None:
        opps = [opportunity([1, 2], 5, 0), opportunity([3, 4], 3, 1), opportunity([5, 6], -2, 2)]
        assert select.select(opps, top=3, min_net_profit_eth=3) == [opps[0]]
        assert select.select(opps, top=3) == opps[:2]

    def test_top_below_one_is_refused(self) -> None:
        with pytest.raises(ValueError, match="top must be at least 1"):
            select.select([], top=0)
