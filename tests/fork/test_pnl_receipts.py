"""P&L per child equals the sum of its receipts, to the wei (issue 17): the two children of a
master (each a ChildDiamond with its own executor key) trade through `flasharb run`'s loop on
the replica fork with background swaps and a bribe to a funded coinbase; some of their trades
revert on chain (a deadline of one block while each transaction is mined in its own block: the
second trade of a step lands too late). Then `flasharb pnl`'s figures are rebuilt from the chain
alone: every transaction the children's executors sent, its receipt's gas, its status, the
children's token balances around it, the bribes in its logs, and the executors' ETH."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from eth_utils import keccak, to_checksum_address
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.cheats import balance_of
from flasharb.chain.rpc import send
from flasharb.execute.children import trading_diamonds
from flasharb.execute.deploy import deploy_capital, diamond_abi
from flasharb.journal.pnl import pnl
from flasharb.journal.store import Journal
from flasharb.run.loop import RunConfig, Runner

TRANSFER = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
WITHDRAWAL = "0x" + keccak(text="Withdrawal(address,uint256)").hex()  # WETH9 unwraps
BRIBE_BPS = 2_500
STEPS = 6  # steps with in-time deadlines, then REVERT_STEPS with a one-block deadline
REVERT_STEPS = 3


def _topic_address(topic: Any) -> str:
    raw = topic if isinstance(topic, bytes | bytearray) else bytes.fromhex(str(topic)[2:])
    return to_checksum_address(raw[-20:])


def _bribe(receipt: Any, diamond: str, coinbase: str) -> dict[str, int]:
    """What `diamond` paid `coinbase` in this receipt, per route token, from the logs alone:
    WETH it unwrapped (WETH9's Withdrawal: the ETH went to the coinbase), or a token it
    transferred to the coinbase."""
    out: dict[str, int] = {}
    for log in receipt["logs"]:
        topics = ["0x" + bytes(t).hex() for t in log["topics"]]
        amount = int.from_bytes(bytes(log["data"])[:32], "big")
        token = to_checksum_address(log["address"])
        unwrapped = topics[0] == WITHDRAWAL and _topic_address(log["topics"][1]) == diamond
        paid = (
            topics[0] == TRANSFER
            and _topic_address(log["topics"][1]) == diamond
            and _topic_address(log["topics"][2]) == coinbase
        )
        if unwrapped or paid:
            out[token] = out.get(token, 0) + amount
    return out


def test_pnl_per_child_equals_its_receipts(w3: Web3, owner: str, tmp_path: Path) -> None:
    capital = deploy_capital(w3, owner, 2, record=False)  # flash loans: no allocation needed
    kids = trading_diamonds(capital)
    coinbase = to_checksum_address(w3.eth.accounts[9])
    old_coinbase = w3.eth.get_block("latest")["miner"]
    w3.provider.make_request("anvil_setCoinbase", [coinbase])  # type: ignore[arg-type]
    try:
        for _, dep in kids:
            c = w3.eth.contract(address=dep.diamond, abi=diamond_abi())  # type: ignore[call-overload]
            send(w3, c.functions.setMaxBribeBps(5_000).build_transaction({"from": owner}))
        start = w3.eth.block_number
        eth_before = {d.diamond: w3.eth.get_balance(d.executor, start) for _, d in kids}
        with Journal(tmp_path / "j.sqlite") as j:
            config = RunConfig(top=4, background_swaps=2, seed=11, bribe_bps=BRIBE_BPS)
            runner = Runner(w3, capital, j, config)  # every child of the master
            runner.start()
            for i in range(STEPS + REVERT_STEPS):
                if i == STEPS:  # from now on the second trade of a step lands a block late
                    for t in runner.traders.values():
                        t.policy = replace(t.policy, deadline_blocks=1)
                runner.step(first=i == 0)
            end = w3.eth.block_number
            report = pnl(j)
            rows = j.trades()
    finally:
        w3.provider.make_request("anvil_setCoinbase", [old_coinbase])  # type: ignore[arg-type]

    total_gas = 0
    for _, dep in kids:
        gas = trades = reverted = 0
        profit: dict[str, int] = {}
        bribes: dict[str, int] = {}
        for n in range(start + 1, end + 1):
            block = w3.eth.get_block(n, full_transactions=True)
            for tx in block["transactions"]:
                if tx["from"] != dep.executor:  # type: ignore[index]
                    continue
                assert tx["to"] == dep.diamond  # type: ignore[index]
                assert len(block["transactions"]) == 1  # its own block: balances isolate it
                r = w3.eth.get_transaction_receipt(tx["hash"])  # type: ignore[index]
                gas += r["gasUsed"] * r["effectiveGasPrice"]
                if r["status"] == 0:
                    reverted += 1
                    continue
                trades += 1
                for token, paid in _bribe(r, dep.diamond, block["miner"]).items():
                    bribes[token] = bribes.get(token, 0) + paid
                for token in {row["profit_token"] for row in rows}:
                    moved = balance_of(w3, token, dep.diamond, block=n) - balance_of(
                        w3, token, dep.diamond, block=n - 1
                    )
                    if moved:
                        profit[token] = profit.get(token, 0) + moved
        fold = report.children[dep.diamond]
        assert (fold.trades, fold.reverted) == (trades, reverted)
        assert fold.profit == profit  # per token, to the wei
        assert fold.gas_wei == gas
        assert {t: v for t, v in fold.bribes.items() if v} == bribes
        # the executor paid exactly that gas, and nothing else left its account
        assert eth_before[dep.diamond] - w3.eth.get_balance(dep.executor, end) == gas
        # the child's balances moved by exactly its realized profit over the run
        for token, wei in profit.items():
            held = balance_of(w3, token, dep.diamond, block=end)
            assert held - balance_of(w3, token, dep.diamond, block=start) == wei
        total_gas += gas
    assert report.total.gas_wei == total_gas
    # the run produced what the test is about: wins, reverts and bribes, in both children
    assert all(report.children[d.diamond].trades > 0 for _, d in kids)
    assert report.total.reverted > 0 and report.total.reverted_gas_wei > 0
    assert any(report.total.bribes.values())
    assert report.total.profit.get(A.WETH, 0) > 0 and report.total.bribes.get(A.WETH, 0) > 0
