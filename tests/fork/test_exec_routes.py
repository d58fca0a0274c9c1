"""Every hop kind and every capital source of FlashArbFacet on the replica fork: an opportunity
manufactured with a shock, sized with the exact pool math, executed; predicted, simulated and
realized profit agree to the wei, and the ArbExecuted event (anonymous, the profit its one topic)
or ArbExecutedWithBribe says the same."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

import pytest
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.cheats import balance_of, deal
from flasharb.errors import FlasharbValueError
from flasharb.execute.deploy import Deployment, v2_factories
from flasharb.execute.plan import Plan
from flasharb.execute.shock import shock
from flasharb.execute.trader import Trade
from flasharb.kinds import HopKind, SourceKind
from flasharb.search.capital import FlashSource
from flasharb.search.graph import NO_V2_FACTORY, V2_FACTORY_VENUES, v2_factory
from flasharb.search.market import Market
from flasharb.search.route import encode_path, execute_arb_calldata, v2_pair_address
from flasharb_testing import routes as R

DUST_TOKENS = (A.USDC, A.WETH, A.DAI, A.USDT)

TERMS = slice(4 + 2 * 32, 4 + 3 * 32)  # executeArb(): source, minProfit, then terms


@pytest.fixture(autouse=True)
def _dust(w3: Web3, deployment: Any) -> None:
    """The diamond holds 1 wei of each token, as it does after its first trade (TreasuryFacet
    never takes the last wei): the condition the gas model's defaults are fitted in."""
    for token in DUST_TOKENS:
        deal(w3, token, deployment.diamond, 1)


def _check(w3: Web3, dep: Deployment, plan: Plan) -> Trade:
    """Execute `plan` through the trader and check the books: predicted == simulated ==
    realized == event profit, no allowance left to the Vault, gas within 3% of the gas model's
    prediction on the exact calldata."""
    before = balance_of(w3, plan.cycle.token, dep.diamond)
    trade = R.execute(R.trader(w3, dep), plan)
    assert trade.predicted_profit == plan.predicted_profit > 0
    assert trade.simulated_profit == trade.predicted_profit
    assert trade.realized_profit == trade.predicted_profit
    assert trade.event_profit == trade.predicted_profit
    assert balance_of(w3, plan.cycle.token, dep.diamond) == before + trade.realized_profit
    allowance = w3.eth.call(
        cast(
            Any,
            {
                "to": plan.cycle.token,
                "data": "0xdd62ed3e"
                + dep.diamond[2:].lower().rjust(64, "0")
                + A.BALANCER_VAULT[2:].lower().rjust(64, "0"),
            },
        )
    )
    assert int.from_bytes(allowance, "big") == 0, "no approval outlives the transaction"
    assert abs(trade.gas_used - trade.gas_predicted) <= trade.gas_predicted * 3 // 100, (
        trade.gas_used,
        trade.gas_predicted,
    )
    return trade


class TestHopKinds:
    """One route per hop kind: V2 pairs, Uniswap V3 pools, Balancer pools (single swaps and a
    Balancer-only cycle as one batchSwap)."""

    def test_v2_two_hop_balancer_loan(self, w3: Web3, deployment: Any) -> None:
        R.shock_v2_weth_usdc(w3)
        plan, _ = R.sized_plan(w3, R.v2_routes(w3)["2-hop"], R.balancer(w3))
        _check(w3, deployment, plan)

    def test_v3_hops(self, w3: Web3, deployment: Any) -> None:
        v3_3000 = R.pool(w3, "uniswap_v3", A.WETH, A.USDC, fee=3000)
        v3_500 = R.pool(w3, "uniswap_v3", A.WETH, A.USDC, fee=500)
        shock(w3, v3_3000.address, A.WETH, 2_000 * 10**18)
        route = R.cycle(A.USDC, (v3_3000, A.WETH), (v3_500, A.USDC))
        plan, _ = R.sized_plan(w3, route, R.balancer(w3))
        _check(w3, deployment, plan)

    def test_mixed_v2_v3_v2(self, w3: Web3, deployment: Any) -> None:
        """V2 -> V3 (the pair pays this contract, which measures what arrived and pays the V3
        pool in its callback) -> V2 (the V3 pool pays the next pair directly)."""
        R.shock_v2_weth_usdc(w3)
        route = R.cycle(
            A.USDC,
            (R.pool(w3, "uniswap_v2", A.WETH, A.USDC), A.WETH),
            (R.pool(w3, "uniswap_v3", A.WETH, A.DAI, fee=500), A.DAI),
            (R.pool(w3, "uniswap_v2", A.USDC, A.DAI), A.USDC),
        )
        plan, _ = R.sized_plan(w3, route, R.balancer(w3))
        _check(w3, deployment, plan)

    def test_balancer_hop(self, w3: Web3, deployment: Any) -> None:
        """A Balancer swap through the Vault (exact approval, consumed), inside a V3 flash loan."""
        bal = R.pool(w3, "balancer", A.WETH, A.USDC)
        shock(w3, bal.address, A.WETH, 300 * 10**18)
        route = R.cycle(A.USDC, (bal, A.WETH), (R.pool(w3, "uniswap_v2", A.WETH, A.USDC), A.USDC))
        lender = R.pool(w3, "uniswap_v3", A.USDC, A.USDT, fee=100)
        plan, _ = R.sized_plan(w3, route, R.v3_lender(lender, A.USDC))
        assert plan.flash_fee > 0
        _check(w3, deployment, plan)

    def test_balancer_only_cycle_is_one_batch_swap(self, w3: Web3, deployment: Any) -> None:
        """Two Balancer pools: one Vault batchSwap settles net, so no capital moves at all."""
        two = R.pool(w3, "balancer", A.WETH, A.USDC)
        three = R.pool(w3, "balancer", A.WETH, A.USDC, n_tokens=3)
        shock(w3, two.address, A.WETH, 300 * 10**18)
        route = R.cycle(A.USDC, (two, A.WETH), (three, A.USDC))
        assert balance_of(w3, A.USDC, deployment.diamond) == 1  # no inventory needed: dust only
        plan, _ = R.sized_plan(w3, route, FlashSource.batch_swap())
        trade = _check(w3, deployment, plan)
        receipt = w3.eth.get_transaction_receipt(trade.tx_hash)  # type: ignore[arg-type]
        vault_logs = [lg for lg in receipt["logs"] if lg["address"] == A.BALANCER_VAULT]
        assert len(vault_logs) == 2  # two Swap events, no flash loan


