"""SQLite journal: runs, scans, opportunities, trades and experiment points, one file per project.

Amounts are TEXT (wei exceed int64); gas is INTEGER. Every row group is one transaction (a scan
with its opportunities, a trade, a run's end): a crash or Ctrl-C leaves the whole group or
nothing. The file is in WAL mode, so `flasharb journal` can read while a run writes.

    runs           one per `flasharb run`, `execute`, `demo` or experiment
    scans          one per scanned block: pools changed, opportunities found, the best net
    opportunities  every opportunity of a scan, ranked, with its full route
    trades         every trade tried, by child: predicted / simulated / realized profit (and in
                   ETH), bribe and gas; a reverted one with its gas; or why it was not sent
    capital        allocations and recalls between the master and a child, and the owner's
                   withdrawals from a child, one row per log
    risk_events    circuit breakers that tripped (limit, value, threshold, the pause) and resumes
    points         one per experiment point: its parameters and measured metrics (JSON)
    token_verdicts the token screen's verdict per lab and token (flasharb.state.screen)
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from flasharb.journal.schema import SCHEMA_VERSION, migrate
from flasharb.paths import state_dir

if TYPE_CHECKING:
    from flasharb.state.screen import TokenVerdict

__all__ = ["SCHEMA_VERSION", "Journal", "OpportunityLike", "default_path"]


def default_path() -> Path:
    """The project's journal: `.flasharb/journal.sqlite` (FLASHARB_STATE_DIR moves it)."""
    return state_dir() / "journal.sqlite"


class OpportunityLike(Protocol):
    """What the journal reads of an opportunity (flasharb.search.rank.Opportunity has it)."""

    @property
    def net_profit_eth(self) -> int: ...

    def to_json(self) -> dict[str, object]: ...


def _text(value: object) -> str | None:
    return None if value is None else str(int(str(value)))  # ints and decimal strings, exactly


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


