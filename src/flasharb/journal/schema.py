"""The journal's tables, and the move of older journals into them. Bump SCHEMA_VERSION and
extend `migrate` when a table changes.

Version 4: `quarantine`, the pools of routes that reverted on chain, kept out of the market
until a block (per lab); `token_verdicts`, the token screen's verdict per lab and token
(state/screen.py): a token is probed once per lab, and `flasharb tokens` shows why one was
refused.

Version 3: a trade is keyed by its run and its hash, not its hash alone. A fork is
deterministic: the same transactions on a fresh lab get the same hashes, so a second `flasharb
run` after `node down` / `node up` sent "the same" transaction again. Runs record the lab they
ran on (`lab`: the node's instance id, `anvil_metadata.instanceId`, else its URL).
"""

from __future__ import annotations

import sqlite3

__all__ = ["SCHEMA", "SCHEMA_VERSION", "migrate"]

SCHEMA_VERSION = 4

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,               -- run | execute | demo | experiment
    name TEXT NOT NULL DEFAULT '',    -- the experiment's name, or a label
    started_at REAL NOT NULL,
    ended_at REAL,
    status TEXT NOT NULL,             -- running | done | interrupted | failed
    rpc_url TEXT,
    lab TEXT,                         -- the node instance the run talked to
    params TEXT NOT NULL DEFAULT '{}',
    summary TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS scans (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES runs(id),
    created_at REAL NOT NULL,
    block INTEGER NOT NULL,
    opportunities INTEGER NOT NULL,
    best_net_profit_eth TEXT,
    pools_changed INTEGER,
    gas_price_wei TEXT
);
CREATE TABLE IF NOT EXISTS opportunities (
    id INTEGER PRIMARY KEY,
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    rank INTEGER NOT NULL,
    profit_token TEXT NOT NULL,
    flash_source TEXT NOT NULL,
    hops INTEGER NOT NULL,
    route TEXT NOT NULL,
    amount_in TEXT NOT NULL,
    gross_profit TEXT NOT NULL,
    flash_fee TEXT NOT NULL,
    gas_estimate INTEGER NOT NULL,
    net_profit TEXT NOT NULL,
    net_profit_eth TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trades (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES runs(id),
    scan_id INTEGER REFERENCES scans(id),
    created_at REAL NOT NULL,
    status TEXT NOT NULL,             -- executed | failed
    reason TEXT,
    block INTEGER NOT NULL,
    tx_hash TEXT,
    profit_token TEXT NOT NULL,
    flash_source TEXT,
    hops INTEGER NOT NULL,
    route TEXT NOT NULL,
    amount_in TEXT NOT NULL,
    predicted_profit TEXT,
    simulated_profit TEXT,
    realized_profit TEXT,
    gas_estimate INTEGER,
    gas_used INTEGER,
    gas_cost_wei TEXT,
    UNIQUE (run_id, tx_hash)          -- a hash is unique on one lab, not across labs
);
CREATE TABLE IF NOT EXISTS points (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    seq INTEGER NOT NULL,
    params TEXT NOT NULL,
    metrics TEXT NOT NULL,
    UNIQUE (run_id, seq)
);
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES runs(id),
    lab TEXT,                         -- the node instance (a restarted lab starts clean)
    created_at REAL NOT NULL,
    block INTEGER NOT NULL,           -- where the route reverted
    until_block INTEGER NOT NULL,     -- the pool stays out of the market up to this block
    pool TEXT NOT NULL,
    reason TEXT NOT NULL,
    tx_hash TEXT
);
CREATE TABLE IF NOT EXISTS token_verdicts (
    lab TEXT NOT NULL,                -- the node instance probed (runs.lab's spelling)
    token TEXT NOT NULL,              -- EIP-55
    ok INTEGER NOT NULL,              -- 1: its pools may enter the market
    flags TEXT NOT NULL,              -- JSON [{"quirk", "bad", "reason"}]
    block INTEGER NOT NULL,           -- the block probed at
    holder TEXT,                      -- who the probe sent from
    amount TEXT NOT NULL,             -- what it sent, in base units
    probed_at REAL NOT NULL,
    PRIMARY KEY (lab, token)
);
CREATE INDEX IF NOT EXISTS scans_run ON scans(run_id);
CREATE INDEX IF NOT EXISTS quarantine_lab ON quarantine(lab, until_block);
CREATE INDEX IF NOT EXISTS opportunities_scan ON opportunities(scan_id);
CREATE INDEX IF NOT EXISTS trades_run ON trades(run_id);
"""

_V1_TABLES = ("scans", "trades")  # the first journal: scans and trades only, no run
_TRADE_COLUMNS = (
    "id, run_id, scan_id, created_at, status, reason, block, tx_hash, profit_token,"
    " flash_source, hops, route, amount_in, predicted_profit, simulated_profit,"
    " realized_profit, gas_estimate, gas_used, gas_cost_wei"
)


def migrate(db: sqlite3.Connection) -> None:
    """Create the tables, or move an older journal (v1: scans and trades only; v2; v3) into
    them, in one transaction that also holds off any other process doing the same."""
    if int(db.execute("PRAGMA user_version").fetchone()[0]) >= SCHEMA_VERSION:
        return
    db.isolation_level = None  # explicit BEGIN/COMMIT: sqlite3 would autocommit the DDL
    try:
        db.execute("BEGIN IMMEDIATE")
        if int(db.execute("PRAGMA user_version").fetchone()[0]) >= SCHEMA_VERSION:
            db.execute("COMMIT")  # another process migrated it meanwhile
            return
        existing = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version in (2, 3):
            if version == 2:
                _from_v2(db)
            _create_missing(db)  # v3 -> v4: the quarantine and token_verdicts tables
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
            return
        legacy = [t for t in _V1_TABLES if t in existing]
        for table in legacy:
            db.execute(f"ALTER TABLE {table} RENAME TO {table}_v1")
        for stmt in SCHEMA.split(";"):
            if stmt.strip():
                db.execute(stmt)
        if "scans" in legacy:
            db.execute(
                "INSERT INTO scans (id, created_at, block, opportunities, best_net_profit_eth)"
                " SELECT id, created_at, block, opportunities, best_net_profit_eth"
                " FROM scans_v1"
            )
        if "trades" in legacy:
            db.execute(
                "INSERT INTO trades (id, scan_id, created_at, status, block, tx_hash,"
                " profit_token, hops, route, amount_in, predicted_profit, simulated_profit,"
                " realized_profit, gas_estimate, gas_used, gas_cost_wei)"
                " SELECT id, scan_id, created_at, 'executed', block, tx_hash, profit_token,"
                " json_array_length(route), route, amount_in, predicted_profit,"
                " simulated_profit, realized_profit, gas_estimate, gas_used, gas_cost_wei"
                " FROM trades_v1"
            )
        for table in reversed(legacy):
            db.execute(f"DROP TABLE {table}_v1")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    finally:
        db.isolation_level = "DEFERRED"  # back to one implicit transaction per `with db`


def _create_missing(db: sqlite3.Connection) -> None:
    """Every table and index of SCHEMA that does not exist yet (they are IF NOT EXISTS)."""
    for stmt in SCHEMA.split(";"):
        if stmt.strip():
            db.execute(stmt)


def _from_v2(db: sqlite3.Connection) -> None:
    """v2 -> v3, inside the caller's transaction: runs gain `lab`; trades lose the unique hash
    for a (run, hash) key (SQLite cannot drop a constraint: the table is rebuilt)."""
    db.execute("ALTER TABLE runs ADD COLUMN lab TEXT")
    db.execute("ALTER TABLE trades RENAME TO trades_v2")
    for stmt in SCHEMA.split(";"):
        if "CREATE TABLE IF NOT EXISTS trades" in stmt:
            db.execute(stmt)
    db.execute(f"INSERT INTO trades ({_TRADE_COLUMNS}) SELECT {_TRADE_COLUMNS} FROM trades_v2")
    db.execute("DROP TABLE trades_v2")
    db.execute("CREATE INDEX IF NOT EXISTS trades_run ON trades(run_id)")
