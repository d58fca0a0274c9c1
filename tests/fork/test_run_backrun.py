"""`flasharb run` on a fork that does not automine: a whale's swap waits in the transaction pool;
the runner decodes it, moves the market's pool by it with the exact math (an overlay), finds the
arbitrage it opens, and sends it at the trader's own small tip (never the whale's), so that the
block includes the backrun right after the swap. Realized profit equals the prediction made
before either transaction was mined.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector as selector
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.anvil import Anvil, rpc_request
from flasharb.chain.cheats import deal, impersonating
from flasharb.chain.node import SLOT_SECONDS, Lab, fork_args
from flasharb.chain.rpc import connect
from flasharb.execute.deploy import deploy
from flasharb.execute.shock import WHALE
from flasharb.journal.store import Journal
from flasharb.run.loop import RunConfig, Runner
from flasharb_testing import universal as UR

GWEI = 10**9
VICTIM_TIP = 3 * GWEI
SWAP_WETH = 300 * 10**18
EXACT_INPUT_SINGLE = selector(
    "exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))"
)


@pytest.fixture
def own_fork(lab: Lab) -> Iterator[Web3]:
    """A fork of its own (automine is switched off here; the session fork stays as it is)."""
    head = int(rpc_request(lab.upstream_url, "eth_blockNumber"), 16)
    with Anvil(args=fork_args(lab.upstream_url, head)) as fork:
        rpc_request(fork.url, "anvil_setBlockTimestampInterval", [SLOT_SECONDS])
        yield connect(fork.url)


def _send(w3: Web3, to: str, data: bytes, **extra: Any) -> str:
    tx = {"from": WHALE, "to": to, "data": "0x" + data.hex(), **extra}
    return "0x" + w3.eth.send_transaction(tx).hex().removeprefix("0x")  # type: ignore[arg-type]


def test_pending_whale_swap_is_backrun_in_the_same_block(own_fork: Web3, tmp_path: Path) -> None:
    w3 = own_fork
    dep = deploy(w3, w3.eth.accounts[0], record=False)
    with impersonating(w3, WHALE, eth=10**24) as whale, Journal(tmp_path / "j.sqlite") as j:
        _send(w3, A.WETH, selector("deposit()"), value=SWAP_WETH)
        approve = selector("approve(address,uint256)")
        _send(
            w3,
            A.WETH,
            approve + encode(["address", "uint256"], [A.UNISWAP_V3_SWAP_ROUTER, SWAP_WETH]),
        )
        rpc_request(str(w3.provider.endpoint_uri), "evm_setAutomine", [False])  # type: ignore[attr-defined]
        try:
            runner = Runner(w3, dep, j, RunConfig(top=0))  # only backruns: nothing else is sent
            runner.start()
            assert runner.backrunner is not None  # the node holds transactions: watch the pool
            assert runner.step(first=True) is not None
            assert runner.step() is None  # no new block, no pending swap: nothing happens
            params = (A.WETH, A.USDC, 3000, whale, 2**32, SWAP_WETH, 0, 0)  # the 0.3% pool
            victim = _send(
                w3,
                A.UNISWAP_V3_SWAP_ROUTER,
                EXACT_INPUT_SINGLE
                + encode(
                    ["(address,address,uint24,address,uint256,uint256,uint256,uint160)"], [params]
                ),
                gas=1_000_000,
                maxPriorityFeePerGas=VICTIM_TIP,
                maxFeePerGas=100 * GWEI,
            )
            before = w3.eth.block_number
            assert runner.step() is None  # still no block: the runner backruns the pending swap
            assert w3.eth.block_number == before  # nothing mined by the runner
            sent = runner.backrunner.sent
            assert len(sent) == 1 and sent[0].victim.tx_hash == victim
            assert sent[0].victim.amount_in == SWAP_WETH
            assert sent[0].victim.pool in sent[0].plan.cycle.pools
            pending = rpc_request(str(w3.provider.endpoint_uri), "txpool_status")  # type: ignore[attr-defined]
            assert int(pending["pending"], 16) == 2
            rpc_request(str(w3.provider.endpoint_uri), "evm_mine")  # type: ignore[attr-defined]
            report = runner.step()
        finally:
            rpc_request(str(w3.provider.endpoint_uri), "evm_setAutomine", [True])  # type: ignore[attr-defined]
        assert report is not None
        trades = [t for t in report.trades if t.get("backrun_of") == victim]
        assert len(trades) == 1, report.trades
        t = trades[0]
        assert t["after_victim"] and t["block"] == before + 1
        backrun = w3.eth.get_transaction(t["tx_hash"])  # type: ignore[arg-type]
        assert backrun["maxPriorityFeePerGas"] == runner.trader.policy.priority_fee_wei < VICTIM_TIP
        # predicted on the moved state before anything was mined = simulated = realized
        assert int(t["realized_profit"]) == int(t["predicted_profit"]) > 0
        assert int(t["simulated_profit"]) == int(t["predicted_profit"])
        rows = j.rows("SELECT tx_hash, realized_profit FROM trades")
        assert [(r["tx_hash"], r["realized_profit"]) for r in rows] == [
            (t["tx_hash"], t["realized_profit"])
        ]
        assert runner.finish("done")["trades"] == 1


def _user_send(w3: Web3, user: str, to: str, data: bytes, **extra: Any) -> str:
    tx = {"from": user, "to": to, "data": "0x" + data.hex(), **extra}
    return "0x" + w3.eth.send_transaction(tx).hex().removeprefix("0x")  # type: ignore[arg-type]


@pytest.mark.parametrize("router", ["universal-v3-multihop", "universal-v2", "router02-eth"])
def test_router_swap_is_backrun_in_the_same_block(
    own_fork: Web3, tmp_path: Path, router: str
) -> None:
    """A user's swap as a wallet sends it: through the UniversalRouter with a signed Permit2
    permit in the same `execute` (300 WETH -> USDC -> USDT over two V3 pools, or 300 WETH ->
    USDC on Uniswap V2), or through UniswapV2Router02 paying ETH. It waits in the pool; the
    runner decodes the router call, moves every pool of its path in the overlay, and lands
    the backrun right behind it, its profit realized to the wei of the prediction."""
    w3 = own_fork
    dep = deploy(w3, w3.eth.accounts[0], record=False)
    user = str(w3.eth.accounts[6])
    deal(w3, A.WETH, user, SWAP_WETH)
    UR.token_approve_permit2(w3, user, A.WETH)  # the wallet's one-time approval of Permit2
    if router == "universal-v3-multihop":
        path = UR.v3_path([A.WETH, A.USDC, A.USDT], [3000, 100])
        swap = UR.v3_exact_in(SWAP_WETH, 0, path)
    elif router == "universal-v2":
        swap = UR.v2_exact_in(SWAP_WETH, 0, [A.WETH, A.USDC])
    with Journal(tmp_path / "j.sqlite") as j:
        rpc_request(str(w3.provider.endpoint_uri), "evm_setAutomine", [False])  # type: ignore[attr-defined]
        try:
            runner = Runner(w3, dep, j, RunConfig(top=0))  # only backruns
            runner.start()
            assert runner.backrunner is not None
            assert runner.step(first=True) is not None
            fees = {
                "gas": 1_000_000,
                "maxPriorityFeePerGas": VICTIM_TIP,
                "maxFeePerGas": 100 * GWEI,
            }
            if router == "router02-eth":
                data = selector(
                    "swapExactETHForTokens(uint256,address[],address,uint256)"
                ) + encode(
                    ["uint256", "address[]", "address", "uint256"],
                    [0, [A.WETH, A.USDC], user, 2**32],
                )
                victim = _user_send(w3, user, A.UNISWAP_V2_ROUTER02, data, value=SWAP_WETH, **fees)
            else:
                permit = UR.permit2_permit(w3, user, A.WETH, SWAP_WETH)
                data = UR.execute_data([permit, swap])
                victim = _user_send(w3, user, A.UNIVERSAL_ROUTER, data, **fees)
            before = w3.eth.block_number
            assert runner.step() is None  # no block yet: the runner backruns the pending swap
            sent = runner.backrunner.sent
            assert len(sent) == 1 and sent[0].victim.tx_hash == victim
            assert set(sent[0].victim.pools) & set(sent[0].plan.cycle.pools)
            rpc_request(str(w3.provider.endpoint_uri), "evm_mine")  # type: ignore[attr-defined]
            report = runner.step()
        finally:
            rpc_request(str(w3.provider.endpoint_uri), "evm_setAutomine", [True])  # type: ignore[attr-defined]
        assert report is not None
        assert w3.eth.get_transaction_receipt(victim)["status"] == 1  # type: ignore[arg-type]
        trades = [t for t in report.trades if t.get("backrun_of") == victim]
        assert len(trades) == 1, report.trades
        t = trades[0]
        assert t["after_victim"] and t["block"] == before + 1
        assert int(t["realized_profit"]) == int(t["predicted_profit"]) > 0
        assert int(t["simulated_profit"]) == int(t["predicted_profit"])
