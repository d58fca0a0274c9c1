"""The search engine: the float screen against exact rational marginal rates, the vectorised
closed form against the exact integer one, and incremental updates against full re-scans."""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import numpy.typing as npt
import pytest

from flasharb.amm.balancer_weighted import WeightedPoolState
from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import V2PairState
from flasharb.amm.uniswap_v3 import V3PoolState
from flasharb.errors import FlasharbValueError
from flasharb.search.cycles import Cycle, CycleIndex
from flasharb.search.engine import SearchEngine
from flasharb.search.exact import size_cycle
from flasharb.search.gas import GasModel
from flasharb.search.rank import gross_floor
from flasharb.search.sizing import closed_form_amount_in, profit_upper_bound
from flasharb.search.valuation import weth_prices
from flasharb_testing.synthetic import SyntheticMarket, generate, shocked

FloatArray = npt.NDArray[np.float64]


def marginal_rate(state: PoolState, token_in: str, token_out: str) -> Fraction:
    """Exact marginal rate after fee at zero size, from the pool's own formula."""
    if isinstance(state, V2PairState):
        r_in, r_out = state.reserves_for(token_in)
        return Fraction((10**6 - state.fee_pips) * r_out, 10**6 * r_in)
    if isinstance(state, V3PoolState):
        price = Fraction(state.sqrt_price_x96**2, 2**192)  # token1 per token0
        fee = Fraction(10**6 - state.fee, 10**6)
        return fee * (price if token_in == state.token0 else 1 / price)
    assert isinstance(state, WeightedPoolState)
    i, j = state.index_of(token_in), state.index_of(token_out)
    spot = Fraction(
        state.balances[j] * state.normalized_weights[i],
        state.balances[i] * state.normalized_weights[j],
    )
    return Fraction(10**18 - state.swap_fee, 10**18) * spot


def cycle_rate(cycle: Cycle, states: dict[str, PoolState]) -> Fraction:
    rate = Fraction(1)
    for hop in cycle.hops:
        rate *= marginal_rate(states[hop.pool], hop.token_in, hop.token_out)
    return rate


@pytest.fixture(scope="module")
def market() -> SyntheticMarket:
    return generate(250, seed=7, dislocated=0.015)


@pytest.fixture(scope="module")
def index(market: SyntheticMarket) -> CycleIndex:
    return CycleIndex.build(market.pools, market.flash_tokens, max_hops=4)


@pytest.fixture(scope="module")
def floor(market: SyntheticMarket, index: CycleIndex) -> npt.NDArray[np.float64]:
    """The gas of each cycle at 0.1 gwei (about $0.10 a trade): keeps dust out of scans."""
    prices = weth_prices(market.pools, market.weth)
    return gross_floor(index, prices, weth=market.weth, gas_price_wei=10**8, gas_model=GasModel())


def engine_for(index: CycleIndex, states: dict[str, PoolState], floor: FloatArray) -> SearchEngine:
    engine = SearchEngine(index, states)
    engine.set_min_gross(floor)
    return engine


class TestScreen:
    """The float screen passes a cycle iff its exact marginal rate exceeds 1."""

    def test_agrees_with_exact_rational_rates(
        self, market: SyntheticMarket, index: CycleIndex
    ) -> None:
        states = market.states()
        engine = SearchEngine(index, states)
        log_rates = engine.log_rates()
        sample = np.random.default_rng(0).choice(len(index), size=1500, replace=False)
        passing = set(engine.candidates()[0].tolist())
        agree = 0
        for i in sample.tolist():
            exact = cycle_rate(index.cycle(i), states)
            if abs(exact - 1) < Fraction(1, 10**8):
                continue  # within float reach of break-even: the screen lets it through
            agree += 1
            assert (i in passing) == (exact > 1), index.cycle(i).key
            assert log_rates[i] == pytest.approx(float(np.log(float(exact))), abs=1e-9)
        assert agree > 1400
        assert passing, "the fixture should dislocate some pools"

    def test_vectorised_closed_form_matches_the_integer_one(self) -> None:
        """On pure V2 cycles the float x* and smooth profit are sizing.py's exact integers."""
        market = generate(400, seed=5, dislocated=0.05)
        v2 = [p for p in market.pools if isinstance(p, V2PairState)]
        states: dict[str, PoolState] = {p.address: p for p in v2}
        index = CycleIndex.build(v2, market.flash_tokens, max_hops=4)
        engine = SearchEngine(index, states)
        assert engine.constant_product.all()
        ids = np.flatnonzero(engine.log_rates() > 1e-6)
        assert ids.size > 10
        x_star, profit = engine.closed_form(ids)
        for i, x, p in zip(ids.tolist(), x_star.tolist(), profit.tolist(), strict=True):
            cycle = index.cycle(i)
            exact_x = closed_form_amount_in(cycle, states)  # type: ignore[arg-type]
            bound = profit_upper_bound(cycle, states)  # type: ignore[arg-type]
            assert x == pytest.approx(exact_x, rel=1e-6, abs=2)
            assert p == pytest.approx(bound, rel=1e-6, abs=2)

    def test_screened_out_cycles_cannot_pay(
        self, market: SyntheticMarket, index: CycleIndex
    ) -> None:
        states = market.states()
        engine = SearchEngine(index, states)
        passing = set(engine.candidates()[0].tolist())
        rng = random.Random(1)
        out = [i for i in rng.sample(range(len(index)), 400) if i not in passing]
        for i in out[:200]:
            assert size_cycle(index.cycle(i), states).profit == 0


