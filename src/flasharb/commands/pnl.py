"""`flasharb pnl`: profit and loss per child and in total, from the journal alone (no chain).

The definitions (realized profit, in ETH, gas, bribes, win rate, maximum drawdown) are in
flasharb.journal.pnl's docstring and in `flasharb pnl --help`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from flasharb._cli_support import _emit, json_option

PNL_HELP = """Profit and loss per child and in total, from the journal.

\b
Per child (the diamond that traded) and in total, over the mined trades
(status 1 and reverted, status 0; never-sent trades spent nothing):
  realized profit  the child's balance change in the route token, per token,
                   net of the loan fee and the bribe (a reverted trade: 0)
  in ETH           each trade's profit valued at its opportunity's price
  gas              gas used x effective gas price, paid by the executor
                   (reverted trades too: a loss)
  bribes           what block.coinbase got, per token and in ETH
  net              profit in ETH - gas; win rate = trades with net > 0 /
                   mined trades
  max drawdown     max over k of (max_{j<=k} C_j - C_k), C_k the cumulative
                   net after the k-th mined trade in journal order, C_0 = 0
Amounts are exact wei (ETH or the token's base units)."""


@click.command("pnl", help=PNL_HELP)
@click.option("--child", help="Only this child (its label or diamond address).")
@click.option("--since", help="From this block (19000000) or ISO time (2026-12-02T10:00Z) on.")
@click.option("--run", "run_id", type=int, help="Only this run's trades.")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the table as CSV here (one row per child, then total).",
)
@click.option(
    "--journal",
    "journal_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Journal file (default: .flasharb/journal.sqlite).",
)
@json_option
def pnl(
    child: str | None,
    since: str | None,
    run_id: int | None,
    csv_path: Path | None,
    journal_path: Path | None,
    as_json: bool,
) -> None:
    from flasharb.execute.children import recorded_labels
    from flasharb.journal.command import open_journal
    from flasharb.journal.pnl import parse_since
    from flasharb.journal.pnl import pnl as compute

    labels = recorded_labels()
    want = _child(child, labels) if child is not None else None
    window = parse_since(since) if since is not None else None
    with open_journal(journal_path) as j:
        report = compute(j, child=want, since=window, run_id=run_id, labels=labels)
    if csv_path is not None:
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = csv_path.with_suffix(csv_path.suffix + ".tmp")
        tmp.write_text(report.to_csv())
        tmp.replace(csv_path)
        if not as_json:
            click.echo(f"wrote {csv_path}", err=True)
    _emit(report.to_json(), as_json, _table)


def _child(which: str, labels: dict[str, str]) -> str:
    """A child's address from its label or address (labels from the project's deployment)."""
    from eth_utils import is_address, to_checksum_address

    from flasharb.errors import FlasharbValueError

    if is_address(which):
        return to_checksum_address(which)
    for address, label in labels.items():
        if label == which:
            return address
    known = ", ".join(f"{lbl} ({a})" for a, lbl in labels.items()) or "none recorded"
    raise FlasharbValueError(
        f"no child labelled {which!r} in this project's deployment ({known}); "
        "give its diamond address"
    )


def _table(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    from flasharb.report.format import units
    from flasharb.state.tokens import token_by_address

    def eth(v: str) -> str:
        return units(int(v), 18)

    t = Table(title="P&L per child (ETH)")
    cols = ("child", "trades", "reverted", "win rate", "profit", "bribes", "gas", "net", "max dd")
    for col in cols:
        t.add_column(col, justify="left" if col == "child" else "right")
    rows = [(c["label"], c) for c in data["children"]] + [("total", data["total"])]
    for label, f in rows:
        rate = "-" if f["win_rate"] is None else f"{100 * f['win_rate']:.1f}%"
        t.add_row(
            label,
            str(f["trades"]),
            str(f["reverted"]),
            rate,
            eth(f["realized_profit_eth"]),
            eth(f["bribes_eth"]),
            eth(f["gas_wei"]),
            eth(f["net_eth"]),
            eth(f["max_drawdown_eth"]),
        )
    console = Console(width=None if Console().is_terminal else 150)
    console.print(t)
    per_token = Table(title="realized profit per token")
    for col in ("child", "token", "profit", "bribes"):
        per_token.add_column(col, justify="left" if col in ("child", "token") else "right")
    for label, f in rows:
        for token, wei in f["realized_profit"].items():
            known = token_by_address(token)
            sym, dec = (known.symbol, known.decimals) if known else (token, 0)
            per_token.add_row(
                label, sym, units(int(wei), dec), units(int(f["bribes"].get(token, 0)), dec)
            )
    console.print(per_token)
    unpriced = data["total"]["unpriced"]
    if unpriced:
        click.echo(f"{unpriced} trade(s) had no ETH price: their gas counts, their profit not")
