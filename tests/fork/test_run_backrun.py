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
from flasharb.chain.cheats import impersonating
from flasharb.chain.node import SLOT_SECONDS, Lab, fork_args
from flasharb.chain.rpc import connect
from flasharb.execute.deploy import deploy
from flasharb.execute.shock import WHALE
from flasharb.journal.store import Journal
from flasharb.run.loop import RunConfig, Runner

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
