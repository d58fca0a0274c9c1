"""Ranking net of flash fee and gas, value conversion into ETH, and disjoint selection."""

from __future__ import annotations

import json

import pytest

from flasharb.amm.uniswap_v2 import V2PairState, checksum_address
from flasharb.errors import FlasharbValueError
from flasharb.search.cycles import Cycle, CycleIndex, Hop
from flasharb.search.engine import SearchEngine
from flasharb.search.exact import size_cycle
from flasharb.search.rank import (
    FLASH_SOURCE,
    GasModel,
    Opportunity,
    flash_fee,
    opportunities,
    rank,
    select_disjoint,
    token_value_in_eth,
)
from flasharb.search.sizing import optimize
from flasharb_testing.synthetic import SyntheticMarket, generate
from flasharb.search.valuation import eth_price, weth_prices


def address(n: int) -> str:
    return checksum_address("0x" + f"{n:040x}")


WETH, USDC, DAI, LONELY = (address(0xEEE1), address(0xA0B8), address(0x6B17), address(0x10E1))
E18, E6 = 10**18, 10**6
GWEI = 10**9


def pair(n: int, token0: str, token1: str, reserve0: int, reserve1: int) -> V2PairState:
    return V2PairState(
        address=address(0x1000 + n),
        token0=token0,
        token1=token1,
        reserve0=reserve0,
        reserve1=reserve1,
    )


@pytest.fixture
def states() -> dict[str, V2PairState]:
    """ETH at 3000 USDC on the deep venue, 3090 on the shallow one; DAI at par on one pool,
    mispriced against USDC on another."""
    pools = [
        pair(1, WETH, USDC, 20_000 * E18, 60_000_000 * E6),  # deep: 3000
        pair(2, WETH, USDC, 2_000 * E18, 6_180_000 * E6),  # shallow: 3090
        pair(3, WETH, DAI, 5_000 * E18, 15_000_000 * E18),  # 3000
        pair(4, USDC, DAI, 10_000_000 * E6, 10_200_000 * E18),  # DAI 2% cheap
        pair(5, LONELY, DAI, 1_000 * E18, 1_000 * E18),  # no WETH pair
    ]
    return {p.address: p for p in pools}


@pytest.fixture
def index(states: dict[str, V2PairState]) -> CycleIndex:
    return CycleIndex.build(states.values(), [WETH, USDC], max_hops=3)


def two_hop(token: str, pool_a: int, pool_b: int) -> Cycle:
    other = address(0xF00)
    return Cycle(
        token=token,
        hops=(
            Hop(pool=address(pool_a), token_in=token, token_out=other, fee_pips=3000),
            Hop(pool=address(pool_b), token_in=other, token_out=token, fee_pips=3000),
        ),
    )


def opportunity(cycle: Cycle, net_eth: int) -> Opportunity:
    return Opportunity(
        cycle=cycle,
        amount_in=E18,
        amount_out=E18 + net_eth,
        gross_profit=net_eth,
        flash_fee=0,
        gas_estimate=0,
        gas_cost=0,
        net_profit=net_eth,
        net_profit_eth=net_eth,
    )


