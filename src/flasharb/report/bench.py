"""`flasharb bench`: run the benchmarks in bench/ and print one table: figure, value, baseline,
ratio (and the target where the bench has one).

Each benchmark is a script that starts what it needs (a synthetic market, the replica fork)
and stops it, measures against a baseline in the same process, and writes its figures as JSON
(`--json PATH`); this command runs them one after the other in subprocesses and joins their
figures. Timings are wall-clock on whatever else the machine is doing: nothing here judges them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from flasharb.errors import FlasharbRuntimeError, FlasharbValueError
from flasharb.paths import project_dir

__all__ = ["BENCHES", "bench", "run_bench"]

# name -> (what it measures, takes --quick)
BENCHES: dict[str, tuple[str, bool]] = {
    "search": ("cycle search and sizing vs plain Python loops, synthetic markets", True),
    "state": ("batched state reads and incremental sync vs one call per pool, 1,000 pools", False),
    "gas": ("executeArb gas per route and lender vs a router-based baseline", False),
    "sizing": ("exact sizing of the replica's mixed candidates vs the previous search", False),
    "latency": ("block -> signed transaction on the replica vs the full-rescan path", True),
}


def _gas_figures(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """bench/gas.py's JSON as figures: gas per case against the router baseline."""
    out = []
    for r in payload["rows"]:
        base = r["baseline_gas"]
        out.append(
            {
                "figure": f"{r['case']} ({r['source']})",
                "value": r["gas_used"],
                "unit": "gas",
                "baseline": base,
                "ratio": None if base is None else r["gas_used"] / base,  # of the baseline
                "target": "",
            }
        )
    for route, floor in payload.get("floor", {}).items():
        out.append(
            {
                "figure": f"{route} V2 via a child: opcode floor / flasharb on top",
                "value": f"{floor:,} / {payload['overhead'][route]:,}",
                "unit": "gas",
                "baseline": None,
            }
        )
    targets = payload.get("targets", {})
    for key, what in (
        ("two_hop_overhead", "2-hop V2 via a child: overhead above the floor"),
        ("extra_hop_overhead", "extra V2 hop via a child: overhead"),
    ):
        if key in targets:
            t = targets[key]
            value = t["value"]
            shown = ", ".join(f"{v:,}" for v in value) if isinstance(value, list) else f"{value:,}"
            out.append(
                {
                    "figure": what,
                    "value": shown,
                    "unit": "gas",
                    "baseline": None,
                    "target": f"<= {t['target']:,} {'PASS' if t['pass'] else 'FAIL'}",
                }
            )
    return out


def run_bench(name: str, *, quick: bool = False, echo: bool = False) -> dict[str, Any]:
    """Run bench/NAME.py in a subprocess; its figures, each with the bench's name."""
    if name not in BENCHES:
        raise FlasharbValueError(f"no benchmark {name!r}; pick one of {', '.join(BENCHES)}")
    script = project_dir() / "bench" / f"{name}.py"
    if not script.is_file():  # the benches measure flasharb itself: they ship with its source
        raise FlasharbValueError(
            f"{script} not found: run 'flasharb bench' in a checkout of flasharb"
        )
    with tempfile.TemporaryDirectory(prefix="flasharb-bench-") as tmp:
        out = Path(tmp) / "figures.json"
        args = [sys.executable, str(script), "--json", str(out)]
        if quick and BENCHES[name][1]:
            args.append("--quick")
        t = time.perf_counter()
        res = subprocess.run(args, cwd=project_dir(), capture_output=True, text=True)
        seconds = time.perf_counter() - t
        if echo:
            click.echo(res.stdout, err=True, nl=False)
        if res.returncode != 0 or not out.is_file():
            last = (res.stderr.strip().splitlines() or ["no output"])[-1]
            raise FlasharbRuntimeError(f"bench/{name}.py failed (exit {res.returncode}): {last}")
        payload = json.loads(out.read_text())
    figures = _gas_figures(payload) if name == "gas" else payload["figures"]
    return {
        "bench": name,
        "seconds": round(seconds, 1),
        "figures": [{"bench": name, **f} for f in figures],
    }


def _value(v: Any, unit: str) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if unit == "gas":
        return f"{int(v):,} gas"
    return f"{v:,.2f} {unit}".rstrip()


def _table(figures: list[dict[str, Any]]) -> list[str]:
    cells = [
        (
            f"{f['bench']}: {f['figure']}",
            _value(f["value"], f.get("unit", "")),
            _value(f.get("baseline"), f.get("unit", "")),
            "" if f.get("ratio") is None else f"{f['ratio']:.2f}x",
            f.get("target", ""),
        )
        for f in figures
    ]
    head = ("figure", "value", "baseline", "ratio", "target")
    w = [max(len(c[i]) for c in [head, *cells]) for i in range(5)]
    lines = [f"{head[0]:<{w[0]}}  {head[1]:>{w[1]}}  {head[2]:>{w[2]}}  {head[3]:>{w[3]}}  target"]
    lines += [
        f"{c[0]:<{w[0]}}  {c[1]:>{w[1]}}  {c[2]:>{w[2]}}  {c[3]:>{w[3]}}  {c[4]}".rstrip()
        for c in cells
    ]
    return lines


@click.command("bench")
@click.option(
    "--only",
    multiple=True,
    type=click.Choice(list(BENCHES)),
    help="Run only this benchmark (repeatable). Default: all of them.",
)
@click.option("--quick", is_flag=True, help="Smaller sizes where a benchmark has them (search).")
@click.option("--verbose", "-v", is_flag=True, help="Also print each benchmark's own report.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def bench(only: tuple[str, ...], quick: bool, verbose: bool, as_json: bool) -> None:
    """Run the benchmarks in bench/ and print one table: figure, value, baseline, ratio.

    Ratios are each benchmark's own: speed-up over the baseline for timings (baseline /
    value), share of the baseline for gas (value / baseline). Timings are medians on a shared
    machine; no figure here passes or fails anything."""
    names = list(dict.fromkeys(only)) or list(BENCHES)
    results = []
    for name in names:
        if not as_json:
            click.echo(f"bench/{name}.py: {BENCHES[name][0]} ...", err=True)
        results.append(run_bench(name, quick=quick, echo=verbose))
    figures = [f for r in results for f in r["figures"]]
    if as_json:
        runs = {r["bench"]: {"seconds": r["seconds"]} for r in results}
        click.echo(json.dumps({"quick": quick, "benches": runs, "figures": figures}, indent=2))
        return
    for line in _table(figures):
        click.echo(line)
    took = ", ".join(f"{r['bench']} {r['seconds']} s" for r in results)
    click.echo(f"ratios: speed-up (timings) or share of the baseline (gas); ran {took}")
