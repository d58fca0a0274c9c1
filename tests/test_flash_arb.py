"""FlashArbFacet on the replica fork: a real Balancer loan, real pairs, profit to the wei, and
the three doors a stranger might try."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.artifacts import npm_artifact
from flasharb.chain.cheats import balance_of
from flasharb.execute.executor import Executor, encode_route
from flasharb.execute.shock import shock
from flasharb.report.demo import v2_pair_address
from flasharb.search.rank import select_disjoint
from flasharb.search.scan import scan
from tests.helpers import call_error, send_failing

pytestmark = pytest.mark.fork

ROUTE_T = "(address,uint256,(uint8,address,address,address,uint24)[])"
VAULT_ABI = npm_artifact(
    "@balancer-labs/v2-deployments/dist/tasks/20210418-vault/artifact/Vault.json"
).abi
TOKENS = (A.WETH, A.USDC, A.DAI, A.WBTC)


def _shock(w3: Web3, weth: int = 500) -> None:
    shock(w3, v2_pair_address(A.UNISWAP_V2_FACTORY, A.WETH, A.USDC), A.WETH, weth * 10**18)


def _balances(w3: Web3, who: list[str]) -> dict[tuple[str, str], int]:
    out = {(w, "ETH"): w3.eth.get_balance(w) for w in who}  # type: ignore[arg-type]
    out |= {(w, t): balance_of(w3, t, w) for w in who for t in TOKENS}
    return out


def _mine_and_check_nothing_moved(w3: Web3, tx: dict[str, Any], who: list[str]) -> None:
    """Mine the reverting `tx`: every token and ETH balance of `who` is unchanged, but the gas
    the sender paid."""
    before = _balances(w3, who)
    receipt = send_failing(w3, tx)
    assert receipt["status"] == 0
    after = _balances(w3, who)
    after[(tx["from"], "ETH")] += receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert after == before


class TestEndToEnd:
    """Manufacture an opportunity, find it, execute it, and account for every wei."""

    def test_no_opportunity_before_the_shock(self, w3: Web3) -> None:
        assert scan(w3).opportunities == []

    def test_realized_equals_predicted_to_the_wei(self, w3: Web3, deployment: Any) -> None:
        _shock(w3)
        res = scan(w3)
        assert res.opportunities, "the shock must leave something on the table"
        ex = Executor(w3, deployment)
        for opp in select_disjoint(res.opportunities)[:2]:
            trade = ex.execute(opp)
            predicted = opp.gross_profit - opp.flash_fee
            assert predicted > 0
            assert trade.simulated_profit == predicted
            assert trade.realized_profit == predicted
            assert trade.event_profit == predicted
            assert abs(trade.gas_used - opp.gas_estimate) <= opp.gas_estimate // 10, (
                trade.gas_used,
                opp.gas_estimate,
            )

    def test_three_hop_route_executes_exactly(self, w3: Web3, deployment: Any) -> None:
        _shock(w3)
        three = [o for o in scan(w3).opportunities if len(o.cycle.hops) == 3]
        assert three, "a 500 WETH shock opens 3-hop routes through DAI as well"
        trade = Executor(w3, deployment).execute(three[0])
        assert trade.realized_profit == three[0].gross_profit - three[0].flash_fee > 0

    def test_min_profit_one_wei_above_reverts(
        self, w3: Web3, deployment: Any, diamond: Any, owner: str
    ) -> None:
        _shock(w3)
        opp = scan(w3).opportunities[0]
        profit = opp.gross_profit - opp.flash_fee
        route = encode_route(opp.cycle, opp.amount_in)
        deadline = w3.eth.block_number + 2
        data = diamond.encode_abi("executeArb", [route, profit + 1, deadline])
        err = call_error(w3, {"from": owner, "to": deployment.diamond, "data": data})
        assert err == f"InsufficientProfit(profit={profit}, minProfit={profit + 1})"
        data = diamond.encode_abi("executeArb", [route, profit, deadline])
        assert call_error(w3, {"from": owner, "to": deployment.diamond, "data": data}) is None

    def test_expired_deadline_reverts(
        self, w3: Web3, deployment: Any, diamond: Any, owner: str
    ) -> None:
        _shock(w3)
        opp = scan(w3).opportunities[0]
        stale = w3.eth.block_number - 1
        data = diamond.encode_abi("executeArb", [encode_route(opp.cycle, opp.amount_in), 0, stale])
        err = call_error(w3, {"from": owner, "to": deployment.diamond, "data": data})
        assert err is not None and err.startswith("DeadlinePassed")


class TestStrangerDoors:
    """executeArb, receiveFlashLoan and Vault.flashLoan naming the diamond, sent by a stranger."""

    def _funded_diamond(self, w3: Web3, deployment: Any) -> Any:
        _shock(w3)
        opp = scan(w3).opportunities[0]
        Executor(w3, deployment).execute(opp)  # the diamond now holds profit worth stealing
        assert balance_of(w3, opp.cycle.token, deployment.diamond) > 0
        return opp

    def test_stranger_cannot_execute(
        self, w3: Web3, deployment: Any, diamond: Any, attacker: str, owner: str
    ) -> None:
        _shock(w3)
        opp = scan(w3).opportunities[0]
        data = diamond.encode_abi("executeArb", [encode_route(opp.cycle, opp.amount_in), 0, 10**9])
        err = call_error(w3, {"from": attacker, "to": deployment.diamond, "data": data})
        assert err == f"NotContractOwner(_user={attacker}, _contractOwner={owner})"

    def test_direct_receive_flash_loan_is_rejected(
        self, w3: Web3, deployment: Any, diamond: Any, attacker: str
    ) -> None:
        opp = self._funded_diamond(w3, deployment)
        user_data = encode([ROUTE_T, "uint256"], [encode_route(opp.cycle, opp.amount_in), 0])
        data = diamond.encode_abi(
            "receiveFlashLoan", [[opp.cycle.token], [opp.amount_in], [0], user_data]
        )
        tx = {"from": attacker, "to": deployment.diamond, "data": data}
        assert call_error(w3, tx) == f"UnauthorizedFlashLoanCaller(caller={attacker})"
        _mine_and_check_nothing_moved(w3, tx, [deployment.diamond, attacker, A.BALANCER_VAULT])

    def test_vault_flash_loan_naming_the_diamond_is_rejected(
        self, w3: Web3, deployment: Any, attacker: str
    ) -> None:
        opp = self._funded_diamond(w3, deployment)
        vault = w3.eth.contract(address=A.BALANCER_VAULT, abi=VAULT_ABI)
        # Crafted userData: a real, profitable-looking route the diamond would accept from itself.
        user_data = encode([ROUTE_T, "uint256"], [encode_route(opp.cycle, opp.amount_in), 0])
        data = vault.encode_abi(
            "flashLoan", [deployment.diamond, [opp.cycle.token], [opp.amount_in], user_data]
        )
        tx = {"from": attacker, "to": A.BALANCER_VAULT, "data": data}
        assert call_error(w3, tx) == "UnsolicitedFlashLoan()"
        _mine_and_check_nothing_moved(w3, tx, [deployment.diamond, attacker, A.BALANCER_VAULT])
