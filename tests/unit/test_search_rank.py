"""Ranking net of flash fee and gas, value conversion into ETH, and disjoint selection; the
opportunity book's incremental updates against a fresh book."""

from __future__ import annotations

import json
import random

import pytest

from flasharb.amm.uniswap_v2 import V2PairState, checksum_address
from flasharb.errors import FlasharbValueError
from flasharb.kinds import HopKind, SourceKind
from flasharb.search.capital import FlashSource, fund
from flasharb.search.cycles import Cycle, CycleIndex, Hop
from flasharb.search.engine import SearchEngine
from flasharb.search.exact import size_cycle
from flasharb.search.gas import GasModel, GasShape
from flasharb.search.rank import (
    Opportunity,
    OpportunityBook,
    cost,
    rank,
    unlimited_vault,
)
from flasharb.search.route import encode_amounts, encode_path, execute_arb_calldata
from flasharb.search.select import select
from flasharb.search.sizing import optimize
from flasharb.search.valuation import EthPrice, eth_price, token_value_in_eth, weth_prices
from flasharb_testing.synthetic import SyntheticMarket, generate, shocked


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
        source=FlashSource.balancer(),
        amount_in=E18,
        amounts=(1, E18 + net_eth),
        ticks_crossed=0,
        flash_fee=0,
        gas_estimate=0,
        gas_price_wei=0,
        gas_cost=0,
        net_profit=net_eth,
        net_profit_eth=net_eth,
        price=EthPrice(token=cycle.token, pool=WETH, num=1, den=1, depth_weth=0),
    )


