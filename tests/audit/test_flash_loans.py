"""Audit: flash loans nobody asked for, lenders that lie, loans that cannot be repaid or do not
pay, stale deadlines, and a Balancer hop inside a Balancer loan. Every attack is mined with
explicit gas, reverts with its exact error, and the diamond's and the owner's balances, the
diamond's allowances and its storage are unchanged (tests/audit/nothing_lost.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

import pytest
from eth_abi import encode
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.cheats import impersonating
from flasharb.chain.rpc import send
from flasharb.errors import FlasharbValueError
from flasharb.execute.deploy import v2_factories
from flasharb.execute.plan import Plan, plan_route
from flasharb.kinds import SourceKind
from flasharb.search.capital import FlashSource
from flasharb.search.cycles import Cycle
from flasharb.search.market import Market
from flasharb.search.route import execute_arb_calldata, v2_pair_address, v3_pool_address
from flasharb_testing import routes as R
from tests.audit.attack import callees, deploy_audit, mine_attack, trader_refuses
from tests.audit.nothing_lost import NothingLost

FLASH_LOAN = "0x5c38449e"  # Vault.flashLoan(address,address[],uint256[],bytes)


def _plan(w3: Web3, source: FlashSource) -> Plan:
    """The demo's opportunity (500 WETH dumped on Uniswap V2), sized exactly for a Balancer
    loan, then funded by `source`."""
    R.shock_v2_weth_usdc(w3)
    route = R.v2_routes(w3)["2-hop"]
    sized, st = R.sized_plan(w3, route, R.balancer(w3))
    return plan_route(route, sized.amount_in, source, st)


def _vault_loan(diamond: str, token: str, amount: int, user_data: bytes) -> str:
    args = encode(
        ["address", "address[]", "uint256[]", "bytes"], [diamond, [token], [amount], user_data]
    )
    return FLASH_LOAN + args.hex()


def _crafted_loan_data(attacker: str) -> bytes:
    """Loan data for a route whose first 'pair' is the attacker: the loan would go to it."""
    path = (
        bytes.fromhex(A.USDC[2:])
        + b"\x00"
        + bytes.fromhex(attacker[2:])
        + bytes.fromhex(A.WETH[2:])
        + b"\x00"
        + bytes.fromhex(attacker[2:])
        + bytes.fromhex(A.USDC[2:])
    )
    amounts = (10**9).to_bytes(16, "big") + (1).to_bytes(16, "big") + (1).to_bytes(16, "big")
    return (0).to_bytes(32, "big") + len(path).to_bytes(32, "big") + path + amounts


class TestUnsolicitedLoans:
    """receiveFlashLoan accepts the Vault only, and only the loan executeArb started."""

    def test_receive_flash_loan_from_an_eoa(
        self,
        w3: Web3,
        deployment: Any,
        diamond: Any,
        attacker: str,
        stocked: Any,
        nothing_lost: NothingLost,
    ) -> None:
        data = diamond.encode_abi(
            "receiveFlashLoan", [[A.USDC], [10**9], [0], _crafted_loan_data(attacker)]
        )
        tx = {"from": attacker, "to": deployment.diamond, "data": data}
        with nothing_lost.guard():
            mine_attack(w3, tx, f"UnauthorizedFlashLoanCaller(caller={attacker})")

    def test_receive_flash_loan_from_a_contract(
        self,
        w3: Web3,
        deployment: Any,
        diamond: Any,
        attacker: str,
        stocked: Any,
        nothing_lost: NothingLost,
    ) -> None:
        relay = deploy_audit(w3, "AttackerRelay", attacker)
        inner = diamond.encode_abi(
            "receiveFlashLoan", [[A.USDC], [10**9], [0], _crafted_loan_data(attacker)]
        )
        data = relay.encode_abi("relay", [[(deployment.diamond, inner)]])
        tx = {"from": attacker, "to": relay.address, "data": data}
        with nothing_lost.guard(accounts=[relay.address]):
            mine_attack(w3, tx, f"UnauthorizedFlashLoanCaller(caller={relay.address})")

    def test_callback_from_the_vault_address_with_nothing_in_flight(
        self,
        w3: Web3,
        deployment: Any,
        diamond: Any,
        attacker: str,
        stocked: Any,
        nothing_lost: NothingLost,
    ) -> None:
        """Even the Vault's own address passes property (1) only: no loan is in flight."""
        data = diamond.encode_abi(
            "receiveFlashLoan", [[A.USDC], [10**9], [0], _crafted_loan_data(attacker)]
        )
        tx = {"from": A.BALANCER_VAULT, "to": deployment.diamond, "data": data}
        with impersonating(w3, A.BALANCER_VAULT, eth=10**18), nothing_lost.guard():
            mine_attack(w3, tx, "UnsolicitedFlashLoan()")

    @pytest.mark.parametrize("via", ["eoa", "contract"])
    def test_strangers_vault_loan_with_crafted_route(
        self,
        w3: Web3,
        deployment: Any,
        attacker: str,
        stocked: Any,
        via: str,
        nothing_lost: NothingLost,
    ) -> None:
        """Anyone may ask the Vault to lend to the diamond, with a route paying the attacker."""
        data = _vault_loan(deployment.diamond, A.USDC, 10**9, _crafted_loan_data(attacker))
        tx = {"from": attacker, "to": A.BALANCER_VAULT, "data": data}
        if via == "contract":
            relay = deploy_audit(w3, "AttackerRelay", attacker)
            tx["data"] = relay.encode_abi("relay", [[(A.BALANCER_VAULT, data)]])
            tx["to"] = relay.address
        with nothing_lost.guard():
            mine_attack(w3, tx, "UnsolicitedFlashLoan()")

    def test_replayed_data_of_a_real_profitable_plan(
        self, w3: Web3, deployment: Any, attacker: str, stocked: Any, nothing_lost: NothingLost
    ) -> None:
        """The exact userData executeArb would send: the marker is only set inside executeArb."""
        plan = _plan(w3, R.balancer(w3))
        data = _vault_loan(deployment.diamond, A.USDC, plan.amount_in, plan.loan_data)
        with nothing_lost.guard():
            mine_attack(
                w3,
                {"from": attacker, "to": A.BALANCER_VAULT, "data": data},
                "UnsolicitedFlashLoan()",
            )


