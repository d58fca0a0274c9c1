"""`flasharb bench`: runs the benchmark scripts in bench/ and joins their figures into one table
(figure, value, baseline, ratio). The test checks the table's shape, never a timing."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from flasharb.report.bench import _gas_figures, _table


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flasharb.cli", "bench", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow  # a real benchmark run (~20 s of CPU): `make test` runs it, `make test-unit` not
def test_search_bench_quick_prints_one_table_and_its_json() -> None:
    res = _bench("--only", "search", "--quick", "--json")
    assert res.returncode == 0, res.stderr[-2000:]
    report: dict[str, Any] = json.loads(res.stdout)
    assert report["quick"] is True and list(report["benches"]) == ["search"]
    figures = report["figures"]
    timed = [f for f in figures if f["baseline"] is not None]
    names = {f["figure"] for f in timed}
    assert {"1k scan: full scan", "1M closed-form cycle evaluations"} <= names, names
    for f in timed:  # every timed figure: value and baseline in ms, ratio = baseline / value
        assert f["bench"] == "search" and f["unit"] == "ms"
        assert f["value"] > 0 and f["baseline"] > 0
        assert abs(f["ratio"] - f["baseline"] / f["value"]) < 1e-9 * f["ratio"]
    lines = _table(figures)
    assert lines[0].split() == ["figure", "value", "baseline", "ratio", "target"]
    assert len(lines) == len(figures) + 1
    full_scan = next(line for line in lines if "1k scan: full scan" in line)
    assert full_scan.count(" ms") == 3 and "x " in full_scan  # value, baseline, target
    assert full_scan.endswith("<= 35 ms")


def test_gas_bench_rows_become_figures_against_the_router_baseline() -> None:
    payload = {
        "rows": [
            {"case": "2-hop V2", "source": "balancer_v2", "gas_used": 150, "baseline_gas": 200},
            {
                "case": "2-hop V2, inventory",
                "source": "inventory",
                "gas_used": 90,
                "baseline_gas": None,
            },
        ],
        "floor": {"2-hop": 100},
        "overhead": {"2-hop": 50},
    }
    figures = _gas_figures(payload)
    assert figures[0]["ratio"] == 0.75 and figures[0]["unit"] == "gas"
    assert figures[1]["ratio"] is None and figures[1]["baseline"] is None
    assert figures[2]["value"] == "100 / 50"
    rows = _table([{"bench": "gas", **f} for f in figures])
    assert "150 gas" in rows[1] and "200 gas" in rows[1] and "0.75x" in rows[1]


def test_unknown_benchmark_is_one_line_and_exit_2() -> None:
    res = _bench("--only", "nope")
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "flasharb: error:" in res.stderr
