"""`flasharb journal`: list the runs in the project's journal, export any table as CSV or JSON.

The CLI (flasharb.cli) attaches this group and wraps every callback in its error handling.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from flasharb.errors import FlasharbValueError
from flasharb.journal.export import TABLES, export, list_runs
from flasharb.journal.store import Journal, default_path

journal_option = click.option(
    "--journal",
    "journal_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Journal file (default: .flasharb/journal.sqlite).",
)


def open_journal(path: Path | None, *, must_exist: bool = True) -> Journal:
    p = path or default_path()
    if must_exist and not p.exists():
        raise FlasharbValueError(
            f"no journal at {p}; 'flasharb run', 'execute' or 'experiment' write one"
        )
    return Journal(p)


@click.group("journal")
def journal() -> None:
    """The SQLite record of every run, scan, opportunity, trade and experiment point."""


@journal.command("list")
@click.option("--limit", type=int, default=20, show_default=True, help="Newest runs to show.")
@journal_option
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def journal_list(limit: int, journal_path: Path | None, as_json: bool) -> None:
    """Runs, newest first, with their counts and realized profit per token."""
    with open_journal(journal_path) as j:
        runs = list_runs(j, limit)
        path = j.path
    if as_json:
        click.echo(json.dumps({"journal": str(path), "runs": runs}, indent=2))
        return
    _runs_table(runs, path)


def _runs_table(runs: list[dict[str, Any]], path: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"runs in {path}")
    for col in ("id", "kind", "name", "status", "started", "scans", "opps", "trades", "failed"):
        t.add_column(col, justify="right" if col not in ("kind", "name", "status") else "left")
    t.add_column("points", justify="right")
    for r in runs:
        t.add_row(
            str(r["id"]),
            r["kind"],
            r["name"],
            r["status"],
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["started_at"])),
            str(r["scans"]),
            str(r["opportunities"]),
            str(r["trades"]),
            str(r["failed_trades"]),
            str(r["points"]),
        )
    Console(width=None if Console().is_terminal else 150).print(t)  # pipes get whole rows


@journal.command("export")
@click.option(
    "--table",
    type=click.Choice(TABLES),
    default="trades",
    show_default=True,
    help="What to export.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option("--run", "run_id", type=int, help="Only this run's rows.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="File to write.")
@journal_option
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
def journal_export(
    table: str,
    fmt: str,
    run_id: int | None,
    out: Path | None,
    journal_path: Path | None,
    as_json: bool,
) -> None:
    """One table (of one run, or all) as CSV or JSON; amounts stay exact decimal strings."""
    with open_journal(journal_path) as j:
        text = export(j, table, "json" if as_json else fmt, run_id)
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(out)
    click.echo(f"wrote {out}", err=True)