class TestLyingLenders:
    """A hot key once named any lender: one that lends nothing and claims a fee, inflates the
    loan, calls back twice or never. Since issue 14 the source word carries the lender's other
    token, not its address, and the facet derives the lender (the V3 factory's pool of the two
    tokens at the fee tier, an allowed factory's V2 pair): a HostileLender's address put where
    the other token goes derives a pool of (USDC, that address) nobody deployed, so the loan is
    never taken (FlashLoanNotTaken names the derived address) and the hostile lender is never
    called at all."""

    def _lender(self, w3: Web3, attacker: str, claim: int, callbacks: int) -> Any:
        lender = deploy_audit(w3, "HostileLender", attacker)
        send(
            w3,
            {
                "from": attacker,
                "to": lender.address,
                "data": lender.encode_abi("configure", [claim, callbacks]),
            },
        )
        return lender

    @pytest.mark.parametrize(
        ("kind", "claim", "callbacks"),
        [
            (SourceKind.UNISWAP_V3, 10**9, 1),
            (SourceKind.UNISWAP_V2, 10**9, 1),
            (SourceKind.UNISWAP_V3, 0, 2),
            (SourceKind.UNISWAP_V2, 0, 2),
            (SourceKind.UNISWAP_V3, 0, 0),
        ],
        ids=[
            "v3-lends-nothing-claims-a-fee",
            "v2-inflates-the-loan",
            "v3-calls-back-twice",
            "v2-calls-back-twice",
            "never-calls-back",
        ],
    )
    def test_hostile_lender_cannot_be_named(
        self,
        w3: Web3,
        deployment: Any,
        attacker: str,
        hot_key: str,
        stocked: Any,
        kind: SourceKind,
        claim: int,
        callbacks: int,
        nothing_lost: NothingLost,
    ) -> None:
        lender = self._lender(w3, attacker, claim, callbacks).address
        token0 = int(A.USDC, 16) < int(lender, 16)
        if kind is SourceKind.UNISWAP_V3:
            derived = v3_pool_address(A.USDC, lender, 100)
            source = FlashSource.uniswap_v3(derived, token0=token0, fee_pips=100, other=lender)
        else:
            derived = v2_pair_address(*v2_factories(w3)[0], A.USDC, lender)
            source = FlashSource.uniswap_v2(derived, token0=token0, other=lender, factory=0)
        assert w3.eth.get_code(cast(Any, derived)) == b""
        plan = _plan(w3, source)
        tx = plan.call(deployment.diamond, hot_key, 0, w3.eth.block_number + 5)
        expected = f"FlashLoanNotTaken(lender={derived})"
        assert lender.lower() not in callees(w3, tx)
        with nothing_lost.guard(accounts=[lender]):
            trader_refuses(w3, deployment, plan, hot_key, expected)
            mine_attack(w3, tx, expected)

    def test_the_word_cannot_name_a_lender_the_old_way(
        self,
        w3: Web3,
        deployment: Any,
        attacker: str,
        hot_key: str,
        stocked: Any,
        nothing_lost: NothingLost,
    ) -> None:
        """The pre-issue-14 word (kind | token0 flag << 184 | lender) sent as is: its low bits
        now read as the other token, so the 'lender' is again a pool nobody deployed."""
        lender = self._lender(w3, attacker, 10**9, 1).address
        plan = _plan(w3, R.balancer(w3))
        old_word = 1 << 248 | 1 << 184 | int(lender, 16)  # V3, token0, fee 0, the lender
        data = execute_arb_calldata(
            old_word, plan.path, plan.packed_amounts, 0, w3.eth.block_number + 5
        )
        tx = {"from": hot_key, "to": deployment.diamond, "data": "0x" + data.hex()}
        derived = v3_pool_address(A.USDC, lender, 0)
        assert lender.lower() not in callees(w3, tx)
        with nothing_lost.guard(accounts=[lender]):
            mine_attack(w3, tx, f"FlashLoanNotTaken(lender={derived})")


