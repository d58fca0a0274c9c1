"""SQLite journal: one row per scan and per trade. Amounts are TEXT (wei exceed int64).

Every write is one transaction: a crash leaves either the whole row or nothing.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS scans (
    id INTEGER PRIMARY KEY,
    created_at REAL NOT NULL,
    block INTEGER NOT NULL,
    opportunities INTEGER NOT NULL,
    best_net_profit_eth TEXT
);
CREATE TABLE IF NOT EXISTS trades (
    id INTEGER PRIMARY KEY,
    scan_id INTEGER REFERENCES scans(id),
    created_at REAL NOT NULL,
    block INTEGER NOT NULL,
    tx_hash TEXT NOT NULL UNIQUE,
    profit_token TEXT NOT NULL,
    route TEXT NOT NULL,
    amount_in TEXT NOT NULL,
    predicted_profit TEXT NOT NULL,
    simulated_profit TEXT NOT NULL,
    realized_profit TEXT NOT NULL,
    gas_estimate INTEGER NOT NULL,
    gas_used INTEGER NOT NULL,
    gas_cost_wei TEXT NOT NULL
);
"""


class Journal:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path)
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def record_scan(self, block: int, opportunities: int, best_net_profit_eth: int | None) -> int:
        with self.db:  # one transaction
            cur = self.db.execute(
                "INSERT INTO scans (created_at, block, opportunities, best_net_profit_eth) "
                "VALUES (?,?,?,?)",
                (
                    time.time(),
                    block,
                    opportunities,
                    None if best_net_profit_eth is None else str(best_net_profit_eth),
                ),
            )
        return int(cur.lastrowid or 0)

    def record_trade(self, trade: dict[str, Any], scan_id: int | None = None) -> int:
        with self.db:
            cur = self.db.execute(
                """INSERT INTO trades (scan_id, created_at, block, tx_hash, profit_token, route,
                   amount_in, predicted_profit, simulated_profit, realized_profit, gas_estimate,
                   gas_used, gas_cost_wei)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)""",
                (
                    scan_id,
                    time.time(),
                    trade["block"],
                    trade["tx_hash"],
                    trade["profit_token"],
                    json.dumps(trade["route"]),
                    trade["amount_in"],
                    trade["predicted_profit"],
                    trade["simulated_profit"],
                    trade["realized_profit"],
                    int(trade["gas_estimate"]),
                    int(trade["gas_used"]),
                    trade["gas_cost_wei"],
                ),
            )
        return int(cur.lastrowid or 0)

    def trades(self) -> list[dict[str, Any]]:
        self.db.row_factory = sqlite3.Row
        rows = self.db.execute("SELECT * FROM trades ORDER BY id").fetchall()
        self.db.row_factory = None
        return [dict(r) | {"route": json.loads(r["route"])} for r in rows]