class Journal:
    """The journal file. `record_scan` / `record_trade` keep the shape `execute_top` calls;
    they attach to `run_id` when given, else to the run begun last by `begin_run`."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        self.db.execute("PRAGMA foreign_keys=ON")
        self.current_run: int | None = None
        migrate(self.db)

    def close(self) -> None:
        """Close the file (also on leaving a `with Journal() as j:` block)."""
        self.db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ runs

    def begin_run(
        self,
        kind: str,
        *,
        name: str = "",
        params: Mapping[str, Any] | None = None,
        rpc_url: str | None = None,
        lab: str | None = None,
    ) -> int:
        """Open a run; `lab` names the node instance it runs on (see `lab_id`)."""
        with self.db:
            cur = self.db.execute(
                "INSERT INTO runs (kind, name, started_at, status, rpc_url, lab, params)"
                " VALUES (?,?,?,?,?,?,?)",
                (kind, name, time.time(), "running", rpc_url, lab, _json(dict(params or {}))),
            )
        self.current_run = int(cur.lastrowid or 0)
        return self.current_run

    def end_run(
        self, run_id: int, status: str = "done", summary: Mapping[str, Any] | None = None
    ) -> None:
        """Close run `run_id` with `status` (done, interrupted, failed) and a JSON summary."""
        with self.db:
            self.db.execute(
                "UPDATE runs SET ended_at = ?, status = ?, summary = ? WHERE id = ?",
                (time.time(), status, _json(dict(summary or {})), run_id),
            )
        if self.current_run == run_id:
            self.current_run = None

    # ------------------------------------------------------------ scans and opportunities

    def record_scan(
        self,
        block: int,
        opportunities: int,
        best_net_profit_eth: int | None,
        *,
        run_id: int | None = None,
    ) -> int:
        """One scan, counts only (the shape `execute_top` records)."""
        with self.db:  # one transaction
            return self._insert_scan(run_id, block, opportunities, best_net_profit_eth, None, None)

    def record_scan_result(
        self,
        block: int,
        opportunities: Sequence[OpportunityLike],
        *,
        run_id: int | None = None,
        pools_changed: int | None = None,
        gas_price_wei: int | None = None,
        keep: int = 50,
    ) -> int:
        """A scan and its best `keep` opportunities, in one transaction."""
        best = opportunities[0].net_profit_eth if opportunities else None
        with self.db:
            scan_id = self._insert_scan(
                run_id, block, len(opportunities), best, pools_changed, gas_price_wei
            )
            self.db.executemany(
                "INSERT INTO opportunities (scan_id, rank, profit_token, flash_source, hops,"
                " route, amount_in, gross_profit, flash_fee, gas_estimate, net_profit,"
                " net_profit_eth) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [_opportunity_row(scan_id, i, o) for i, o in enumerate(opportunities[:keep], 1)],
            )
        return scan_id

    def _insert_scan(
        self,
        run_id: int | None,
        block: int,
        count: int,
        best: int | None,
        pools_changed: int | None,
        gas_price_wei: int | None,
    ) -> int:
        cur = self.db.execute(
            "INSERT INTO scans (run_id, created_at, block, opportunities, best_net_profit_eth,"
            " pools_changed, gas_price_wei) VALUES (?,?,?,?,?,?,?)",
            (
                run_id if run_id is not None else self.current_run,
                time.time(),
                block,
                count,
                _text(best),
                pools_changed,
                _text(gas_price_wei),
            ),
        )
        return int(cur.lastrowid or 0)

    # ------------------------------------------------------------ trades

    def record_trade(
        self, trade: Mapping[str, Any], scan_id: int | None = None, *, run_id: int | None = None
    ) -> int:
        """An executed trade: the `Trade.to_json()` shape (`child`, `bribe`, `bribe_eth`,
        `realized_profit_eth`, `event_profit`, `effective_gas_price` and `index` when known)."""
        return self._insert_mined(trade, "executed", None, scan_id, run_id)

    def record_reverted_trade(
        self,
        trade: Mapping[str, Any],
        reason: str,
        scan_id: int | None = None,
        *,
        run_id: int | None = None,
    ) -> int:
        """A trade mined with status 0: `Prepared.to_json()` plus the receipt's `tx_hash`,
        `block`, `index`, `gas_used`, `effective_gas_price` and `gas_cost_wei`
        (`flasharb.execute.trader.Reverted.to_json`). Its gas is a loss; it realized nothing."""
        row = dict(trade) | {"realized_profit": "0", "realized_profit_eth": "0", "bribe": "0"}
        return self._insert_mined(row | {"bribe_eth": "0"}, "reverted", reason, scan_id, run_id)

    def _insert_mined(
        self,
        trade: Mapping[str, Any],
        status: str,
        reason: str | None,
        scan_id: int | None,
        run_id: int | None,
    ) -> int:
        route = list(trade["route"])
        index = trade.get("index")
        with self.db:
            cur = self.db.execute(
                "INSERT INTO trades (run_id, scan_id, created_at, status, reason, block, tx_hash,"
                " profit_token, flash_source, hops, route, amount_in, predicted_profit,"
                " simulated_profit, realized_profit, gas_estimate, gas_used, gas_cost_wei,"
                " child, bribe, bribe_eth, realized_profit_eth, event_profit,"
                " effective_gas_price, tx_index)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    run_id if run_id is not None else self.current_run,
                    scan_id,
                    time.time(),
                    status,
                    reason,
                    int(trade["block"]),
                    trade["tx_hash"],
                    trade["profit_token"],
                    trade.get("flash_source"),
                    len(route),
                    _json(route),
                    _text(trade["amount_in"]),
                    _text(trade.get("predicted_profit")),
                    _text(trade.get("simulated_profit")),
                    _text(trade["realized_profit"]),
                    int(str(trade.get("gas_estimate", 0))),
                    int(trade["gas_used"]),
                    _text(trade["gas_cost_wei"]),
                    trade.get("child"),
                    _text(trade.get("bribe")),
                    _text(trade.get("bribe_eth")),
                    _text(trade.get("realized_profit_eth")),
                    _text(trade.get("event_profit")),
                    _text(trade.get("effective_gas_price")),
                    None if index is None else int(index),
                ),
            )
        return int(cur.lastrowid or 0)

    def record_failed_trade(
        self,
        opportunity: Mapping[str, Any],
        reason: str,
        *,
        block: int,
        scan_id: int | None = None,
        run_id: int | None = None,
    ) -> int:
        """A trade that was not mined (refused before sending, or rejected by the node): the
        `Opportunity.to_json` / `Prepared.to_json` shape plus whatever profit figures are known;
        `child` when the prepared transaction names its diamond. Nothing was spent."""
        route = list(opportunity["route"])
        with self.db:
            cur = self.db.execute(
                "INSERT INTO trades (run_id, scan_id, created_at, status, reason, block,"
                " profit_token, flash_source, hops, route, amount_in, predicted_profit,"
                " gas_estimate, child) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    run_id if run_id is not None else self.current_run,
                    scan_id,
                    time.time(),
                    "failed",
                    reason,
                    block,
                    opportunity["profit_token"],
                    opportunity.get("flash_source"),
                    len(route),
                    _json(route),
                    _text(opportunity["amount_in"]),
                    _text(opportunity.get("predicted_profit", opportunity.get("gross_profit"))),
                    int(str(opportunity.get("gas_estimate", 0))),
                    opportunity.get("child"),
                ),
            )
        return int(cur.lastrowid or 0)

    # ------------------------------------------------------------ quarantine

    def record_quarantine(
        self,
        pools: Iterable[str],
        *,
        block: int,
        until_block: int,
        reason: str,
        lab: str | None,
        tx_hash: str | None = None,
        run_id: int | None = None,
    ) -> None:
        """Keep `pools` out of the market on `lab` up to `until_block`: a route through them
        reverted on chain at `block` (one transaction for all of them)."""
        rows = [
            (
                run_id if run_id is not None else self.current_run,
                lab,
                time.time(),
                block,
                until_block,
                pool,
                reason,
                tx_hash,
            )
            for pool in sorted(set(pools))
        ]
        with self.db:
            self.db.executemany(
                "INSERT INTO quarantine (run_id, lab, created_at, block, until_block, pool,"
                " reason, tx_hash) VALUES (?,?,?,?,?,?,?,?)",
                rows,
            )

    def quarantined(self, lab: str | None, block: int) -> dict[str, tuple[int, str]]:
        """Pools kept out of the market on `lab` at `block`: pool -> (until block, reason)."""
        out: dict[str, tuple[int, str]] = {}
        for r in self.rows(
            "SELECT pool, until_block, reason FROM quarantine WHERE lab IS ? AND until_block >= ?"
            " ORDER BY id",
            (lab, block),
        ):
            out[r["pool"]] = (int(r["until_block"]), str(r["reason"]))
        return out

    # ------------------------------------------------------------ capital and risk

    def record_capital(
        self,
        moves: Iterable[Mapping[str, Any]],
        *,
        lab: str | None,
        run_id: int | None = None,
    ) -> int:
        """Capital moved between the master and children, or out of a child: each a
        `{"child", "kind", "token", "amount", "block", "tx_hash", "log_index"}`, in one
        transaction. A log already journaled on this lab is skipped (not a second row).
        Returns how many rows were added."""
        rows = [
            (
                run_id if run_id is not None else self.current_run,
                lab,
                time.time(),
                m["child"],
                m["kind"],
                m["token"],
                _text(m["amount"]),
                int(m["block"]),
                m["tx_hash"],
                int(m["log_index"]),
            )
            for m in moves
        ]
        with self.db:
            before = self.db.total_changes
            self.db.executemany(
                "INSERT OR IGNORE INTO capital (run_id, lab, created_at, child, kind, token,"
                " amount, block, tx_hash, log_index) VALUES (?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            return self.db.total_changes - before

    def record_risk_event(
        self,
        *,
        lab: str | None,
        child: str,
        event: str,
        limit_name: str | None = None,
        value: int | None = None,
        threshold: int | None = None,
        block: int | None = None,
        tx_hash: str | None = None,
        note: str | None = None,
        run_id: int | None = None,
    ) -> int:
        """A circuit breaker tripped (`event="tripped"`: which limit, its use, its threshold, the
        pause transaction) or the owner resumed the child (`event="resumed"`)."""
        with self.db:
            cur = self.db.execute(
                "INSERT INTO risk_events (run_id, lab, created_at, child, event, limit_name,"
                " value, threshold, block, tx_hash, note) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    run_id if run_id is not None else self.current_run,
                    lab,
                    time.time(),
                    child,
                    event,
                    limit_name,
                    _text(value),
                    _text(threshold),
                    block,
                    tx_hash,
                    note,
                ),
            )
        return int(cur.lastrowid or 0)

    def risk_events(self, lab: str | None, child: str | None = None) -> list[dict[str, Any]]:
        """The risk events of `lab` (of one child, or all), oldest first."""
        if child is None:
            return self.rows("SELECT * FROM risk_events WHERE lab IS ? ORDER BY id", (lab,))
        return self.rows(
            "SELECT * FROM risk_events WHERE lab IS ? AND child = ? ORDER BY id", (lab, child)
        )

    # ------------------------------------------------------------ experiment points

    def record_points(self, run_id: int, points: Iterable[tuple[Mapping[str, Any], Any]]) -> None:
        """Experiment points (params, metrics), numbered in order, in one transaction.
        Integers in metrics must already be decimal strings where they may exceed 2**53."""
        start = int(
            self.db.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM points WHERE run_id = ?", (run_id,)
            ).fetchone()[0]
        )
        rows = [
            (run_id, start + i, _json(dict(params)), _json(metrics))
            for i, (params, metrics) in enumerate(points, 1)
        ]
        with self.db:
            self.db.executemany(
                "INSERT INTO points (run_id, seq, params, metrics) VALUES (?,?,?,?)", rows
            )

    # ------------------------------------------------------------ token verdicts

    def record_token_verdicts(self, lab: str, verdicts: Iterable[TokenVerdict]) -> None:
        """The token screen's verdicts on `lab`, replacing any older ones of the same tokens,
        in one transaction (a `flasharb.state.screen.VerdictStore`)."""
        now = time.time()
        rows = [
            (
                lab,
                v.token,
                int(v.ok),
                _json([f.to_json() for f in v.flags]),
                v.block,
                v.holder,
                str(v.amount),
                now,
            )
            for v in verdicts
        ]
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO token_verdicts (lab, token, ok, flags, block, holder,"
                " amount, probed_at) VALUES (?,?,?,?,?,?,?,?)",
                rows,
            )

    def load_token_verdicts(self, lab: str) -> dict[str, TokenVerdict]:
        """Every verdict kept for `lab`, by token."""
        from flasharb.state.screen import TokenVerdict

        return {
            r["token"]: TokenVerdict.from_json(r)
            for r in self.token_verdicts(lab)  # flags already parsed
        }

    def token_verdicts(self, lab: str | None = None) -> list[dict[str, Any]]:
        """Verdict rows (of one lab, or all), refused tokens first, flags parsed."""
        where, args = ("WHERE lab = ?", (lab,)) if lab is not None else ("", ())
        rows = self.rows(f"SELECT * FROM token_verdicts {where} ORDER BY ok, lab, token", args)
        return [r | {"ok": bool(r["ok"]), "flags": json.loads(r["flags"])} for r in rows]

    # ------------------------------------------------------------ reads

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Any read-only query, as dicts keyed by column (amounts stay decimal strings)."""
        cur = self.db.execute(sql, tuple(args))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def trades(self, run_id: int | None = None) -> list[dict[str, Any]]:
        """Trade rows (of one run, or all), oldest first, routes parsed from JSON."""
        where, args = ("WHERE run_id = ?", (run_id,)) if run_id is not None else ("", ())
        rows = self.rows(f"SELECT * FROM trades {where} ORDER BY id", args)
        return [r | {"route": json.loads(r["route"])} for r in rows]

    def run(self, run_id: int) -> dict[str, Any] | None:
        """Run `run_id`'s row with its params and summary parsed, or None."""
        rows = self.rows("SELECT * FROM runs WHERE id = ?", (run_id,))
        if not rows:
            return None
        r = rows[0]
        return r | {"params": json.loads(r["params"]), "summary": json.loads(r["summary"])}

    def points(self, run_id: int) -> list[dict[str, Any]]:
        """Experiment points of a run, in order: `{"seq", "params", "metrics"}`."""
        rows = self.rows("SELECT * FROM points WHERE run_id = ? ORDER BY seq", (run_id,))
        return [
            {
                "seq": r["seq"],
                "params": json.loads(r["params"]),
                "metrics": json.loads(r["metrics"]),
            }
            for r in rows
        ]


def _opportunity_row(scan_id: int, rank: int, opp: OpportunityLike) -> tuple[Any, ...]:
    j = opp.to_json()
    route = list(j["route"])  # type: ignore[call-overload]
    return (
        scan_id,
        rank,
        j["profit_token"],
        j.get("flash_source", ""),
        len(route),
        _json(route),
        _text(j["amount_in"]),
        _text(j["gross_profit"]),
        _text(j["flash_fee"]),
        int(str(j["gas_estimate"])),
        _text(j["net_profit"]),
        _text(opp.net_profit_eth),
    )
