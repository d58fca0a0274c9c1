"""The scan's routes executed as planned: every venue, the scan's own states and capital source,
predicted == simulated == realized to the wei; a route through a Balancer pool never borrows
from the Vault (BAL#400): the planner picks another lender, and the chain refuses the Vault
loan for that very route."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.execute import routes as R
from flasharb.execute.executor import SEARCH_SOURCES, Executor, FlashSource
from flasharb.execute.flow import execute_top
from flasharb.execute.shock import shock
from flasharb.search.flash_source import BALANCER_BATCH, BALANCER_LOAN
from flasharb.search.scan import ScanResult, scan
from tests.helpers import call_error

pytestmark = pytest.mark.fork

FLASH_LOAN = Web3.keccak(text="FlashLoan(address,address,uint256,uint256)")  # Vault events
SWAP = Web3.keccak(text="Swap(bytes32,address,address,uint256,uint256)")


def _shock_v3_and_balancer(w3: Web3) -> None:
    """3M USDC into Uniswap V3 WETH/USDC 0.3%, 300 WETH into Balancer's WETH/USDC 50/50."""
    v3 = R.pool(w3, "uniswap_v3", A.WETH, A.USDC, fee=3000)
    shock(w3, v3.address, A.USDC, 3_000_000 * 10**6)
    bal = R.pool(w3, "balancer", A.WETH, A.USDC)
    shock(w3, bal.address, A.WETH, 300 * 10**18)


@pytest.fixture
def shocked(w3: Web3) -> ScanResult:
    _shock_v3_and_balancer(w3)
    res = scan(w3)
    assert res.opportunities, "the shocks must leave something on the table"
    return res


def _kinds(opp: Any) -> set[str]:
    return {h.kind for h in opp.cycle.hops}


class TestExecuteTheScan:
    """What the scan predicts is what the chain pays."""

    def test_top_route_realizes_the_prediction(
        self, w3: Web3, deployment: Any, shocked: ScanResult
    ) -> None:
        top = shocked.opportunities[0]
        assert _kinds(top) & {"uniswap_v3", "balancer"}, "the shocked pools lead"
        out = execute_top(w3, top=1, deployment=deployment)
        (trade,) = out["trades"]
        assert trade["route"] == [  # venue is added by execute_top
            {**h, "venue": trade["route"][i]["venue"]} for i, h in enumerate(top.to_json()["route"])
        ]
        predicted = top.gross_profit - top.flash_fee
        assert predicted > 0
        assert trade["flash_source"] == SEARCH_SOURCES[top.flash_source]
        assert int(trade["predicted_profit"]) == predicted
        assert int(trade["simulated_profit"]) == predicted
        assert int(trade["realized_profit"]) == predicted
        assert int(trade["event_profit"]) == predicted

    def test_balancer_hop_borrows_elsewhere_and_the_vault_would_revert(
        self, w3: Web3, deployment: Any, shocked: ScanResult
    ) -> None:
        for opp in shocked.opportunities:  # the planner's rule, on every route found
            if "balancer" in _kinds(opp):
                assert opp.flash is not None and opp.flash.source != BALANCER_LOAN
        mixed = [o for o in shocked.opportunities if "balancer" in _kinds(o) and len(_kinds(o)) > 1]
        assert mixed, "the Balancer shock opens routes through other venues"
        opp = mixed[0]
        ex = Executor(w3, deployment)
        assert opp.flash is not None
        source = ex.source_of(opp.cycle.token, opp.flash, opp.amount_in)
        plan = ex.plan(opp.cycle, opp.amount_in, source=source, states=shocked.states)
        vault_loan = replace(plan, source=FlashSource.balancer(), flash_fee=0)
        err = call_error(w3, ex.tx(vault_loan, 0, w3.eth.block_number + 2))
        hop = next(i for i, h in enumerate(opp.cycle.hops) if h.kind == "balancer")
        # the facet refuses it up front; inside the loan the Vault's reentrancy guard would
        # revert BAL#400 (tests/test_exec_security.py calls the Vault that way)
        assert err == f"BalancerHopInBalancerLoan(hopIndex={hop})"
        trade = ex.execute(opp, states=shocked.states)
        predicted = opp.gross_profit - opp.flash_fee
        assert trade.plan.source.kind == source.kind != "balancer_v2"
        assert trade.plan.flash_fee == opp.flash_fee > 0
        assert trade.predicted_profit == trade.simulated_profit == predicted
        assert trade.realized_profit == trade.event_profit == predicted

    def test_balancer_only_cycle_is_a_batch_swap(
        self, w3: Web3, deployment: Any, shocked: ScanResult
    ) -> None:
        only = [o for o in shocked.opportunities if _kinds(o) == {"balancer"}]
        assert only, "two Balancer WETH/USDC pools, one shocked"
        opp = only[0]
        assert opp.flash is not None and opp.flash.source == BALANCER_BATCH
        assert opp.flash_fee == 0
        trade = Executor(w3, deployment).execute(opp, states=shocked.states)
        predicted = opp.gross_profit
        assert trade.predicted_profit == trade.simulated_profit == predicted
        assert trade.realized_profit == trade.event_profit == predicted
        receipt = w3.eth.get_transaction_receipt(trade.tx_hash)  # type: ignore[arg-type]
        topics = [lg["topics"][0] for lg in receipt["logs"] if lg["address"] == A.BALANCER_VAULT]
        assert FLASH_LOAN not in topics and SWAP in topics  # swaps, and no loan at all
