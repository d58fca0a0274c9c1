"""Pool-disjoint selection: the exact maximum total net profit, against brute force over
every subset; greedy beyond the exact limit, still disjoint."""

from __future__ import annotations

import random
from itertools import combinations

import pytest

from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.search import select
from flasharb.search.capital import FlashSource
from flasharb.search.cycles import Cycle, Hop
from flasharb.search.rank import Opportunity
from flasharb.search.select import select_disjoint
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


def brute_force_best(opps: list[Opportunity]) -> int:
    best = 0
    for k in range(1, len(opps) + 1):
        for subset in combinations(opps, k):
            if disjoint(list(subset)):
                best = max(best, sum(o.net_profit_eth for o in subset))
    return best


class TestExact:
    """The pick maximises the total over all pool-disjoint subsets."""

    @pytest.mark.parametrize("seed", range(25), ids=lambda s: f"seed{s}")
    def test_matches_brute_force(self, seed: int) -> None:
        rng = random.Random(seed)
        opps = random_opportunities(rng, rng.randint(4, 12), rng.randint(6, 14))
        picked = select_disjoint(opps)
        assert disjoint(picked)
        assert sum(o.net_profit_eth for o in picked) == brute_force_best(opps)
        values = [o.net_profit_eth for o in picked]
        assert values == sorted(values, reverse=True)

    def test_unprofitable_ones_are_never_picked(self) -> None:
        opps = [opportunity([1, 2], 5, 0), opportunity([3, 4], 0, 1), opportunity([5, 6], -3, 2)]
        assert select_disjoint(opps) == [opps[0]]

    def test_independent_groups_are_solved_separately(self) -> None:
        """Two conflict components: each keeps its own best set."""
        a = [opportunity([1, 2], 10, 0), opportunity([1, 3], 6, 1), opportunity([2, 4], 6, 2)]
        b = [opportunity([7, 8], 9, 3), opportunity([8, 9], 8, 4)]
        assert select_disjoint(a + b) == [b[0], a[1], a[2]]


class TestBeyondTheLimit:
    """Past EXACT_LIMIT candidates in one conflict component, greedy: still disjoint, never
    worse than the plain greedy pick."""

    def test_large_component_falls_back_to_greedy(self, monkeypatch: pytest.MonkeyPatch) -> None:
        rng = random.Random(7)
        opps = random_opportunities(rng, 30, 10)  # 30 cycles over 10 pools: one component
        exact = select_disjoint(opps)
        monkeypatch.setattr(select, "EXACT_LIMIT", 5)
        greedy = select_disjoint(opps)
        assert disjoint(greedy) and disjoint(exact)
        taken: list[Opportunity] = []
        for o in sorted(opps, key=lambda o: -o.net_profit_eth):
            if disjoint([*taken, o]):
                taken.append(o)
        assert sum(o.net_profit_eth for o in greedy) == sum(o.net_profit_eth for o in taken)
        assert sum(o.net_profit_eth for o in exact) >= sum(o.net_profit_eth for o in greedy)

    def test_node_budget_keeps_the_best_found(self, monkeypatch: pytest.MonkeyPatch) -> None:
        rng = random.Random(8)
        opps = random_opportunities(rng, 14, 12)
        monkeypatch.setattr(select, "NODE_BUDGET", 3)
        picked = select_disjoint(opps)
        assert disjoint(picked) and picked  # at least the greedy set


def brute_force_top(opps: list[Opportunity], top: int) -> int:
    best = 0
    for k in range(1, top + 1):
        for subset in combinations(opps, k):
            if disjoint(list(subset)):
                best = max(best, sum(o.net_profit_eth for o in subset))
    return best


class TestSelectTop:
    """`select`, the policy every command sends by: the pool-disjoint set of at most `top` with
    the largest total, against brute force over every subset of that size."""

    @pytest.mark.parametrize("seed", range(30), ids=lambda s: f"seed{s}")
    @pytest.mark.parametrize("top", [1, 2, 3])
    def test_matches_brute_force(self, seed: int, top: int) -> None:
        rng = random.Random(100 + seed)
        opps = random_opportunities(rng, rng.randint(3, 13), rng.randint(5, 12))
        picked = select.select(opps, top=top)
        assert disjoint(picked) and len(picked) <= top
        assert sum(o.net_profit_eth for o in picked) == brute_force_top(opps, top)
        values = [o.net_profit_eth for o in picked]
        assert values == sorted(values, reverse=True)

    def test_two_lighter_disjoint_beat_one_heavy(self) -> None:
        """The heaviest route conflicts with both others, which together are worth more."""
        a = opportunity([1, 2], 10, 0)
        b, c = opportunity([1, 3], 6, 1), opportunity([2, 4], 6, 2)
        assert select.select([a, b, c], top=2) == [b, c]
        assert select.select([a, b, c], top=1) == [a]

    def test_guard_and_losses_are_left_out(self) -> None:
        opps = [opportunity([1, 2], 5, 0), opportunity([3, 4], 3, 1), opportunity([5, 6], -2, 2)]
        assert select.select(opps, top=3, min_net_profit_eth=3) == [opps[0]]

    def test_node_budget_keeps_at_least_the_greedy_pick(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        rng = random.Random(9)
        opps = random_opportunities(rng, 14, 12)
        monkeypatch.setattr(select, "NODE_BUDGET", 1)
        picked = select.select(opps, top=3)
        taken: list[Opportunity] = []
        for o in sorted(opps, key=lambda o: -o.net_profit_eth):
            if len(taken) < 3 and disjoint([*taken, o]):
                taken.append(o)
        assert disjoint(picked)
        assert sum(o.net_profit_eth for o in picked) >= sum(o.net_profit_eth for o in taken)
