"""`flasharb run` keeps one market for the whole run: after the first block it never discovers
pools again nor reads every pool; each block costs the new head's logs (with its header), the
states of the pools those logs touched, the trade's own simulation and send, and one query for
the capital moves of the diamond (its Withdrawn logs; a master's Allocated / Recalled). Counted
at the wire, through a proxy in front of the fork. And two runs on two labs (node down / node up
in between) both land in one journal, though the deterministic fork gives their trades the same
hashes."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from web3 import Web3

from flasharb.chain.rpc import connect
from flasharb.execute.children import ALLOCATED, RECALLED, WITHDRAWN
from flasharb.execute.shock import shock
from flasharb.journal.store import Journal
from flasharb.replica.lab import start_replica_lab
from flasharb.run.loop import RunConfig, Runner
from flasharb.state._rpc import READER_ADDRESS
from tests.fork.fault_proxy import FaultProxy

BLOCKS = 12
DISCOVERY_SELECTORS = ("0x6c7d5ee4",)  # filled below from the reader's ABI
SWAP_BPS = (50, 300)  # each block: one swap of 0.5%-3% of a random pool's reserve


def _reader_calls(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The eth_calls that run a reader contract (state-override code at READER_ADDRESS)."""
    out = []
    for r in requests:
        if r.get("method") != "eth_call":
            continue
        tx, *rest = r["params"]
        if str(tx.get("to", "")).lower() == READER_ADDRESS.lower() and len(rest) >= 2:
            out.append(r)
    return out


def _reader(r: dict[str, Any]) -> str:
    """Which reader an eth_call runs: the state reader or the discovery reader."""
    from flasharb.state._rpc import reader_code

    code = next(iter(r["params"][2].values()))["code"]
    if code == reader_code("PoolStateReader"):
        return "state"
    if code == reader_code("PoolDiscoveryReader"):
        return "discovery"
    return "other"


def test_one_market_across_blocks(w3: Web3, deployment: Any, tmp_path: Path, lab: Any) -> None:
    rng = random.Random(5)
    with FaultProxy(lab.rpc_url) as proxy, Journal(tmp_path / "j.sqlite") as journal:
        watched = connect(proxy.url)
        runner = Runner(watched, deployment, journal, RunConfig(top=2))
        runner.start()
        start = len(proxy.requests)
        initial = proxy.requests[:start]
        first_reads = [r for r in _reader_calls(initial) if _reader(r) == "state"]
        full_read_bytes = sum(len(r["params"][0]["data"]) for r in first_reads)
        assert any(_reader(r) == "discovery" for r in _reader_calls(initial))  # it discovered
        assert full_read_bytes > 0
        market = runner.market
        assert market is not None
        # pools `shock` can swap: a contract of their own (not V4's)
        pools = sorted(p.uid for p in market.registry if p.address == p.uid)
        per_block: list[list[dict[str, Any]]] = []
        reports = []
        moved: list[set[str]] = []  # pools that moved since the last step: the swap, the trades
        last_trades: set[str] = set()
        for _ in range(BLOCKS):
            pool = rng.choice(pools)  # another trader swaps: one pool moves per block
            info = market.registry[pool]
            token = rng.choice([t for t in info.tokens if t != info.address])  # no BPT
            state = market.states[pool]
            held = getattr(state, "balances", None)
            if held is not None:
                amount = held[info.tokens.index(token)] * rng.randint(*SWAP_BPS) // 10_000
            else:
                from flasharb.chain.cheats import balance_of

                amount = balance_of(w3, token, pool) * rng.randint(*SWAP_BPS) // 10_000
            try:
                shock(w3, pool, token, amount)
            except Exception:  # noqa: BLE001 - a pool that refuses this size: another block
                continue
            before = len(proxy.requests)
            report = runner.step()
            assert report is not None
            reports.append(report)
            per_block.append(proxy.requests[before:])
            moved.append({pool} | last_trades)
            last_trades = {h["pool"] for t in report.trades for h in t["route"]}
        assert len(per_block) >= BLOCKS // 2
        assert runner.market is market  # the same object, block after block
        for report, requests, pools_moved in zip(reports, per_block, moved, strict=True):
            methods = Counter(str(r["method"]) for r in requests)
            # no rediscovery: no creation logs from block 0, no factory enumeration
            for r in requests:
                if r["method"] == "eth_getLogs":
                    assert int(r["params"][0]["fromBlock"], 16) > 0
            discovery_reads = [r for r in _reader_calls(requests) if _reader(r) == "discovery"]
            # the discovery reader runs only for the lenders' views (balances, the Vault's flash
            # fee), never for pool enumeration, probes or token decimals
            for r in discovery_reads:
                assert set(_inner_selectors(r)) <= LENDER_VIEWS, r
            # no full state read: only the pools the logs touched
            state_bytes = sum(
                len(r["params"][0]["data"])
                for r in _reader_calls(requests)
                if _reader(r) == "state"
            )
            assert state_bytes < full_read_bytes // 10, (state_bytes, full_read_bytes)
            assert report.pools_changed <= len(pools_moved), (report.pools_changed, pools_moved)
            logs = [r["params"][0] for r in requests if r["method"] == "eth_getLogs"]
            capital = [f for f in logs if f.get("topics") == [[ALLOCATED, RECALLED, WITHDRAWN]]]
            assert len(capital) <= 1 and len(logs) - len(capital) <= 1  # the market's: one
            for f in capital:  # the capital query names the diamond, not every emitter
                assert [a.lower() for a in f["address"]] == [deployment.diamond.lower()]
            assert methods["eth_getBlockByNumber"] <= 2  # the head's header (with the logs)
        assert any(r.trades for r in reports), "some swap must open a trade"


