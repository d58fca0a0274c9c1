"""Faults between scan and send: the state moves, the base fee spikes, another transaction takes
the nonce. Each ends in a refused trade (no transaction sent) or a trade that still lands as
simulated; never a losing transaction."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.anvil import rpc_request
from flasharb.chain.cheats import balance_of
from flasharb.chain.node import Lab
from flasharb.chain.rpc import connect
from flasharb.errors import NonceClashError, TransactionFailed
from flasharb.execute.shock import shock
from flasharb.journal.store import Journal
from flasharb.search.rank import Opportunity
from flasharb.search.scan import scan
from flasharb_testing import routes as R
from tests.fork.fault_proxy import FaultProxy
from tests.helpers import Cli


def _opportunity(w3: Web3) -> Opportunity:
    """The demo's opportunity: 500 WETH dumped on Uniswap V2 WETH/USDC, scanned."""
    R.shock_v2_weth_usdc(w3)
    res = scan(w3, max_hops=2)
    assert res.opportunities, "the shock makes an opportunity"
    return res.opportunities[0]


def _set_next_base_fee(w3: Web3, wei: int) -> None:
    w3.provider.make_request("anvil_setNextBlockBaseFeePerGas", [hex(wei)])  # type: ignore[arg-type]


def _sent(w3: Web3, owner: str) -> int:
    return int(w3.eth.get_transaction_count(owner))  # type: ignore[arg-type]


class TestStateMovesBeforeSend:
    """A competing swap lands between scan and send: the simulation refuses, nothing is sent."""

    def test_competing_swap_first(self, w3: Web3, deployment: Any, owner: str) -> None:
        opp = _opportunity(w3)
        uni = R.pool(w3, "uniswap_v2", A.WETH, A.USDC).address
        shock(w3, uni, A.USDC, 1_500_000 * 10**6)  # someone else takes the WETH first
        nonce, head = _sent(w3, owner), w3.eth.block_number
        held = balance_of(w3, opp.cycle.token, deployment.diamond)
        t = R.trader(w3, deployment)
        trades, failed = t.execute([opp], R.head(w3))  # planned on the states of the scan
        assert trades == [] and len(failed) == 1
        prepared, reason = failed[0]
        assert reason.startswith("simulation reverted: ") and prepared.error, reason
        with pytest.raises(TransactionFailed, match="simulation"):
            t.send(prepared)  # a refused transaction cannot be sent at all
        assert (_sent(w3, owner), w3.eth.block_number) == (nonce, head)  # nothing sent
        assert balance_of(w3, opp.cycle.token, deployment.diamond) == held


class TestBaseFeeSpike:
    """The next block's base fee makes gas cost more than the trade makes: refused, not sent.

    The trader prices the next block from the head (EIP-1559), as on a real chain, so the spike
    is a mined block with a base fee of 1,000,000 gwei (the next one's follows from it)."""

    def test_spike_refuses_the_trade(self, w3: Web3, deployment: Any, owner: str) -> None:
        opp = _opportunity(w3)
        normal = int(w3.eth.get_block("pending")["baseFeePerGas"])
        try:  # the fee is node state: evm_revert does not undo it, so put it back by hand
            _set_next_base_fee(w3, 10**15)  # 1,000,000 gwei
            w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
            assert R.head(w3).base_fee == 10**15
            nonce, head = _sent(w3, owner), w3.eth.block_number
            trades, failed = R.trader(w3, deployment).execute([opp], R.head(w3))
            assert trades == [] and len(failed) == 1
            prepared, reason = failed[0]
            assert prepared.simulated_profit is not None  # it would still trade: gas eats it
            assert "base fee" in reason and "not sent" in reason, reason
            assert (_sent(w3, owner), w3.eth.block_number) == (nonce, head)
        finally:
            _set_next_base_fee(w3, normal)

    def test_normal_base_fee_still_trades(self, w3: Web3, deployment: Any) -> None:
        opp = _opportunity(w3)
        trades, failed = R.trader(w3, deployment).execute([opp], R.head(w3))
        assert not failed, failed
        assert trades[0].realized_profit == trades[0].simulated_profit > 0


