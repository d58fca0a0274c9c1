"""P&L per child from the journal (schema v5): the v4 -> v5 move, reverted trades with their
gas, capital and risk rows, the P&L's definitions on series worked by hand (win rate, maximum
drawdown, consecutive reverts, `--since`), the breakers' windows, and `flasharb pnl` through
click (JSON and CSV agree)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from eth_utils import to_checksum_address

from flasharb.cli import main
from flasharb.errors import FlasharbValueError
from flasharb.journal.pnl import Fill, PnlFold, parse_since, pnl
from flasharb.journal.store import SCHEMA_VERSION, Journal
from flasharb.run.risk import ChildRisk, RiskLimits

WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
CHILD_A = to_checksum_address("0x" + "aa" * 20)
CHILD_B = to_checksum_address("0x" + "bb" * 20)
HUGE = 2**200 + 3  # no int64 holds it
HOP = {"pool": "0x" + "11" * 20, "kind": "uniswap_v2", "token_in": WETH, "token_out": USDC}

# The v4 journal as flasharb wrote it (schema.py at v4), one executed trade per token.
V4 = """
CREATE TABLE runs (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
    started_at REAL NOT NULL, ended_at REAL, status TEXT NOT NULL, rpc_url TEXT, lab TEXT,
    params TEXT NOT NULL DEFAULT '{}', summary TEXT NOT NULL DEFAULT '{}');
CREATE TABLE scans (id INTEGER PRIMARY KEY, run_id INTEGER REFERENCES runs(id),
    created_at REAL NOT NULL, block INTEGER NOT NULL, opportunities INTEGER NOT NULL,
    best_net_profit_eth TEXT, pools_changed INTEGER, gas_price_wei TEXT);
CREATE TABLE opportunities (id INTEGER PRIMARY KEY, scan_id INTEGER NOT NULL REFERENCES
    scans(id), rank INTEGER NOT NULL, profit_token TEXT NOT NULL, flash_source TEXT NOT NULL,
    hops INTEGER NOT NULL, route TEXT NOT NULL, amount_in TEXT NOT NULL, gross_profit TEXT NOT
    NULL, flash_fee TEXT NOT NULL, gas_estimate INTEGER NOT NULL, net_profit TEXT NOT NULL,
    net_profit_eth TEXT NOT NULL);
CREATE TABLE trades (id INTEGER PRIMARY KEY, run_id INTEGER REFERENCES runs(id), scan_id
    INTEGER REFERENCES scans(id), created_at REAL NOT NULL, status TEXT NOT NULL, reason TEXT,
    block INTEGER NOT NULL, tx_hash TEXT, profit_token TEXT NOT NULL, flash_source TEXT, hops
    INTEGER NOT NULL, route TEXT NOT NULL, amount_in TEXT NOT NULL, predicted_profit TEXT,
    simulated_profit TEXT, realized_profit TEXT, gas_estimate INTEGER, gas_used INTEGER,
    gas_cost_wei TEXT, UNIQUE (run_id, tx_hash));
CREATE TABLE points (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), seq
    INTEGER NOT NULL, params TEXT NOT NULL, metrics TEXT NOT NULL, UNIQUE (run_id, seq));
CREATE TABLE quarantine (id INTEGER PRIMARY KEY, run_id INTEGER REFERENCES runs(id), lab TEXT,
    created_at REAL NOT NULL, block INTEGER NOT NULL, until_block INTEGER NOT NULL, pool TEXT
    NOT NULL, reason TEXT NOT NULL, tx_hash TEXT);
CREATE TABLE token_verdicts (lab TEXT NOT NULL, token TEXT NOT NULL, ok INTEGER NOT NULL,
    flags TEXT NOT NULL, block INTEGER NOT NULL, holder TEXT, amount TEXT NOT NULL, probed_at
    REAL NOT NULL, PRIMARY KEY (lab, token));
