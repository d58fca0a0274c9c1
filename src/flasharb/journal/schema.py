"""The journal's tables, and the move of older journals into them. Bump SCHEMA_VERSION and
extend `migrate` when a table changes.

Version 5 (issue 17, accounting per child): every trade names its `child` (the diamond that
traded: a child of the master, or the one diamond of a single deployment) and carries what its
P&L needs beside the realized profit: `bribe` (ArbExecuted's, ETH for WETH routes, else the route
token) and its ETH value `bribe_eth`, `realized_profit_eth` (the realized profit valued in ETH
wei at the opportunity's own price; NULL when nothing priced it), `event_profit`,
`effective_gas_price` and `tx_index`. A trade mined with status 0 is `status = 'reverted'` with
its hash and its gas (a loss), no longer a 'failed' row without them. `capital`: allocations and
recalls between the master and a child, and the owner's withdrawals from a child, one row per
log. `risk_events`: a circuit breaker that tripped (which limit, its value, its threshold, the
pause transaction) and the owner's resume, per lab and child. Older trades keep child NULL (no
journal before v5 named the diamond); their ETH value and gas price are filled where exact
(WETH-routed profit is its own ETH value; the gas price is gas_cost_wei / gas_used).

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

SCHEMA_VERSION = 5

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
    status TEXT NOT NULL,             -- executed | reverted (mined, status 0: gas spent) | failed
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
    child TEXT,                       -- the diamond that traded (EIP-55), NULL before v5
    bribe TEXT,                       -- ArbExecuted's bribe: ETH for WETH routes, else the token
    bribe_eth TEXT,                   -- the bribe in ETH wei
    realized_profit_eth TEXT,         -- realized_profit in ETH wei at the trade's price
    event_profit TEXT,                -- ArbExecuted's profit
    effective_gas_price TEXT,         -- the receipt's, wei per gas
    tx_index INTEGER,                 -- position in its block
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
CREATE TABLE IF NOT EXISTS capital (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES runs(id),
    lab TEXT,                         -- the node instance
    created_at REAL NOT NULL,
    child TEXT NOT NULL,              -- the child diamond the capital moved to or from
    kind TEXT NOT NULL,               -- allocate | recall (master <-> child) | withdraw (owner)
    token TEXT NOT NULL,
    amount TEXT NOT NULL,             -- base units, > 0: kind says the direction
    block INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    UNIQUE (lab, tx_hash, log_index)  -- one row per log: journaling twice is refused
);
CREATE TABLE IF NOT EXISTS risk_events (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES runs(id),
    lab TEXT,                         -- the node instance the child was paused on
    created_at REAL NOT NULL,
    child TEXT NOT NULL,
    event TEXT NOT NULL,              -- tripped | resumed
    limit_name TEXT,                  -- daily_gas | daily_loss | drawdown | consecutive_reverts
    value TEXT,                       -- the limit's use when it tripped (wei, or a count)
    threshold TEXT,                   -- the limit (wei, or a count)
    block INTEGER,                    -- the head when it tripped / resumed
    tx_hash TEXT,                     -- the pause / unpause transaction
    note TEXT
);
CREATE INDEX IF NOT EXISTS scans_run ON scans(run_id);
CREATE INDEX IF NOT EXISTS trades_child ON trades(child, id);
CREATE INDEX IF NOT EXISTS capital_child ON capital(child, id);
CREATE INDEX IF NOT EXISTS risk_child ON risk_events(lab, child, id);
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
        if version in (2, 3, 4):
            if version == 2:
                _from_v2(db)  # rebuilds trades with every column of today
            _v5_trade_columns(db)
            _create_missing(db)  # v3 -> v4: quarantine, token_verdicts; v4 -> v5: capital, risk
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
        _v5_backfill(db)
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


_V5_TRADE_COLUMNS = (
    ("child", "TEXT"),
    ("bribe", "TEXT"),
    ("bribe_eth", "TEXT"),
    ("realized_profit_eth", "TEXT"),
    ("event_profit", "TEXT"),
    ("effective_gas_price", "TEXT"),
    ("tx_index", "INTEGER"),
)
_WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"  # mainnet WETH9: its profit is ETH already


def _v5_trade_columns(db: sqlite3.Connection) -> None:
    """v3/v4 -> v5, inside the caller's transaction: the trade columns of v5, and the values
    that are exact without the chain (see the module docstring)."""
    have = {r[1] for r in db.execute("PRAGMA table_info(trades)")}
    for name, kind in _V5_TRADE_COLUMNS:
        if name not in have:
            db.execute(f"ALTER TABLE trades ADD COLUMN {name} {kind}")
    _v5_backfill(db)


def _v5_backfill(db: sqlite3.Connection) -> None:
    """Older executed trades: a WETH profit is its own ETH value; the gas price is the cost over
    the gas when it divides exactly (it always does: the cost was gas x price)."""
    rows = db.execute(
        "SELECT id, profit_token, realized_profit, gas_used, gas_cost_wei FROM trades"
        " WHERE status = 'executed' AND realized_profit_eth IS NULL"
    ).fetchall()
    for tid, token, realized, gas, cost in rows:
        eth = realized if realized is not None and str(token).lower() == _WETH.lower() else None
        price = None
        if gas and cost is not None and int(cost) % int(gas) == 0:
            price = str(int(cost) // int(gas))
        db.execute(
            "UPDATE trades SET realized_profit_eth = ?, effective_gas_price = ? WHERE id = ?",
            (eth, price, tid),
        )


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
