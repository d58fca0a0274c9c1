"""`flasharb experiment NAME`: run a sweep on local forks (or Ray), journal it, write its report
under reports/NAME/; `--from-journal` rebuilds the report from the journal alone."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("experiment")
@click.argument("name")
@click.option("--size", type=click.Choice(["small", "full"]), default="full", show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
@click.option(
    "--ray",
    "ray_address",
    help="Run the points on this Ray cluster, one actor per worker ('local': a private one).",
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Report directory.")
@click.option("--from-journal", is_flag=True, help="Rebuild the report from the journal only.")
@click.option("--run", "run_id", type=int, help="With --from-journal: this run (default: latest).")
@click.option("--journal", "journal_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def experiment(
    name: str,
    size: str,
    workers: int,
    ray_address: str | None,
    out: Path | None,
    from_journal: bool,
    run_id: int | None,
    journal_path: Path | None,
    as_json: bool,
) -> None:
    """Run experiment NAME and write CSV, JSON, PNG plots and index.html to reports/NAME/.

    NAME is a built-in experiment (shock-sweep, staleness, hop-gas, flash-sources, optimizers)
    or your own as module:attribute (an `Experiment` importable from your project)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from flasharb.experiments.registry import get
    from flasharb.experiments.runner import rebuild, run_experiment
    from flasharb.journal.store import Journal, default_path
    from flasharb.paths import reports_dir

    out_dir = out or reports_dir() / get(name).name  # a bad name: one line, exit 2
    with Journal(journal_path or default_path()) as journal:
        if from_journal:
            report = rebuild(name, journal, out_dir, run_id)
        else:
            console = Console(stderr=True)
            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                disable=as_json or not console.is_terminal,
                transient=True,
            ) as bar:
                task = bar.add_task(f"{name} ({workers} workers)", total=None)

                def progress(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                report = run_experiment(
                    name,
                    journal,
                    out_dir,
                    size=size,
                    workers=workers,
                    ray_address=ray_address,
                    progress=progress,
                )
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(
        f"{name}: run {report['run_id']}, {len(report['rows'])} points -> "
        f"{Path(report['out_dir']) / 'index.html'}"
    )
    click.echo(f"rebuild from the journal: {report['regenerate']}")
