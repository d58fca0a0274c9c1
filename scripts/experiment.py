"""`ape run experiment NAME`: an experiment on local forks of the replica, journaled, with its
report under reports/NAME/ (same as `flasharb experiment NAME`)."""

from __future__ import annotations

from pathlib import Path

import click

from flasharb.experiments.registry import NAMES
from flasharb.experiments.runner import run_experiment
from flasharb.journal.store import Journal
from flasharb.paths import reports_dir


@click.command()
@click.argument("name", type=click.Choice(NAMES))
@click.option("--size", type=click.Choice(["small", "full"]), default="full", show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
def cli(name: str, size: str, workers: int) -> None:
    out = reports_dir() / name
    with Journal() as journal:
        report = run_experiment(name, journal, out, size=size, workers=workers)
    click.echo(f"{name}: run {report['run_id']}, {len(report['rows'])} points -> {out}")
    click.echo(f"rebuild from the journal: {report['regenerate']}")
    click.echo(f"open {Path(out) / 'index.html'}")
