"""Run an experiment end to end: its grid, the points on forks, every point into the journal,
then the report rebuilt from the journal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flasharb.errors import FlasharbValueError
from flasharb.experiments.registry import get
from flasharb.experiments.workers import run_points
from flasharb.journal.store import Journal
from flasharb.report.experiment import write_report

__all__ = ["latest_run", "rebuild", "run_experiment"]


def run_experiment(
    name: str,
    journal: Journal,
    out_dir: Path,
    *,
    size: str = "small",
    workers: int = 1,
    ray_address: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run experiment `name` (built in, registered, or `module:attribute`): its grid of `size`,
    each point on a fork of the replica (`workers` local forks in parallel, or Ray actors at
    `ray_address`), every point into `journal`, then the report (CSV, JSON, PNG plots,
    index.html) into `out_dir`, rebuilt from the journal. Returns the report's summary."""
    exp = get(name)
    points = exp.grid(size)
    params = {"size": size, "workers": workers, "ray": ray_address, "points": len(points)}
    run_id = journal.begin_run("experiment", name=name, params=params)
    tick = (lambda n: progress(n, len(points))) if progress else None
    try:
        metrics = run_points(name, points, workers=workers, ray_address=ray_address, progress=tick)
        journal.record_points(run_id, zip(points, metrics, strict=True))
    except BaseException:
        journal.end_run(run_id, "failed")
        raise
    journal.end_run(run_id, "done", {"points": len(points)})
    return rebuild(name, journal, out_dir, run_id)


def latest_run(journal: Journal, name: str) -> int:
    rows = journal.rows(
        "SELECT id FROM runs WHERE kind = 'experiment' AND name = ? AND status = 'done'"
        " ORDER BY id DESC LIMIT 1",
        (name,),
    )
    if not rows:
        raise FlasharbValueError(
            f"no finished {name} run in {journal.path}; run 'flasharb experiment {name}' first"
        )
    return int(rows[0]["id"])


def rebuild(
    name: str, journal: Journal, out_dir: Path, run_id: int | None = None
) -> dict[str, Any]:
    """The report of run `run_id` (default: the latest finished run of `name`), from the journal."""
    exp = get(name)
    rid = run_id if run_id is not None else latest_run(journal, name)
    run = journal.run(rid)
    if run is None or run["kind"] != "experiment" or run["name"] != name:
        raise FlasharbValueError(f"run {rid} in {journal.path} is not a {name} experiment")
    report = write_report(
        journal,
        rid,
        out_dir,
        title=exp.title,
        question=exp.question,
        notes=exp.notes,
        rows=exp.rows,
        plots=exp.plots,
    )
    return report | {"out_dir": str(out_dir)}
