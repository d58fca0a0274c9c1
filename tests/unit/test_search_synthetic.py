"""The synthetic market generator: seeded, exact sizes, mainnet-shaped, valid pool states."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from flasharb.amm.balancer_weighted import WeightedPoolState
from flasharb.amm.uniswap_v2 import V2PairState
from flasharb.amm.uniswap_v3 import V3PoolState
from flasharb.amm.uniswap_v3.tick_math import get_tick_at_sqrt_ratio
from flasharb.errors import FlasharbValueError
from flasharb.search.cycles import CycleIndex
from flasharb.search.engine import SearchEngine
from flasharb_testing.synthetic import HUBS, SyntheticMarket, generate, shocked


@pytest.fixture(scope="module")
def market() -> SyntheticMarket:
    return generate(2000, seed=21)


class TestShape:
    """Hubs, heavy tails, several venues per pair, all three pool types."""

    def test_exact_size_and_seeded(self, market: SyntheticMarket) -> None:
        assert len(market.pools) == 2000
        assert len({p.address for p in market.pools}) == 2000
        again = generate(2000, seed=21)
        assert again.pools == market.pools
        assert generate(2000, seed=22).pools != market.pools

    @pytest.mark.parametrize("n", [1000, 10_000], ids=["1k", "10k"])
    def test_sizes(self, n: int) -> None:
        assert len(generate(n, seed=1).pools) == n

    def test_heavy_tailed_degrees_with_hubs_on_top(self, market: SyntheticMarket) -> None:
        degree = Counter(t for p in market.pools for t in p.tokens)
        hubs = {t.address for t in HUBS}
        top = [t for t, _ in degree.most_common(3)]
        assert set(top) <= hubs
        assert top[0] == market.weth
        partners: dict[str, set[str]] = {}
        for pool in market.pools:
            for t in pool.tokens:
                partners.setdefault(t, set()).update(set(pool.tokens) - {t})
        tail = [len(partners[t]) for t in degree if t not in hubs]
        assert sum(1 for d in tail if d == 1) > 0.7 * len(tail)  # most trade against one token
        assert max(tail) >= 5  # a few long-tail tokens trade against many

    def test_hub_pairs_trade_on_several_venues(self, market: SyntheticMarket) -> None:
        hubs = {t.address for t in HUBS}
        venues: Counter[frozenset[str]] = Counter(
            frozenset(p.tokens) for p in market.pools if set(p.tokens) <= hubs
        )
        pairs = [k for k in venues if len(k) == 2]
        assert len(pairs) == 10
        assert sum(venues[k] for k in pairs) / len(pairs) >= 3
        assert any(len(k) == 3 for k in venues)  # the three-token Balancer pool

    def test_every_pool_type_and_venue(self, market: SyntheticMarket) -> None:
        kinds = Counter(type(p).__name__ for p in market.pools)
        assert kinds["V2PairState"] > kinds["V3PoolState"] > kinds["WeightedPoolState"] > 0
        v2_venues = {p.venue for p in market.pools if isinstance(p, V2PairState)}
        assert v2_venues == {"uniswap_v2", "sushiswap"}
        fees = {p.fee for p in market.pools if isinstance(p, V3PoolState)}
        assert fees == {100, 500, 3000, 10_000}


class TestStates:
    """The states are consistent: they quote, and their tick matches their price."""

    def test_v3_states_are_consistent(self, market: SyntheticMarket) -> None:
        for pool in (p for p in market.pools if isinstance(p, V3PoolState)):
            assert pool.tick == get_tick_at_sqrt_ratio(pool.sqrt_price_x96)
            in_range = sum(net for t, net in pool.ticks.items() if t <= pool.tick)
            assert in_range <= pool.liquidity  # plus the full-range position, outside the window
            assert pool.quote_exact_in(pool.token0, pool.token1, 10**6) >= 0

    def test_balancer_states_quote(self, market: SyntheticMarket) -> None:
        for pool in (p for p in market.pools if isinstance(p, WeightedPoolState)):
            assert sum(pool.normalized_weights) == 10**18
            out = pool.quote_exact_in(pool.tokens[0], pool.tokens[1], pool.balances[0] // 1000)
            assert out > 0


class TestPrices:
    """Without dislocations no cycle pays; with them some do."""

    def test_undislocated_market_has_no_profitable_cycle(self) -> None:
        calm = generate(600, seed=5, dislocated=0.0)
        index = CycleIndex.build(calm.pools, calm.flash_tokens, max_hops=4)
        engine = SearchEngine(index, calm.states())
        assert len(index) > 10_000
        assert engine.log_rates().max() < 0
        dislocated = generate(600, seed=5, dislocated=0.05)
        engine = SearchEngine(
            CycleIndex.build(dislocated.pools, dislocated.flash_tokens, max_hops=4),
            dislocated.states(),
        )
        assert engine.log_rates().max() > 0

    def test_shocked_keeps_tokens_and_moves_prices(self, market: SyntheticMarket) -> None:
        rng = random.Random(0)
        pools = rng.sample(list(market.pools), 50)
        moved = shocked(pools, rng, max_move=0.01)
        assert [(p.address, p.tokens, type(p)) for p in moved] == [
            (p.address, p.tokens, type(p)) for p in pools
        ]
        assert sum(a != b for a, b in zip(pools, moved, strict=True)) > 40

    def test_bad_arguments(self) -> None:
        with pytest.raises(FlasharbValueError, match="hub core"):
            generate(10)
        with pytest.raises(FlasharbValueError, match="dislocated"):
            generate(1000, dislocated=2.0)