class TestNonceClash:
    """Another sender with the same key lands a transaction between nonce read and send."""

    @staticmethod
    def _clash(lab: Lab, owner: str, every: bool) -> FaultProxy:
        proxy = FaultProxy(lab.rpc_url)
        fired: list[int] = []

        def hook(n: int, methods: list[str]) -> None:
            """Before the trader's signed transaction reaches the node, another transaction
            from the same key lands (mined: its receipt is there) with the nonce it signed."""
            if "eth_sendRawTransaction" in methods and (every or not fired):
                fired.append(n)
                tx = rpc_request(lab.rpc_url, "eth_sendTransaction", [{"from": owner, "to": owner}])
                while rpc_request(lab.rpc_url, "eth_getTransactionReceipt", [tx]) is None:
                    time.sleep(0.01)

        proxy.hook = hook
        return proxy

    def test_one_clash_is_retried(self, w3: Web3, lab: Lab, deployment: Any, owner: str) -> None:
        opp = _opportunity(w3)
        nonce = _sent(w3, owner)
        with self._clash(lab, owner, every=False) as proxy:
            t = R.trader(connect(proxy.url), deployment)
            trade = t.reconcile(t.send(t.prepare([opp], R.head(w3))[0]))
        assert trade.realized_profit == trade.simulated_profit > 0
        assert _sent(w3, owner) == nonce + 2  # the other transaction, then the trade

    def test_repeated_clash_is_one_clear_error(
        self, w3: Web3, lab: Lab, deployment: Any, owner: str
    ) -> None:
        opp = _opportunity(w3)
        nonce = _sent(w3, owner)
        held = balance_of(w3, opp.cycle.token, deployment.diamond)
        with self._clash(lab, owner, every=True) as proxy, pytest.raises(NonceClashError) as err:
            t = R.trader(connect(proxy.url), deployment)
            t.send(t.prepare([opp], R.head(w3))[0])
        assert "nonce" in str(err.value) and owner in str(err.value)
        assert _sent(w3, owner) == nonce + 2  # only the two clashing transfers were mined
        assert balance_of(w3, opp.cycle.token, deployment.diamond) == held


class TestSentTradeReverts:
    """The state moves after the simulation, between the signature and the block: the sent
    trade reverts on chain. `flasharb execute` says so in one line and exits 1, the route's
    pools are quarantined in the journal, and the next `execute` leaves them out."""

    def test_execute_exits_1_and_quarantines(
        self, w3: Web3, lab: Lab, tmp_path: Any, owner: str
    ) -> None:
        R.shock_v2_weth_usdc(w3)
        uni = R.pool(w3, "uniswap_v2", A.WETH, A.USDC).address
        direct = connect(lab.rpc_url)
        fired: list[int] = []

        def hook(n: int, methods: list[str]) -> None:
            if "eth_sendRawTransaction" in methods and not fired:
                fired.append(n)  # someone else takes the WETH first, and it is mined first
                shock(direct, uni, A.USDC, 1_500_000 * 10**6)

        with FaultProxy(lab.rpc_url, hook=hook) as proxy:
            cli = Cli(proxy.url, tmp_path)
            cli.json("deploy")
            res = cli.run("execute", "--json")
        assert fired and res.returncode == 1, (res.returncode, res.stderr)
        (line,) = res.stderr.strip().splitlines()
        assert (
            line.startswith("flasharb: error: 1 sent trade(s) reverted") and "quarantined" in line
        )
        out = json.loads(res.stdout)
        (reverted,) = out["reverted"]
        assert out["trades"] == [] and uni in [h["pool"] for h in reverted["route"]]
        receipt = w3.eth.get_transaction_receipt(reverted["tx_hash"])  # type: ignore[arg-type]
        assert receipt["status"] == 0
        with Journal(tmp_path / "journal.sqlite") as j:
            rows = j.rows("SELECT pool, tx_hash, until_block FROM quarantine")
            lost = j.rows("SELECT * FROM trades WHERE status = 'reverted'")
        assert {r["pool"] for r in rows} == {h["pool"] for h in reverted["route"]}
        assert all(r["tx_hash"] == reverted["tx_hash"] for r in rows)
        (row,) = lost  # journaled with its hash and the gas it cost (a loss)
        assert (
            row["reason"].startswith("reverted on chain") and row["tx_hash"] == reverted["tx_hash"]
        )
        assert int(row["gas_cost_wei"]) == receipt["gasUsed"] * receipt["effectiveGasPrice"]
        assert reverted["gas_cost_wei"] == row["gas_cost_wei"]
        again = Cli(lab.rpc_url, tmp_path).json("execute", "--dry-run")
        for trade in again["trades"]:  # the quarantined pools are out of every route
            assert not {h["pool"] for h in trade["route"]} & {r["pool"] for r in rows}
