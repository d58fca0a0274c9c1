"""GuardFacet and TreasuryFacet on the replica fork: a hot key that trades but never withdraws,
the pause switch, per-token notional caps, the 1-wei dust the diamond keeps, the profit split,
and the executor deploy registers (its address recorded, never its key)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from web3 import Web3
from web3.logs import DISCARD

from flasharb.chain import addresses as A
from flasharb.chain.cheats import balance_of, deal
from flasharb.errors import FlasharbValueError
from flasharb.execute.deploy import deploy, diamond_abi, executor_address, load, save
from flasharb.execute.keys import EXECUTOR_KEY_ENV, dev_key
from flasharb.execute.plan import Plan
from flasharb_testing import routes as R
from tests.helpers import call_error


def _plan(w3: Web3) -> Plan:
    """The demo's opportunity (500 WETH dumped on Uniswap V2), sized for a Balancer loan."""
    R.shock_v2_weth_usdc(w3)
    return R.sized_plan(w3, R.v2_routes(w3)["2-hop"], R.balancer(w3))[0]


def _send(w3: Web3, fn: Any, sender: str) -> Any:
    receipt = w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender}))
    assert receipt["status"] == 1
    return receipt


class TestExecutors:
    """The owner lets a hot key execute; the key can do nothing else."""

    def test_hot_key_trades_but_cannot_take_funds(
        self, w3: Web3, deployment: Any, diamond: Any, owner: str, executor_key: str
    ) -> None:
        plan = _plan(w3)
        hot = R.trader(w3, deployment, sender=executor_key)
        tx = plan.call(deployment.diamond, executor_key, 0, w3.eth.block_number + 5)
        assert call_error(w3, tx) == f"NotExecutor(caller={executor_key})"
        refused = R.prepare(hot, plan)
        assert not refused.ok and refused.error == f"NotExecutor(caller={executor_key})"
        receipt = _send(w3, diamond.functions.setExecutor(executor_key, True), owner)
        assert (
            diamond.events.ExecutorSet().process_receipt(receipt, errors=DISCARD)[0]["args"][
                "allowed"
            ]
            is True
        )
        assert diamond.functions.isExecutor(executor_key).call() is True
        trade = R.execute(hot, plan)
        assert trade.realized_profit == plan.predicted_profit > 0
        not_owner = f"NotContractOwner(_user={executor_key}, _contractOwner={owner})"
        for fn, args in (
            ("withdraw", [A.USDC, executor_key, 1]),
            ("distribute", [A.USDC]),
            ("setBeneficiaries", [[executor_key], [10_000]]),
            ("setExecutor", [executor_key, True]),
            ("setPaused", [False]),
            ("setNotionalCap", [A.USDC, 0]),
            ("transferOwnership", [executor_key]),
        ):
            data = diamond.encode_abi(fn, args)
            assert call_error(
                w3, {"from": executor_key, "to": deployment.diamond, "data": data}
            ) == (not_owner), fn
        _send(w3, diamond.functions.setExecutor(executor_key, False), owner)
        tx = plan.call(deployment.diamond, executor_key, 0, w3.eth.block_number + 5)
        assert call_error(w3, tx) == f"NotExecutor(caller={executor_key})"


class TestPause:
    def test_pause_stops_everyone_until_resumed(
        self, w3: Web3, deployment: Any, diamond: Any, owner: str
    ) -> None:
        plan = _plan(w3)
        t = R.trader(w3, deployment)
        _send(w3, diamond.functions.setPaused(True), owner)
        assert diamond.functions.paused().call() is True
        tx = plan.call(deployment.diamond, owner, 0, w3.eth.block_number + 5)
        assert call_error(w3, tx) == "ExecutionPaused()"
        assert R.prepare(t, plan).error == "ExecutionPaused()"  # refused: never sent
        _send(w3, diamond.functions.setPaused(False), owner)
        assert R.execute(t, plan).realized_profit == plan.predicted_profit


class TestNotionalCaps:
    def test_cap_is_per_token_and_exact(
        self, w3: Web3, deployment: Any, diamond: Any, owner: str
    ) -> None:
        plan = _plan(w3)
        t = R.trader(w3, deployment)
        amount = plan.amount_in
        _send(w3, diamond.functions.setNotionalCap(A.DAI, 1), owner)  # another token's cap
        assert R.simulate(t, plan) == plan.predicted_profit
        _send(w3, diamond.functions.setNotionalCap(A.USDC, amount - 1), owner)
        assert diamond.functions.notionalCap(A.USDC).call() == amount - 1
        capped = f"NotionalCapExceeded(token={A.USDC}, amountIn={amount}, cap={amount - 1})"
        tx = plan.call(deployment.diamond, owner, 0, w3.eth.block_number + 5)
        assert call_error(w3, tx) == capped
        assert R.prepare(t, plan).error == capped
        _send(w3, diamond.functions.setNotionalCap(A.USDC, amount), owner)
        assert R.simulate(t, plan) == plan.predicted_profit
        for token in (A.USDC, A.DAI):  # no cap left: executeArb no longer reads them
            _send(w3, diamond.functions.setNotionalCap(token, 0), owner)
        assert R.execute(t, plan).realized_profit == plan.predicted_profit


