"""An experiment's report, built only from what the journal holds: `points.csv`, `points.json`,
PNG plots and one `index.html` under `reports/NAME/`.

`write_report` is called by the experiment runner right after the points are journaled, and by
`flasharb experiment NAME --from-journal`; both read the same rows, so the two give the same
files (the test checks it).
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from flasharb.journal.store import Journal
from flasharb.report.format import units

__all__ = ["write_report"]

Rows = Callable[[Sequence[dict[str, Any]]], list[dict[str, Any]]]


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def _csv(rows: Sequence[dict[str, Any]]) -> str:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return buf.getvalue()


def _cell(key: str, value: Any) -> str:
    if key.endswith("_eth_wei") or key.endswith("_cost_wei") or key == "fee_wei":
        return units(value, 18, 6)  # ETH, for people; the CSV keeps the wei
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return "<p>no points</p>"
    cols = list(rows[0])
    head = "".join(
        f"<th>{html.escape(c.replace('_wei', ' (ETH)') if c.endswith('_wei') else c)}</th>"
        for c in cols
    )
    body = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(c, r[c]))}</td>" for c in cols) + "</tr>"
        for r in rows
    )
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:right}th{background:#f3f3f3}figure{margin:1.5em 0}img{max-width:100%}
code{background:#f3f3f3;padding:1px 4px}"""


def write_report(
    journal: Journal,
    run_id: int,
    out_dir: Path,
    *,
    title: str,
    question: str,
    notes: str,
    rows: Rows,
    plots: Callable[[Sequence[dict[str, Any]], Path], Sequence[Any]],
) -> dict[str, Any]:
    """Rebuild every file of run `run_id`'s report from the journal; returns the JSON report."""
    run = journal.run(run_id)
    if run is None:
        raise ValueError(f"no run {run_id} in {journal.path}")
    points = journal.points(run_id)
    table = rows(points)
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = list(plots(table, out_dir))
    name = run["name"]
    regen = f"flasharb experiment {name} --from-journal --run {run_id}"
    report = {
        "experiment": name,
        "run_id": run_id,
        "params": run["params"],
        "status": run["status"],
        "regenerate": regen,
        "rows": table,
        "figures": [{"file": f.file, "caption": f.caption} for f in figures],
    }
    _atomic(out_dir / "points.csv", _csv(table))
    _atomic(out_dir / "points.json", json.dumps(report, indent=2) + "\n")
    figs = "\n".join(
        f'<figure><img src="{html.escape(f.file)}" alt="{html.escape(f.caption)}">'
        f"<figcaption>{html.escape(f.caption)}</figcaption></figure>"
        for f in figures
    )
    params = html.escape(json.dumps(run["params"], sort_keys=True))
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_STYLE}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p>{html.escape(question)}</p>
<p>Run {run_id} ({html.escape(run["status"])}), parameters <code>{params}</code>.
Every figure here is rebuilt from the journal by <code>{html.escape(regen)}</code>;
the same rows are in <a href="points.csv">points.csv</a> and <a href="points.json">points.json</a>
(amounts in wei).</p>
<p>{html.escape(notes)}</p>
{figs}
<h2>Points</h2>
{_table(table)}
</body></html>
"""
    _atomic(out_dir / "index.html", page)
    return report
