"""The journal: its schema, exact amounts, one transaction per row group, the migration of a
first-version file, and `flasharb journal list / export`."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from flasharb.cli import main
from flasharb.journal.export import export, list_runs
from flasharb.journal.store import SCHEMA_VERSION, Journal

WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
HUGE = 2**200 + 12345  # no float, no int64 could hold it


@dataclass
class FakeOpportunity:
    net_profit_eth: int
    amount_in: int = HUGE
    fail: bool = False

    def to_json(self) -> dict[str, object]:
        if self.fail:
            raise RuntimeError("boom while serialising")
        hop = {"pool": "0x" + "11" * 20, "kind": "uniswap_v2", "token_in": WETH, "token_out": USDC}
        back = hop | {"token_in": USDC, "token_out": WETH}
        return {
            "route": [hop, back],
            "flash_source": "balancer_v2",
            "profit_token": WETH,
            "amount_in": str(self.amount_in),
            "gross_profit": str(self.net_profit_eth + 7),
            "flash_fee": "0",
            "gas_estimate": "150000",
            "net_profit": str(self.net_profit_eth),
        }


def trade(tx: str, realized: int, token: str = WETH) -> dict[str, object]:
    return {
        "route": FakeOpportunity(1).to_json()["route"],
        "profit_token": token,
        "flash_source": "balancer_v2",
        "amount_in": str(HUGE),
        "predicted_profit": str(realized + 1),
        "simulated_profit": str(realized),
        "realized_profit": str(realized),
        "gas_estimate": "150000",
        "gas_used": "123456",
        "gas_cost_wei": str(123456 * 10**9),
        "tx_hash": tx,
        "block": 42,
    }


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    j = Journal(tmp_path / "journal.sqlite")
    yield j  # type: ignore[misc]
    j.close()


class TestSchema:
    """One file, WAL, five tables, versioned."""

    def test_wal_and_version(self, journal: Journal) -> None:
        assert journal.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert journal.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {r[0] for r in journal.db.execute("SELECT name FROM sqlite_master")}
        assert {"runs", "scans", "opportunities", "trades", "points"} <= tables

    def test_reopening_keeps_rows(self, tmp_path: Path) -> None:
        with Journal(tmp_path / "j.sqlite") as j:
            run = j.begin_run("run")
            j.record_trade(trade("0xaa", 5))
        with Journal(tmp_path / "j.sqlite") as j:
            assert [t["run_id"] for t in j.trades()] == [run]


class TestRowGroups:
    def test_amounts_round_trip_exactly(self, journal: Journal) -> None:
        run = journal.begin_run("run", params={"x": 1})
        scan = journal.record_scan_result(
            7, [FakeOpportunity(HUGE), FakeOpportunity(3)], gas_price_wei=HUGE, pools_changed=2
        )
        journal.record_trade(trade("0xab", HUGE), scan)
        (row,) = journal.rows("SELECT * FROM scans")
        assert row["run_id"] == run and row["best_net_profit_eth"] == str(HUGE)
        assert row["gas_price_wei"] == str(HUGE) and row["opportunities"] == 2
        opps = journal.rows("SELECT * FROM opportunities ORDER BY rank")
        assert [o["rank"] for o in opps] == [1, 2]
        assert opps[0]["amount_in"] == str(HUGE) and opps[0]["hops"] == 2
        (t,) = journal.trades()
        assert int(t["realized_profit"]) == HUGE and t["scan_id"] == scan

    def test_failed_scan_group_leaves_nothing(self, journal: Journal) -> None:
        """The scan row and its opportunities are one transaction: an error half-way through
        the opportunities rolls the scan row back too."""
        with pytest.raises(RuntimeError, match="boom"):
            journal.record_scan_result(1, [FakeOpportunity(5), FakeOpportunity(4, fail=True)])
        assert journal.rows("SELECT * FROM scans") == []
        assert journal.rows("SELECT * FROM opportunities") == []

    def test_duplicate_tx_hash_in_one_run_is_refused_whole(self, journal: Journal) -> None:
        journal.begin_run("run", lab="anvil:0x01")
        journal.record_trade(trade("0xdup", 1))
        with pytest.raises(sqlite3.IntegrityError):
            journal.record_trade(trade("0xdup", 2))
        assert [t["realized_profit"] for t in journal.trades()] == ["1"]

    def test_the_same_hash_on_a_restarted_lab_is_another_trade(self, journal: Journal) -> None:
        """A fork is deterministic: after node down / node up the same transaction has the same
        hash. Each run (each lab) keeps its own row."""
        first = journal.begin_run("run", lab="anvil:0x01")
        journal.record_trade(trade("0xsame", 1))
        journal.end_run(first)
        second = journal.begin_run("run", lab="anvil:0x02")
        journal.record_trade(trade("0xsame", 1))
        rows = journal.rows("SELECT r.lab, t.tx_hash FROM trades t JOIN runs r ON r.id = t.run_id")
        assert rows == [
            {"lab": "anvil:0x01", "tx_hash": "0xsame"},
            {"lab": "anvil:0x02", "tx_hash": "0xsame"},
        ]
        assert second == first + 1

    def test_failed_trades_have_no_tx(self, journal: Journal) -> None:
        journal.record_failed_trade(FakeOpportunity(3).to_json(), "K", block=9)
        journal.record_failed_trade(FakeOpportunity(4).to_json(), "K", block=9)
        assert [(t["status"], t["tx_hash"]) for t in journal.trades()] == [("failed", None)] * 2

    def test_points_are_numbered_per_run(self, journal: Journal) -> None:
        run = journal.begin_run("experiment", name="x")
        journal.record_points(run, [({"a": 1}, {"v": "1"}), ({"a": 2}, {"v": str(HUGE)})])
        journal.record_points(run, [({"a": 3}, {"v": "3"})])
        pts = journal.points(run)
        assert [p["seq"] for p in pts] == [1, 2, 3]
        assert pts[1]["metrics"]["v"] == str(HUGE)


def test_first_version_journal_is_migrated(tmp_path: Path) -> None:
    """A journal written before runs existed keeps its scans and trades."""
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        """CREATE TABLE scans (id INTEGER PRIMARY KEY, created_at REAL NOT NULL,
        block INTEGER NOT NULL, opportunities INTEGER NOT NULL, best_net_profit_eth TEXT);
        CREATE TABLE trades (id INTEGER PRIMARY KEY, scan_id INTEGER REFERENCES scans(id),
        created_at REAL NOT NULL, block INTEGER NOT NULL, tx_hash TEXT NOT NULL UNIQUE,
        profit_token TEXT NOT NULL, route TEXT NOT NULL, amount_in TEXT NOT NULL,
        predicted_profit TEXT NOT NULL, simulated_profit TEXT NOT NULL,
        realized_profit TEXT NOT NULL, gas_estimate INTEGER NOT NULL, gas_used INTEGER NOT NULL,
        gas_cost_wei TEXT NOT NULL);
        INSERT INTO scans VALUES (1, 0, 10, 2, '99');
        INSERT INTO trades VALUES (1, 1, 0, 11, '0xold', 'W', '[{"pool":"p"},{"pool":"q"}]',
        '5', '3', '3', '2', 100, 90, '900');"""
    )
    db.close()
    with Journal(path) as j:
        (t,) = j.trades()
        assert (t["status"], t["hops"], t["realized_profit"], t["scan_id"]) == (
            "executed",
            2,
            "2",
            1,
        )
        assert j.rows("SELECT block, best_net_profit_eth FROM scans") == [
            {"block": 10, "best_net_profit_eth": "99"}
        ]
        j.record_failed_trade(FakeOpportunity(1).to_json(), "late", block=12)  # new shape works


def test_second_version_journal_is_migrated(tmp_path: Path) -> None:
    """A v2 journal (trades keyed by their hash alone, runs without a lab) keeps every row and
    takes the same hash again in another run."""
    path = tmp_path / "v2.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        """CREATE TABLE runs (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL
        DEFAULT '', started_at REAL NOT NULL, ended_at REAL, status TEXT NOT NULL, rpc_url TEXT,
        params TEXT NOT NULL DEFAULT '{}', summary TEXT NOT NULL DEFAULT '{}');
        CREATE TABLE scans (id INTEGER PRIMARY KEY, run_id INTEGER REFERENCES runs(id),
        created_at REAL NOT NULL, block INTEGER NOT NULL, opportunities INTEGER NOT NULL,
        best_net_profit_eth TEXT, pools_changed INTEGER, gas_price_wei TEXT);
        CREATE TABLE opportunities (id INTEGER PRIMARY KEY, scan_id INTEGER NOT NULL, rank
        INTEGER NOT NULL, profit_token TEXT NOT NULL, flash_source TEXT NOT NULL, hops INTEGER
        NOT NULL, route TEXT NOT NULL, amount_in TEXT NOT NULL, gross_profit TEXT NOT NULL,
        flash_fee TEXT NOT NULL, gas_estimate INTEGER NOT NULL, net_profit TEXT NOT NULL,
        net_profit_eth TEXT NOT NULL);
        CREATE TABLE trades (id INTEGER PRIMARY KEY, run_id INTEGER REFERENCES runs(id),
        scan_id INTEGER REFERENCES scans(id), created_at REAL NOT NULL, status TEXT NOT NULL,
        reason TEXT, block INTEGER NOT NULL, tx_hash TEXT UNIQUE, profit_token TEXT NOT NULL,
        flash_source TEXT, hops INTEGER NOT NULL, route TEXT NOT NULL, amount_in TEXT NOT NULL,
        predicted_profit TEXT, simulated_profit TEXT, realized_profit TEXT, gas_estimate
        INTEGER, gas_used INTEGER, gas_cost_wei TEXT);
        CREATE TABLE points (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, seq INTEGER NOT
        NULL, params TEXT NOT NULL, metrics TEXT NOT NULL, UNIQUE (run_id, seq));
        INSERT INTO runs (id, kind, started_at, status) VALUES (1, 'run', 0, 'done');
        INSERT INTO trades (id, run_id, created_at, status, block, tx_hash, profit_token, hops,
        route, amount_in, realized_profit) VALUES (1, 1, 0, 'executed', 5, '0xsame', 'W', 2,
        '[]', '5', '3');
        PRAGMA user_version = 2;"""
    )
    db.close()
    with Journal(path) as j:
        assert int(j.db.execute("PRAGMA user_version").fetchone()[0]) == SCHEMA_VERSION == 5
        assert [(t["tx_hash"], t["realized_profit"]) for t in j.trades()] == [("0xsame", "3")]
        j.begin_run("run", lab="anvil:0x02")
        j.record_trade(trade("0xsame", 4))  # a restarted lab: same hash, new run, kept
        assert [t["realized_profit"] for t in j.trades()] == ["3", "4"]


class TestCommand:
    """`flasharb journal list / export`, through click."""

    @pytest.fixture
    def filled(self, tmp_path: Path) -> Path:
        path = tmp_path / "j.sqlite"
        with Journal(path) as j:
            run = j.begin_run("run", params={"blocks": 3})
            scan = j.record_scan_result(5, [FakeOpportunity(10)])
            j.record_trade(trade("0x01", 10), scan)
            j.record_trade(trade("0x02", HUGE), scan)
            j.record_trade(trade("0x03", 4, USDC), scan)
            j.record_failed_trade(FakeOpportunity(2).to_json(), "simulated to a loss", block=6)
            j.end_run(run, "interrupted")
            j.begin_run("execute")
        return path

    def test_list_json_counts_and_sums(self, filled: Path) -> None:
        res = CliRunner().invoke(main, ["journal", "list", "--journal", str(filled), "--json"])
        assert res.exit_code == 0, res.output
        runs = json.loads(res.output)["runs"]
        assert [r["id"] for r in runs] == [2, 1]
        first = runs[1]
        assert (first["status"], first["scans"], first["opportunities"]) == ("interrupted", 1, 1)
        assert (first["trades"], first["failed_trades"]) == (3, 1)
        assert first["realized_profit"] == {WETH: str(HUGE + 10), USDC: "4"}

    def test_list_table_for_people(self, filled: Path) -> None:
        res = CliRunner().invoke(main, ["journal", "list", "--journal", str(filled)])
        assert res.exit_code == 0 and "interrupted" in res.output

    def test_export_csv_and_json_agree(self, filled: Path, tmp_path: Path) -> None:
        out = tmp_path / "t.csv"
        args = ["journal", "export", "--journal", str(filled), "--run", "1"]
        res = CliRunner().invoke(main, [*args, "--format", "csv", "--out", str(out)])
        assert res.exit_code == 0, res.output
        rows = list(csv.DictReader(io.StringIO(out.read_text())))
        as_json = json.loads(CliRunner().invoke(main, [*args, "--json"]).output)
        assert [r["realized_profit"] for r in rows] == ["10", str(HUGE), "4", ""]
        assert [r["realized_profit"] for r in as_json] == ["10", str(HUGE), "4", None]
        assert as_json[0]["route"][0]["token_in"] == WETH  # parsed, not a string

    def test_export_other_tables(self, filled: Path) -> None:
        with Journal(filled) as j:
            assert len(json.loads(export(j, "opportunities", "json", 1))) == 1
            assert len(json.loads(export(j, "runs", "json"))) == 2
            assert list_runs(j, 1)[0]["id"] == 2

    def test_missing_journal_is_one_line(self, tmp_path: Path) -> None:
        res = CliRunner().invoke(main, ["journal", "list", "--journal", str(tmp_path / "no.db")])
        assert res.exit_code != 0
        assert "no journal at" in res.output or "no journal at" in str(res.exception)
