"""FlashArbFacet on the replica fork through the whole flow: the search finds the demo's
opportunity, the executor plans it with exact amounts, a real Balancer loan pays for it, and
every wei is accounted for; plus the guards on executeArb's own arguments."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.execute.executor import Executor
from flasharb.execute.shock import shock
from flasharb.report.demo import v2_pair_address
from flasharb.search.rank import Opportunity, select_disjoint
from flasharb.search.scan import scan
from tests.helpers import call_error

pytestmark = pytest.mark.fork

GAS_TOLERANCE_PCT = 2  # ExecGas against receipts of V2 routes on the replica


def _v2_only(opps: list[Opportunity]) -> list[Opportunity]:
    """Routes of V2-style pairs only: the K revert and ExecGas's 2% are V2 properties."""
    return [o for o in opps if all(h.kind == "uniswap_v2" for h in o.cycle.hops)]


def _shock(w3: Web3, weth: int = 500) -> None:
    shock(w3, v2_pair_address(A.UNISWAP_V2_FACTORY, A.WETH, A.USDC), A.WETH, weth * 10**18)


class TestEndToEnd:
    """Manufacture an opportunity, find it, execute it, and account for every wei."""

    def test_no_opportunity_before_the_shock(self, w3: Web3) -> None:
        assert scan(w3).opportunities == []

    def test_realized_equals_predicted_to_the_wei(self, w3: Web3, deployment: Any) -> None:
        _shock(w3)
        res = scan(w3)
        assert res.opportunities, "the shock must leave something on the table"
        ex = Executor(w3, deployment)
        for opp in select_disjoint(_v2_only(res.opportunities))[:2]:
            trade = ex.execute(opp)
            predicted = opp.gross_profit - opp.flash_fee  # the search's own exact figure
            assert predicted > 0
            assert trade.predicted_profit == predicted
            assert trade.simulated_profit == predicted
            assert trade.realized_profit == predicted
            assert trade.event_profit == predicted
            tolerance = trade.gas_predicted * GAS_TOLERANCE_PCT // 100
            assert abs(trade.gas_used - trade.gas_predicted) <= tolerance, (
                trade.gas_used,
                trade.gas_predicted,
            )

    def test_three_hop_route_executes_exactly(self, w3: Web3, deployment: Any) -> None:
        _shock(w3)
        three = [o for o in scan(w3).opportunities if len(o.cycle.hops) == 3]
        assert three, "a 500 WETH shock opens 3-hop routes through DAI as well"
        trade = Executor(w3, deployment).execute(three[0])
        assert trade.realized_profit == three[0].gross_profit - three[0].flash_fee > 0

    def test_min_profit_one_wei_above_reverts(self, w3: Web3, deployment: Any, owner: str) -> None:
        _shock(w3)
        opp = scan(w3).opportunities[0]
        ex = Executor(w3, deployment)
        plan = ex.plan(opp.cycle, opp.amount_in)
        profit = plan.predicted_profit
        deadline = w3.eth.block_number + 2
        err = call_error(w3, ex.tx(plan, profit + 1, deadline))
        assert err == f"InsufficientProfit(profit={profit}, minProfit={profit + 1})"
        assert call_error(w3, ex.tx(plan, profit, deadline)) is None

    def test_one_wei_more_than_the_pair_pays_reverts(self, w3: Web3, deployment: Any) -> None:
        """Hop outputs come from calldata: the pair's own k check is what guards them."""
        _shock(w3)
        opp = _v2_only(scan(w3).opportunities)[0]
        ex = Executor(w3, deployment)
        plan = ex.plan(opp.cycle, opp.amount_in)
        greedy = plan.amounts[0] + 1
        packed = plan.packed_amounts[:16] + greedy.to_bytes(16, "big") + plan.packed_amounts[32:]
        err = call_error(
            w3, ex.tx(replace(plan, packed_amounts=packed), 0, w3.eth.block_number + 2)
        )
        assert err == 'Error("UniswapV2: K")'

    def test_expired_deadline_reverts(self, w3: Web3, deployment: Any) -> None:
        _shock(w3)
        opp = scan(w3).opportunities[0]
        ex = Executor(w3, deployment)
        stale = w3.eth.block_number - 1
        err = call_error(w3, ex.tx(ex.plan(opp.cycle, opp.amount_in), 0, stale))
        assert err is not None and err.startswith(f"DeadlinePassed(deadlineBlock={stale}, ")

    def test_stranger_cannot_execute(self, w3: Web3, deployment: Any, attacker: str) -> None:
        _shock(w3)
        opp = scan(w3).opportunities[0]
        ex = Executor(w3, deployment, sender=attacker)
        err = call_error(w3, ex.tx(ex.plan(opp.cycle, opp.amount_in), 0, 10**9))
        assert err == f"NotExecutor(caller={attacker})"


class TestMalformedRoutes:
    """executeArb validates the packed route before it borrows anything."""

    @pytest.mark.parametrize(
        ("path_edit", "amounts_edit", "error"),
        [
            (lambda p: p, lambda a: a[:16], "InvalidHopCount(amountsLength=16)"),
            (lambda p: p, lambda a: a + b"\x00", "InvalidHopCount(amountsLength=49)"),
            (lambda p: p, lambda a: bytes(16) + a[16:], "InvalidAmountIn(amountIn=0)"),
            (lambda p: p[:-1], lambda a: a, "InvalidRoute(hopIndex=1)"),
            (lambda p: p + b"\x00", lambda a: a, "InvalidRoute(hopIndex=1)"),
            (lambda p: p[:20] + b"\x07" + p[21:], lambda a: a, "InvalidRoute(hopIndex=0)"),
            (lambda p: p[:-20] + bytes.fromhex(A.DAI[2:]), lambda a: a, "InvalidRoute(hopIndex=1)"),
        ],
        ids=["one-amount", "ragged", "zero-in", "short", "trailing", "bad-kind", "not-a-cycle"],
    )
    def test_rejected(
        self, w3: Web3, deployment: Any, path_edit: Any, amounts_edit: Any, error: str
    ) -> None:
        _shock(w3)
        opp = scan(w3).opportunities[0]
        ex = Executor(w3, deployment)
        plan = ex.plan(opp.cycle, opp.amount_in)
        assert len(plan.cycle.hops) == 2
        fn = ex.diamond.functions.executeArb(
            plan.source.word, path_edit(plan.path), amounts_edit(plan.packed_amounts), 0, 10**9
        )
        tx = {
            "from": deployment.owner,
            "to": deployment.diamond,
            "data": fn._encode_transaction_data(),
        }
        assert call_error(w3, tx) == error
