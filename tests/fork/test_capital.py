"""Issue 17's capital structure on the replica fork: a master diamond and two child diamonds from
one `deploy_capital` call. The registry and the loupe describe them; capital moves master <->
child to the wei with an event naming the child; a child trades through its own executor key
(and only that one) and logs its trades itself; the owner's maximum loss per transaction binds
exactly; the risk guardian pauses a child and cannot resume it."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from typing import Any, cast

import pytest
from eth_utils import function_abi_to_4byte_selector, to_checksum_address
from web3 import Web3
from web3.logs import DISCARD

from flasharb.chain import addresses as A
from flasharb.chain.artifacts import contract
from flasharb.chain.cheats import deal
from flasharb.chain.rpc import send
from flasharb.execute.deploy import (
    CHILD_FACETS,
    CHILD_GAS_WEI,
    MASTER_FACETS,
    Deployment,
    deploy_capital,
    diamond_abi,
    load,
    save,
    selectors,
)
from flasharb.execute.keys import key_store, signer
from flasharb.execute.trader import ARB_EXECUTED
from flasharb.search.capital import FlashSource
from flasharb_testing import routes as R
from tests.audit.attack import mine_attack

LABELS = ("cycles", "backrun")
FAR = 10**9  # a deadline block far ahead
NOT_OWNER = "NotContractOwner(_user={who}, _contractOwner={owner})"


@pytest.fixture(scope="module")
def capital(session_w3: Web3, owner: str) -> Iterator[Deployment]:
    """A master and two children, deployed once for the module (before any per-test snapshot);
    their generated keys are impersonated so attacks can be mined from them."""
    dep = deploy_capital(session_w3, owner, LABELS, record=False)
    keys = [dep.risk, *(c.executor for c in dep.children)]
    for k in keys:
        session_w3.provider.make_request("anvil_impersonateAccount", [k])  # type: ignore[arg-type]
    yield dep
    for k in keys:
        session_w3.provider.make_request("anvil_stopImpersonatingAccount", [k])  # type: ignore[arg-type]


def _at(w3: Web3, address: str) -> Any:
    return w3.eth.contract(address=to_checksum_address(address), abi=diamond_abi())


def _tx(w3: Web3, sender: str, to: str, fn: str, *args: Any) -> Any:
    data = _at(w3, to).encode_abi(fn, list(args))
    return send(w3, {"from": sender, "to": to, "data": data}, fn)


def _balance(w3: Web3, token: str, account: str) -> int:
    erc20: Any = contract("ReplicaERC20").abi
    c = w3.eth.contract(address=to_checksum_address(token), abi=erc20)
    return int(c.functions.balanceOf(to_checksum_address(account)).call())


def _events(w3: Web3, receipt: Any, name: str, emitter: str) -> list[dict[str, Any]]:
    event = getattr(_at(w3, emitter).events, name)()
    return [
        dict(e["args"])
        for e in event.process_receipt(receipt, errors=DISCARD)
        if e["address"].lower() == emitter.lower()
    ]


class TestDeployment:
    """One call builds the whole structure; the chain and the record agree on it."""

    def test_registry_lists_every_child_with_its_label_and_executor(
        self, w3: Web3, capital: Deployment
    ) -> None:
        listed = _at(w3, capital.master).functions.children().call()
        assert [(c, e, label) for c, e, label in listed] == [
            (c.address, c.executor, c.label) for c in capital.children
        ]
        assert [c.label for c in capital.children] == list(LABELS)
        executors = {c.executor for c in capital.children}
        assert len(executors) == len(LABELS) and capital.owner not in executors
        assert capital.risk not in executors | {capital.owner}
        assert capital.diamond == capital.children[0].address
        assert capital.executor == capital.children[0].executor

    def test_each_child_points_back_and_allows_only_its_own_executor(
        self, w3: Web3, capital: Deployment
    ) -> None:
        master = _at(w3, capital.master)
        for c in capital.children:
            child = _at(w3, c.address)
            assert master.functions.isChild(c.address).call()
            assert child.functions.master().call() == capital.master
            assert child.functions.riskGuardian().call() == capital.risk
            assert child.functions.owner().call() == capital.owner
            for other in capital.children:
                assert child.functions.isExecutor(other.executor).call() is (other is c)
        assert not master.functions.isChild(capital.owner).call()

    def test_the_loupe_shows_the_master_facets_and_the_child_built_in_functions(
        self, w3: Web3, capital: Deployment
    ) -> None:
        def routed(address: str) -> dict[str, set[bytes]]:
            return {f: set(s) for f, s in _at(w3, address).functions.facets().call()}

        assert routed(capital.master) == {
            capital.facets[n]: set(selectors(n)) for n in MASTER_FACETS
        }
        for c in capital.children:
            expected = {capital.facets[n]: set(selectors(n)) for n in CHILD_FACETS}
            expected[c.address] = set(selectors("FlashArbFacet"))  # immutable: the diamond's own
            assert routed(c.address) == expected

    def test_executor_and_risk_keys_are_stored_private_and_funded(
        self, w3: Web3, capital: Deployment
    ) -> None:
        store = key_store()
        assert stat.S_IMODE(store.stat().st_mode) == 0o700
        for account in (capital.risk, *(c.executor for c in capital.children)):
            path = store / f"{account}.key"
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert signer(account).address == account
        for c in capital.children:
            assert w3.eth.get_balance(cast(Any, c.executor)) > CHILD_GAS_WEI // 2

    def test_the_record_round_trips(self, w3: Web3, capital: Deployment) -> None:
        save(capital)
        assert load(w3) == capital
        assert capital.child("backrun").diamond == capital.children[1].address
        assert capital.child(capital.children[1].address.lower()).executor == (
            capital.children[1].executor
        )
        with pytest.raises(Exception, match="no child 'nope'.*cycles, backrun"):
            capital.child("nope")


class TestAllocation:
    """allocate and recall move exactly what they say, and say it in an event naming the child."""

    def test_allocate_then_recall_to_the_wei(
        self, w3: Web3, capital: Deployment, owner: str
    ) -> None:
        child = capital.children[1].address
        deal(w3, A.USDC, capital.master, 1_000_000_001)
        m0, c0 = _balance(w3, A.USDC, capital.master), _balance(w3, A.USDC, child)
        receipt = _tx(w3, owner, capital.master, "allocate", child, A.USDC, 700_000_000)
        assert _balance(w3, A.USDC, capital.master) == m0 - 700_000_000
        assert _balance(w3, A.USDC, child) == c0 + 700_000_000
        assert _events(w3, receipt, "Allocated", capital.master) == [
            {"child": child, "token": A.USDC, "amount": 700_000_000}
        ]
        receipt = _tx(w3, owner, capital.master, "recall", child, A.USDC, 250_000_123)
        assert _balance(w3, A.USDC, capital.master) == m0 - 700_000_000 + 250_000_123
        assert _balance(w3, A.USDC, child) == c0 + 700_000_000 - 250_000_123
        assert _events(w3, receipt, "Recalled", capital.master) == [
            {"child": child, "token": A.USDC, "amount": 250_000_123}
        ]

    def test_everything_but_dust_both_ways(self, w3: Web3, capital: Deployment, owner: str) -> None:
        child = capital.children[0].address
        deal(w3, A.WETH, capital.master, 5 * 10**18)
        deal(w3, A.WETH, child, 0)
        receipt = _tx(w3, owner, capital.master, "allocate", child, A.WETH, 2**256 - 1)
        assert _balance(w3, A.WETH, capital.master) == 1  # DUST stays
        assert _events(w3, receipt, "Allocated", capital.master)[0]["amount"] == 5 * 10**18 - 1
        receipt = _tx(w3, owner, capital.master, "recall", child, A.WETH, 2**256 - 1)
        assert _balance(w3, A.WETH, child) == 1
        assert _balance(w3, A.WETH, capital.master) == 5 * 10**18 - 1
        assert _events(w3, receipt, "Recalled", capital.master)[0]["amount"] == 5 * 10**18 - 2

    def test_a_named_allocator_moves_capital_until_revoked(
        self, w3: Web3, capital: Deployment, owner: str
    ) -> None:
        allocator = str(w3.eth.accounts[6])
        child = capital.children[0].address
        deal(w3, A.USDC, capital.master, 10**9)
        receipt = _tx(w3, owner, capital.master, "setAllocator", allocator, True)
        assert _events(w3, receipt, "AllocatorSet", capital.master) == [
            {"account": allocator, "allowed": True}
        ]
        _tx(w3, allocator, capital.master, "allocate", child, A.USDC, 10**6)
        _tx(w3, allocator, capital.master, "recall", child, A.USDC, 10**5)
        _tx(w3, owner, capital.master, "setAllocator", allocator, False)
        data = _at(w3, capital.master).encode_abi("allocate", [child, A.USDC, 1])
        tx = {"from": allocator, "to": capital.master, "data": data}
        mine_attack(w3, tx, f"NotAllocator(caller={allocator})")

    def test_capital_goes_only_to_registered_children(
        self, w3: Web3, capital: Deployment, owner: str, attacker: str
    ) -> None:
        deal(w3, A.USDC, capital.master, 10**9)
        master = _at(w3, capital.master)
        for fn in ("allocate", "recall"):
            data = master.encode_abi(fn, [attacker, A.USDC, 10**6])
            mine_attack(
                w3,
                {"from": owner, "to": capital.master, "data": data},
                f"NotAChild(child={attacker})",
            )

    def test_a_removed_child_gets_nothing_and_registration_checks_the_child(
        self, w3: Web3, capital: Deployment, owner: str
    ) -> None:
        gone, kept = capital.children
        receipt = _tx(w3, owner, capital.master, "removeChild", gone.address)
        assert _events(w3, receipt, "ChildRemoved", capital.master) == [{"child": gone.address}]
        master = _at(w3, capital.master)
        assert [c[0] for c in master.functions.children().call()] == [kept.address]
        data = master.encode_abi("allocate", [gone.address, A.USDC, 1])
        mine_attack(
            w3,
            {"from": owner, "to": capital.master, "data": data},
            f"NotAChild(child={gone.address})",
        )
        # its executor is not the other child's; the owner is no executor key; a plain account
        for child, executor in (
            (gone.address, kept.executor),
            (gone.address, owner),
            (kept.executor, kept.executor),
        ):
            data = master.encode_abi("registerChild", [child, "x", executor])
            has_code = bool(w3.eth.get_code(cast(Any, child)))
            where = capital.master if has_code else "0x" + "00" * 20
            expected = (
                f"InvalidChild(child={child}, childMaster={to_checksum_address(where)}, "
                f"executor={executor})"
            )
            mine_attack(w3, {"from": owner, "to": capital.master, "data": data}, expected)
        receipt = _tx(
            w3, owner, capital.master, "registerChild", gone.address, "again", gone.executor
        )
        assert _events(w3, receipt, "ChildRegistered", capital.master) == [
            {"child": gone.address, "executor": gone.executor, "label": "again"}
        ]

    def test_only_the_master_can_make_a_child_return_capital(
        self, w3: Web3, capital: Deployment, owner: str
    ) -> None:
        child = capital.children[0]
        deal(w3, A.USDC, child.address, 10**9)
        data = _at(w3, child.address).encode_abi("recallToMaster", [A.USDC, 10**6])
        for who in (owner, child.executor, capital.risk):
            mine_attack(
                w3,
                {"from": who, "to": child.address, "data": data},
                f"NotMaster(caller={who}, master={capital.master})",
            )


def _route(w3: Web3) -> Any:
    return R.v2_routes(w3)["2-hop"]


class TestTrades:
    """A child trades with its own key, and logs the trade itself."""

    def test_a_child_trades_with_its_key_and_emits_the_trade(
        self, w3: Web3, capital: Deployment
    ) -> None:
        child = capital.child("backrun")
        for token in (A.USDC, A.WETH):
            deal(w3, token, child.diamond, 1)
        R.shock_v2_weth_usdc(w3)
        plan, _ = R.sized_plan(w3, _route(w3), R.balancer(w3))
        trade = R.execute(R.trader(w3, child, sender=child.executor), plan)
        assert trade.realized_profit == trade.event_profit == plan.predicted_profit > 0
        receipt = w3.eth.get_transaction_receipt(cast(Any, trade.tx_hash))
        # ArbExecuted is anonymous with the profit as its one topic and no data (no log carries its
        # signature's hash); nothing else in the trade logs that shape
        logs = [lg for lg in receipt["logs"] if len(lg["topics"]) == 1 and not bytes(lg["data"])]
        assert ARB_EXECUTED not in {bytes(lg["topics"][0]) for lg in receipt["logs"]}
        assert [lg["address"] for lg in logs] == [child.diamond]  # the child names itself
        (event,) = _events(w3, receipt, "ArbExecuted", child.diamond)
        assert event == {"profit": plan.predicted_profit}  # no bribe: ArbExecuted, its one topic
        tx = w3.eth.get_transaction(cast(Any, trade.tx_hash))
        assert bytes(tx["input"])[101:121] == bytes.fromhex(A.USDC[2:])  # the token: the path's

    def test_another_child_executor_cannot_trade_here(self, w3: Web3, capital: Deployment) -> None:
        R.shock_v2_weth_usdc(w3)
        plan, _ = R.sized_plan(w3, _route(w3), R.balancer(w3))
        here, other = capital.children
        tx = plan.call(here.address, other.executor, 0, FAR)
        mine_attack(w3, tx, f"NotExecutor(caller={other.executor})")

    def test_a_revoked_built_in_executor_is_refused(
        self, w3: Web3, capital: Deployment, owner: str
    ) -> None:
        child = capital.children[0]
        _tx(w3, owner, child.address, "setExecutor", child.executor, False)
        R.shock_v2_weth_usdc(w3)
        plan, _ = R.sized_plan(w3, _route(w3), R.balancer(w3))
        tx = plan.call(child.address, child.executor, 0, FAR)
        mine_attack(w3, tx, f"NotExecutor(caller={child.executor})")
        _tx(w3, owner, child.address, "setExecutor", child.executor, True)  # back in the list
        deal(w3, A.USDC, child.address, 1)
        assert R.execute(R.trader(w3, capital.child(child.label), child.executor), plan).gas_used


class TestMaxLoss:
    """Loss = how much lower the child's balance of the route token ends a trade than it began.
    Without a shock the 2-hop cycle loses both pools' fees: a trade that must lose."""

    AMOUNT = R.usdc(20_000)

    @pytest.fixture
    def losing(self, w3: Web3, capital: Deployment) -> tuple[Any, int]:
        plan = R.plan_at(w3, _route(w3), self.AMOUNT, FlashSource.inventory())
        loss = -plan.predicted_profit
        assert loss > 0
        return plan, loss

    def _send(self, w3: Web3, child: Any, plan: Any, allowance: int) -> Any:
        return plan.call(child.address, child.executor, 0, FAR, 0, allowance)

    @pytest.mark.parametrize("source", ["inventory", "balancer"])
    def test_a_loss_within_both_limits_lowers_the_balance_by_exactly_it(
        self, w3: Web3, capital: Deployment, owner: str, losing: tuple[Any, int], source: str
    ) -> None:
        plan, loss = losing
        if source == "balancer":
            plan = R.plan_at(w3, _route(w3), self.AMOUNT, R.balancer(w3))
            loss = -plan.predicted_profit
        child = capital.children[0]
        deal(w3, A.USDC, child.address, 2 * self.AMOUNT)
        _tx(w3, owner, child.address, "setMaxLoss", A.USDC, loss)
        before = _balance(w3, A.USDC, child.address)
        receipt = send(w3, self._send(w3, child, plan, loss), "executeArb")
        assert _balance(w3, A.USDC, child.address) == before - loss
        (event,) = _events(w3, receipt, "ArbExecuted", child.address)
        assert event == {"profit": -loss}

    def test_an_allowance_above_the_owner_maximum_is_refused(
        self, w3: Web3, capital: Deployment, owner: str, losing: tuple[Any, int]
    ) -> None:
        plan, loss = losing
        child = capital.children[0]
        deal(w3, A.USDC, child.address, 2 * self.AMOUNT)
        expected = f"LossAboveCap(token={A.USDC}, loss={loss}, maxLoss={{cap}})"
        mine_attack(w3, self._send(w3, child, plan, loss), expected.format(cap=0))  # none set
        _tx(w3, owner, child.address, "setMaxLoss", A.USDC, loss - 1)
        mine_attack(w3, self._send(w3, child, plan, loss), expected.format(cap=loss - 1))

    def test_a_route_that_loses_more_than_its_allowance_reverts(
        self, w3: Web3, capital: Deployment, owner: str, losing: tuple[Any, int]
    ) -> None:
        plan, loss = losing
        child = capital.children[0]
        deal(w3, A.USDC, child.address, 2 * self.AMOUNT)
        _tx(w3, owner, child.address, "setMaxLoss", A.USDC, 10 * loss)
        tx = self._send(w3, child, plan, loss - 1)
        mine_attack(w3, tx, f"LossAboveAllowance(loss={loss}, allowed={loss - 1})")
        tx = self._send(w3, child, plan, 0)  # no allowance: no loss, whatever the owner allows
        mine_attack(w3, tx, f"InsufficientProfit(profit={-loss}, minProfit=0)")

    def test_other_children_and_other_tokens_keep_their_own_maximum(
        self, w3: Web3, capital: Deployment, owner: str, losing: tuple[Any, int]
    ) -> None:
        plan, loss = losing
        first, second = capital.children
        _tx(w3, owner, first.address, "setMaxLoss", A.USDC, loss)
        receipt = _tx(w3, owner, first.address, "setMaxLoss", A.WETH, 5)
        assert _events(w3, receipt, "MaxLossSet", first.address) == [{"token": A.WETH, "amount": 5}]
        assert _at(w3, first.address).functions.maxLoss(A.USDC).call() == loss
        assert _at(w3, second.address).functions.maxLoss(A.USDC).call() == 0
        deal(w3, A.USDC, second.address, 2 * self.AMOUNT)
        expected = f"LossAboveCap(token={A.USDC}, loss={loss}, maxLoss=0)"
        mine_attack(w3, self._send(w3, second, plan, loss), expected)