def exact_gas(model: GasModel, o: Opportunity) -> int:
    """The model's figure on the opportunity's exact calldata (guard guessed as the gross, as
    `cost` does)."""
    data = execute_arb_calldata(
        o.source.word,
        encode_path(o.cycle),
        encode_amounts(o.amount_in, o.amounts),
        o.gross_profit,
        o.block + 2,
    )
    shape = GasShape.of(
        o.cycle,
        source=o.source.kind,
        batch=o.source.batch,
        ticks_crossed=o.ticks_crossed,
        calldata=data,
    )
    return model.estimate(shape)


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
            assert o.flash_fee == 0 and o.source.kind is SourceKind.BALANCER_V2
            assert o.gas_estimate == exact_gas(gas_model, o)
            n = len(o.cycle.hops)  # V2 hops, each but the last paying the next pair
            v2 = gas_model.per_hop[HopKind.UNISWAP_V2] * n + gas_model.v2_to_pair * (n - 1)
            base = gas_model.base[SourceKind.BALANCER_V2]
            assert o.gas_estimate > 21_000 + base + v2  # plus the calldata
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
        """A 0.009% Vault fee (1e18 scale): charged on the input, rounded up, and the input is
        re-sized on the net (never above the fee-free optimum)."""
        free = rank(index, states, weth=WETH, gas_price_wei=GWEI, gas_model=GasModel())
        paid = rank(
            index,
            states,
            weth=WETH,
            gas_price_wei=GWEI,
            gas_model=GasModel(),
            flash_fee_percentage=9 * 10**13,
        )
        by_key = {o.cycle.key: o for o in free}
        assert paid
        for o in paid:
            assert o.flash_fee == -(-o.amount_in * 9 * 10**13 // E18) > 0
            assert o.amount_in <= by_key[o.cycle.key].amount_in
            assert o.net_profit == o.gross_profit - o.flash_fee - o.gas_cost
            assert o.net_profit < by_key[o.cycle.key].net_profit

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
        default = {o.cycle.key: o for o in rank(index, states, weth=WETH, gas_price_wei=GWEI)}
        model = GasModel(per_hop={HopKind.UNISWAP_V2: 60_000})
        opps = rank(index, states, weth=WETH, gas_price_wei=GWEI, gas_model=model)
        assert opps
        for o in opps:
            assert o.gas_estimate == exact_gas(model, o)
            assert o.gas_estimate - default[o.cycle.key].gas_estimate == (
                (60_000 - GasModel().per_hop[HopKind.UNISWAP_V2]) * len(o.cycle.hops)
            )

    def test_start_token_without_weth_pair_is_named(self, states: dict[str, V2PairState]) -> None:
        states = {
            **states,
            address(0x1006): pair(6, LONELY, DAI, 1_000 * E18, 1_100 * E18),
        }
        index = CycleIndex.build(states.values(), [LONELY], max_hops=2)
        book = OpportunityBook(
            index, states, weth=WETH, lenders=unlimited_vault(index), gas_price_wei=GWEI
        )
        assert book.engine.sized, "the LONELY/DAI cycle pays before costs"
        assert book.opportunities() == []  # it cannot be ranked against the others...
        assert LONELY in book.dropped[LONELY]  # ...and the book says why, naming the token


class TestFlashFee:
    """Each lender's own rounding: Balancer's FixedPoint.mulUp (1e18 scale), V3's
    mulDivRoundingUp (pips), V2's repayment ceiling."""

    @pytest.mark.parametrize(
        ("amount", "pct", "fee"),
        [
            (0, 10**14, 0),
            (E18, 0, 0),
            (1, 1, 1),
            (E18, 1, 1),
            (E18 + 1, 1, 2),
            (3 * E18, 9 * 10**13, 27 * 10**13),
        ],
        ids=["zero-amount", "zero-fee", "dust", "exact", "rounds-up", "realistic"],
    )
    def test_balancer_rounds_up(self, amount: int, pct: int, fee: int) -> None:
        assert FlashSource.balancer(pct).fee(amount) == fee

    def test_v3_and_v2(self) -> None:
        v3 = FlashSource.uniswap_v3(address(7), token0=True, fee_pips=500)
        assert v3.fee(E6) == 500 and v3.fee(E6 + 1) == 501
        v2 = FlashSource.uniswap_v2(address(8), token0=False, fee_pips=3000)
        assert v2.fee(997) == 3  # ceil(997 * 1e6 / 997000) - 997 = 1000 - 997

    def test_fee_above_100_percent_is_rejected(self) -> None:
        with pytest.raises(FlasharbValueError, match="flash fee"):
            FlashSource.balancer(E18 + 1)


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


class TestSelectOverRanked:
    """The policy over a ranked book: best first, no two picks share a pool."""

    def test_skips_overlapping_cycles(self) -> None:
        best = opportunity(two_hop(WETH, 1, 2), 50)
        overlaps = opportunity(two_hop(WETH, 2, 3), 40)
        free = opportunity(two_hop(USDC, 4, 5), 10)
        assert select([free, overlaps, best], top=3) == [best, free]

    def test_ranked_opportunities_come_out_disjoint(
        self, index: CycleIndex, states: dict[str, V2PairState]
    ) -> None:
        picked = select(
            rank(index, states, weth=WETH, gas_price_wei=GWEI, gas_model=GasModel()), top=10
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
            "amounts_out",
            "gas_cost",
            "gas_price_wei",
            "net_profit_eth",
            "ticks_crossed",
            "v4_ticks_crossed",
            "block",
        ]
        assert doc["flash_source"] == "balancer_v2"
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
    """21,000 + calldata + the source's base + a figure per hop; unknown kinds are refused."""

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
        model = GasModel(
            base={SourceKind.BALANCER_V2: 100_000},
            per_hop={HopKind.UNISWAP_V2: 60_000},
            v2_to_pair=1_000,  # each V2 hop that pays the next pair (all but the last)
        )
        data = bytes([1, 0, 2, 0])
        shape = GasShape.of(cycle, calldata=data)
        expected = 21_000 + 2 * 16 + 2 * 4 + 100_000 + 60_000 * hops + 1_000 * (hops - 1)
        assert model.estimate(shape) == expected

    def test_unknown_kind(self) -> None:
        with pytest.raises(FlasharbValueError, match="curve"):
            Hop(pool=address(1), token_in=WETH, token_out=address(0xF00), fee_pips=5, kind="curve")  # type: ignore[arg-type]
        model = GasModel(per_hop={HopKind.UNISWAP_V2: 1})  # no V3 figure
        v3 = Cycle(
            token=WETH,
            hops=(
                Hop(
                    pool=address(1),
                    token_in=WETH,
                    token_out=address(0xF00),
                    fee_pips=500,
                    kind=HopKind.UNISWAP_V3,
                ),
                two_hop(WETH, 1, 2).hops[1],
            ),
        )
        with pytest.raises(FlasharbValueError, match="no gas figure"):
            model.estimate(GasShape.of(v3))


class TestMixedVenues:
    """Ranking over V2, V3 and Balancer routes of a synthetic market, net of per-kind gas."""

    @pytest.fixture(scope="class")
    def market(self) -> SyntheticMarket:
        return generate(250, seed=7, dislocated=0.03)

    def test_accounting_adds_up(self, market: SyntheticMarket) -> None:
        states = market.states()
        index = CycleIndex.build(market.pools, market.flash_tokens, max_hops=4)
        model = GasModel(
            per_hop={
                HopKind.UNISWAP_V2: 50_000,
                HopKind.UNISWAP_V3: 70_000,
                HopKind.BALANCER: 90_000,
            },
            per_tick_crossed=20_000,
        )
        gas_price = GWEI // 10
        opps = rank(index, states, weth=market.weth, gas_price_wei=gas_price, gas_model=model)
        assert opps
        kinds_seen = {h.kind for o in opps for h in o.cycle.hops}
        assert kinds_seen >= {HopKind.UNISWAP_V2, HopKind.UNISWAP_V3}
        prices = weth_prices(market.pools, market.weth)
        for o in opps:
            sized = size_cycle(o.cycle, states)
            assert (o.amount_in, o.gross_profit, o.ticks_crossed) == (
                sized.amount_in,
                sized.profit,
                sized.ticks_crossed,
            )
            assert o.gas_estimate == exact_gas(model, o)
            price = eth_price(prices, o.cycle.token, market.weth)
            assert o.gas_cost == o.gas_estimate * gas_price * price.den // price.num
            assert o.net_profit == o.gross_profit - o.flash_fee - o.gas_cost
            assert o.net_profit_eth == o.net_profit * price.num // price.den > 0
        values = [o.net_profit_eth for o in opps]
        assert values == sorted(values, reverse=True)

    def test_rank_is_the_engine_scan_funded_and_costed(self, market: SyntheticMarket) -> None:
        states = market.states()
        index = CycleIndex.build(market.pools, market.flash_tokens, max_hops=3)
        prices = weth_prices(market.pools, market.weth)
        engine = SearchEngine(index, states)
        lenders = unlimited_vault(index)
        costed = []
        for sized in engine.scan():
            funded = fund(sized, states, lenders)
            if funded is not None:
                price = eth_price(prices, sized.cycle.token, market.weth)
                o = cost(funded, price, gas_price_wei=GWEI, gas_model=GasModel())
                if o.net_profit_eth > 0:
                    costed.append(o)
        costed.sort(key=lambda o: (-o.net_profit_eth, o.cycle.key))
        ranked = rank(index, states, weth=market.weth, gas_price_wei=GWEI, gas_model=GasModel())
        assert ranked and ranked == costed  # the screen's gas floor drops nothing that pays


class TestBook:
    """The book updated in place equals a book built afresh on the same states: what a
    long-lived market relies on."""

    @pytest.mark.parametrize("seed", [1, 2, 3])
    def test_update_equals_rebuild(self, seed: int) -> None:
        market = generate(300, seed=seed, dislocated=0.03)
        index = CycleIndex.build(market.pools, market.flash_tokens, max_hops=3)
        lenders = unlimited_vault(index)
        book = OpportunityBook(
            index, market.states(), weth=market.weth, lenders=lenders, gas_price_wei=GWEI
        )
        rng = random.Random(seed)
        changed = shocked(rng.sample(market.pools, 15), rng, max_move=0.01)
        update = book.update(changed, gas_price_wei=2 * GWEI)
        assert update.pools == len({s.address for s in changed})
        assert 0 < update.affected < len(index)
        states = market.states() | {s.address: s for s in changed}
        fresh = OpportunityBook(
            index, states, weth=market.weth, lenders=lenders, gas_price_wei=2 * GWEI
        )
        assert book.opportunities() == fresh.opportunities()
        assert book.opportunities()

    def test_evaluate_leaves_the_book_as_it_was(self) -> None:
        market = generate(200, seed=5, dislocated=0.01)
        index = CycleIndex.build(market.pools, market.flash_tokens, max_hops=3)
        lenders = unlimited_vault(index)
        book = OpportunityBook(
            index, market.states(), weth=market.weth, lenders=lenders, gas_price_wei=GWEI
        )
        before = book.opportunities()
        rng = random.Random(9)
        changed = {s.address: s for s in shocked(rng.sample(market.pools, 5), rng, 0.01)}
        hypothetical = book.evaluate(changed)
        assert book.opportunities() == before  # nothing moved in the book
        fresh = OpportunityBook(
            index, market.states() | changed, weth=market.weth, lenders=lenders, gas_price_wei=GWEI
        )
        through = [o for o in fresh.opportunities() if set(o.cycle.pools) & set(changed)]
        assert hypothetical == through


class TestLazyBook:
    """What the book makes current on demand (`best`, `picks`, `opportunities(limit)`) equals
    the same question asked of the whole book made current, after an update."""

    @staticmethod
    def updated(seed: int) -> tuple[OpportunityBook, OpportunityBook]:
        """The book after an update (lazy), and the same states in a book made whole."""
        market = generate(300, seed=seed, dislocated=0.03)
        index = CycleIndex.build(market.pools, market.flash_tokens, max_hops=3)
        lenders = unlimited_vault(index)
        book = OpportunityBook(
            index, market.states(), weth=market.weth, lenders=lenders, gas_price_wei=GWEI
        )
        book.opportunities()  # everything current: the update must make it stale again
        rng = random.Random(seed)
        changed = shocked(rng.sample(market.pools, 25), rng, max_move=0.02)
        book.update(changed, gas_price_wei=2 * GWEI)
        states = market.states() | {s.address: s for s in changed}
        whole = OpportunityBook(
            index, states, weth=market.weth, lenders=lenders, gas_price_wei=2 * GWEI
        )
        whole.opportunities()
        return book, whole

    @pytest.mark.parametrize("seed", [1, 2, 3, 4])
    def test_picks_are_the_policy_over_the_whole_book(self, seed: int) -> None:
        book, whole = self.updated(seed)
        everything = whole.opportunities()
        picks = book.picks(top=3)
        first = next(picks)
        made = len(book.current)
        assert made < len(everything)  # the first pick did not need the whole book
        assert [first, *picks] == select(everything, top=3)
        assert book.select(top=3) == select(everything, top=3)  # asked again: the same
        assert book.opportunities() == everything

    @pytest.mark.parametrize("limit", [1, 5, 40])
    def test_limit_is_the_head_of_the_whole_list(self, limit: int) -> None:
        book, whole = self.updated(7)
        everything = whole.opportunities()
        assert len(everything) > limit
        assert book.opportunities(limit=limit) == everything[:limit]
        with pytest.raises(FlasharbValueError, match="limit"):
            book.opportunities(limit=0)

    def test_excluded_pools_are_left_out(self) -> None:
        book, whole = self.updated(2)
        everything = whole.opportunities()
        out = set(everything[0].cycle.pools)
        free = [o for o in everything if out.isdisjoint(o.cycle.pools)]
        assert book.best(excluded=out) == free[0]
        assert book.opportunities(limit=5, excluded=out) == free[:5]
        assert book.best(min_net_profit_eth=everything[0].net_profit_eth) is None


class TestBookStaysBounded:
    """A long-lived book keeps per-cycle records only for what it holds: after many updates its
    side tables are no larger than its entries (a run meant to last days must not grow)."""

    def test_side_tables_follow_the_entries(self) -> None:
        market = generate(300, seed=11, dislocated=0.03)
        index = CycleIndex.build(market.pools, market.flash_tokens, max_hops=3)
        book = OpportunityBook(
            index,
            market.states(),
            weth=market.weth,
            lenders=unlimited_vault(index),
            gas_price_wei=GWEI,
        )
        rng = random.Random(11)
        states = market.states()
        for _ in range(25):
            changed = shocked(rng.sample(list(states.values()), 20), rng, max_move=0.02)
            states |= {s.address: s for s in changed}
            book.update(changed)
            book.select(top=2)
            book.opportunities(limit=10)
        assert book.funded
        assert set(book._funded_version) <= set(book.funded)
        assert book._refined <= set(book.pending)


class TestSelectPolicy:
    """The one policy: positive net in the token and above the guard in ETH, disjoint, top K."""

    def test_guard_and_top(self) -> None:
        a = opportunity(two_hop(WETH, 1, 2), 50)
        b = opportunity(two_hop(WETH, 3, 4), 30)
        c = opportunity(two_hop(USDC, 5, 6), 10)
        assert select([c, b, a], top=2) == [a, b]
        assert select([c, b, a], top=5, min_net_profit_eth=20) == [a, b]
        with pytest.raises(FlasharbValueError, match="top"):
            select([a], top=0)
