"""A user's own experiment, named module:attribute, run by `flasharb experiment` with the journal
and report of any other (the public API: tests/unit/test_api.py, tests/fork/test_api.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXPERIMENT_MODULE = """
from flasharb import Experiment, quote

UNI = "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc"


def run_point(ctx, p):
    return {"amount_out": str(quote(ctx.w3, UNI, "WETH", amount_in=int(p["weth"])).amount_out)}


def rows(points):
    return [{"weth": pt["params"]["weth"], "out": pt["metrics"]["amount_out"]} for pt in points]


def plots(table, out):
    return []


PRICE = Experiment(
    name="my-price",
    title="My price curve",
    question="What does Uniswap V2 WETH/USDC pay for growing sales?",
    grid=lambda size: [{"weth": str(10**18 * k)} for k in (1, 10)],
    run_point=run_point,
    rows=rows,
    plots=plots,
)
"""


def test_a_users_own_experiment_runs_like_the_built_in_ones(tmp_path: Path) -> None:
    (tmp_path / "my_sweeps.py").write_text(EXPERIMENT_MODULE)
    env = {
        **os.environ,
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "FLASHARB_STATE_DIR": str(tmp_path / "state"),
    }
    out = tmp_path / "report"
    args = ["experiment", "my_sweeps:PRICE", "--size", "small", "--out", str(out), "--json"]
    res = subprocess.run(
        [sys.executable, "-m", "flasharb.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    outs = [int(r["out"]) for r in report["rows"]]
    assert len(outs) == 2 and 0 < outs[0] < outs[1] < 10 * outs[0]  # concave: slippage
    assert (out / "index.html").exists() and (out / "points.csv").exists()
    bad = subprocess.run(
        [sys.executable, "-m", "flasharb.cli", "experiment", "my_sweeps:NOPE"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "my_sweeps" in bad.stderr
