"""Every hop kind and every capital source of FlashArbFacet on the replica fork: an opportunity
manufactured with a shock, sized with the exact pool math, executed; predicted, simulated and
realized profit agree to the wei, and the ArbExecuted event says the same."""

from __future__ import annotations

from typing import Any, cast

import pytest
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.cheats import balance_of, deal
from flasharb.errors import FlasharbValueError
from flasharb.execute import routes as R
from flasharb.execute.executor import Executor, FlashSource, Plan, Trade
from flasharb.execute.shock import shock
from flasharb.search.flash_source import (
    BALANCER_BATCH,
    BALANCER_LOAN,
    INVENTORY,
    UNISWAP_V2_FLASH,
    UNISWAP_V3_FLASH,
    FlashPlan,
    v2_flash_fee,
    v3_flash_fee,
)

pytestmark = pytest.mark.fork

DUST_TOKENS = (A.USDC, A.WETH, A.DAI, A.USDT)


@pytest.fixture(autouse=True)
def _dust(w3: Web3, deployment: Any) -> None:
    """The diamond holds 1 wei of each token, as it does after its first trade (TreasuryFacet
    never takes the last wei): the condition ExecGas is fitted in."""
    for token in DUST_TOKENS:
        deal(w3, token, deployment.diamond, 1)


