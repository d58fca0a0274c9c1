"""The process is SIGKILLed while it writes the journal: the file stays a valid SQLite database of
whole rows, and the next run opens it and appends."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from flasharb.journal.store import Journal

WRITER = """
import sys
from pathlib import Path
from flasharb.journal.store import Journal

journal = Journal(Path(sys.argv[1]))
start = int(sys.argv[2])
route = [{"pool": "0x" + "ab" * 20, "kind": "uniswap_v2", "token_in": "0x" + "cd" * 20,
          "token_out": "0x" + "ef" * 20, "note": "x" * 400}] * 64  # ~40 kB per row: slow writes
i = start
while True:
    journal.record_trade({
        "block": i, "tx_hash": "0x%064x" % i, "profit_token": "0x" + "11" * 20, "route": route,
        "amount_in": str(10**30 + i), "predicted_profit": str(i), "simulated_profit": str(i),
        "realized_profit": str(i), "gas_estimate": 200000, "gas_used": 199999,
        "gas_cost_wei": str(3 * 10**15),
    })
    i += 1
"""
ROUNDS = 3
ROWS_BEFORE_KILL = 40
WAIT_LIMIT_S = 120  # only a bound on waiting for rows; never asserted as a timing


def _rows(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return int(db.execute("SELECT count(*) FROM trades").fetchone()[0])
        finally:
            db.close()
    except sqlite3.OperationalError:  # schema not there yet, or locked for a moment
        return 0


def _kill_while_writing(path: Path, start: int) -> None:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(start)])
    try:
        deadline = time.monotonic() + WAIT_LIMIT_S
        while _rows(path) < start + ROWS_BEFORE_KILL and proc.poll() is None:
            assert time.monotonic() < deadline, "the writer wrote nothing"
            time.sleep(0.02)
        assert proc.poll() is None, "the writer died by itself"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def test_sigkill_mid_write_leaves_whole_rows(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    count = 0
    for _ in range(ROUNDS):
        _kill_while_writing(path, count)
        db = sqlite3.connect(path)
        try:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            rows = db.execute(
                "SELECT block, tx_hash, route, amount_in, realized_profit, gas_used FROM trades"
                " ORDER BY block"
            ).fetchall()
        finally:
            db.close()
        blocks = [r[0] for r in rows]
        assert blocks == list(range(len(rows)))  # whole rows, in order, none half-written
        for block, tx_hash, route, amount_in, realized, gas_used in rows:
            assert tx_hash == f"0x{block:064x}" and int(amount_in) == 10**30 + block
            assert int(realized) == block and gas_used == 199999
            assert len(json.loads(route)) == 64
        assert len(rows) >= count + ROWS_BEFORE_KILL
        count = len(rows)
    with Journal(path) as journal:  # the next run opens the file and appends
        assert len(journal.trades()) == count
