"""Uniswap V4 in FlashArbFacet on the replica fork (issue 16): V4 hops through the real
PoolManager (v4-core 1.0.2 bytecode at its mainnet address) inside one `unlock`, ERC-20 and
native-ETH pools, mixed with V2, V3 and Balancer hops on every capital source, and the
PoolManager as a zero-fee lender whose loan nets against the route's V4 hops. Every trade goes
through the one trader: predicted (exact pool math on states read from the chain), simulated
as mined, and realized profit agree to the wei, and the ArbExecuted event (anonymous, the profit
its one topic) says the same."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils import keccak, to_checksum_address
from web3 import Web3

from flasharb.amm.uniswap_v4 import NATIVE
from flasharb.chain import addresses as A
from flasharb.chain.cheats import balance_of, deal
from flasharb.execute.deploy import Deployment
from flasharb.execute.plan import Plan
from flasharb.execute.shock import shock
from flasharb.execute.trader import Trade
from flasharb.kinds import HopKind, SourceKind
from flasharb.search.capital import FlashSource
from flasharb.search.market import Market, MarketConfig
from flasharb_testing import routes as R
from flasharb_testing import v4 as V4

DUST_TOKENS = (A.USDC, A.WETH, A.DAI, A.USDT)


@pytest.fixture(autouse=True)
def _dust(w3: Web3, deployment: Any) -> None:
    """The diamond holds 1 wei of each token, as after its first trade (the gas model's case)."""
    for token in DUST_TOKENS:
        deal(w3, token, deployment.diamond, 1)


def _check(w3: Web3, dep: Deployment, plan: Plan) -> Trade:
    """predicted == simulated == realized == event profit; the diamond holds no ETH; gas within
    3% of the gas model's prediction on the exact calldata (as tests/test_exec_routes.py)."""
    before = balance_of(w3, plan.cycle.token, dep.diamond)
    eth_before = w3.eth.get_balance(dep.diamond)  # type: ignore[arg-type]
    trade = R.execute(R.trader(w3, dep), plan)
    assert trade.predicted_profit == plan.predicted_profit > 0
    assert trade.simulated_profit == trade.predicted_profit
    assert trade.realized_profit == trade.predicted_profit
    assert trade.event_profit == trade.predicted_profit
    assert balance_of(w3, plan.cycle.token, dep.diamond) == before + trade.realized_profit
    assert w3.eth.get_balance(dep.diamond) == eth_before  # type: ignore[arg-type]
    assert abs(trade.gas_used - trade.gas_predicted) <= trade.gas_predicted * 3 // 100, (
        trade.gas_used,
        trade.gas_predicted,
    )
    return trade


def _v2_weth_usdc(w3: Web3) -> Any:
    return R.pool(w3, "uniswap_v2", A.WETH, A.USDC)