def _check(ex: Executor, plan: Plan, **kw: Any) -> Trade:
    """Execute `plan` and check the books: predicted == simulated == realized == event profit,
    no allowance left to the Vault, gas within 3% of ExecGas's prediction."""
    before = balance_of(ex.w3, plan.cycle.token, ex.dep.diamond)
    trade = ex.execute_plan(plan, 0, **kw)
    assert trade.predicted_profit == plan.predicted_profit > 0
    assert trade.simulated_profit == trade.predicted_profit
    assert trade.realized_profit == trade.predicted_profit
    assert trade.event_profit == trade.predicted_profit
    assert balance_of(ex.w3, plan.cycle.token, ex.dep.diamond) == before + trade.realized_profit
    allowance = ex.w3.eth.call(
        cast(
            Any,
            {
                "to": plan.cycle.token,
                "data": "0xdd62ed3e"
                + ex.dep.diamond[2:].lower().rjust(64, "0")
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
        ex = Executor(w3, deployment)
        sized = R.sized_plan(
            ex, R.v2_routes(w3)["2-hop"], FlashSource.balancer(), R.usdc(2_000_000)
        )
        _check(ex, sized.plan)

    def test_v3_hops(self, w3: Web3, deployment: Any) -> None:
        v3_3000 = R.pool(w3, "uniswap_v3", A.WETH, A.USDC, fee=3000)
        v3_500 = R.pool(w3, "uniswap_v3", A.WETH, A.USDC, fee=500)
        shock(w3, v3_3000.address, A.WETH, 2_000 * 10**18)
        ex = Executor(w3, deployment)
        route = R.cycle(A.USDC, (v3_3000, A.WETH), (v3_500, A.USDC))
        sized = R.sized_plan(ex, route, FlashSource.balancer(), R.usdc(20_000_000))
        _check(ex, sized.plan)

    def test_mixed_v2_v3_v2(self, w3: Web3, deployment: Any) -> None:
        """V2 -> V3 (the pair pays this contract, which measures what arrived and pays the V3
        pool in its callback) -> V2 (the V3 pool pays the next pair directly)."""
        R.shock_v2_weth_usdc(w3)
        ex = Executor(w3, deployment)
        route = R.cycle(
            A.USDC,
            (R.pool(w3, "uniswap_v2", A.WETH, A.USDC), A.WETH),
            (R.pool(w3, "uniswap_v3", A.WETH, A.DAI, fee=500), A.DAI),
            (R.pool(w3, "uniswap_v2", A.USDC, A.DAI), A.USDC),
        )
        sized = R.sized_plan(ex, route, FlashSource.balancer(), R.usdc(2_000_000))
        _check(ex, sized.plan)

    def test_balancer_hop(self, w3: Web3, deployment: Any) -> None:
        """A Balancer swap through the Vault (exact approval, consumed), inside a V3 flash loan."""
        bal = R.pool(w3, "balancer", A.WETH, A.USDC)
        shock(w3, bal.address, A.WETH, 300 * 10**18)
        ex = Executor(w3, deployment)
        route = R.cycle(A.USDC, (bal, A.WETH), (R.pool(w3, "uniswap_v2", A.WETH, A.USDC), A.USDC))
        lender = R.pool(w3, "uniswap_v3", A.USDC, A.USDT, fee=100)
        source = FlashSource.uniswap_v3(lender.address, A.USDC, A.USDT, 100)
        sized = R.sized_plan(ex, route, source, R.usdc(2_000_000))
        assert sized.plan.flash_fee > 0
        _check(ex, sized.plan)

    def test_balancer_only_cycle_is_one_batch_swap(self, w3: Web3, deployment: Any) -> None:
        """Two Balancer pools: one Vault batchSwap settles net, so no capital moves at all."""
        two = R.pool(w3, "balancer", A.WETH, A.USDC)
        three = R.pool(w3, "balancer", A.WETH, A.USDC, n_tokens=3)
        shock(w3, two.address, A.WETH, 300 * 10**18)
        ex = Executor(w3, deployment)
        route = R.cycle(A.USDC, (two, A.WETH), (three, A.USDC))
        assert balance_of(w3, A.USDC, deployment.diamond) == 1  # no inventory needed: dust only
        sized = R.sized_plan(ex, route, FlashSource.inventory(), R.usdc(2_000_000))
        trade = _check(ex, sized.plan)
        receipt = w3.eth.get_transaction_receipt(trade.tx_hash)  # type: ignore[arg-type]
        vault_logs = [lg for lg in receipt["logs"] if lg["address"] == A.BALANCER_VAULT]
        assert len(vault_logs) == 2  # two Swap events, no flash loan


class TestCapitalSources:
    """The same kind of trade on each capital source; each lender's callback authenticated the
    same way."""

    def test_uniswap_v2_flash_swap(self, w3: Web3, deployment: Any) -> None:
        R.shock_v2_weth_usdc(w3)
        ex = Executor(w3, deployment)
        lender = R.pool(w3, "uniswap_v2", A.USDC, A.USDT)
        source = FlashSource.uniswap_v2(lender.address, A.USDC, A.USDT, 3000)
        sized = R.sized_plan(ex, R.v2_routes(w3)["3-hop"], source, R.usdc(2_000_000))
        assert sized.plan.flash_fee > 0
        _check(ex, sized.plan)

    def test_uniswap_v3_flash(self, w3: Web3, deployment: Any) -> None:
        R.shock_v2_weth_usdc(w3)
        ex = Executor(w3, deployment)
        lender = R.pool(w3, "uniswap_v3", A.USDC, A.USDT, fee=100)
        source = FlashSource.uniswap_v3(lender.address, A.USDC, A.USDT, 100)
        sized = R.sized_plan(ex, R.v2_routes(w3)["2-hop"], source, R.usdc(2_000_000))
        _check(ex, sized.plan)

    def test_inventory(self, w3: Web3, deployment: Any) -> None:
        R.shock_v2_weth_usdc(w3)
        ex = Executor(w3, deployment)
        route = R.v2_routes(w3)["4-hop"]
        sized = R.sized_plan(ex, route, FlashSource.inventory(), R.usdc(2_000_000))
        deal(w3, A.USDC, deployment.diamond, sized.plan.amount_in + 1)  # the diamond's own money
        _check(ex, sized.plan)


class TestSearchFlashPlans:
    """The search's flash plans (flasharb.search.flash_source) map onto the contract's sources,
    fee for fee."""

    def test_each_plan_becomes_the_same_source(self, w3: Web3, deployment: Any) -> None:
        ex = Executor(w3, deployment)
        amount = R.usdc(1_000_000)
        v3 = R.pool(w3, "uniswap_v3", A.USDC, A.USDT, fee=100)
        v2 = R.pool(w3, "uniswap_v2", A.USDC, A.USDT)
        cases = [
            (FlashPlan(source=BALANCER_LOAN, lender=A.BALANCER_VAULT, amount=amount, fee=0),
             FlashSource.balancer()),
            (FlashPlan(source=UNISWAP_V3_FLASH, lender=v3.address, amount=amount,
                       fee=v3_flash_fee(amount, 100)),
             FlashSource.uniswap_v3(v3.address, A.USDC, A.USDT, 100)),
            (FlashPlan(source=UNISWAP_V2_FLASH, lender=v2.address, amount=amount,
                       fee=v2_flash_fee(amount, 3000)),
             FlashSource.uniswap_v2(v2.address, A.USDC, A.USDT, 3000)),
            (FlashPlan(source=BALANCER_BATCH, lender="", amount=0, fee=0), FlashSource.inventory()),
            (FlashPlan(source=INVENTORY, lender="", amount=0, fee=0), FlashSource.inventory()),
        ]  # fmt: skip
        for plan, source in cases:
            assert ex.source_of(A.USDC, plan, amount) == source, plan.source
        wrong = FlashPlan(source=UNISWAP_V3_FLASH, lender=v3.address, amount=amount, fee=1)
        with pytest.raises(FlasharbValueError, match="charges"):
            ex.source_of(A.USDC, wrong, amount)
