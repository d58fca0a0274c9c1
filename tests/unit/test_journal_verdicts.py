"""The journal's token verdicts (schema v4): kept per lab and token, replaced on a new probe,
read back as the screen's own verdicts; and the move of v1, v2 and v3 journals to v4."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from flasharb.journal.store import SCHEMA_VERSION, Journal
from flasharb.state.screen import Flag, Quirk, TokenVerdict

USDT = "0xdAC17F958D2ee523a2206206994597C13D831ec7"
TOKEN = "0x332Fb35767182F8ac9F9C1405db626105F6694E0"
HUGE = 2**200 + 7  # no int64 holds it

# The v3 journal as flasharb wrote it (schema.py at v3), with one row in each table.
V3 = """
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
CREATE INDEX scans_run ON scans(run_id);
CREATE INDEX opportunities_scan ON opportunities(scan_id);
CREATE INDEX trades_run ON trades(run_id);
INSERT INTO runs (id, kind, started_at, status, lab) VALUES (1, 'run', 0, 'done', 'anvil:0x01');
INSERT INTO scans (id, run_id, created_at, block, opportunities) VALUES (1, 1, 0, 9, 1);
INSERT INTO trades (id, run_id, created_at, status, block, tx_hash, profit_token, hops, route,
    amount_in, realized_profit) VALUES (1, 1, 0, 'executed', 9, '0xaa', 'W', 2, '[]', '5', '3');
INSERT INTO points (run_id, seq, params, metrics) VALUES (1, 1, '{}', '{}');
PRAGMA user_version = 3;
"""


def verdict(token: str, *flags: Flag, block: int = 7, amount: int = HUGE) -> TokenVerdict:
    return TokenVerdict(
        token=token, flags=flags, block=block, holder="0x" + "11" * 20, amount=amount
    )


GAS = Flag(quirk=Quirk.GAS_PRICE, reason="transfer out reverted when tx.gasprice > 0")
NO_RETURN = Flag(quirk=Quirk.NO_RETURN, reason="transfer returned nothing")


class TestVerdicts:
    def test_round_trip_per_lab(self, tmp_path: Path) -> None:
        with Journal(tmp_path / "j.sqlite") as j:
            j.record_token_verdicts("anvil:0x01", [verdict(USDT, NO_RETURN), verdict(TOKEN, GAS)])
            j.record_token_verdicts("anvil:0x02", [verdict(TOKEN, block=8)])
            back = j.load_token_verdicts("anvil:0x01")
            assert back == {USDT: verdict(USDT, NO_RETURN), TOKEN: verdict(TOKEN, GAS)}
            assert back[USDT].ok and not back[TOKEN].ok
            assert back[TOKEN].amount == HUGE  # exact, as text
            assert j.load_token_verdicts("anvil:0x02") == {TOKEN: verdict(TOKEN, block=8)}
            rows = j.token_verdicts()
            assert [(r["lab"], r["token"], r["ok"]) for r in rows] == [
                ("anvil:0x01", TOKEN, False),  # refused first
                ("anvil:0x01", USDT, True),
                ("anvil:0x02", TOKEN, True),
            ]
            assert rows[0]["flags"] == [GAS.to_json()]

    def test_a_new_probe_replaces_the_old_verdict(self, tmp_path: Path) -> None:
        with Journal(tmp_path / "j.sqlite") as j:
            j.record_token_verdicts("lab", [verdict(TOKEN)])
            j.record_token_verdicts("lab", [verdict(TOKEN, GAS, block=9)])
            assert j.load_token_verdicts("lab") == {TOKEN: verdict(TOKEN, GAS, block=9)}
            assert len(j.token_verdicts("lab")) == 1


class TestMigration:
    def test_third_version_journal_is_migrated(self, tmp_path: Path) -> None:
        """v3 -> v4: every row stays, trades keep their (run, hash) key, verdicts can be kept."""
        path = tmp_path / "v3.sqlite"
        db = sqlite3.connect(path)
        db.executescript(V3)
        db.close()
        with Journal(path) as j:
            assert int(j.db.execute("PRAGMA user_version").fetchone()[0]) == SCHEMA_VERSION == 5
            assert [(t["tx_hash"], t["realized_profit"]) for t in j.trades()] == [("0xaa", "3")]
            assert j.run(1) is not None and j.points(1)[0]["seq"] == 1
            j.begin_run("run", lab="anvil:0x02")
            j.record_trade(_trade("0xaa"))  # the same hash in another run: kept
            with pytest.raises(sqlite3.IntegrityError):
                j.record_trade(_trade("0xaa"))  # twice in one run: refused
            j.record_token_verdicts("anvil:0x02", [verdict(TOKEN, GAS)])
            assert not j.load_token_verdicts("anvil:0x02")[TOKEN].ok
        with Journal(path) as j:  # reopening migrates nothing again
            assert len(j.token_verdicts()) == 1 and len(j.trades()) == 2

    @pytest.mark.parametrize("version", [1, 2])
    def test_older_journals_get_the_verdicts_table(self, tmp_path: Path, version: int) -> None:
        path = tmp_path / f"v{version}.sqlite"
        db = sqlite3.connect(path)
        if version == 1:
            db.executescript(
                """CREATE TABLE scans (id INTEGER PRIMARY KEY, created_at REAL NOT NULL,
                block INTEGER NOT NULL, opportunities INTEGER NOT NULL, best_net_profit_eth
                TEXT);
                INSERT INTO scans VALUES (1, 0, 10, 2, '99');"""
            )
        else:
            v2 = V3.replace(", lab TEXT", "").replace(", UNIQUE (run_id, tx_hash)", "")
            v2 = v2.replace("tx_hash TEXT,", "tx_hash TEXT UNIQUE,")
            v2 = v2.replace(
                ", lab) VALUES (1, 'run', 0, 'done', 'anvil:0x01')",
                ") VALUES (1, 'run', 0, 'done')",
            ).replace("user_version = 3", "user_version = 2")
            db.executescript(v2)
        db.close()
        with Journal(path) as j:
            assert int(j.db.execute("PRAGMA user_version").fetchone()[0]) == SCHEMA_VERSION
            assert j.rows("SELECT block FROM scans") == [{"block": 9 if version == 2 else 10}]
            j.record_token_verdicts("lab", [verdict(USDT, NO_RETURN)])
            assert j.load_token_verdicts("lab")[USDT].has(Quirk.NO_RETURN)


def _trade(tx: str) -> dict[str, object]:
    return {
        "route": [],
        "tx_hash": tx,
        "block": 10,
        "profit_token": "W",
        "amount_in": "5",
        "predicted_profit": "1",
        "simulated_profit": "1",
        "realized_profit": "1",
        "gas_estimate": 1,
        "gas_used": 1,
        "gas_cost_wei": "1",
    }