class TestCapitalSources:
    """The same kind of trade on each capital source; each lender's callback authenticated the
    same way."""

    def test_uniswap_v2_flash_swap(self, w3: Web3, deployment: Any) -> None:
        R.shock_v2_weth_usdc(w3)
        lender = R.pool(w3, "uniswap_v2", A.USDC, A.USDT)
        plan, _ = R.sized_plan(w3, R.v2_routes(w3)["3-hop"], R.v2_lender(lender, A.USDC))
        assert plan.flash_fee > 0
        _check(w3, deployment, plan)

    def test_uniswap_v3_flash(self, w3: Web3, deployment: Any) -> None:
        R.shock_v2_weth_usdc(w3)
        lender = R.pool(w3, "uniswap_v3", A.USDC, A.USDT, fee=100)
        plan, _ = R.sized_plan(w3, R.v2_routes(w3)["2-hop"], R.v3_lender(lender, A.USDC))
        _check(w3, deployment, plan)

    def test_inventory(self, w3: Web3, deployment: Any) -> None:
        R.shock_v2_weth_usdc(w3)
        route = R.v2_routes(w3)["4-hop"]
        plan, _ = R.sized_plan(w3, route, FlashSource.inventory())
        deal(w3, A.USDC, deployment.diamond, plan.amount_in + 1)  # the diamond's own money
        _check(w3, deployment, plan)


