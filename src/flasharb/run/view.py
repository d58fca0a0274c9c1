"""What `flasharb run` shows: a rich live view on a terminal, one line per block otherwise, or
one JSON object per line with --json (then a last line with the run's totals)."""

from __future__ import annotations

import json
from collections import deque
from typing import Any, Protocol

import click
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from web3 import Web3

from flasharb.report.format import route_label, units
from flasharb.run.loop import BlockReport, RunTotals
from flasharb.state.tokens import token_info

__all__ = ["JsonLinesView", "LiveView", "PlainView", "RunView", "make_view"]


class RunView(Protocol):
    def start(self, run_id: int, block: int) -> None: ...

    def update(self, report: BlockReport, totals: RunTotals) -> None: ...

    def stop(self, summary: dict[str, Any]) -> None: ...


class _Tokens:
    """Symbols and decimals of the tokens seen, read once each (display only)."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self.info: dict[str, dict[str, Any]] = {}

    def learn(self, tokens: set[str]) -> None:
        new = tokens - self.info.keys()
        if new:
            self.info |= token_info(self.w3, new)

    def amount(self, token: str, wei: int, places: int = 6) -> str:
        self.learn({token})
        i = self.info[token]
        return f"{units(wei, int(i['decimals']), places)} {i['symbol']}"


def _profit_text(totals: RunTotals, tokens: _Tokens) -> str:
    parts = [tokens.amount(t, v) for t, v in sorted(totals.profit.items())]
    return ", ".join(parts) or "0"


class JsonLinesView:
    def start(self, run_id: int, block: int) -> None:
        click.echo(json.dumps({"run_id": run_id, "start_block": block}))

    def update(self, report: BlockReport, totals: RunTotals) -> None:
        click.echo(json.dumps(report.to_json()))

    def stop(self, summary: dict[str, Any]) -> None:
        click.echo(json.dumps(summary))


class PlainView:
    def __init__(self, w3: Web3) -> None:
        self.tokens = _Tokens(w3)

    def start(self, run_id: int, block: int) -> None:
        click.echo(f"run {run_id}: watching from block {block} (Ctrl-C stops)")

    def update(self, report: BlockReport, totals: RunTotals) -> None:
        click.echo(
            f"block {report.block}: {report.pools_changed} pools changed, "
            f"{report.opportunities} opportunities, {len(report.trades)} trades, "
            f"{len(report.failed)} failed; profit {_profit_text(totals, self.tokens)}"
        )

    def stop(self, summary: dict[str, Any]) -> None:
        click.echo(
            f"run {summary['run_id']} {summary['status']}: {summary['blocks']} blocks, "
            f"{summary['trades']} trades, {summary['failed']} failed"
        )


class LiveView:
    """Block, pools changed, opportunities, the last trades and the running profit."""

    def __init__(self, w3: Web3, keep: int = 10) -> None:
        self.tokens = _Tokens(w3)
        self.console = Console()
        self.recent: deque[tuple[int, dict[str, Any]]] = deque(maxlen=keep)
        self.live = Live(console=self.console, auto_refresh=False, transient=False)
        self.header = ""

    def start(self, run_id: int, block: int) -> None:
        self.header = f"flasharb run {run_id} from block {block} — Ctrl-C stops"
        self.live.start()
        self.live.update(self.header, refresh=True)

    def update(self, report: BlockReport, totals: RunTotals) -> None:
        for t in report.trades:
            self.recent.append((report.block, t))
        self.tokens.learn({h["token_in"] for _, t in self.recent for h in t["route"]})
        status = Table.grid(padding=(0, 2))
        status.add_row(
            f"block [bold]{report.block}[/]",
            f"pools changed [bold]{report.pools_changed}[/]",
            f"opportunities [bold]{report.opportunities}[/]",
            f"trades [bold]{totals.trades}[/] (failed {totals.failed})",
            f"background swaps {totals.background_swaps}",
        )
        status.add_row(
            f"profit [bold green]{_profit_text(totals, self.tokens)}[/]",
            f"gas [bold]{units(totals.gas_cost_wei, 18)} ETH[/]",
        )
        trades = Table(title="last trades")
        for col in ("block", "route", "amount in", "realized", "gas used", "tx"):
            trades.add_column(col, justify="left" if col in ("route", "tx") else "right")
        for block, t in reversed(self.recent):
            token = t["profit_token"]
            trades.add_row(
                str(block),
                route_label(t["route"], self.tokens.info),
                self.tokens.amount(token, int(t["amount_in"]), 2),
                self.tokens.amount(token, int(t["realized_profit"])),
                f"{int(t['gas_used']):,}",
                str(t["tx_hash"])[:12],
            )
        self.live.update(Group(self.header, status, trades), refresh=True)

    def stop(self, summary: dict[str, Any]) -> None:
        self.live.stop()
        self.console.print(
            f"run {summary['run_id']} {summary['status']}: {summary['blocks']} blocks, "
            f"{summary['trades']} trades, {summary['failed']} failed; "
            f"journal {summary['journal']}"
        )


def make_view(w3: Web3, *, as_json: bool) -> RunView:
    if as_json:
        return JsonLinesView()
    if Console().is_terminal:
        return LiveView(w3)
    return PlainView(w3)
