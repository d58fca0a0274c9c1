"""`ape run demo`: the whole flasharb flow on the replica (same as `flasharb demo`)."""

from __future__ import annotations

from pathlib import Path

import click

from flasharb.report.demo import run_demo
from flasharb.report.table import trades_table


@click.command()
@click.option("--top", default=2, show_default=True, help="Trades to execute.")
@click.option(
    "--shock-weth", default=500, show_default=True, help="WETH dumped on Uniswap V2 WETH/USDC."
)
@click.option(
    "--out", default="reports/latest", show_default=True, type=click.Path(file_okay=False)
)
def cli(top: int, shock_weth: int, out: str) -> None:
    summary = run_demo(top=top, shock_weth=shock_weth, out_dir=Path(out), log=click.echo)
    trades_table(summary)
    if not summary["trades"]:
        raise click.ClickException("the demo executed no trade")
