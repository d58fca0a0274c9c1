"""FlashArbFacet on the replica fork through the whole flow: the search finds the demo's
opportunity, the planner encodes it with exact amounts, the trader simulates it as mined and
sends it, a real Balancer loan pays for it, and every wei is accounted for; plus the guards on
executeArb's own arguments."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.execute.plan import plan
from flasharb.execute.shock import shock
from flasharb.execute.trader import Trade
from flasharb.kinds import HopKind
from flasharb.report.demo import v2_pair_address
from flasharb.search.rank import Opportunity
from flasharb.search.route import execute_arb_calldata
from flasharb.search.scan import scan
from flasharb.search.select import select
from flasharb_testing import routes as R
from tests.helpers import call_error

GAS_TOLERANCE_PCT = 2  # the gas model against receipts of V2 routes on the replica


def _v2_only(opps: list[Opportunity]) -> list[Opportunity]:
    """Routes of V2-style pairs only: the K revert and the gas model's 2% are V2 properties."""
    return [o for o in opps if all(h.kind is HopKind.UNISWAP_V2 for h in o.cycle.hops)]


def _execute(w3: Web3, deployment: Any, opps: list[Opportunity]) -> list[Trade]:
    """The trader's whole path on `opps`: plan, sign, simulate as mined, send, reconcile; every
    one must land."""
    trades, failed = R.trader(w3, deployment).execute(opps, R.head(w3))
    assert not failed, [reason for _, reason in failed]
    return trades


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
        chosen = select(_v2_only(res.opportunities), top=2)
        trades = _execute(w3, deployment, chosen)
        assert len(trades) == len(chosen) > 0
        for opp, trade in zip(chosen, trades, strict=True):
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
        (trade,) = _execute(w3, deployment, three[:1])
        assert trade.realized_profit == three[0].gross_profit - three[0].flash_fee > 0

    def test_min_profit_one_wei_above_reverts(self, w3: Web3, deployment: Any, owner: str) -> None:
        _shock(w3)
        opp = scan(w3).opportunities[0]
        p = plan(opp)
        profit = p.predicted_profit
        deadline = w3.eth.block_number + 2
        err = call_error(w3, p.call(deployment.diamond, owner, profit + 1, deadline))
        assert err == f"InsufficientProfit(profit={profit}, minProfit={profit + 1})"
        assert call_error(w3, p.call(deployment.diamond, owner, profit, deadline)) is None

    def test_one_wei_more_than_the_pair_pays_reverts(self, w3: Web3, deployment: Any) -> None:
        """Hop outputs come from calldata: the pair's own k check is what guards them."""
        _shock(w3)
        opp = _v2_only(scan(w3).opportunities)[0]
        p = plan(opp)
        greedy = p.amounts[0] + 1
        packed = p.packed_amounts[:16] + greedy.to_bytes(16, "big") + p.packed_amounts[32:]
        tx = replace(p, packed_amounts=packed).call(
            deployment.diamond, deployment.owner, 0, w3.eth.block_number + 2
        )
        assert call_error(w3, tx) == 'Error("UniswapV2: K")'

    def test_expired_deadline_reverts(self, w3: Web3, deployment: Any) -> None:
        _shock(w3)
        opp = scan(w3).opportunities[0]
        stale = w3.eth.block_number - 1
        err = call_error(w3, plan(opp).call(deployment.diamond, deployment.owner, 0, stale))
        assert err is not None and err.startswith(f"DeadlinePassed(deadlineBlock={stale}, ")

    def test_stranger_cannot_execute(self, w3: Web3, deployment: Any, attacker: str) -> None:
        _shock(w3)
        opp = scan(w3).opportunities[0]
        err = call_error(w3, plan(opp).call(deployment.diamond, attacker, 0, 10**9))
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
        p = plan(opp)
        assert len(p.cycle.hops) == 2
        data = execute_arb_calldata(
            p.source.word, path_edit(p.path), amounts_edit(p.packed_amounts), 0, 10**9
        )
        tx = {"from": deployment.owner, "to": deployment.diamond, "data": "0x" + data.hex()}
        assert call_error(w3, tx) == error
