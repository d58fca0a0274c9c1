"""Profit and loss per child, from the journal: realized profit per token and in ETH, gas, bribes,
trades, reverted trades, win rate and maximum drawdown (`flasharb pnl`, and the circuit breakers
of `flasharb run`, which fold the same entries).

Definitions (every amount an exact integer in wei; the order is the journal's, by row id):

- A *mined trade* is a trade row with status `executed` (status 1) or `reverted` (mined with
  status 0). Trades refused before sending (`failed`) spent nothing and are not counted.
- *Realized profit* per token: the child diamond's balance change in the route token across the
  trade (`trades.realized_profit`); a reverted trade realizes 0. Bribes are already out of it
  (executeArb pays block.coinbase from the profit), and are shown beside it per token
  (`bribe`: ETH for WETH routes, else the route token) and in ETH.
- *In ETH*: the realized profit valued at the opportunity's own price when it was traded
  (`realized_profit_eth`; WETH is its own value). A trade nothing priced (a hand-built plan in
  another token) is *unpriced*: its gas counts, its profit stays out of every ETH figure.
- *Gas*: gas used x the receipt's effective gas price, paid by the child's executor in ETH, for
  executed and reverted trades alike (a reverted trade's gas is a loss).
- *Net* of a mined trade: realized profit in ETH - its gas (unpriced trades: left out).
  *Cumulative net* C_k: the sum of the first k nets, C_0 = 0.
- *Win rate*: mined priced trades with a net > 0, over mined priced trades.
- *Maximum drawdown*: max over k of (max_{j <= k} C_j - C_k): the largest fall of the cumulative
  net below its running peak (the peak starts at C_0 = 0, so a first losing trade is already a
  drawdown). 0 when the series never falls.
- *Capital*: what was allocated to the child, recalled from it and withdrawn from it, per token
  (the journal's `capital` rows, read from the chain's events); not part of the P&L, shown beside
  it so a child's balance change = realized profit + allocated - recalled - withdrawn.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flasharb.errors import FlasharbValueError
from flasharb.journal.store import Journal

__all__ = [
    "UNATTRIBUTED",
    "Fill",
    "PnlFold",
    "PnlReport",
    "Since",
    "capital",
    "fills",
    "parse_since",
    "pnl",
]

UNATTRIBUTED = ""  # the child of trades journaled before v5 (no journal named the diamond)
MINED = ("executed", "reverted")


@dataclass(frozen=True, slots=True, kw_only=True)
class Since:
    """Where a P&L window starts: a block, or a time (seconds since the epoch, UTC)."""

    block: int | None = None
    time: float | None = None

    def to_json(self) -> dict[str, Any]:
        if self.block is not None:
            return {"block": self.block}
        if self.time is not None:
            return {"time": datetime.fromtimestamp(self.time, UTC).isoformat()}
        return {}


def parse_since(text: str) -> Since:
    """`--since`: a block number (`19000000`) or an ISO-8601 time (`2026-12-02`,
    `2026-12-02T10:00`, `...+02:00`; without a zone it is UTC).

    Raises:
        FlasharbValueError: neither.
    """
    raw = text.strip()
    if raw.isdigit():
        return Since(block=int(raw))
    try:
        when = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise FlasharbValueError(
            f"--since {text!r} is neither a block number nor an ISO-8601 time "
            "(e.g. 19000000, 2026-12-02 or 2026-12-02T10:00:00Z)"
        ) from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return Since(time=when.timestamp())


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill:
    """One mined trade as the P&L sees it."""

    child: str
    status: str  # executed | reverted
    token: str
    realized: int
    realized_eth: int | None  # None: unpriced
    bribe: int
    bribe_eth: int | None
    gas_cost: int
    block: int
    created_at: float = 0.0
    tx_hash: str = ""

    @property
    def net_eth(self) -> int | None:
        return None if self.realized_eth is None else self.realized_eth - self.gas_cost

    @classmethod
    def of(cls, row: Mapping[str, Any], *, status: str | None = None) -> Fill:
        """From a journal trade row, or a `Trade.to_json()` / `Reverted.to_json()` dict (give
        `status`: those dicts do not carry one)."""
        st = str(status or row["status"])
        if st not in MINED:
            raise FlasharbValueError(f"a {st!r} trade was not mined: it has no P&L")
        reverted = st == "reverted"
        return cls(
            child=str(row.get("child") or UNATTRIBUTED),
            status=st,
            token=str(row["profit_token"]),
            realized=0 if reverted else int(str(row["realized_profit"])),
            realized_eth=0 if reverted else _opt(row.get("realized_profit_eth")),
            bribe=0 if reverted else int(str(row.get("bribe") or 0)),
            bribe_eth=0 if reverted else _opt(row.get("bribe_eth")),
            gas_cost=int(str(row.get("gas_cost_wei") or 0)),
            block=int(row["block"]),
            created_at=float(row.get("created_at") or 0.0),
            tx_hash=str(row.get("tx_hash") or ""),
        )


def _opt(value: Any) -> int | None:
    return None if value is None else int(str(value))


@dataclass(slots=True)
class PnlFold:
    """The running P&L of a sequence of fills (one child's, or all of them). `add` in order."""

    trades: int = 0  # executed
    reverted: int = 0
    wins: int = 0
    priced: int = 0  # mined trades with an ETH value (the win rate's denominator)
    unpriced: int = 0
    profit: dict[str, int] = field(default_factory=dict)  # realized, per token
    bribes: dict[str, int] = field(default_factory=dict)  # per token (ETH for WETH routes)
    profit_eth: int = 0
    bribe_eth: int = 0
    gas_wei: int = 0  # executed and reverted
    reverted_gas_wei: int = 0
    net_eth: int = 0  # cumulative: profit_eth - the gas of priced trades
    peak_eth: int = 0  # the running peak of net_eth, from C_0 = 0
    max_drawdown_eth: int = 0
    consecutive_reverts: int = 0  # reverted trades since the last executed one
    first_block: int | None = None
    last_block: int | None = None

    def add(self, f: Fill) -> None:
        if f.status == "reverted":
            self.reverted += 1
            self.consecutive_reverts += 1
            self.reverted_gas_wei += f.gas_cost
        else:
            self.trades += 1
            self.consecutive_reverts = 0
            self.profit[f.token] = self.profit.get(f.token, 0) + f.realized
            if f.bribe:
                self.bribes[f.token] = self.bribes.get(f.token, 0) + f.bribe
        self.gas_wei += f.gas_cost
        self.first_block = f.block if self.first_block is None else self.first_block
        self.last_block = f.block
        net = f.net_eth
        if net is None:
            self.unpriced += 1
            return
        self.priced += 1
        self.wins += net > 0
        self.profit_eth += f.realized_eth or 0
        self.bribe_eth += f.bribe_eth or 0
        self.net_eth += net
        self.peak_eth = max(self.peak_eth, self.net_eth)
        self.max_drawdown_eth = max(self.max_drawdown_eth, self.drawdown_eth)

    @property
    def drawdown_eth(self) -> int:
        """How far the cumulative net is below its peak now."""
        return self.peak_eth - self.net_eth

    @property
    def mined(self) -> int:
        return self.trades + self.reverted

    @property
    def win_rate(self) -> float | None:
        """wins / priced mined trades (a ratio for people; the counts are exact)."""
        return None if not self.priced else self.wins / self.priced

    def to_json(self) -> dict[str, Any]:
        return {
            "trades": self.trades,
            "reverted": self.reverted,
            "wins": self.wins,
            "priced": self.priced,
            "unpriced": self.unpriced,
            "win_rate": None if self.win_rate is None else round(self.win_rate, 6),
            "realized_profit": {k: str(v) for k, v in sorted(self.profit.items())},
            "bribes": {k: str(v) for k, v in sorted(self.bribes.items())},
            "realized_profit_eth": str(self.profit_eth),
            "bribes_eth": str(self.bribe_eth),
            "gas_wei": str(self.gas_wei),
            "reverted_gas_wei": str(self.reverted_gas_wei),
            "net_eth": str(self.net_eth),
            "max_drawdown_eth": str(self.max_drawdown_eth),
            "drawdown_eth": str(self.drawdown_eth),
            "consecutive_reverts": self.consecutive_reverts,
            "first_block": self.first_block,
            "last_block": self.last_block,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class PnlReport:
    """Per child and in total (all children's fills in journal order)."""

    children: dict[str, PnlFold]
    total: PnlFold
    since: Since
    labels: dict[str, str]  # child address -> label, when a deployment names it
    capital: dict[str, dict[str, dict[str, int]]] = field(
        default_factory=dict
    )  # child, kind, token

    def label(self, child: str) -> str:
        if child == UNATTRIBUTED:
            return "(before v5)"
        return self.labels.get(child, child)

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.to_json(),
            "children": [
                {"child": c or None, "label": self.label(c)}
                | fold.to_json()
                | {"capital": _amounts(self.capital.get(c, {}))}
                for c, fold in sorted(self.children.items())
            ],
            "total": self.total.to_json(),
        }

    def to_csv(self) -> str:
        """One row per child, then `total`; a column per token for its profit and bribes."""
        tokens = sorted({t for f in (*self.children.values(), self.total) for t in f.profit})
        scalar = [
            "trades",
            "reverted",
            "wins",
            "priced",
            "unpriced",
            "win_rate",
            "realized_profit_eth",
            "bribes_eth",
            "gas_wei",
            "reverted_gas_wei",
            "net_eth",
            "max_drawdown_eth",
        ]
        cols = ["child", "label", *scalar]
        cols += [f"profit:{t}" for t in tokens] + [f"bribes:{t}" for t in tokens]
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        rows = [(c, self.label(c), f) for c, f in sorted(self.children.items())]
        for child, label, fold in [*rows, ("total", "total", self.total)]:
            j = fold.to_json()
            row = {"child": child, "label": label} | {k: j[k] for k in scalar}
            for t in tokens:
                row[f"profit:{t}"] = str(fold.profit.get(t, 0))
                row[f"bribes:{t}"] = str(fold.bribes.get(t, 0))
            w.writerow(row)
        return buf.getvalue()


def _amounts(by_kind: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, str]]:
    return {k: {t: str(v) for t, v in sorted(m.items())} for k, m in sorted(by_kind.items())}