class TestLoanOutcomes:
    """Real Balancer loans that end badly: the whole transaction reverts, inventory included."""

    def _losing_plan(self, w3: Web3) -> Plan:
        """No shock: a round trip through two pools only pays their fees."""
        route = R.v2_routes(w3)["2-hop"]
        plan = R.plan_at(w3, route, R.usdc(10_000), R.balancer(w3))
        assert plan.predicted_profit < 0
        return plan

    def test_repayment_fails_when_the_route_loses(
        self, w3: Web3, deployment: Any, owner: str, nothing_lost: NothingLost
    ) -> None:
        plan = self._losing_plan(w3)  # the diamond holds no USDC to make it up
        tx = plan.call(deployment.diamond, owner, 0, w3.eth.block_number + 5)
        expected = (
            f"TokenTransferFailed(token={A.USDC}, to={A.BALANCER_VAULT}, amount={plan.amount_in})"
        )
        with nothing_lost.guard():
            # The trader refuses it too, but not with this error: its gas limit (the model's
            # figure for a profitable trade, +25%) leaves the failing repayment's inner frames
            # short under the 63/64 rule, so its simulation reverts without data.
            trader_refuses(w3, deployment, plan, owner, None)
            mine_attack(w3, tx, expected)

    def test_loss_is_refused_rather_than_paid_from_inventory(
        self, w3: Web3, deployment: Any, owner: str, stocked: Any, nothing_lost: NothingLost
    ) -> None:
        plan = self._losing_plan(w3)
        tx = plan.call(deployment.diamond, owner, 0, w3.eth.block_number + 5)
        expected = f"InsufficientProfit(profit={plan.predicted_profit}, minProfit=0)"
        with nothing_lost.guard():
            trader_refuses(w3, deployment, plan, owner, expected)
            mine_attack(w3, tx, expected)

    def test_min_profit_one_wei_above_what_the_route_pays(
        self, w3: Web3, deployment: Any, hot_key: str, stocked: Any, nothing_lost: NothingLost
    ) -> None:
        plan = _plan(w3, R.balancer(w3))
        p = plan.predicted_profit
        tx = plan.call(deployment.diamond, hot_key, p + 1, w3.eth.block_number + 5)
        expected = f"InsufficientProfit(profit={p}, minProfit={p + 1})"
        with nothing_lost.guard():
            trader_refuses(w3, deployment, plan, hot_key, expected, min_profit=p + 1)
            mine_attack(w3, tx, expected)

    def test_expired_deadline(
        self, w3: Web3, deployment: Any, hot_key: str, stocked: Any, nothing_lost: NothingLost
    ) -> None:
        plan = _plan(w3, R.balancer(w3))
        stale = w3.eth.block_number
        tx = plan.call(deployment.diamond, hot_key, 0, stale)
        with nothing_lost.guard():  # mined in the next block (an eth_call would still pass)
            mine_attack(
                w3,
                tx,
                f"DeadlinePassed(deadlineBlock={stale}, blockNumber={stale + 1})",
                call=False,
            )


