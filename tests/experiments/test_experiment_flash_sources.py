"""`flasharb experiment flash-sources --size small --workers 2`: the same routes through the
Balancer Vault, a V3 flash, a V2 flash swap and inventory; the fee each lender charged is what
the trade lost to it, to the wei; the report rebuilds from the journal and renders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.experiments.test_experiment_hop_gas import experiment_cli, regenerated_identical
from tests.helpers import images_loaded


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("flash-sources")
    out = tmp / "reports" / "flash-sources"
    args = ("--size", "small", "--workers", "2", "--journal", str(tmp / "j.sqlite"))
    return tmp, experiment_cli(tmp, "flash-sources", *args, "--out", str(out))


class TestFlashSources:
    """2-hop V2 and V2 > Balancer after a 500 WETH shock, each through every source (the V4
    PoolManager's loan included)."""

    def test_each_source_pays_exactly_its_fee(self, sweep: tuple[Path, dict[str, Any]]) -> None:
        _, report = sweep
        rows = {(r["route"], r["source"]): r for r in report["rows"]}
        assert len(rows) == 10
        refused = rows["V2 > Bal", "balancer_v2"]
        assert not refused["executed"] and "BAL#400" in refused["reason"]
        done = [r for r in rows.values() if r["executed"]]
        assert len(done) == 9
        for r in done:  # realized on chain = exact gross - the lender's fee
            assert int(r["realized_profit"]) == int(r["gross_profit"]) - int(r["flash_fee"]), r
            assert int(r["realized_profit"]) > 0
        for route in ("2-hop V2", "V2 > Bal"):
            fee = {s: int(rows[route, s]["flash_fee"]) for s in ("uniswap_v3", "uniswap_v2")}
            assert 0 < fee["uniswap_v3"] < fee["uniswap_v2"]  # a 0.01-0.05% tier vs 0.3%
            assert rows[route, "inventory"]["flash_fee"] == "0"
            # no lender to call back: inventory is the cheapest in gas
            gas = {s: rows[route, s]["gas_used"] for s in ("uniswap_v3", "uniswap_v2")}
            assert rows[route, "inventory"]["gas_used"] < min(gas.values())
        assert rows["2-hop V2", "balancer_v2"]["flash_fee"] == "0"  # the Vault charges 0 here
        for route in ("2-hop V2", "V2 > Bal"):  # the V4 PoolManager lends for free, Balancer hop
            v4 = rows[route, "uniswap_v4"]  # or not, and its unlock is cheaper than a V3 flash
            assert v4["flash_fee"] == "0" and v4["gas_used"] < rows[route, "uniswap_v3"]["gas_used"]
        assert (
            rows["2-hop V2", "uniswap_v4"]["gas_used"] < rows["2-hop V2", "balancer_v2"]["gas_used"]
        )

    def test_report_regenerates_and_renders(self, sweep: tuple[Path, dict[str, Any]]) -> None:
        tmp, report = sweep
        out = tmp / "reports" / "flash-sources"
        assert (out / "sources.png").stat().st_size > 0
        regenerated_identical(tmp, "flash-sources", report, out)
        assert images_loaded(out / "index.html") == "images 1/1"