class TestV4Hops:
    """A V4 hop next to every other hop kind, on a Balancer loan unless said otherwise."""

    def test_erc20_pool_after_a_v2_hop(self, w3: Web3, deployment: Any) -> None:
        """USDC -> WETH on the shocked V2 pair (the diamond measures the WETH), WETH -> USDC in
        the V4 WETH/USDC pool (sync, transfer, settle, swap, take), in the route's unlock."""
        R.shock_v2_weth_usdc(w3)
        pool = V4.key(w3, A.WETH, A.USDC, fee=500)
        route = V4.cycle(A.USDC, (_v2_weth_usdc(w3), A.WETH), (pool, A.USDC))
        assert [h.kind for h in route.hops] == [HopKind.UNISWAP_V2, HopKind.UNISWAP_V4]
        plan, _ = V4.sized_plan(w3, route, R.balancer(w3))
        _check(w3, deployment, plan)

    def test_native_eth_pool(self, w3: Web3, deployment: Any) -> None:
        """The ETH/USDC pool of native ETH: the route says WETH, the facet unwraps the WETH the
        V2 pair paid and settles it as the call's value."""
        R.shock_v2_weth_usdc(w3)
        pool = V4.key(w3, NATIVE, A.USDC, fee=500)
        route = V4.cycle(A.USDC, (_v2_weth_usdc(w3), A.WETH), (pool, A.USDC))
        assert route.hops[1].native
        plan, _ = V4.sized_plan(w3, route, R.balancer(w3))
        _check(w3, deployment, plan)

    def test_native_pool_first_pays_the_next_pair_in_weth(self, w3: Web3, deployment: Any) -> None:
        """WETH -> USDC in the native pool (WETH unwrapped and settled), USDC -> WETH on the
        cheap V2 pair (USDC taken straight into the pair)."""
        R.shock_v2_weth_usdc(w3)
        pool = V4.key(w3, NATIVE, A.USDC, fee=3000)
        route = V4.cycle(A.WETH, (pool, A.USDC), (_v2_weth_usdc(w3), A.WETH))
        plan, _ = V4.sized_plan(w3, route, R.balancer(w3))
        _check(w3, deployment, plan)

    def test_native_output_pays_the_next_pair(self, w3: Web3, deployment: Any) -> None:
        """DAI -> ETH in a native pool: the ETH taken is wrapped in the diamond, which pays the
        next V2 pair in WETH."""
        R.shock_v2_weth_usdc(w3)
        route = V4.cycle(
            A.USDC,
            (V4.key(w3, A.USDC, A.DAI, fee=10), A.DAI),
            (V4.key(w3, NATIVE, A.DAI, fee=500), A.WETH),
            (_v2_weth_usdc(w3), A.USDC),
        )
        with pytest.raises(Exception, match="no profit"):  # WETH is cheap on V2: wrong way
            V4.sized_plan(w3, route, R.balancer(w3))
        shock(w3, _v2_weth_usdc(w3).address, A.USDC, 3_000_000 * 10**6)  # now dear on V2
        plan, _ = V4.sized_plan(w3, route, R.balancer(w3))
        _check(w3, deployment, plan)

    def test_consecutive_v4_hops_net(self, w3: Web3, deployment: Any) -> None:
        """V2, then two V4 hops: ETH -> DAI in a native pool, DAI -> USDC in a stable pool. The
        DAI the first credits is what the second sells: nothing moves between them."""
        R.shock_v2_weth_usdc(w3)
        route = V4.cycle(
            A.USDC,
            (_v2_weth_usdc(w3), A.WETH),
            (V4.key(w3, NATIVE, A.DAI, fee=500), A.DAI),
            (V4.key(w3, A.USDC, A.DAI, fee=10), A.USDC),
        )
        plan, _ = V4.sized_plan(w3, route, R.balancer(w3))
        trade = _check(w3, deployment, plan)
        receipt = w3.eth.get_transaction_receipt(trade.tx_hash)  # type: ignore[arg-type]
        dai = [lg for lg in receipt["logs"] if lg["address"] == A.DAI]
        assert dai == [], "DAI never leaves the PoolManager"

    def test_with_v3_and_balancer_hops(self, w3: Web3, deployment: Any) -> None:
        """Balancer -> V4 -> V3 on a V2 flash swap: the Vault pays the diamond, which settles
        the V4 pool; the V4 output is taken to the diamond, which pays the V3 pool's callback."""
        bal = R.pool(w3, "balancer", A.WETH, A.USDC)
        shock(w3, bal.address, A.WETH, 300 * 10**18)
        route = V4.cycle(
            A.USDC,
            (bal, A.WETH),
            (V4.key(w3, NATIVE, A.DAI, fee=3000), A.DAI),
            (R.pool(w3, "uniswap_v3", A.DAI, A.USDC, fee=100), A.USDC),
        )
        lender = R.v2_lender(R.pool(w3, "uniswap_v2", A.USDC, A.USDT), A.USDC)
        plan, _ = V4.sized_plan(w3, route, lender)
        assert plan.flash_fee > 0
        _check(w3, deployment, plan)

    @pytest.mark.parametrize("source", ["uniswap_v3", "uniswap_v2", "inventory"])
    def test_on_every_other_source(self, w3: Web3, deployment: Any, source: str) -> None:
        """V2 -> V4 inside a V3 flash, a V2 flash swap, and on the diamond's own WETH/USDC."""
        R.shock_v2_weth_usdc(w3)
        route = V4.cycle(
            A.USDC, (_v2_weth_usdc(w3), A.WETH), (V4.key(w3, A.WETH, A.USDC, fee=500), A.USDC)
        )
        if source == "uniswap_v3":
            src = R.v3_lender(R.pool(w3, "uniswap_v3", A.USDC, A.USDT, fee=100), A.USDC)
        elif source == "uniswap_v2":
            src = R.v2_lender(R.pool(w3, "uniswap_v2", A.USDC, A.USDT), A.USDC)
        else:
            src = FlashSource.inventory()
        plan, _ = V4.sized_plan(w3, route, src)
        if source == "inventory":
            deal(w3, A.USDC, deployment.diamond, plan.amount_in + 1)
        _check(w3, deployment, plan)