def capital(
    journal: Journal,
    *,
    child: str | None = None,
    since: Since | None = None,
    lab: str | None = None,
    run_id: int | None = None,
) -> dict[str, dict[str, dict[str, int]]]:
    """child -> kind (allocate | recall | withdraw) -> token -> amount, from the journal."""
    where, args = ["1 = 1"], []
    for sql, value in (
        ("child = ?", child),
        ("block >= ?", since.block if since else None),
        ("created_at >= ?", since.time if since else None),
        ("lab IS ?", lab),
        ("run_id = ?", run_id),
    ):
        if value is not None:
            where.append(sql)
            args.append(value)
    out: dict[str, dict[str, dict[str, int]]] = {}
    for r in journal.rows(f"SELECT * FROM capital WHERE {' AND '.join(where)} ORDER BY id", args):
        by_token = out.setdefault(r["child"], {}).setdefault(r["kind"], {})
        by_token[r["token"]] = by_token.get(r["token"], 0) + int(r["amount"])
    return out


def fills(
    journal: Journal,
    *,
    child: str | None = None,
    since: Since | None = None,
    lab: str | None = None,
    run_id: int | None = None,
) -> list[Fill]:
    """The mined trades in the journal (of one child, since a block or time, on one lab, of
    one run), in the order they were journaled."""
    where = [f"t.status IN ({', '.join(repr(s) for s in MINED)})"]
    args: list[Any] = []
    if child is not None:
        where.append("COALESCE(t.child, '') = ?")
        args.append(child)
    if since is not None and since.block is not None:
        where.append("t.block >= ?")
        args.append(since.block)
    if since is not None and since.time is not None:
        where.append("t.created_at >= ?")
        args.append(since.time)
    if lab is not None:
        where.append("r.lab IS ?")
        args.append(lab)
    if run_id is not None:
        where.append("t.run_id = ?")
        args.append(run_id)
    rows = journal.rows(
        "SELECT t.* FROM trades t LEFT JOIN runs r ON t.run_id = r.id"
        f" WHERE {' AND '.join(where)} ORDER BY t.id",
        args,
    )
    return [Fill.of(r) for r in rows]


