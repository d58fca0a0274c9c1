"""`flasharb experiment optimizers --size small --workers 2`: closed form, exact search and a
generic numeric optimiser on the scan's own cycles; exact profit gaps and times per cycle, all
regenerated from the journal."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from flasharb.experiments.optimizers import brent_max
from tests.experiments.test_experiment_hop_gas import experiment_cli, regenerated_identical
from tests.helpers import images_loaded

METHODS = ("exact", "closed_form", "generic")


def test_brent_finds_the_top_of_a_concave_function() -> None:
    x = brent_max(lambda v: -((v - 123_456.0) ** 2), 1.0, 1e9)
    assert abs(x - 123_456.0) < 1e-3
    assert abs(brent_max(math.sin, 0.0, 3.0, xatol=1e-9) - math.pi / 2) < 1e-7
    assert brent_max(lambda v: v, 0.0, 10.0, xatol=1e-6) > 9.99999  # at the bound
    assert abs(brent_max(lambda v: -abs(v - 7.3), 0.0, 10.0, xatol=1e-9) - 7.3) < 1e-6  # a kink


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("optimizers")
    out = tmp / "reports" / "optimizers"
    args = ("--size", "small", "--workers", "2", "--journal", str(tmp / "j.sqlite"))
    return tmp, experiment_cli(tmp, "optimizers", *args, "--out", str(out))


class TestOptimizers:
    """The three best cycles of each route kind (V2 only, mixed) after 300 WETH shocks of Uniswap
    V2 and V3."""

    def test_gaps_are_measured_against_the_best_input_found(
        self, sweep: tuple[Path, dict[str, Any]]
    ) -> None:
        _, report = sweep
        rows = report["rows"]
        per_venue = {v: sum(r["venue"] == v for r in rows) for v in ("uniswap_v2", "uniswap_v3")}
        # up to 3 of each route kind per shock, as many as pay (the V3 shock leaves mixed ones)
        assert all(3 <= n <= 6 for n in per_venue.values()), per_venue
        assert {r["route_kind"] for r in rows} == {"V2 only", "mixed"}
        for r in rows:
            gaps = [int(r[f"{m}_gap"]) for m in METHODS]
            assert min(gaps) == 0 and all(g >= 0 for g in gaps), r
            assert int(r["best_profit"]) > 0
            for m in METHODS:
                assert r[f"{m}_gap_ppb"] == int(r[f"{m}_gap"]) * 10**9 // int(r["best_profit"])
                assert r[f"{m}_us"] >= 0
            assert r["generic_evals"] > 10  # a bracket and Brent's iterations
            if r["route_kind"] == "V2 only":  # proven optimal: nothing beats it
                assert r["exact_proven"] and r["exact_gap"] == "0", r
            if r["route"] == "v2 > v2":  # the Moebius closed form is the smooth optimum
                assert r["closed_form_gap_ppb"] < 1_000, r

    def test_report_regenerates_and_renders(self, sweep: tuple[Path, dict[str, Any]]) -> None:
        tmp, report = sweep
        out = tmp / "reports" / "optimizers"
        regenerated_identical(tmp, "optimizers", report, out)
        caption = report["figures"][0]["caption"]
        assert "median time per cycle" in caption and "V2 only" in caption
        assert images_loaded(out / "index.html") == "images 1/1"
