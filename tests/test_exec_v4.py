"""Uniswap V4 in FlashArbFacet on the replica fork (issue 16): V4 hops through the real
PoolManager (v4-core 1.0.2 bytecode at its mainnet address) inside one `unlock`, ERC-20 and
native-ETH pools, mixed with V2, V3 and Balancer hops on every capital source, and the
PoolManager as a zero-fee lender whose loan nets against the route's V4 hops. Every trade goes
through the one trader: predicted (exact pool math on states read from the chain), simulated
as mined, and realized profit agree to the wei, and the ArbExecuted event says the same."""

from __future__ import annotations

from typing import Any

import pytest
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.cheats import balance_of, deal
from flasharb.execute.deploy import Deployment
from flasharb.execute.plan import Plan
from flasharb.execute.trader import Trade
from flasharb.kinds import HopKind
from flasharb_testing import routes as R
from flasharb_testing import v4 as V4

pytestmark = pytest.mark.fork

DUST_TOKENS = (A.USDC, A.WETH, A.DAI, A.USDT)


@pytest.fixture(autouse=True)
def _dust(w3: Web3, deployment: Any) -> None:
    """The diamond holds 1 wei of each token, as after its first trade (the gas model's case)."""
    for token in DUST_TOKENS:
        deal(w3, token, deployment.diamond, 1)


def _check(w3: Web3, dep: Deployment, plan: Plan) -> Trade:
    """predicted == simulated == realized == event profit; the PoolManager holds exactly what it
    held plus what the route's V4 hops left in it; the diamond holds no ETH."""
    before = balance_of(w3, plan.cycle.token, dep.diamond)
    eth_before = w3.eth.get_balance(dep.diamond)  # type: ignore[arg-type]
    trade = R.execute(R.trader(w3, dep), plan)
    assert trade.predicted_profit == plan.predicted_profit > 0
    assert trade.simulated_profit == trade.predicted_profit
    assert trade.realized_profit == trade.predicted_profit
    assert trade.event_profit == trade.predicted_profit
    assert balance_of(w3, plan.cycle.token, dep.diamond) == before + trade.realized_profit
    assert w3.eth.get_balance(dep.diamond) == eth_before  # type: ignore[arg-type]
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