CREATE INDEX scans_run ON scans(run_id);
CREATE INDEX quarantine_lab ON quarantine(lab, until_block);
CREATE INDEX opportunities_scan ON opportunities(scan_id);
CREATE INDEX trades_run ON trades(run_id);
INSERT INTO runs (id, kind, started_at, status, lab) VALUES (1, 'run', 0, 'done', 'anvil:0x01');
INSERT INTO trades (id, run_id, created_at, status, block, tx_hash, profit_token, hops, route,
    amount_in, realized_profit, gas_used, gas_cost_wei) VALUES
    (1, 1, 0, 'executed', 9, '0xaa', '0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2', 2, '[]', '5',
     '3000', 100, '700'),
    (2, 1, 0, 'executed', 10, '0xbb', '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48', 2, '[]',
     '5', '40', 100, '900'),
    (3, 1, 0, 'failed', 10, NULL, '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48', 2, '[]', '5',
     NULL, NULL, NULL);
PRAGMA user_version = 4;
"""


def mined(
    tx: str,
    *,
    child: str = CHILD_A,
    eth: int,
    gas: int,
    token: str = WETH,
    realized: int | None = None,
    bribe: int = 0,
    block: int = 100,
) -> dict[str, Any]:
    """A `Trade.to_json()`-shaped row: `eth` is its realized profit in ETH wei."""
    return {
        "child": child,
        "route": [HOP, HOP | {"token_in": USDC, "token_out": WETH}],
        "profit_token": token,
        "flash_source": "balancer_v2",
        "amount_in": str(HUGE),
        "predicted_profit": "1",
        "simulated_profit": "1",
        "realized_profit": str(eth if realized is None else realized),
        "realized_profit_eth": str(eth),
        "event_profit": str(eth if realized is None else realized),
        "bribe": str(bribe),
        "bribe_eth": str(bribe),
        "gas_estimate": "150000",
        "gas_used": "100000",
        "effective_gas_price": "1",
        "gas_cost_wei": str(gas),
        "tx_hash": tx,
        "block": block,
        "index": 0,
    }


def reverted(tx: str, *, child: str = CHILD_A, gas: int, block: int = 100) -> dict[str, Any]:
    """A `Reverted.to_json()`-shaped row."""
    row = mined(tx, child=child, eth=0, gas=gas, block=block)
    for k in ("realized_profit", "realized_profit_eth", "event_profit", "bribe", "bribe_eth"):
        row.pop(k)
    return row


@pytest.fixture
def journal(tmp_path: Path) -> Any:
    with Journal(tmp_path / "j.sqlite") as j:
        j.begin_run("run", lab="anvil:0x01")
        yield j


class TestSchemaV5:
    def test_v4_journal_moves_to_v5_with_exact_backfill(self, tmp_path: Path) -> None:
        path = tmp_path / "v4.sqlite"
        db = sqlite3.connect(path)
        db.executescript(V4)
        db.close()
        with Journal(path) as j:
            assert int(j.db.execute("PRAGMA user_version").fetchone()[0]) == SCHEMA_VERSION == 5
            rows = {r["tx_hash"]: r for r in j.trades()}
            assert set(rows) == {"0xaa", "0xbb", None}
            weth, usdc = rows["0xaa"], rows["0xbb"]
            assert weth["child"] is None and weth["realized_profit_eth"] == "3000"  # its own ETH
            assert usdc["realized_profit_eth"] is None  # nothing priced it then
            assert (weth["effective_gas_price"], usdc["effective_gas_price"]) == ("7", "9")
            tables = {r[0] for r in j.db.execute("SELECT name FROM sqlite_master")}
            assert {"capital", "risk_events", "quarantine", "token_verdicts"} <= tables
            with pytest.raises(sqlite3.IntegrityError):  # still one (run, hash)
                j.record_trade(mined("0xaa", eth=1, gas=1), run_id=1)
            report = pnl(j)
        (old,) = report.children.values()
        assert report.label("") == "(before v5)" and set(report.children) == {""}
        assert old.trades == 2 and old.priced == 1 and old.unpriced == 1
        assert old.profit == {WETH: 3000, USDC: 40}
        assert old.gas_wei == 1600 and old.net_eth == 3000 - 700

    def test_reverted_trade_keeps_its_gas_and_realizes_nothing(self, journal: Journal) -> None:
        journal.record_reverted_trade(reverted("0x01", gas=HUGE), "reverted on chain: x")
        (row,) = journal.trades()
        assert (row["status"], row["tx_hash"], row["child"]) == ("reverted", "0x01", CHILD_A)
        assert row["gas_cost_wei"] == str(HUGE) and row["realized_profit"] == "0"
        assert row["reason"] == "reverted on chain: x"

    def test_capital_moves_are_journaled_once_per_log(self, journal: Journal) -> None:
        move = {
            "child": CHILD_A,
            "kind": "allocate",
            "token": WETH,
            "amount": HUGE,
            "block": 5,
            "tx_hash": "0x01",
            "log_index": 3,
        }
        assert journal.record_capital([move], lab="anvil:0x01") == 1
        assert journal.record_capital([move, move | {"log_index": 4}], lab="anvil:0x01") == 1
        amounts = [r["amount"] for r in journal.rows("SELECT amount FROM capital ORDER BY id")]
        assert amounts == [str(HUGE), str(HUGE)]

    def test_risk_events_per_lab_and_child(self, journal: Journal) -> None:
        journal.record_risk_event(
            lab="L", child=CHILD_A, event="tripped", limit_name="drawdown", value=HUGE, threshold=1
        )
        journal.record_risk_event(lab="L", child=CHILD_B, event="resumed")
        journal.record_risk_event(lab="M", child=CHILD_A, event="resumed")
        assert [e["event"] for e in journal.risk_events("L", CHILD_A)] == ["tripped"]
        assert journal.risk_events("L", CHILD_A)[0]["value"] == str(HUGE)
        assert [e["child"] for e in journal.risk_events("L")] == [CHILD_A, CHILD_B]


class TestDefinitions:
    """Series worked by hand against the definitions of flasharb.journal.pnl."""

    NETS = (5, -3, -4, 10, -2)  # C = 5, 2, -2, 8, 6; peak 5, 5, 5, 8, 8; drawdown 0, 3, 7, 0, 2

    def test_drawdown_win_rate_and_totals(self, journal: Journal) -> None:
        for i, net in enumerate(self.NETS):
            gas = 2 + i
            journal.record_trade(mined(f"0x{i:02x}", eth=net + gas, gas=gas, block=100 + i))
        a = pnl(journal).children[CHILD_A]
        assert a.net_eth == sum(self.NETS) == 6
        assert a.max_drawdown_eth == 7 and a.drawdown_eth == 2
        assert (a.wins, a.priced, a.trades, a.reverted) == (2, 5, 5, 0)
        assert a.gas_wei == sum(2 + i for i in range(5))
        assert a.profit_eth == a.net_eth + a.gas_wei

    def test_a_first_loss_is_a_drawdown_from_zero(self, journal: Journal) -> None:
        journal.record_reverted_trade(reverted("0x01", gas=40), "r")
        journal.record_trade(mined("0x02", eth=100, gas=10))
        a = pnl(journal).children[CHILD_A]
        assert a.max_drawdown_eth == 40 and a.net_eth == 50 and a.reverted_gas_wei == 40

    def test_consecutive_reverts_reset_on_a_trade(self, journal: Journal) -> None:
        for i, kind in enumerate("RRTRRR"):
            tx = f"0x{i:02x}"
            if kind == "R":
                journal.record_reverted_trade(reverted(tx, gas=1), "r")
            else:
                journal.record_trade(mined(tx, eth=9, gas=1))
        a = pnl(journal).children[CHILD_A]
        assert a.consecutive_reverts == 3 and a.reverted == 5 and a.trades == 1

    def test_children_apart_and_total_in_journal_order(self, journal: Journal) -> None:
        journal.record_trade(mined("0x01", eth=10, gas=1, bribe=4))
        journal.record_trade(mined("0x02", child=CHILD_B, eth=0, gas=30, token=USDC, realized=7))
        journal.record_trade(mined("0x03", eth=50, gas=1))
        report = pnl(journal)
        a, b, total = report.children[CHILD_A], report.children[CHILD_B], report.total
        assert a.profit == {WETH: 60} and a.bribes == {WETH: 4} and a.bribe_eth == 4
        assert b.profit == {USDC: 7} and b.net_eth == -30 and b.wins == 0
        assert total.profit == {WETH: 60, USDC: 7} and total.net_eth == 58 - 30
        assert total.max_drawdown_eth == 30  # C = 9, -21, 28
        assert pnl(journal, child=CHILD_B).total.net_eth == -30

    def test_since_a_block(self, journal: Journal) -> None:
        for i in range(4):
            journal.record_trade(mined(f"0x{i:02x}", eth=10, gas=1, block=100 + i))
        assert pnl(journal, since=parse_since("102")).total.trades == 2

    def test_since_a_time_and_bad_input(self) -> None:
        assert parse_since("2026-12-02").time == parse_since("2026-12-02T00:00:00+00:00").time
        assert parse_since("2026-12-02T02:00+02:00").time == parse_since("2026-12-02").time
        with pytest.raises(FlasharbValueError, match="neither a block number nor an ISO"):
            parse_since("yesterday")

    def test_refused_trades_have_no_pnl(self, journal: Journal) -> None:
        opp = mined("0x01", eth=1, gas=1)
        journal.record_failed_trade(opp, "simulated to a loss", block=1)
        assert pnl(journal).total.mined == 0
        with pytest.raises(FlasharbValueError):
            Fill.of(journal.trades()[0])


class TestBreakerWindows:
    """ChildRisk: the daily window rolls at UTC midnight, a resume starts every window afresh."""

    DAY = 86_400.0
    T0 = 1_700_000_000.0 - (1_700_000_000.0 % 86_400.0)  # a UTC midnight

    def fill(self, net: int, gas: int, at: float, status: str = "executed") -> Fill:
        return Fill(
            child=CHILD_A,
            status=status,
            token=WETH,
            realized=net + gas if status == "executed" else 0,
            realized_eth=net + gas if status == "executed" else 0,
            bribe=0,
            bribe_eth=0,
            gas_cost=gas,
            block=1,
            created_at=at,
        )

    def test_each_limit_trips_at_its_threshold(self) -> None:
        r = ChildRisk(child=CHILD_A)
        r.add(self.fill(-10, 10, self.T0 + 1, "reverted"))
        r.add(self.fill(-10, 10, self.T0 + 2, "reverted"))
        assert r.uses() == {
            "daily_gas": 20,
            "daily_loss": 20,
            "drawdown": 20,
            "consecutive_reverts": 2,
        }
        assert r.check(RiskLimits(daily_gas_wei=21)) is None
        assert r.check(RiskLimits(daily_gas_wei=20)) == ("daily_gas", 20, 20)
        assert r.check(RiskLimits(daily_loss_wei=20)) == ("daily_loss", 20, 20)
        assert r.check(RiskLimits(max_drawdown_wei=5)) == ("drawdown", 20, 5)
        assert r.check(RiskLimits(max_consecutive_reverts=2)) == ("consecutive_reverts", 2, 2)
        assert r.check(RiskLimits(max_consecutive_reverts=3)) is None

    def test_the_daily_window_rolls_and_the_drawdown_does_not(self) -> None:
        r = ChildRisk(child=CHILD_A)
        r.add(self.fill(-10, 10, self.T0 + 1, "reverted"))
        r.roll(self.T0 + self.DAY + 1)
        assert r.uses()["daily_gas"] == 0 and r.uses()["drawdown"] == 10

    def test_a_resume_forgets_what_came_before(self) -> None:
        r = ChildRisk(child=CHILD_A, resumed_at=self.T0 + 5)
        r.add(self.fill(-10, 10, self.T0 + 1, "reverted"))
        r.add(self.fill(7, 3, self.T0 + 6))
        assert r.uses() == {
            "daily_gas": 3,
            "daily_loss": 0,
            "drawdown": 0,
            "consecutive_reverts": 0,
        }

    def test_limits_must_be_positive(self) -> None:
        with pytest.raises(FlasharbValueError, match="daily_gas must be > 0"):
            RiskLimits(daily_gas_wei=0)
        assert RiskLimits.from_json(RiskLimits(max_drawdown_wei=HUGE).to_json()) == RiskLimits(
            max_drawdown_wei=HUGE
        )


class TestCommand:
    def test_json_and_csv_agree(self, journal: Journal, tmp_path: Path) -> None:
        journal.record_trade(mined("0x01", eth=10, gas=1, bribe=2))
        journal.record_reverted_trade(reverted("0x02", child=CHILD_B, gas=HUGE), "r")
        out = tmp_path / "pnl.csv"
        res = CliRunner().invoke(
            main, ["pnl", "--journal", str(journal.path), "--json", "--csv", str(out)]
        )
        assert res.exit_code == 0, res.output
        data = json.loads(res.output)
        assert data == pnl(journal).to_json()
        rows = list(csv.DictReader(io.StringIO(out.read_text())))
        assert [r["child"] for r in rows] == [CHILD_A, CHILD_B, "total"]
        total = rows[-1]
        assert total["gas_wei"] == data["total"]["gas_wei"] == str(HUGE + 1)
        assert total["net_eth"] == str(9 - HUGE) and total[f"profit:{WETH}"] == "10"
        assert rows[1]["reverted"] == "1" and rows[0][f"bribes:{WETH}"] == "2"

    def test_one_child_and_the_table(self, journal: Journal) -> None:
        journal.record_trade(mined("0x01", eth=10, gas=1))
        journal.record_trade(mined("0x02", child=CHILD_B, eth=10, gas=1))
        res = CliRunner().invoke(
            main, ["pnl", "--journal", str(journal.path), "--child", CHILD_B, "--json"]
        )
        assert [c["child"] for c in json.loads(res.output)["children"]] == [CHILD_B]
        table = CliRunner().invoke(main, ["pnl", "--journal", str(journal.path)])
        assert table.exit_code == 0 and "P&L per child" in table.output

    def test_bad_since_is_one_line_exit_2(self, journal: Journal) -> None:
        res = CliRunner(mix_stderr=False).invoke(
            main, ["pnl", "--journal", str(journal.path), "--since", "soon"]
        )
        assert res.exit_code == 2
        assert res.stderr.strip().startswith("flasharb: error: --since 'soon' is neither")

    def test_unknown_child_label(self, journal: Journal) -> None:
        res = CliRunner(mix_stderr=False).invoke(
            main, ["pnl", "--journal", str(journal.path), "--child", "child-9"]
        )
        assert res.exit_code == 2 and "no child labelled 'child-9'" in res.stderr


def test_fold_is_the_pnl(journal: Journal) -> None:
    """PnlFold.add over the fills gives the report (the breakers fold the same way)."""
    journal.record_trade(mined("0x01", eth=10, gas=4))
    journal.record_reverted_trade(reverted("0x02", gas=8), "r")
    fold = PnlFold()
    for row in journal.trades():
        fold.add(Fill.of(row))
    assert fold.to_json() == pnl(journal).total.to_json()


def test_capital_and_risk_rows_export(journal: Journal) -> None:
    journal.record_risk_event(
        lab="L", child=CHILD_A, event="tripped", limit_name="daily_gas", value=HUGE, threshold=1
    )
    res = CliRunner().invoke(
        main,
        ["journal", "export", "--table", "risk_events", "--journal", str(journal.path), "--json"],
    )
    (row,) = json.loads(res.output)
    assert (row["child"], row["limit_name"], row["value"]) == (CHILD_A, "daily_gas", str(HUGE))
    res = CliRunner().invoke(
        main, ["journal", "export", "--table", "capital", "--journal", str(journal.path)]
    )
    assert res.output.startswith("id,run_id,lab,created_at,child,kind,token,amount")
