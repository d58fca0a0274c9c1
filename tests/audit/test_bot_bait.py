"""The bot in a market that lies to it (issue 14): tip bait against the backrunner.

A builder (it receives the block's fees: it is the coinbase) sends a pending swap with a huge
tip through the real Uniswap V3 SwapRouter, waits for the backrun, then moves the pool back
with a transaction ordered between the two (plain tokens, real pools). The backrun reverts on
chain. Before issue 14 the backrunner copied the victim's tip (victim tip - 1) and paid it on
the reverted transaction: at a 50,000 gwei bait that is several ETH of the owner's money to
the builder. Now it pays its own small, fixed tip, its worst case (gas limit x fee cap) is
bounded by a share of the expected profit and recorded before it is sent, and the pools of the
reverted route are quarantined.
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

GWEI = 10**9
BAIT_TIP = 50_000 * GWEI  # the builder's bait: what a copied tip would pay per gas
BACK_TIP = 40_000 * GWEI  # the builder's own "move it back", ordered between the two
SWAP_WETH = 300 * 10**18
EXACT_INPUT_SINGLE = selector(
    "exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))"
)
PARAMS = "(address,address,uint24,address,uint256,uint256,uint256,uint160)"


@pytest.fixture
def own_fork(lab: Lab) -> Iterator[Web3]:
    """A fork of its own whose coinbase is the builder (the session fork stays as it is)."""
    head = int(rpc_request(lab.upstream_url, "eth_blockNumber"), 16)
    with Anvil(args=fork_args(lab.upstream_url, head)) as fork:
        rpc_request(fork.url, "anvil_setBlockTimestampInterval", [SLOT_SECONDS])
        rpc_request(fork.url, "anvil_setCoinbase", [WHALE])  # the builder: WHALE gets the fees
        yield connect(fork.url)


def _swap(w3: Web3, sender: str, t_in: str, t_out: str, amount: int, tip: int) -> str:
    params = (t_in, t_out, 3000, sender, 2**32, amount, 0, 0)  # the 0.3% WETH/USDC pool
    data = EXACT_INPUT_SINGLE + encode([PARAMS], [params])
    tx = {
        "from": sender,
        "to": A.UNISWAP_V3_SWAP_ROUTER,
        "data": "0x" + data.hex(),
        "gas": 1_000_000,
        "maxPriorityFeePerGas": tip,
        "maxFeePerGas": 2 * tip,
    }
    return "0x" + w3.eth.send_transaction(tx).hex().removeprefix("0x")  # type: ignore[arg-type]


def _approve(w3: Web3, sender: str, token: str) -> None:
    data = selector("approve(address,uint256)") + encode(
        ["address", "uint256"], [A.UNISWAP_V3_SWAP_ROUTER, 2**255]
    )
    w3.eth.send_transaction({"from": sender, "to": token, "data": "0x" + data.hex()})  # type: ignore[typeddict-item]


def _url(w3: Web3) -> str:
    return str(w3.provider.endpoint_uri)  # type: ignore[attr-defined]


def test_tip_bait_costs_the_bounded_worst_case_not_the_bait(own_fork: Web3, tmp_path: Path) -> None:
    w3 = own_fork
    dep = deploy(w3, w3.eth.accounts[0], record=False)
    with (
        impersonating(w3, WHALE, eth=10**25) as builder,
        Journal(tmp_path / "j.sqlite") as journal,
    ):
        w3.eth.send_transaction(  # type: ignore[typeddict-item]
            {"from": builder, "to": A.WETH, "value": SWAP_WETH, "data": "0xd0e30db0"}
        )
        deal(w3, A.USDC, builder, 3_000_000 * 10**6)  # to move the pool back
        _approve(w3, builder, A.WETH)
        _approve(w3, builder, A.USDC)
        rpc_request(_url(w3), "evm_setAutomine", [False])
        try:
            runner = Runner(w3, dep, journal, RunConfig(top=0))  # only backruns
            runner.start()
            assert runner.backrunner is not None
            runner.step(first=True)
            victim = _swap(w3, builder, A.WETH, A.USDC, SWAP_WETH, BAIT_TIP)
            assert runner.step() is None  # no block yet: the backrun is sent, pending
            (sent,) = runner.backrunner.sent
            backrun = sent.prepared
            assert backrun.max_priority_fee_per_gas == runner.trader.policy.priority_fee_wei
            bound = backrun.worst_case_cost_wei  # shown before sending
            expected = backrun.opportunity.net_profit_eth if backrun.opportunity else 0
            policy = runner.trader.policy
            assert bound * 10_000 <= expected * policy.max_loss_bps
            # the builder moves the pool back, ordered between the victim and the backrun
            _swap(w3, builder, A.USDC, A.WETH, 1_200_000 * 10**6, BACK_TIP)
            sender_before = w3.eth.get_balance(backrun.sender)  # type: ignore[arg-type]
            rpc_request(_url(w3), "evm_mine")
            report = runner.step()
        finally:
            rpc_request(_url(w3), "evm_setAutomine", [True])
    receipt = w3.eth.get_transaction_receipt(backrun.tx_hash)  # type: ignore[arg-type]
    victim_receipt = w3.eth.get_transaction_receipt(victim)  # type: ignore[arg-type]
    assert receipt["blockNumber"] == victim_receipt["blockNumber"]
    assert receipt["status"] == 0, "the builder's move-back makes the backrun revert"
    cost = sender_before - w3.eth.get_balance(backrun.sender)  # type: ignore[arg-type]
    assert cost == receipt["gasUsed"] * receipt["effectiveGasPrice"] > 0
    assert cost <= bound  # what was shown before sending holds
    block = w3.eth.get_block(receipt["blockNumber"])
    copied = receipt["gasUsed"] * (int(block["baseFeePerGas"]) + BAIT_TIP - 1)
    assert copied > 1000 * cost  # the old policy would have paid this to the builder
    assert report is not None and not report.trades
    q = journal_quarantine(tmp_path / "j.sqlite")
    assert set(backrun.plan.cycle.pools) == {r["pool"] for r in q}
    assert all("reverted" in r["reason"] for r in q)
    print(
        f"\ntip bait: reverted backrun cost {cost} wei (bound shown before sending {bound}); "
        f"the copied tip would have cost {copied} wei"
    )


def journal_quarantine(path: Path) -> list[dict[str, Any]]:
    with Journal(path) as j:
        return j.rows("SELECT pool, reason, until_block FROM quarantine")


@pytest.mark.parametrize("revert_when_priced", [True, False], ids=["reverts", "burns"])
def test_mined_only_token_bait_costs_nothing(
    own_fork: Web3, tmp_path: Path, revert_when_priced: bool
) -> None:
    """The bait with a token that misbehaves only when mined (GasPriceAwareToken): the builder
    creates two real pairs of its token at different prices, then sends a pending swap with a
    huge tip that widens the gap. With the token screen off (the worst case: the pairs are in
    the market and the backrun looks profitable on the overlay), the backrun's simulation as
    mined — the victim first, at the fee caps that would be sent — reverts, so it is never
    sent: the owner pays nothing. With the screen on the pairs never enter the market."""
    from tests.audit.test_screen_tokens import gas_price_aware_pairs

    w3 = own_fork
    builder = w3.eth.accounts[7]
    rpc_request(_url(w3), "anvil_setCoinbase", [builder])
    dep = deploy(w3, w3.eth.accounts[0], record=False)
    token, _uni, sushi = gas_price_aware_pairs(w3, builder)
    if not revert_when_priced:
        w3.eth.send_transaction(  # type: ignore[typeddict-item]
            {
                "from": builder,
                "to": token,
                "data": "0x"
                + (selector("setRevertWhenPriced(bool)") + encode(["bool"], [False])).hex(),
            }
        )
    weth_in = 2 * 10**18
    w3.eth.send_transaction(  # type: ignore[typeddict-item]
        {"from": builder, "to": A.WETH, "value": weth_in, "data": "0xd0e30db0"}
    )
    with Journal(tmp_path / "j.sqlite") as journal:
        rpc_request(_url(w3), "evm_setAutomine", [False])
        try:
            runner = Runner(w3, dep, journal, RunConfig(top=0, screen=False))
            runner.start()
            assert runner.backrunner is not None
            assert any(sushi in o.cycle.pools for o in runner.market.opportunities()), (
                "with the screen off the trap pairs are in the market"
            )
            executor = runner.trader.sender
            nonce = w3.eth.get_transaction_count(executor)  # type: ignore[arg-type]
            balance = w3.eth.get_balance(executor)  # type: ignore[arg-type]
            runner.step(first=True)
            token0 = min(token.lower(), A.WETH.lower()) == token.lower()
            out = 100 * 10**18  # of the token: well inside what 2 WETH buys on the 13-WETH pair
            bait = {"maxPriorityFeePerGas": BAIT_TIP, "maxFeePerGas": 2 * BAIT_TIP, "gas": 300_000}
            pay = selector("transfer(address,uint256)") + encode(
                ["address", "uint256"], [sushi, weth_in]
            )
            w3.eth.send_transaction(  # type: ignore[typeddict-item]
                {"from": builder, "to": A.WETH, "data": "0x" + pay.hex()} | bait
            )
            swap = selector("swap(uint256,uint256,address,bytes)") + encode(
                ["uint256", "uint256", "address", "bytes"],
                [out if token0 else 0, 0 if token0 else out, builder, b""],
            )
            w3.eth.send_transaction(  # type: ignore[typeddict-item]
                {"from": builder, "to": sushi, "data": "0x" + swap.hex()} | bait
            )
            assert runner.step() is None  # no block yet: the backrunner looked at the pool
            assert runner.backrunner.sent == [], "a backrun through the trap was sent"
            rpc_request(_url(w3), "evm_mine")
            runner.step()
        finally:
            rpc_request(_url(w3), "evm_setAutomine", [True])
        refused = journal.rows("SELECT reason FROM trades WHERE status = 'failed'")
    assert refused, "the backrunner saw the bait and refused it (journaled)"
    assert w3.eth.get_transaction_count(executor) == nonce  # type: ignore[arg-type]
    assert w3.eth.get_balance(executor) == balance  # type: ignore[arg-type]
    print(
        f"\nmined-only token bait ({'reverts' if revert_when_priced else 'burns'}): "
        f"backrun refused before sending ({refused[0]['reason']}); owner's cost 0 wei"
    )
