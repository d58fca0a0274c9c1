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

from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.cheats import mine, snapshot
from flasharb.chain.node import Lab
from flasharb.execute.shock import shock
from flasharb.experiments.base import Context
from flasharb.experiments.common import deepest_weth_pool
from flasharb.experiments.workers import _pin_next_base_fee
from flasharb.search.market import next_base_fee


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
    # every point finds the same opportunity at the same gas price, whatever its worker ran
    # before (the runner pins the next base fee that anvil's evm_revert leaves behind)
    assert len({r["predicted_net_eth_wei"] for r in rows.values()}) == 1, report["rows"]
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


def test_a_point_sees_the_base_fee_of_a_fresh_fork(w3: Web3, deployment: Any, lab: Lab) -> None:
    """Anvil's evm_revert restores the chain but not the base fee it computed for the next
    block from the blocks it reverted; the runner pins it, so a point's gas prices do not depend
    on what its worker measured before."""
    ctx = Context(w3=w3, deployment=deployment, rpc_url=lab.rpc_url)
    pool = deepest_weth_pool(w3, "uniswap_v2")

    def first_base_fee(*, pin: bool) -> int:
        with snapshot(w3):
            head = w3.eth.block_number
            if pin:
                _pin_next_base_fee(ctx)
            shock(w3, pool, A.WETH, 300 * 10**18)
            return int(w3.eth.get_block(head + 1)["baseFeePerGas"])

    header = w3.eth.get_block("latest")  # what the next block's base fee follows from
    expected = next_base_fee(
        int(header["baseFeePerGas"]), int(header["gasUsed"]), int(header["gasLimit"])
    )
    with snapshot(w3):  # a point that mined blocks, reverted
        shock(w3, pool, A.WETH, 300 * 10**18)
        mine(w3, 3)
    assert first_base_fee(pin=True) == expected  # whatever anvil kept from the reverted blocks