class TestBalancerInsideBalancer:
    """The Vault's flashLoan and swap share one reentrancy guard: shown on-chain, refused by the
    contract before anything is borrowed, and refused by the planner before anything is sent."""

    def _route(self, w3: Web3) -> tuple[Cycle, Any]:
        bal = R.pool(w3, "balancer", A.WETH, A.USDC)
        uni = R.pool(w3, "uniswap_v2", A.WETH, A.USDC)
        return Cycle(
            token=A.USDC, hops=(R.hop(uni, A.USDC, A.WETH), R.hop(bal, A.WETH, A.USDC))
        ), bal

    def test_the_vault_reverts_bal400(
        self, w3: Web3, owner: str, nothing_lost: NothingLost
    ) -> None:
        probe = deploy_audit(w3, "BalReentryProbe", owner)
        _, bal = self._route(w3)
        data = probe.encode_abi("run", [A.USDC, 10**9, bal.pool_id, A.WETH])
        with nothing_lost.guard():
            mine_attack(w3, {"from": owner, "to": probe.address, "data": data}, 'Error("BAL#400")')

    def test_the_contract_refuses_before_borrowing(
        self, w3: Web3, deployment: Any, hot_key: str, stocked: Any, nothing_lost: NothingLost
    ) -> None:
        route, bal = self._route(w3)
        lender = R.pool(w3, "uniswap_v3", A.USDC, A.USDT, fee=100)
        plan = R.plan_at(w3, route, 10**9, R.v3_lender(lender, A.USDC))
        forged = replace(plan, source=R.balancer(w3))  # the same route, sent with a Vault loan
        tx = forged.call(deployment.diamond, hot_key, 0, 10**9)
        with nothing_lost.guard():
            trader_refuses(w3, deployment, forged, hot_key, "BalancerHopInBalancerLoan(hopIndex=1)")
            mine_attack(w3, tx, "BalancerHopInBalancerLoan(hopIndex=1)")

    def test_the_planner_refuses(self, w3: Web3) -> None:
        route, _ = self._route(w3)
        with pytest.raises(FlasharbValueError, match="BAL#400"):
            plan_route(route, 10**9, FlashSource.balancer(), R.states(w3, route))
        chosen = Market.build(w3).lenders.choose(route, 10**9)  # the search's own choice
        assert chosen is not None and chosen.kind is not SourceKind.BALANCER_V2
