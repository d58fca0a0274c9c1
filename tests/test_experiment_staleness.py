"""`flasharb experiment staleness` at its small size: a fresh plan lands, a plan whose first
pool a competitor moved first is refused by the trader's simulation (counted as reverted, with
the decoded reason), and the report rebuilds from the journal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.fork


def _cli(tmp: Path, *args: str) -> Any:
    env = {**os.environ, "FLASHARB_STATE_DIR": str(tmp / "state")}
    res = subprocess.run(
        [sys.executable, "-m", "flasharb.cli", "experiment", "staleness", *args, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_stale_plans_revert_when_a_competitor_goes_first(tmp_path: Path) -> None:
    journal = str(tmp_path / "j.sqlite")
    report = _cli(
        tmp_path,
        "--size",
        "small",
        "--workers",
        "2",
        "--journal",
        journal,
        "--out",
        str(tmp_path / "a"),
    )
    rows = {r["scenario"]: r for r in report["rows"]}
    fresh = rows["0 blocks (seed 1)"]
    assert fresh["found"] and not fresh["reverted"]
    # included at once, the plan realizes what the scan predicted, less the gas it used
    predicted, realized = int(fresh["predicted_net_eth_wei"]), int(fresh["realized_net_eth_wei"])
    assert realized > 0 and abs(predicted - realized) * 1000 < predicted
    taken = rows["competitor x1"]
    assert taken["reverted"] and taken["swaps_between"] == 1
    assert taken["realized_net_eth_wei"] == "0"
    # refused by the trader's simulation as mined, with the facet's decoded error: the
    # competitor left the first hop paying less than the stale plan asks of it
    assert taken["reason"].startswith("InsufficientOutput(hopIndex=0,"), taken["reason"]
    assert (tmp_path / "a" / "decay.png").stat().st_size > 0

    again = _cli(tmp_path, "--from-journal", "--journal", journal, "--out", str(tmp_path / "b"))
    assert again["rows"] == report["rows"]
    for f in ("points.csv", "points.json", "index.html", "decay.png"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