def _selector(sig: str) -> bytes:
    from eth_utils import function_signature_to_4byte_selector

    return function_signature_to_4byte_selector(sig)


LENDER_VIEWS = {  # the Vault's fee, ERC-20 balances, the PoolManager's ETH (the reader's own view)
    _selector("balanceOf(address)"),
    _selector("getFlashLoanFeePercentage()"),
    _selector("ethBalanceOf(address)"),
}


def _inner_selectors(r: dict[str, Any]) -> list[bytes]:
    """The selectors of the view calls a `PoolDiscoveryReader.calls` eth_call makes."""
    from eth_abi import decode

    data = bytes.fromhex(r["params"][0]["data"][2:])
    assert data[:4] == _selector("calls(address[],bytes[])")
    _targets, calls = decode(["address[]", "bytes[]"], data[4:])
    return [bytes(c[:4]) for c in calls]


def test_two_runs_on_two_labs_are_both_journaled(tmp_path: Path) -> None:
    """`flasharb run` twice with the lab restarted in between: the same deterministic fork
    gives the same transaction hashes, and both runs are in the journal."""
    hashes: list[set[str]] = []
    for _ in range(2):
        with start_replica_lab() as lab:
            env = {
                **os.environ,
                "FLASHARB_RPC_URL": lab.rpc_url,
                "FLASHARB_STATE_DIR": str(tmp_path),
            }
            res = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "flasharb.cli",
                    "run",
                    "--deploy",
                    "--blocks",
                    "4",
                    "--background-swaps",
                    "2",
                    "--seed",
                    "3",
                    "--json",
                ],
                capture_output=True,
                text=True,
                env=env,
                timeout=300,
            )
            assert res.returncode == 0, res.stderr
        db = sqlite3.connect(tmp_path / "journal.sqlite")
        run_id = db.execute("SELECT MAX(id) FROM runs").fetchone()[0]
        hashes.append(
            {r[0] for r in db.execute("SELECT tx_hash FROM trades WHERE run_id = ?", (run_id,))}
        )
        db.close()
    db = sqlite3.connect(tmp_path / "journal.sqlite")
    runs = db.execute("SELECT id, status, lab FROM runs ORDER BY id").fetchall()
    db.close()
    assert [r[1] for r in runs] == ["done", "done"]
    assert runs[0][2] != runs[1][2] and all(r[2].startswith("anvil:0x") for r in runs)
    assert hashes[0] and hashes[0] == hashes[1]  # the same trades, journaled twice