def fold(entries: Iterable[Fill]) -> PnlFold:
    out = PnlFold()
    for f in entries:
        out.add(f)
    return out


def pnl(
    journal: Journal,
    *,
    child: str | None = None,
    since: Since | None = None,
    lab: str | None = None,
    run_id: int | None = None,
    labels: Mapping[str, str] | None = None,
) -> PnlReport:
    """P&L per child and in total from the journal's mined trades (see the module docstring)."""
    entries = fills(journal, child=child, since=since, lab=lab, run_id=run_id)
    moves = capital(journal, child=child, since=since, lab=lab, run_id=run_id)
    per: dict[str, PnlFold] = {c: PnlFold() for c in moves}  # a funded child that never traded
    total = PnlFold()
    for f in entries:
        per.setdefault(f.child, PnlFold()).add(f)
        total.add(f)
    return PnlReport(
        children=per,
        total=total,
        since=since or Since(),
        labels=dict(labels or {}),
        capital=moves,
    )


def to_text(report: PnlReport, fmt: str) -> str:
    """The report as `json` or `csv` text."""
    if fmt == "json":
        return json.dumps(report.to_json(), indent=2)
    if fmt == "csv":
        return report.to_csv()
    raise FlasharbValueError(f"P&L format {fmt!r}: use csv or json")


def child_labels(children: Sequence[tuple[str, str]]) -> dict[str, str]:
    """address -> label for a deployment's children (label, address) pairs."""
    return {address: label for label, address in children}