class TestV4Loans:
    """The PoolManager lends at no fee inside its unlock; a route's V4 hops next to the loan net
    against it (only the gain is taken out)."""

    def test_loan_for_a_route_without_v4_hops(self, w3: Web3, deployment: Any) -> None:
        """take, the V2 chain, settle: a plain zero-fee loan."""
        R.shock_v2_weth_usdc(w3)
        plan, _ = V4.sized_plan(w3, R.v2_routes(w3)["2-hop"], FlashSource.uniswap_v4())
        assert plan.source.kind is SourceKind.UNISWAP_V4 and plan.flash_fee == 0
        _check(w3, deployment, plan)

    def test_loan_around_a_balancer_hop(self, w3: Web3, deployment: Any) -> None:
        """A Balancer hop cannot run inside a Balancer loan; inside a V4 loan it can."""
        bal = R.pool(w3, "balancer", A.WETH, A.USDC)
        shock(w3, bal.address, A.WETH, 300 * 10**18)
        route = R.cycle(A.USDC, (bal, A.WETH), (_v2_weth_usdc(w3), A.USDC))
        plan, _ = V4.sized_plan(w3, route, FlashSource.uniswap_v4())
        _check(w3, deployment, plan)

    def test_first_v4_hop_swaps_against_the_loan(self, w3: Web3, deployment: Any) -> None:
        """WETH borrowed and sold in the V4 WETH/USDC pool in the same unlock: the swap's debt
        is the loan, nothing is taken; the V2 pair pays the diamond, which settles the WETH."""
        R.shock_v2_weth_usdc(w3)
        route = V4.cycle(
            A.WETH, (V4.key(w3, A.WETH, A.USDC, fee=500), A.USDC), (_v2_weth_usdc(w3), A.WETH)
        )
        plan, _ = V4.sized_plan(w3, route, FlashSource.uniswap_v4())
        trade = _check(w3, deployment, plan)
        pair = _v2_weth_usdc(w3).address
        assert _transfers(w3, trade, A.WETH) == [  # no WETH leaves the PoolManager
            (pair, deployment.diamond, plan.amounts[-1]),
            (deployment.diamond, A.UNISWAP_V4_POOL_MANAGER, plan.amount_in),
        ]

    def test_both_ends_net_only_the_gain_moves(self, w3: Web3, deployment: Any) -> None:
        """DAI -> USDC (V4) -> WETH (V2) -> DAI (V4 native) on a DAI loan: the first hop swaps
        the loan, the last hop's DAI repays it, and the only DAI that moves is the gain."""
        R.shock_v2_weth_usdc(w3)
        route = V4.cycle(
            A.DAI,
            (V4.key(w3, A.USDC, A.DAI, fee=10), A.USDC),
            (_v2_weth_usdc(w3), A.WETH),
            (V4.key(w3, NATIVE, A.DAI, fee=500), A.DAI),
        )
        plan, _ = V4.sized_plan(w3, route, FlashSource.uniswap_v4())
        trade = _check(w3, deployment, plan)
        transfers = _transfers(w3, trade, A.DAI)
        assert transfers == [(A.UNISWAP_V4_POOL_MANAGER, deployment.diamond, plan.predicted_profit)]

    def test_native_eth_loan_for_a_weth_route(self, w3: Web3, deployment: Any) -> None:
        """The PoolManager's native ETH lent for a WETH route: the first hop (the native pool)
        sells it in place; the V2 pair pays the diamond WETH, unwrapped to repay."""
        R.shock_v2_weth_usdc(w3)
        route = V4.cycle(
            A.WETH, (V4.key(w3, NATIVE, A.USDC, fee=500), A.USDC), (_v2_weth_usdc(w3), A.WETH)
        )
        plan, _ = V4.sized_plan(w3, route, FlashSource.uniswap_v4(native=True))
        _check(w3, deployment, plan)

    def test_native_loan_wrapped_for_an_erc20_first_hop(self, w3: Web3, deployment: Any) -> None:
        """A native loan whose first hop sells WETH (not ETH): taken, wrapped, settled as WETH."""
        R.shock_v2_weth_usdc(w3)
        route = V4.cycle(
            A.WETH, (V4.key(w3, A.WETH, A.USDC, fee=500), A.USDC), (_v2_weth_usdc(w3), A.WETH)
        )
        plan, _ = V4.sized_plan(w3, route, FlashSource.uniswap_v4(native=True))
        _check(w3, deployment, plan)