class TestTreasury:
    """Only the owner moves funds out; the diamond keeps 1 wei of every token (DUST)."""

    def test_withdraw_keeps_the_dust(
        self, w3: Web3, deployment: Any, diamond: Any, owner: str
    ) -> None:
        deal(w3, A.USDT, deployment.diamond, 1_000)  # USDT: transfer returns nothing
        dust = diamond.functions.DUST().call()
        assert dust == 1
        err = call_error(
            w3,
            {
                "from": owner,
                "to": deployment.diamond,
                "data": diamond.encode_abi("withdraw", [A.USDT, owner, 1_000]),
            },
        )
        assert err == f"DustMustStay(token={A.USDT}, balance=1000, amount=1000)"
        before = balance_of(w3, A.USDT, owner)
        _send(w3, diamond.functions.withdraw(A.USDT, owner, 2**256 - 1), owner)
        assert balance_of(w3, A.USDT, owner) == before + 999
        assert balance_of(w3, A.USDT, deployment.diamond) == dust

    def test_profit_split_by_basis_points(
        self, w3: Web3, deployment: Any, diamond: Any, owner: str, attacker: str
    ) -> None:
        accounts = list(w3.eth.accounts)
        people = [accounts[5], accounts[6], accounts[8]]
        bps = [5_000, 3_333, 1_667]
        for bad_bps in ([5_000, 3_333, 1_666], [10_000, 0, 0]):
            data = diamond.encode_abi("setBeneficiaries", [people, bad_bps])
            err = call_error(w3, {"from": owner, "to": deployment.diamond, "data": data})
            assert err is not None and err.startswith("InvalidSplit"), err
        _send(w3, diamond.functions.setBeneficiaries(people, bps), owner)
        assert diamond.functions.beneficiaries().call() == [people, bps]
        pot = 1_000_001
        deal(w3, A.USDC, deployment.diamond, pot + 1)
        before = [balance_of(w3, A.USDC, p) for p in people]
        receipt = _send(w3, diamond.functions.distribute(A.USDC), owner)
        shares = [pot * b // 10_000 for b in bps]  # 500000, 333300, 166700 (+1 wei each floor)
        assert [
            balance_of(w3, A.USDC, p) - b for p, b in zip(people, before, strict=True)
        ] == shares
        assert balance_of(w3, A.USDC, deployment.diamond) == pot + 1 - sum(shares)
        events = diamond.events.Distributed().process_receipt(receipt, errors=DISCARD)
        assert [e["args"]["amount"] for e in events] == shares
        _send(w3, diamond.functions.setBeneficiaries([], []), owner)
        err = call_error(
            w3,
            {
                "from": owner,
                "to": deployment.diamond,
                "data": diamond.encode_abi("distribute", [A.USDC]),
            },
        )
        assert err == "NoBeneficiaries()"


class TestDeployKeys:
    """Two keys (issue 14): deploy registers an executor that is not the owner and records its
    address, never a key; the owner's key is only needed to deploy, cut, withdraw and set
    limits."""

    def test_deploy_allows_a_second_account_to_trade(
        self, w3: Web3, deployment: Any, diamond: Any, owner: str
    ) -> None:
        executor = deployment.executor
        assert executor == w3.eth.accounts[1]  # Anvil's development account #1
        assert executor != owner
        assert diamond.functions.isExecutor(executor).call() is True
        assert deployment.to_json()["executor"] == executor

    def test_the_executor_key_from_the_environment(
        self, w3: Web3, owner: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        second = str(w3.eth.accounts[2])
        key = dev_key(second)
        assert key is not None
        monkeypatch.setenv(EXECUTOR_KEY_ENV, "0x" + key.hex())
        dep = deploy(w3, owner, record=False)
        assert dep.executor == second
        d = w3.eth.contract(address=dep.diamond, abi=diamond_abi())
        assert d.functions.isExecutor(second).call() is True
        assert d.functions.isExecutor(w3.eth.accounts[1]).call() is False
        owner_key = dev_key(owner)
        assert owner_key is not None
        monkeypatch.setenv(EXECUTOR_KEY_ENV, "0x" + owner_key.hex())
        with pytest.raises(FlasharbValueError, match="is the owner's key"):
            executor_address(owner)
        monkeypatch.setenv(EXECUTOR_KEY_ENV, "not a key")
        with pytest.raises(FlasharbValueError, match="not a 32-byte hex private key"):
            executor_address(owner)

    def test_the_record_keeps_the_executors_address_not_a_key(
        self, w3: Web3, deployment: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("FLASHARB_STATE_DIR", str(tmp_path))
        save(deployment)
        record = json.loads((tmp_path / "deployment.json").read_text())
        assert record["executor"] == deployment.executor
        key = dev_key(deployment.executor)
        assert key is not None and key.hex() not in json.dumps(record)
        assert load(w3) == deployment