class TestNetProfit:
    """gross - flash fee - gas converted into the profit token, exactly."""

    def test_accounting_adds_up(self, index: CycleIndex, states: dict[str, V2PairState]) -> None:
        gas_model = GasModel()
        opps = rank(index, states, weth=WETH, gas_price_wei=20 * GWEI, gas_model=gas_model)
        assert {o.cycle.token for o in opps} == {WETH, USDC}
        for o in opps:
            sized = optimize(o.cycle, states)
            assert (o.amount_in, o.amount_out, o.gross_profit) == (
                sized.amount_in,
                sized.amount_out,
                sized.profit,
            )
            assert o.flash_fee == 0
            assert o.gas_estimate == gas_model.base + gas_model.per_v2_hop * len(o.cycle.hops)
            gas_wei = o.gas_estimate * 20 * GWEI
            if o.cycle.token == WETH:
                assert o.gas_cost == gas_wei
                assert o.net_profit_eth == o.net_profit
            else:  # the deep WETH/USDC pool prices gas and profit: 1 ETH = 3000 USDC
                assert o.gas_cost == gas_wei * 60_000_000 * E6 // (20_000 * E18)
                assert o.net_profit_eth == o.net_profit * 20_000 * E18 // (60_000_000 * E6)
            assert o.net_profit == o.gross_profit - o.flash_fee - o.gas_cost
            assert o.net_profit_eth > 0

    def test_sorted_best_first(self, index: CycleIndex, states: dict[str, V2PairState]) -> None:
        opps = rank(index, states, weth=WETH, gas_price_wei=GWEI, gas_model=GasModel())
        assert len(opps) > 2
        values = [o.net_profit_eth for o in opps]
        assert values == sorted(values, reverse=True)

    def test_flash_fee_is_charged_and_rounded_up(
        self, index: CycleIndex, states: dict[str, V2PairState]
    ) -> None:
        free = rank(index, states, weth=WETH, gas_price_wei=GWEI, gas_model=GasModel())
        paid = rank(
            index, states, weth=WETH, gas_price_wei=GWEI, gas_model=GasModel(), flash_fee_pips=90
        )
        by_key = {o.cycle.key: o for o in free}
        assert paid
        for o in paid:
            assert o.flash_fee == -(-o.amount_in * 90 // E6)
            assert o.net_profit == by_key[o.cycle.key].net_profit - o.flash_fee

    def test_gas_price_and_threshold_filter(
        self, index: CycleIndex, states: dict[str, V2PairState]
    ) -> None:
        cheap = rank(index, states, weth=WETH, gas_price_wei=GWEI, gas_model=GasModel())
        cut = cheap[len(cheap) // 2].net_profit_eth
        above = rank(
            index,
            states,
            weth=WETH,
            gas_price_wei=GWEI,
            gas_model=GasModel(),
            min_net_profit_eth=cut,
        )
        assert above == [o for o in cheap if o.net_profit_eth > cut]
        ruinous = rank(index, states, weth=WETH, gas_price_wei=10**6 * GWEI, gas_model=GasModel())
        assert ruinous == []

    def test_gas_model_values_are_data(
        self, index: CycleIndex, states: dict[str, V2PairState]
    ) -> None:
        model = GasModel(base=100_000, per_v2_hop=60_000)
        for o in rank(index, states, weth=WETH, gas_price_wei=GWEI, gas_model=model):
            assert o.gas_estimate == model.estimate(o.cycle) == 100_000 + 60_000 * len(o.cycle.hops)

    def test_start_token_without_weth_pair_is_named(self, states: dict[str, V2PairState]) -> None:
        states = {
            **states,
            address(0x1006): pair(6, LONELY, DAI, 1_000 * E18, 1_100 * E18),
        }
        index = CycleIndex.build(states.values(), [LONELY], max_hops=2)
        with pytest.raises(FlasharbValueError, match=LONELY):
            rank(index, states, weth=WETH, gas_price_wei=GWEI, gas_model=GasModel())


class TestFlashFee:
    """Balancer's FixedPoint.mulUp, with a pips denominator."""

    @pytest.mark.parametrize(
        ("amount", "pips", "fee"),
        [
            (0, 100, 0),
            (E18, 0, 0),
            (1, 1, 1),
            (E6, 1, 1),
            (E6 + 1, 1, 2),
            (3 * E18, 90, 27 * 10**13),
        ],
        ids=["zero-amount", "zero-fee", "dust", "exact", "rounds-up", "realistic"],
    )
    def test_rounds_up(self, amount: int, pips: int, fee: int) -> None:
        assert flash_fee(amount, pips) == fee

    def test_fee_above_100_percent_is_rejected(self) -> None:
        with pytest.raises(FlasharbValueError, match="flash fee"):
            flash_fee(E18, E6 + 1)


class TestValueInEth:
    """Spot value through the deepest direct WETH pair, floored."""

    def test_weth_is_identity(self, states: dict[str, V2PairState]) -> None:
        assert token_value_in_eth(WETH, 12345, states, WETH) == 12345

    def test_uses_deepest_weth_pair(self, states: dict[str, V2PairState]) -> None:
        """3000 USDC: 1 ETH on the deep pool (3000), not 0.97 ETH on the shallow one (3090)."""
        assert token_value_in_eth(USDC, 3000 * E6, states, WETH) == E18
        assert token_value_in_eth(USDC.lower(), 1, states, WETH.lower()) == 20_000 * E18 // (
            60_000_000 * E6
        )

    def test_floors(self, states: dict[str, V2PairState]) -> None:
        assert token_value_in_eth(DAI, 2999, states, WETH) == 0
        assert token_value_in_eth(DAI, 3001, states, WETH) == 1

    def test_no_weth_pair_is_an_error(self, states: dict[str, V2PairState]) -> None:
        with pytest.raises(FlasharbValueError, match=f"{LONELY}.*no pool with WETH"):
            token_value_in_eth(LONELY, E18, states, WETH)


class TestSelectDisjoint:
    """The largest total net profit in ETH; no two picks share a pool."""

    def test_skips_overlapping_cycles(self) -> None:
        best = opportunity(two_hop(WETH, 1, 2), 50)
        overlaps = opportunity(two_hop(WETH, 2, 3), 40)
        free = opportunity(two_hop(USDC, 4, 5), 10)
        assert select_disjoint([free, overlaps, best]) == [best, free]

    def test_two_smaller_beat_one_big_that_blocks_both(self) -> None:
        """Greedy would take the big cycle alone (10); the exact pick takes both others (12)."""
        big = opportunity(two_hop(WETH, 1, 2), 10)
        left = opportunity(two_hop(WETH, 1, 3), 6)
        right = opportunity(two_hop(WETH, 2, 4), 6)
        assert select_disjoint([left, right, big]) == [left, right]

    def test_empty(self) -> None:
        assert select_disjoint([]) == []

    def test_ranked_opportunities_come_out_disjoint(
        self, index: CycleIndex, states: dict[str, V2PairState]
    ) -> None:
        picked = select_disjoint(
            rank(index, states, weth=WETH, gas_price_wei=GWEI, gas_model=GasModel())
        )
        pools = [p for o in picked for p in o.cycle.pools]
        assert picked and len(pools) == len(set(pools))


class TestJson:
    """The `flasharb scan --json` opportunity shape, integers as decimal strings."""

    def test_shape(self, index: CycleIndex, states: dict[str, V2PairState]) -> None:
        o = rank(index, states, weth=WETH, gas_price_wei=GWEI, gas_model=GasModel())[0]
        doc = json.loads(json.dumps(o.to_json()))
        assert list(doc)[:8] == [  # DESIGN.md section 5, in order; extra fields after
            "route",
            "flash_source",
            "profit_token",
            "amount_in",
            "gross_profit",
            "flash_fee",
            "gas_estimate",
            "net_profit",
        ]
        assert list(doc)[8:] == [
            "lender",
            "amount_out",
            "gas_cost",
            "net_profit_eth",
            "ticks_crossed",
        ]
        assert doc["flash_source"] == FLASH_SOURCE == "balancer_v2"
        assert doc["profit_token"] == o.cycle.token
        assert doc["route"] == [
            {"pool": h.pool, "kind": "uniswap_v2", "token_in": h.token_in, "token_out": h.token_out}
            for h in o.cycle.hops
        ]
        for key, value in [
            ("amount_in", o.amount_in),
            ("gross_profit", o.gross_profit),
            ("flash_fee", o.flash_fee),
            ("gas_estimate", o.gas_estimate),
            ("net_profit", o.net_profit),
        ]:
            assert doc[key] == str(value)


class TestGasModel:
    """Base plus a per-hop figure; unknown hop kinds are refused, not guessed."""

    @pytest.mark.parametrize("hops", [2, 3], ids=["2hops", "3hops"])
    def test_estimate(self, hops: int) -> None:
        cycle = two_hop(WETH, 1, 2)
        if hops == 3:
            mid = address(0xF01)
            cycle = Cycle(
                token=WETH,
                hops=(
                    cycle.hops[0],
                    Hop(
                        pool=address(9),
                        token_in=cycle.hops[0].token_out,
                        token_out=mid,
                        fee_pips=3000,
                    ),
                    Hop(pool=address(2), token_in=mid, token_out=WETH, fee_pips=3000),
                ),
            )
        model = GasModel(base=100_000, per_v2_hop=60_000)
        assert model.estimate(cycle) == 100_000 + 60_000 * hops

    def test_unknown_kind(self) -> None:
        cycle = two_hop(WETH, 1, 2)
        odd = Cycle(
            token=WETH,
            hops=(
                Hop(
                    pool=address(1),
                    token_in=WETH,
                    token_out=address(0xF00),
                    fee_pips=500,
                    kind="curve",
                ),
                cycle.hops[1],
            ),
        )
        with pytest.raises(FlasharbValueError, match="curve"):
            GasModel().estimate(odd)


class TestMixedVenues:
    """Ranking over V2, V3 and Balancer routes of a synthetic market, net of per-kind gas."""

    @pytest.fixture(scope="class")
    def market(self) -> SyntheticMarket:
        return generate(250, seed=7, dislocated=0.03)

    def test_accounting_adds_up(self, market: SyntheticMarket) -> None:
        states = market.states()
        index = CycleIndex.build(market.pools, market.flash_tokens, max_hops=4)
        model = GasModel(per_v3_hop=70_000, per_tick_crossed=20_000, per_balancer_hop=90_000)
        gas_price = GWEI // 10
        opps = rank(index, states, weth=market.weth, gas_price_wei=gas_price, gas_model=model)
        assert opps
        assert {h.kind for o in opps for h in o.cycle.hops} >= {"uniswap_v2", "uniswap_v3"}
        prices = weth_prices(market.pools, market.weth)
        for o in opps:
            sized = size_cycle(o.cycle, states)
            assert (o.amount_in, o.gross_profit, o.ticks_crossed) == (
                sized.amount_in,
                sized.profit,
                sized.ticks_crossed,
            )
            kinds = [h.kind for h in o.cycle.hops]
            assert o.gas_estimate == (
                model.base
                + model.per_v2_hop * kinds.count("uniswap_v2")
                + model.per_v3_hop * kinds.count("uniswap_v3")
                + model.per_balancer_hop * kinds.count("balancer")
                + model.per_tick_crossed * o.ticks_crossed
                + model.via_diamond * sum(k != "uniswap_v2" for k in kinds[1:])
            )
            price = eth_price(prices, o.cycle.token, market.weth)
            assert o.gas_cost == o.gas_estimate * gas_price * price.den // price.num
            assert o.net_profit == o.gross_profit - o.flash_fee - o.gas_cost
            assert o.net_profit_eth == o.net_profit * price.num // price.den > 0
        values = [o.net_profit_eth for o in opps]
        assert values == sorted(values, reverse=True)

    def test_rank_is_the_engine_scan_costed(self, market: SyntheticMarket) -> None:
        states = market.states()
        index = CycleIndex.build(market.pools, market.flash_tokens, max_hops=3)
        prices = weth_prices(market.pools, market.weth)
        engine = SearchEngine(index, states)
        costed = opportunities(
            engine.scan(), prices, weth=market.weth, gas_price_wei=GWEI, gas_model=GasModel()
        )
        ranked = rank(index, states, weth=market.weth, gas_price_wei=GWEI, gas_model=GasModel())
        assert ranked and ranked == costed  # the screen's gas floor drops nothing that pays
