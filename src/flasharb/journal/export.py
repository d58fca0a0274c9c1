"""Reads for `flasharb journal`: the runs with their counts, and any table as CSV or JSON.

Amounts stay decimal strings in both formats: a spreadsheet or `jq` gets the exact wei.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from flasharb.errors import FlasharbValueError
from flasharb.journal.store import Journal

__all__ = ["TABLES", "export", "list_runs", "table_rows"]

TABLES = ("runs", "scans", "opportunities", "trades", "points", "capital", "risk_events")
_BY_RUN = {  # how each table reaches its run
    "runs": "id = ?",
    "scans": "run_id = ?",
    "opportunities": "scan_id IN (SELECT id FROM scans WHERE run_id = ?)",
    "trades": "run_id = ?",
    "points": "run_id = ?",
    "capital": "run_id = ?",
    "risk_events": "run_id = ?",
}


def list_runs(journal: Journal, limit: int | None = None) -> list[dict[str, Any]]:
    """Every run, newest first, with its scans, opportunities and trades counted, and the sum of
    realized profit per profit token (wei, decimal strings)."""
    runs = journal.rows(
        "SELECT r.id, r.kind, r.name, r.status, r.started_at, r.ended_at, r.rpc_url,"
        " (SELECT COUNT(*) FROM scans s WHERE s.run_id = r.id) AS scans,"
        " (SELECT COUNT(*) FROM opportunities o JOIN scans s ON o.scan_id = s.id"
        "   WHERE s.run_id = r.id) AS opportunities,"
        " (SELECT COUNT(*) FROM trades t WHERE t.run_id = r.id AND t.status = 'executed')"
        "   AS trades,"
        " (SELECT COUNT(*) FROM trades t WHERE t.run_id = r.id AND t.status = 'failed')"
        "   AS failed_trades,"
        " (SELECT COUNT(*) FROM points p WHERE p.run_id = r.id) AS points"
        " FROM runs r ORDER BY r.id DESC" + (f" LIMIT {int(limit)}" if limit else "")
    )
    for run in runs:
        profit: dict[str, int] = {}
        gas = 0
        for t in journal.rows(
            "SELECT profit_token, realized_profit, gas_cost_wei FROM trades"
            " WHERE run_id = ? AND status = 'executed'",
            (run["id"],),
        ):
            token = t["profit_token"]
            profit[token] = profit.get(token, 0) + int(t["realized_profit"])
            gas += int(t["gas_cost_wei"] or 0)
        run["realized_profit"] = {k: str(v) for k, v in sorted(profit.items())}
        run["gas_cost_wei"] = str(gas)
    return runs


def table_rows(journal: Journal, table: str, run_id: int | None = None) -> list[dict[str, Any]]:
    if table not in TABLES:
        raise FlasharbValueError(f"no journal table {table!r}; pick one of {', '.join(TABLES)}")
    if run_id is None:
        return journal.rows(f"SELECT * FROM {table} ORDER BY id")
    return journal.rows(f"SELECT * FROM {table} WHERE {_BY_RUN[table]} ORDER BY id", (run_id,))


def export(journal: Journal, table: str, fmt: str, run_id: int | None = None) -> str:
    """The rows of `table` (of one run, or all) as CSV or a JSON list. JSON-valued columns
    (route, params, metrics, summary) are parsed in JSON and kept as text in CSV."""
    rows = table_rows(journal, table, run_id)
    if fmt == "json":
        return json.dumps([_parsed(r) for r in rows], indent=2)
    if fmt != "csv":
        raise FlasharbValueError(f"export format {fmt!r}: use csv or json")
    buf = io.StringIO()
    cols = [d[1] for d in journal.db.execute(f"PRAGMA table_info({table})")]
    writer = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


_JSON_COLUMNS = ("route", "params", "metrics", "summary")


def _parsed(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: json.loads(v) if k in _JSON_COLUMNS and isinstance(v, str) else v for k, v in row.items()
    }