TRANSFER = "0x" + keccak(text="Transfer(address,address,uint256)").hex()


def _transfers(w3: Web3, trade: Trade, token: str) -> list[tuple[str, str, int]]:
    """(from, to, amount) of every `token` Transfer in the trade's receipt."""
    receipt = w3.eth.get_transaction_receipt(trade.tx_hash)  # type: ignore[arg-type]
    out = []
    for lg in receipt["logs"]:
        if lg["address"] == token and "0x" + bytes(lg["topics"][0]).hex() == TRANSFER:
            out.append(
                (
                    to_checksum_address(bytes(lg["topics"][1])[12:]),
                    to_checksum_address(bytes(lg["topics"][2])[12:]),
                    int.from_bytes(bytes(lg["data"]), "big"),
                )
            )
    return out


class TestMarketLenders:
    """The market reads what the PoolManager can lend with its other lenders (one eth_call);
    the engine funds and sizes a route with it and the trader sends it, unchanged."""

    def test_capacity_is_the_pool_managers_balance(self, w3: Web3) -> None:
        market = Market.build(w3, MarketConfig(max_hops=2))
        pm = A.UNISWAP_V4_POOL_MANAGER
        for token in (A.USDC, A.DAI, A.WETH):
            v4 = [ln for ln in market.lenders.of(token) if ln.source.kind is SourceKind.UNISWAP_V4]
            held = {False: balance_of(w3, token, pm)}
            if token == A.WETH:
                held[True] = w3.eth.get_balance(pm)  # type: ignore[arg-type]
            assert {ln.source.native: ln.capacity for ln in v4} == held
            assert all(h > 0 for h in held.values())

    def test_a_market_opportunity_on_a_v4_loan(self, w3: Web3, deployment: Any) -> None:
        R.shock_v2_weth_usdc(w3)
        market = Market.build(w3, MarketConfig(max_hops=2))
        route = market.route(
            A.USDC,
            (market.pool("uniswap_v2", A.WETH, A.USDC), A.WETH),
            (market.pool("sushiswap", A.WETH, A.USDC), A.USDC),
        )
        lender = next(
            ln for ln in market.lenders.of(A.USDC) if ln.source.kind is SourceKind.UNISWAP_V4
        )
        opp = market.opportunity(route, source=lender.source)
        assert opp.source == FlashSource.uniswap_v4() and opp.flash_fee == 0
        t = R.trader(w3, deployment)
        prepared = t.prepare([opp], market.head)[0]
        assert prepared.ok, prepared.error
        trade = t.reconcile(t.send(prepared))
        assert trade.realized_profit == trade.simulated_profit == opp.predicted_profit > 0
