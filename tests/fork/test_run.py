"""`flasharb run` on the replica fork with random background swaps: it executes trades block
after block, journals every scan and trade, and stops cleanly on SIGINT with the node intact."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from web3 import Web3

from flasharb.chain.node import Lab

TRADE_BLOCKS = 20  # trades must land in at least this many distinct blocks
DEADLINE_S = 240  # a guard against a hang, not a timing assertion


def _env(lab: Lab, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "FLASHARB_RPC_URL": lab.rpc_url, "FLASHARB_STATE_DIR": str(tmp_path)}


def _start(lab: Lab, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "flasharb.cli", "run", "--deploy", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(lab, tmp_path),
    )


class TestRunUntilSigint:
    """Background swaps move random pools of every venue; the runner backruns them."""

    def test_trades_across_blocks_then_clean_stop(self, w3: Web3, lab: Lab, tmp_path: Path) -> None:
        proc = _start(lab, tmp_path, "--background-swaps", "2", "--json")
        lines: list[dict[str, Any]] = []
        trade_blocks: set[int] = set()
        deadline = time.monotonic() + DEADLINE_S
        try:
            assert proc.stdout is not None
            first = json.loads(proc.stdout.readline())
            assert set(first) == {"run_id", "start_block"}
            while len(trade_blocks) < TRADE_BLOCKS and time.monotonic() < deadline:
                line = proc.stdout.readline()
                if not line:
                    break  # the process ended early: the asserts below say how
                lines.append(json.loads(line))
                trade_blocks |= {t["block"] for t in lines[-1]["trades"]}
            assert len(trade_blocks) >= TRADE_BLOCKS, (len(lines), proc.poll())
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 130, err
        rest = [json.loads(x) for x in out.splitlines()]
        summary = rest[-1]
        lines += rest[:-1]
        assert summary["status"] == "interrupted" and summary["run_id"] == first["run_id"]

        # the node is untouched: it still answers, at a head past every trade
        assert w3.eth.block_number >= max(trade_blocks)

        # the journal agrees with what was printed, row for row
        db = sqlite3.connect(tmp_path / "journal.sqlite")
        db.row_factory = sqlite3.Row
        (run,) = db.execute("SELECT * FROM runs").fetchall()
        assert (run["kind"], run["status"]) == ("run", "interrupted")
        assert run["ended_at"] is not None
        assert json.loads(run["summary"])["trades"] == summary["trades"]
        scans = db.execute("SELECT * FROM scans ORDER BY id").fetchall()
        assert [s["id"] for s in scans] == [x["scan_id"] for x in lines if x["scanned"]]
        assert [s["opportunities"] for s in scans] == [
            x["opportunities"] for x in lines if x["scanned"]
        ]
        n_opps = db.execute("SELECT COUNT(*) FROM opportunities").fetchone()[0]
        assert 0 < n_opps <= sum(s["opportunities"] for s in scans)
        trades = db.execute("SELECT * FROM trades WHERE status='executed' ORDER BY id").fetchall()
        printed = [t for x in lines for t in x["trades"]]
        assert [t["tx_hash"] for t in trades] == [t["tx_hash"] for t in printed]
        assert len(trades) == summary["trades"]
        profit: dict[str, int] = {}
        for t in trades:  # each journaled trade is a mined, successful executeArb
            receipt = w3.eth.get_transaction_receipt(t["tx_hash"])  # type: ignore[arg-type]
            assert receipt["status"] == 1 and receipt["blockNumber"] == t["block"]
            assert int(t["gas_used"]) == receipt["gasUsed"]
            assert int(t["realized_profit"]) > 0
            profit[t["profit_token"]] = profit.get(t["profit_token"], 0) + int(t["realized_profit"])
        assert summary["realized_profit"] == {k: str(v) for k, v in sorted(profit.items())}
        db.close()


def test_run_stops_after_n_blocks_with_plain_lines(w3: Web3, lab: Lab, tmp_path: Path) -> None:
    """Without a terminal and without --json: one human line per block; --blocks ends it, 0."""
    proc = _start(lab, tmp_path, "--background-swaps", "1", "--blocks", "3", "--seed", "7")
    out, err = proc.communicate(timeout=DEADLINE_S)
    assert proc.returncode == 0, err
    lines = out.strip().splitlines()
    assert lines[0].startswith("run 1: watching from block")
    assert sum(line.startswith("block ") for line in lines) == 3
    assert lines[-1].startswith("run 1 done: 3 blocks")


def test_run_without_a_diamond_says_what_to_do(w3: Web3, lab: Lab, tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "flasharb.cli", "run", "--blocks", "1"],
        capture_output=True,
        text=True,
        env=_env(lab, tmp_path),
        timeout=120,
    )
    assert res.returncode != 0
    assert res.stderr.strip().splitlines() == [
        "flasharb: error: no diamond deployed on this fork; run 'flasharb deploy'"
    ]
