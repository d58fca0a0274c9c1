"""Faults between scan and send: the state moves, the base fee spikes, another transaction takes
the nonce. Each ends in a refused trade (no transaction sent) or a trade that still lands as
simulated; never a losing transaction."""

from __future__ import annotations

from typing import Any

import pytest
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.anvil import rpc_request
from flasharb.chain.cheats import balance_of
from flasharb.chain.node import Lab
from flasharb.chain.rpc import connect
from flasharb.errors import NonceClashError, TradeRefused, TransactionFailed
from flasharb.execute import routes as R
from flasharb.execute.executor import Executor
from flasharb.execute.shock import shock
from flasharb.search.scan import scan
from tests.fault_proxy import FaultProxy

pytestmark = pytest.mark.fork


def _opportunity(w3: Web3) -> tuple[Any, Any]:
    """The demo's opportunity: 500 WETH dumped on Uniswap V2 WETH/USDC, scanned."""
    R.shock_v2_weth_usdc(w3)
    res = scan(w3, max_hops=2)
    assert res.opportunities, "the shock makes an opportunity"
    return res, res.opportunities[0]


def _set_next_base_fee(w3: Web3, wei: int) -> None:
    w3.provider.make_request("anvil_setNextBlockBaseFeePerGas", [hex(wei)])  # type: ignore[arg-type]


def _sent(w3: Web3, owner: str) -> int:
    return int(w3.eth.get_transaction_count(owner))  # type: ignore[arg-type]


class TestStateMovesBeforeSend:
    """A competing swap lands between scan and send: the simulation refuses, nothing is sent."""

    def test_competing_swap_first(self, w3: Web3, deployment: Any, owner: str) -> None:
        res, opp = _opportunity(w3)
        uni = R.pool(w3, "uniswap_v2", A.WETH, A.USDC).address
        shock(w3, uni, A.USDC, 1_500_000 * 10**6)  # someone else takes the WETH first
        nonce, head = _sent(w3, owner), w3.eth.block_number
        held = balance_of(w3, opp.cycle.token, deployment.diamond)
        with pytest.raises(TransactionFailed) as err:
            Executor(w3, deployment).execute(opp, states=res.states)  # the states of the scan
        assert "simulation" in str(err.value)
        assert (_sent(w3, owner), w3.eth.block_number) == (nonce, head)  # nothing sent
        assert balance_of(w3, opp.cycle.token, deployment.diamond) == held


class TestBaseFeeSpike:
    """The next block's base fee makes gas cost more than the trade makes: refused, not sent."""

    def test_spike_refuses_the_trade(self, w3: Web3, deployment: Any, owner: str) -> None:
        res, opp = _opportunity(w3)
        normal = int(w3.eth.get_block("pending")["baseFeePerGas"])
        try:  # the fee is node state: evm_revert does not undo it, so put it back by hand
            _set_next_base_fee(w3, 10**15)  # 1,000,000 gwei
            nonce, head = _sent(w3, owner), w3.eth.block_number
            with pytest.raises(TradeRefused) as err:
                Executor(w3, deployment).execute(opp, states=res.states)
            assert "base fee" in str(err.value) and "not sent" in str(err.value)
            assert (_sent(w3, owner), w3.eth.block_number) == (nonce, head)
        finally:
            _set_next_base_fee(w3, normal)

    def test_normal_base_fee_still_trades(self, w3: Web3, deployment: Any) -> None:
        res, opp = _opportunity(w3)
        trade = Executor(w3, deployment).execute(opp, states=res.states)
        assert trade.realized_profit == trade.simulated_profit > 0


class TestNonceClash:
    """Another sender with the same key lands a transaction between nonce read and send."""

    @staticmethod
    def _clash(lab: Lab, owner: str, every: bool) -> FaultProxy:
        proxy = FaultProxy(lab.rpc_url)
        fired: list[int] = []

        def hook(n: int, methods: list[str]) -> None:
            if "eth_sendTransaction" in methods and (every or not fired):
                fired.append(n)
                rpc_request(lab.rpc_url, "eth_sendTransaction", [{"from": owner, "to": owner}])

        proxy.hook = hook
        return proxy

    def test_one_clash_is_retried(self, w3: Web3, lab: Lab, deployment: Any, owner: str) -> None:
        res, opp = _opportunity(w3)
        nonce = _sent(w3, owner)
        with self._clash(lab, owner, every=False) as proxy:
            trade = Executor(connect(proxy.url), deployment).execute(opp, states=res.states)
        assert trade.realized_profit == trade.simulated_profit > 0
        assert _sent(w3, owner) == nonce + 2  # the other transaction, then the trade

    def test_repeated_clash_is_one_clear_error(
        self, w3: Web3, lab: Lab, deployment: Any, owner: str
    ) -> None:
        res, opp = _opportunity(w3)
        nonce = _sent(w3, owner)
        held = balance_of(w3, opp.cycle.token, deployment.diamond)
        with self._clash(lab, owner, every=True) as proxy, pytest.raises(NonceClashError) as err:
            Executor(connect(proxy.url), deployment).execute(opp, states=res.states)
        assert "nonce" in str(err.value) and owner in str(err.value)
        assert _sent(w3, owner) == nonce + 2  # only the two clashing transfers were mined
        assert balance_of(w3, opp.cycle.token, deployment.diamond) == held
