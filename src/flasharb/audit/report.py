"""What an audit found: one row per attack (and per standing approval), the findings (rows whose
result is HOLE), a summary; as JSON and as a terminal table.

JSON (amounts are decimal strings of base units, as everywhere in flasharb):

    {"target", "block", "chain_id", "owner", "stranger", "inventory": {token: amount},
     "no_inventory": [token],
     "harvested": [{"lender_kind", "lender", "source"}],
     "findings": [row...], "attacks": [row...],
     "summary": {"attacks", "holes", "notes", "safe", "by_kind": {kind: {"HOLE": n, ...}}}}

    row = {"kind", "attack", "caller", "result", "detail",
           "moved": [{"asset", "delta"}],                       # the target's balances
           "approvals": [{"token", "spender", "before", "after"}],  # allowances it gave
           "storage": [{"slot", "before", "after"}],             # words of the target written
           "txs": [{"from", "to", "data", "value", "status"}]}   # what was mined, in order
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.table import Table

from flasharb.audit.attacks import Call, Kind
from flasharb.report.format import units

__all__ = ["AuditReport", "Row", "Verdict", "print_report"]


class Verdict(StrEnum):
    HOLE = "HOLE"  # the target lost tokens or ETH, approved someone, or a stranger wrote to it
    NOTE = "NOTE"  # a stranger's call was accepted, nothing was lost
    SAFE = "SAFE"  # refused (reverted), or nothing changed


@dataclass(frozen=True, slots=True, kw_only=True)
class Approval:
    token: str
    spender: str
    before: int
    after: int

    def to_json(self) -> dict[str, str]:
        return {
            "token": self.token,
            "spender": self.spender,
            "before": str(self.before),
            "after": str(self.after),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One attack and its verdict."""

    kind: Kind
    attack: str
    caller: str
    result: Verdict
    detail: str
    moved: tuple[tuple[str, int], ...] = ()  # (token or "ETH", delta of the target's balance)
    approvals: tuple[Approval, ...] = ()
    storage: tuple[tuple[str, str, str], ...] = ()  # (slot, before, after)
    txs: tuple[tuple[Call, int | None], ...] = ()  # (call, status; None: not mined)

    def to_json(self) -> dict[str, Any]:
        """One row of the `--json` report: deltas and storage words as strings."""
        return {
            "kind": self.kind.value,
            "attack": self.attack,
            "caller": self.caller,
            "result": self.result.value,
            "detail": self.detail,
            "moved": [{"asset": a, "delta": str(d)} for a, d in self.moved],
            "approvals": [a.to_json() for a in self.approvals],
            "storage": [{"slot": s, "before": b, "after": a} for s, b, a in self.storage],
            "txs": [c.to_json() | {"status": st} for c, st in self.txs],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditReport:
    """What `audit` found: one row per attack (and per standing approval), the stage it ran
    on (block, owner, stranger, the inventory dealt to the target) and the loan data it
    harvested."""

    target: str
    block: int  # the fork's head the audit started from (everything is undone after)
    chain_id: int
    owner: str | None
    stranger: str
    inventory: Mapping[str, int]
    no_inventory: tuple[str, ...]  # tokens whose balance slot was not found: not dealt
    harvested: tuple[dict[str, str], ...]
    rows: tuple[Row, ...]
    tokens: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # symbol, decimals
    names: Mapping[str, str] = field(default_factory=dict)  # known spenders and pools, for people

    @property
    def findings(self) -> tuple[Row, ...]:
        """The HOLE rows."""
        return tuple(r for r in self.rows if r.result is Verdict.HOLE)

    @property
    def exit_code(self) -> int:
        """0: nothing found; 1: at least one hole."""
        return 1 if self.findings else 0

    def summary(self) -> dict[str, Any]:
        """Counts: attacks, holes, notes, safe, and each verdict per attack kind."""
        by_kind: dict[str, dict[str, int]] = {}
        for r in self.rows:
            counts = by_kind.setdefault(r.kind.value, {v.value: 0 for v in Verdict})
            counts[r.result.value] += 1
        return {
            "attacks": sum(1 for r in self.rows if r.kind is not Kind.STANDING_APPROVAL),
            "holes": len(self.findings),
            "notes": sum(1 for r in self.rows if r.result is Verdict.NOTE),
            "safe": sum(1 for r in self.rows if r.result is Verdict.SAFE),
            "by_kind": by_kind,
        }

    def to_json(self) -> dict[str, Any]:
        """The `flasharb audit --json` shape (docs/audit.md)."""
        return {
            "target": self.target,
            "block": self.block,
            "chain_id": self.chain_id,
            "owner": self.owner,
            "stranger": self.stranger,
            "inventory": {t: str(a) for t, a in self.inventory.items()},
            "no_inventory": list(self.no_inventory),
            "harvested": list(self.harvested),
            "findings": [r.to_json() for r in self.findings],
            "attacks": [r.to_json() for r in self.rows],
            "summary": self.summary(),
        }


def _asset(report: AuditReport, asset: str) -> tuple[str, int]:
    if asset == "ETH":
        return "ETH", 18
    info = report.tokens.get(asset, {})
    return str(info.get("symbol", asset[:10])), int(info.get("decimals", 18))


def moved_text(report: AuditReport, row: Row) -> str:
    """What moved, for people: balances, approvals, storage words."""
    parts = []
    for asset, delta in row.moved:
        sym, dec = _asset(report, asset)
        parts.append(f"{'+' if delta > 0 else ''}{units(delta, dec, min(dec, 6))} {sym}")
    for a in row.approvals:
        sym, dec = _asset(report, a.token)
        amount = "max" if a.after == 2**256 - 1 else units(a.after, dec, min(dec, 6))
        parts.append(f"approves the {report.names.get(a.spender, a.spender)} for {amount} {sym}")
    if row.storage:
        parts.append(f"{len(row.storage)} storage word(s) written")
    return "; ".join(parts)


_STYLE = {Verdict.HOLE: "bold red", Verdict.NOTE: "yellow", Verdict.SAFE: "green"}


def print_report(
    report: AuditReport, console: Console | None = None, *, all_rows: bool = True
) -> None:
    """The table (every attack, or only HOLE and NOTE rows), then one summary line."""
    out = console or Console(width=None if Console().is_terminal else 160)
    rows = [r for r in report.rows if all_rows or r.result is not Verdict.SAFE]
    t = Table(title=f"flasharb audit of {report.target} at block {report.block}")
    for col in ("result", "kind", "attack", "caller", "what moved / why"):
        t.add_column(col, overflow="fold")
    for r in rows:
        why = moved_text(report, r) or r.detail
        if r.kind is not Kind.STANDING_APPROVAL and r.result is Verdict.HOLE and r.detail != why:
            why = f"{why} ({r.detail})"
        t.add_row(f"[{_STYLE[r.result]}]{r.result.value}[/]", r.kind.value, r.attack, r.caller, why)
    if rows:
        out.print(t)
    else:
        out.print(f"flasharb audit of {report.target} at block {report.block}: no HOLE, no NOTE")
    s = report.summary()
    out.print(
        f"{s['attacks']} attacks: {s['holes']} HOLE, {s['notes']} NOTE, {s['safe']} SAFE"
        + (" — holes found (exit 1)" if s["holes"] else " — nothing found")
        + ("" if all_rows else "; --all lists every attack")
    )