class TestSearchSources:
    """The sources the search picks (the market's lenders, from its own reads) are the ones the
    contract is sent: the same lender, token side and fee as sources built by hand from the
    registry and the Vault's fee read here, fee for fee."""

    def test_market_lenders_are_the_contract_sources(self, w3: Web3) -> None:
        amount = R.usdc(1_000_000)
        v3 = R.pool(w3, "uniswap_v3", A.USDC, A.USDT, fee=100)
        v2 = R.pool(w3, "uniswap_v2", A.USDC, A.USDT)
        lenders = Market.build(w3).lenders
        by_lender = {lender.source.lender: lender.source for lender in lenders.of(A.USDC)}
        for source in (R.balancer(w3), R.v3_lender(v3, A.USDC), R.v2_lender(v2, A.USDC)):
            assert by_lender[source.lender] == source, source.kind.label
            assert by_lender[source.lender].word == source.word
        assert R.v3_lender(v3, A.USDC).fee(amount) == -(-amount * 100 // 10**6)
        assert R.v2_lender(v2, A.USDC).fee(amount) == -(-amount * 10**6 // 997_000) - amount
        assert R.balancer(w3).fee(amount) == -(-amount * R.vault_flash_fee(w3) // 10**18)

    def test_search_choice_for_each_route_shape(self, w3: Web3) -> None:
        """No Balancer hop: the Vault; a Balancer hop: a pool not on the route; all-Balancer:
        one batch swap, sent as the diamond's inventory (no loan, no callback)."""
        lenders = Market.build(w3).lenders
        routes = R.v2_routes(w3)
        bal = R.pool(w3, "balancer", A.WETH, A.USDC)
        uni = R.pool(w3, "uniswap_v2", A.WETH, A.USDC)
        amount = R.usdc(10_000)
        assert lenders.choose(routes["2-hop"], amount) == R.balancer(w3)
        mixed = lenders.choose(R.cycle(A.USDC, (bal, A.WETH), (uni, A.USDC)), amount)
        assert mixed is not None and mixed.kind is not SourceKind.BALANCER_V2
        assert mixed.lender not in (bal.address, uni.address)
        three = R.pool(w3, "balancer", A.WETH, A.USDC, n_tokens=3)
        batch = lenders.choose(R.cycle(A.USDC, (bal, A.WETH), (three, A.USDC)), amount)
        assert batch == FlashSource.batch_swap()
        assert batch.word == FlashSource.inventory().word


class TestDerivedPools:
    """No pool is named by address (issue 14): a V2 hop is its kind, its factory's index and its
    token out; the facet derives the pair from the factory, that factory's pair code hash on
    this chain and the two tokens, exactly as v2_pair_address does here."""

    def test_every_v2_pair_is_at_its_factorys_create2_address(self, w3: Web3) -> None:
        factories = v2_factories(w3)
        pairs = [p for p in R.registry(w3) if p.kind is HopKind.UNISWAP_V2]
        assert {p.venue for p in pairs} == set(V2_FACTORY_VENUES)
        for p in pairs:
            factory, code_hash = factories[v2_factory(p.venue)]
            assert factory == A.V2_FACTORIES[p.venue]
            assert v2_pair_address(factory, code_hash, *p.tokens) == p.address, p.venue
        # Uniswap's is the canonical hash; the replica's SushiSwap is rebuilt from source, so
        # its hash (read from the factory's pairCodeHash()) is its own: why deploy reads it
        assert factories[v2_factory("uniswap_v2")][1] == A.UNISWAP_V2_PAIR_INIT_CODE_HASH
        assert factories[v2_factory("sushiswap")][1] != A.UNISWAP_V2_PAIR_INIT_CODE_HASH

    def test_a_v2_hop_is_kind_factory_token_out(self, w3: Web3) -> None:
        route = R.v2_routes(w3)["2-hop"]  # Uniswap V2 then SushiSwap
        raw = bytes.fromhex
        assert encode_path(route) == (
            raw(A.USDC[2:]) + b"\x00\x00" + raw(A.WETH[2:]) + b"\x00\x01" + raw(A.USDC[2:])
        )
        assert [h.factory for h in route.hops] == [0, 1]
        market = Market.build(w3)  # the search's own hops carry the same index
        uni = market.pool("uniswap_v2", A.WETH, A.USDC)
        sushi = market.pool("sushiswap", A.WETH, A.USDC)
        assert market.route(A.USDC, (uni, A.WETH), (sushi, A.USDC)) == route
        found = {
            h.pool: h.factory for c in market.index.cycles_touching([sushi.address]) for h in c.hops
        }
        assert found[sushi.address] == 1 and found.get(uni.address, 0) == 0

    def test_a_pair_of_a_venue_without_a_factory_is_not_encoded(self, w3: Web3) -> None:
        route = R.v2_routes(w3)["2-hop"]
        orphan = replace(route.hops[1], factory=NO_V2_FACTORY)
        with pytest.raises(FlasharbValueError, match="factory index -1 is not one the diamond"):
            encode_path(replace(route, hops=(route.hops[0], orphan)))

    def test_terms_pack_the_bribe_above_the_deadline(self) -> None:
        data = execute_arb_calldata(0, b"", b"", 7, 1_234, 2_500)
        assert data[TERMS] == (2_500 << 240 | 1_234).to_bytes(32, "big")
        assert execute_arb_calldata(0, b"", b"", 7, 1_234)[TERMS] == (1_234).to_bytes(
            32, "big"
        )  # no bribe: the word is the deadline, as before issue 14
        with pytest.raises(FlasharbValueError, match="0..10000 basis points"):
            execute_arb_calldata(0, b"", b"", 7, 1_234, 10_001)
        with pytest.raises(FlasharbValueError, match="below 2\\^128"):
            execute_arb_calldata(0, b"", b"", 7, 2**128)  # issue 17: bits 128..239 carry the loss

    def test_terms_pack_the_loss_allowance_between_bribe_and_deadline(self) -> None:
        data = execute_arb_calldata(0, b"", b"", 7, 1_234, 2_500, 99)
        assert data[TERMS] == (2_500 << 240 | 99 << 128 | 1_234).to_bytes(32, "big")
        with pytest.raises(FlasharbValueError, match="loss allowance"):
            execute_arb_calldata(0, b"", b"", 7, 1_234, 0, 2**112)
