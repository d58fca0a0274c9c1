"""`flasharb experiment shock-sweep --workers 2`: a report whose numbers regenerate from the
journal, and whose HTML opens in headless Chromium with every plot loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flasharb.journal.store import Journal
from tests.helpers import images_loaded

FILES = ("points.csv", "points.json", "index.html", "captured_net.png", "route_length.png")


def _cli(tmp: Path, *args: str) -> Any:
    env = {**os.environ, "FLASHARB_STATE_DIR": str(tmp / "state")}
    res = subprocess.run(
        [sys.executable, "-m", "flasharb.cli", "experiment", "shock-sweep", *args, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("shock-sweep")
    out = tmp / "reports" / "shock-sweep"
    args = ("--size", "small", "--workers", "2", "--journal", str(tmp / "j.sqlite"))
    report = _cli(tmp, *args, "--out", str(out))
    return tmp, report


class TestShockSweep:
    def test_report_files_and_points(self, sweep: tuple[Path, dict[str, Any]]) -> None:
        tmp, report = sweep
        out = tmp / "reports" / "shock-sweep"
        for f in FILES:
            assert (out / f).stat().st_size > 0, f
        rows = report["rows"]
        assert len(rows) == 8  # 2 venues x 2 sizes x 2 gas prices
        assert {r["venue"] for r in rows} == {"uniswap_v2", "uniswap_v3"}
        for r in rows:  # captured = realized (ETH) - gas used x the point's gas price
            assert int(r["captured_net_eth_wei"]) == int(r["realized_eth_wei"]) - int(
                r["gas_cost_wei"]
            )
        big_v2 = [r for r in rows if r["venue"] == "uniswap_v2" and r["size_weth"] == 400]
        assert all(r["trades"] >= 1 and int(r["captured_net_eth_wei"]) > 0 for r in big_v2)
        # the dearer gas price never captures more from the same shock
        for cheap in (r for r in rows if r["priority_fee_gwei"] == 1):
            dear = next(
                r
                for r in rows
                if (r["venue"], r["size_weth"]) == (cheap["venue"], cheap["size_weth"])
                and r["priority_fee_gwei"] == 200
            )
            assert int(dear["captured_net_eth_wei"]) <= int(cheap["captured_net_eth_wei"])

    def test_journal_holds_every_point(self, sweep: tuple[Path, dict[str, Any]]) -> None:
        tmp, report = sweep
        with Journal(tmp / "j.sqlite") as j:
            run = j.run(report["run_id"])
            assert run is not None
            assert (run["kind"], run["name"], run["status"]) == (
                "experiment",
                "shock-sweep",
                "done",
            )
            points = j.points(report["run_id"])
        assert len(points) == len(report["rows"])
        for p, r in zip(points, report["rows"], strict=True):
            assert p["metrics"]["captured_net_eth_wei"] == r["captured_net_eth_wei"]
            assert p["params"]["venue"] == r["venue"]

    def test_report_regenerates_from_the_journal(self, sweep: tuple[Path, dict[str, Any]]) -> None:
        tmp, report = sweep
        again = tmp / "rebuilt"
        rebuilt = _cli(
            tmp,
            "--from-journal",
            "--run",
            str(report["run_id"]),
            "--journal",
            str(tmp / "j.sqlite"),
            "--out",
            str(again),
        )
        assert rebuilt["rows"] == report["rows"]
        first = tmp / "reports" / "shock-sweep"
        for f in ("points.csv", "points.json", "index.html"):
            assert (again / f).read_text() == (first / f).read_text(), f
        for f in ("captured_net.png", "route_length.png"):
            assert (again / f).read_bytes() == (first / f).read_bytes(), f

    def test_html_renders_with_every_plot_in_headless_chromium(
        self, sweep: tuple[Path, dict[str, Any]]
    ) -> None:
        tmp, _ = sweep
        assert images_loaded(tmp / "reports" / "shock-sweep" / "index.html") == "images 2/2"