class TestPause:
    """The risk guardian stops a child; only the owner starts it again."""

    def test_the_risk_guardian_pauses_and_trades_stop(self, w3: Web3, capital: Deployment) -> None:
        child = capital.children[1]
        receipt = _tx(w3, capital.risk, child.address, "pause")
        assert _at(w3, child.address).functions.paused().call() is True
        assert _events(w3, receipt, "PausedBy", child.address) == [{"account": capital.risk}]
        assert _events(w3, receipt, "PausedSet", child.address) == [{"paused": True}]
        assert _at(w3, capital.children[0].address).functions.paused().call() is False
        R.shock_v2_weth_usdc(w3)
        plan, _ = R.sized_plan(w3, _route(w3), R.balancer(w3))
        mine_attack(w3, plan.call(child.address, child.executor, 0, FAR), "ExecutionPaused()")

    def test_the_risk_guardian_cannot_resume_only_the_owner_can(
        self, w3: Web3, capital: Deployment, owner: str
    ) -> None:
        child = capital.children[1]
        _tx(w3, capital.risk, child.address, "pause")
        data = _at(w3, child.address).encode_abi("setPaused", [False])
        for who in (capital.risk, child.executor):
            mine_attack(
                w3,
                {"from": who, "to": child.address, "data": data},
                NOT_OWNER.format(who=who, owner=owner),
            )
        _tx(w3, owner, child.address, "setPaused", False)
        assert _at(w3, child.address).functions.paused().call() is False

    def test_a_paused_child_still_returns_its_capital(
        self, w3: Web3, capital: Deployment, owner: str
    ) -> None:
        child = capital.children[1]
        deal(w3, A.USDC, child.address, 5_000_001)
        _tx(w3, capital.risk, child.address, "pause")
        before = _balance(w3, A.USDC, capital.master)
        receipt = _tx(w3, owner, capital.master, "recall", child.address, A.USDC, 2**256 - 1)
        assert _balance(w3, A.USDC, capital.master) == before + 5_000_000
        assert _balance(w3, A.USDC, child.address) == 1
        assert _events(w3, receipt, "Recalled", capital.master) == [
            {"child": child.address, "token": A.USDC, "amount": 5_000_000}
        ]

    def test_nobody_else_may_pause(
        self, w3: Web3, capital: Deployment, owner: str, attacker: str
    ) -> None:
        child = capital.children[1]
        data = _at(w3, child.address).encode_abi("pause", [])
        for who in (attacker, child.executor, capital.children[0].executor):
            tx = {"from": who, "to": child.address, "data": data}
            mine_attack(w3, tx, f"NotRiskGuardian(caller={who})")
        _tx(w3, owner, child.address, "setRiskGuardian", "0x" + "00" * 20)  # none any more
        tx = {"from": capital.risk, "to": child.address, "data": data}
        mine_attack(w3, tx, f"NotRiskGuardian(caller={capital.risk})")
        _tx(w3, owner, child.address, "pause")  # the owner always may
        assert _at(w3, child.address).functions.paused().call() is True


def test_every_new_function_is_in_the_abi_the_tools_read() -> None:
    """diamond_abi (what the CLI, the trader and these tests decode with) has the new facets."""
    names = {e.get("name") for e in diamond_abi()}
    for n in ("ChildFacet", "MasterFacet"):
        for e in contract(n).abi:
            if e["type"] in ("function", "event", "error"):
                assert e["name"] in names, e["name"]
    assert function_abi_to_4byte_selector(
        cast(Any, next(e for e in diamond_abi() if e.get("name") == "pause"))
    ) == bytes.fromhex("8456cb59")