class TestScan:
    """A scan is the exact sizing of every candidate, nothing else."""

    def test_results_are_the_exact_sizing_of_each_candidate(
        self, market: SyntheticMarket, index: CycleIndex, floor: FloatArray
    ) -> None:
        states = market.states()
        engine = engine_for(index, states, floor)
        found = engine.scan()
        ids, x_star = engine.candidates()
        assert len(found) > 5
        by_cycle = {s.cycle.key: s for s in found}
        for i, x in zip(ids.tolist(), x_star.tolist(), strict=True):
            sized = size_cycle(index.cycle(i), states, max(int(x), 1))
            if sized.profit > 0:
                assert by_cycle[sized.cycle.key] == sized
            else:
                assert sized.cycle.key not in by_cycle
        assert [s.cycle for s in found] == [index.cycle(i) for i in sorted(engine.sized)]

    def test_missing_state_is_named(self, market: SyntheticMarket, index: CycleIndex) -> None:
        states = market.states()
        gone = index.graph.pools[3]
        del states[gone]
        with pytest.raises(FlasharbValueError, match=gone):
            SearchEngine(index, states)

    def test_gross_floor_drops_only_cycles_that_cannot_reach_it(
        self, market: SyntheticMarket, index: CycleIndex
    ) -> None:
        """Pure V2 cycles below the floor: their exact optimum is below it too (the smooth
        profit bounds the exact one)."""
        states = market.states()
        engine = SearchEngine(index, states)
        all_ids, _ = engine.candidates()
        floor = np.full(len(index), 1e12)
        engine.set_min_gross(floor)
        kept = set(engine.candidates()[0].tolist())
        dropped = [i for i in all_ids.tolist() if i not in kept]
        assert dropped and kept
        for i in dropped:
            if engine.constant_product[i]:
                assert size_cycle(index.cycle(i), states).profit < 1e12
        with pytest.raises(FlasharbValueError, match="one value per cycle"):
            engine.set_min_gross(np.zeros(3))


class TestIncremental:
    """`update` re-evaluates only the cycles through changed pools and ends where a full
    re-scan of the new states ends."""

    @pytest.mark.parametrize("seed", [0, 3, 5], ids=lambda s: f"seed{s}")
    def test_update_equals_full_rescan_and_undoes(
        self, market: SyntheticMarket, index: CycleIndex, floor: FloatArray, seed: int
    ) -> None:
        rng = random.Random(seed)
        engine = engine_for(index, market.states(), floor)
        engine.scan()
        before = dict(engine.sized)
        hubs = set(market.flash_tokens)
        tail = [p for p in market.pools if not set(p.tokens) <= hubs]
        core = [p for p in market.pools if set(p.tokens) <= hubs]
        changed = shocked(rng.sample(tail, 5), rng, max_move=0.01)
        changed += shocked(rng.sample(core, 1), rng, max_move=0.001)  # hub pools: small moves
        delta = engine.update(changed)
        new_states = {**market.states(), **{p.address: p for p in changed}}
        assert engine.results() == engine_for(index, new_states, floor).scan()
        touched = index.cycle_ids_touching([p.address for p in changed])
        assert delta.pools == 6
        assert delta.affected == len(touched)
        assert {s.cycle for s in delta.sized} <= {index.cycle(int(i)) for i in touched}
        untouched = set(before) - set(touched.tolist())
        assert untouched
        for i in untouched:
            assert engine.sized[i] is before[i]  # not re-evaluated
        assert delta.sized, "the fixture's shocks should open new opportunities"
        originals = [market.states()[p.address] for p in changed]
        engine.update(originals)  # and back: the new ones close again
        assert engine.results() == [before[i] for i in sorted(before)]

    def test_rates_follow_the_new_state(self, market: SyntheticMarket, index: CycleIndex) -> None:
        never = np.full(len(index), np.inf)  # no candidate: this is about the arrays
        engine = engine_for(index, market.states(), never)
        pool = next(p for p in market.pools if isinstance(p, V2PairState))
        moved = shocked([pool], random.Random(3), max_move=0.05)[0]
        assert engine.update({moved.address: moved}).candidates == 0
        fresh = SearchEngine(index, {**market.states(), moved.address: moved})
        assert np.array_equal(engine.rates.rate, fresh.rates.rate)
        assert np.array_equal(engine.log_rates(), fresh.log_rates())

    def test_state_of_another_shape_is_refused(
        self, market: SyntheticMarket, index: CycleIndex
    ) -> None:
        engine = SearchEngine(index, market.states())
        pool = next(p for p in market.pools if isinstance(p, V2PairState))
        other = next(t.address for t in market.tokens if t.address not in pool.tokens)
        changed = V2PairState(
            address=pool.address, token0=pool.token0, token1=other, reserve0=1, reserve1=1
        )
        with pytest.raises(FlasharbValueError, match="rebuild the index"):
            engine.update([changed])

    def test_pool_outside_the_index_is_refused(
        self, market: SyntheticMarket, index: CycleIndex
    ) -> None:
        engine = SearchEngine(index, market.states())
        stranger = V2PairState(
            address="0x" + "ab" * 20,
            token0=market.flash_tokens[0],
            token1=market.flash_tokens[1],
            reserve0=1,
            reserve1=1,
        )
        with pytest.raises(FlasharbValueError, match="not in the token graph"):
            engine.update([stranger])
