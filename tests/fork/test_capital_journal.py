"""Capital moves are attributable to a child in the journal (issue 17, item 2): read from the
chain's events by `flasharb run` (the master's Allocated / Recalled name the child; a child's
Withdrawn is the owner taking funds out of it), journaled once per log, shown by `flasharb pnl`
beside the child's P&L."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.cheats import balance_of
from flasharb.chain.rpc import send
from flasharb.execute.children import trading_diamonds
from flasharb.execute.deploy import Deployment, deploy_capital
from flasharb.journal.pnl import pnl
from flasharb.journal.store import Journal
from flasharb.run.loop import RunConfig, Runner

WETH_IN = 5 * 10**18


def _call(w3: Web3, sender: str, to: str, signature: str, *args: Any) -> str:
    types = signature[signature.index("(") + 1 : -1].split(",")
    data = function_signature_to_4byte_selector(signature) + encode(types, list(args))
    receipt = send(w3, {"from": sender, "to": to, "data": "0x" + data.hex()}, signature)
    return "0x" + bytes(receipt["transactionHash"]).hex()


def test_withdrawals_from_a_child_are_journaled_once(
    w3: Web3, deployment: Deployment, owner: str, deal: Any, tmp_path: Path
) -> None:
    deal("WETH", deployment.diamond, WETH_IN)
    tx = _call(
        w3,
        owner,
        deployment.diamond,
        "withdraw(address,address,uint256)",
        A.WETH,
        owner,
        2 * 10**18,
    )
    with Journal(tmp_path / "j.sqlite") as j:
        runner = Runner(w3, deployment, j, RunConfig(top=0))
        runner.start()  # catches up from the deployment's block
        runner.sync_capital(w3.eth.block_number)
        runner.sync_capital(w3.eth.block_number)  # again: nothing new, nothing twice
        rows = j.rows("SELECT child, kind, token, amount, tx_hash FROM capital")
        report = pnl(j)
    assert rows == [
        {
            "child": deployment.diamond,
            "kind": "withdraw",
            "token": A.WETH,
            "amount": str(2 * 10**18),
            "tx_hash": tx,
        }
    ]
    assert balance_of(w3, A.WETH, deployment.diamond) == WETH_IN - 2 * 10**18
    assert report.to_json()["children"][0]["capital"] == {"withdraw": {A.WETH: str(2 * 10**18)}}


def test_allocations_and_recalls_are_journaled_per_child(
    w3: Web3, owner: str, tmp_path: Path
) -> None:
    dep = deploy_capital(w3, owner, 2, record=False)
    master = dep.master
    (_, a), (_, b) = trading_diamonds(dep)
    send(w3, {"from": owner, "to": A.WETH, "value": 3 * WETH_IN}, "wrap")
    _call(w3, owner, A.WETH, "transfer(address,uint256)", master, 3 * WETH_IN)
    txs = [
        _call(w3, owner, master, "allocate(address,address,uint256)", a.diamond, A.WETH, WETH_IN),
        _call(w3, owner, master, "allocate(address,address,uint256)", b.diamond, A.WETH, WETH_IN),
        _call(w3, owner, master, "recall(address,address,uint256)", a.diamond, A.WETH, 10**18),
    ]
    with Journal(tmp_path / "j.sqlite") as j:
        runner = Runner(w3, dep, j, RunConfig(top=0))
        runner.start()
        rows = j.rows("SELECT child, kind, token, amount, tx_hash FROM capital ORDER BY id")
        report = pnl(j).to_json()
    assert [(r["child"], r["kind"], int(r["amount"]), r["tx_hash"]) for r in rows] == [
        (a.diamond, "allocate", WETH_IN, txs[0]),
        (b.diamond, "allocate", WETH_IN, txs[1]),
        (a.diamond, "recall", 10**18, txs[2]),
    ]
    by_child = {c["child"]: c["capital"] for c in report["children"]}
    assert by_child[a.diamond] == {
        "allocate": {A.WETH: str(WETH_IN)},
        "recall": {A.WETH: str(10**18)},
    }
    assert balance_of(w3, A.WETH, a.diamond) == WETH_IN - 10**18  # the chain agrees
    assert balance_of(w3, A.WETH, master) == WETH_IN + 10**18
