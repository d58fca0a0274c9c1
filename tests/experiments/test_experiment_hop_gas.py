"""`flasharb experiment hop-gas --size small --workers 2`: gas by hop count and venue mix from
real receipts, a gas model fitted on them that the report rebuilds from the journal, and an HTML
page that opens in headless Chromium with every plot loaded.

`experiment_cli` and `regenerated_identical` are shared with the other experiment tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import images_loaded

FILES = ("points.csv", "points.json", "index.html", "gas_by_route.png", "gas_fit.png")


def experiment_cli(tmp: Path, name: str, *args: str, env: dict[str, str] | None = None) -> Any:
    """`flasharb experiment NAME ARGS --json` in a subprocess, its JSON report."""
    full_env = {**os.environ, "FLASHARB_STATE_DIR": str(tmp / "state"), **(env or {})}
    res = subprocess.run(
        [sys.executable, "-m", "flasharb.cli", "experiment", name, *args, "--json"],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout)


def regenerated_identical(tmp: Path, name: str, report: dict[str, Any], first: Path) -> None:
    """Rebuild run `report` from the journal alone into a new directory: same rows, same
    bytes in every file."""
    again = tmp / "rebuilt"
    rebuilt = experiment_cli(
        tmp,
        name,
        "--from-journal",
        "--run",
        str(report["run_id"]),
        "--journal",
        str(tmp / "j.sqlite"),
        "--out",
        str(again),
    )
    assert rebuilt["rows"] == report["rows"]
    assert rebuilt["figures"] == report["figures"]
    files = sorted(p.name for p in first.iterdir() if p.name != "check.html")
    assert files == sorted(p.name for p in again.iterdir())
    for f in files:
        assert (again / f).read_bytes() == (first / f).read_bytes(), f


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("hop-gas")
    out = tmp / "reports" / "hop-gas"
    args = ("--size", "small", "--workers", "2", "--journal", str(tmp / "j.sqlite"))
    return tmp, experiment_cli(tmp, "hop-gas", *args, "--out", str(out))


class TestHopGas:
    """Eight routes after a 500 WETH shock: 2-4 V2 hops, V2/V3 both ways round, a Balancer hop
    (funded by a V3 flash), and the 2-hop route funded by a V3 flash and by a V4 loan too."""

    def test_every_route_executes_and_gas_grows_per_v2_hop(
        self, sweep: tuple[Path, dict[str, Any]]
    ) -> None:
        tmp, report = sweep
        for f in FILES:
            assert (tmp / "reports" / "hop-gas" / f).stat().st_size > 0, f
        rows = report["rows"]
        assert len(rows) == 8
        assert all(r["executed"] and int(r["realized_profit"]) > 0 for r in rows), rows
        v2 = {
            r["hops"]: r["gas_used"]
            for r in rows
            if r["source"] == "balancer_v2" and r["v3_hops"] == r["balancer_hops"] == 0
        }
        assert sorted(v2) == [2, 3, 4]
        for extra in (v2[3] - v2[2], v2[4] - v2[3]):  # one more pair swap, transfer included
            assert 40_000 < extra < 60_000, v2
        by = {(r["shape"], r["source"]): r for r in rows}
        # the same trade borrowed from a V3 pool pays for pool.flash on top of the route
        assert by["2-hop V2", "uniswap_v3"]["gas_used"] > by["2-hop V2", "balancer_v2"]["gas_used"]
        # the PoolManager's unlock / take / settle costs less than the Vault's flashLoan
        assert by["2-hop V2", "uniswap_v4"]["gas_used"] < by["2-hop V2", "balancer_v2"]["gas_used"]
        # a V3 hop costs more than a V2 hop: V2 > V3 above the 2-hop V2 route
        assert by["V2 > V3", "balancer_v2"]["gas_used"] > v2[2]

    def test_fitted_model_explains_every_receipt(self, sweep: tuple[Path, dict[str, Any]]) -> None:
        _, report = sweep
        for r in report["rows"]:
            assert abs(r["fit_residual"]) <= r["gas_used"] // 100, r  # within 1%
            assert r["gas_fitted"] + r["fit_residual"] == r["gas_used"]
            assert abs(r["gas_predicted"] - r["gas_used"]) <= r["gas_used"] * 6 // 100, r
        caption = report["figures"][1]["caption"]
        assert "fitted GasModel" in caption and "per_hop uniswap_v2" in caption

    def test_report_regenerates_from_the_journal(self, sweep: tuple[Path, dict[str, Any]]) -> None:
        tmp, report = sweep
        regenerated_identical(tmp, "hop-gas", report, tmp / "reports" / "hop-gas")

    def test_html_renders_with_every_plot(self, sweep: tuple[Path, dict[str, Any]]) -> None:
        tmp, _ = sweep
        assert images_loaded(tmp / "reports" / "hop-gas" / "index.html") == "images 2/2"
