"""shock-sweep: a whale sells WETH into one venue's deepest WETH pool; how much of the
dislocation does a backrun capture, net of gas, and along how long a route?

Grid: whale size (WETH) x venue x gas price (priority fee over the fork's base fee). Each point
shocks the pool, scans the whole replica, executes the pool-disjoint selection, and values the
realized profit in ETH at the scan's prices less gas at the point's gas price.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flasharb.chain import addresses as A
from flasharb.execute.shock import shock
from flasharb.experiments.base import Context, Experiment, Figure, Metrics, Params
from flasharb.experiments.common import backrun, deepest_weth_pool
from flasharb.report.plots import grouped_lines, save

GWEI = 10**9
GRIDS: dict[str, dict[str, list[Any]]] = {
    "small": {
        "venue": ["uniswap_v2", "uniswap_v3"],
        "size_weth": [100, 400],
        "priority_fee_gwei": [1, 200],
    },
    "full": {
        "venue": ["uniswap_v2", "sushiswap", "uniswap_v3", "balancer"],
        "size_weth": [25, 100, 250, 500, 1000],
        "priority_fee_gwei": [1, 20, 200],
    },
}


def grid(size: str) -> list[Params]:
    g = GRIDS[size]
    return [
        {"venue": v, "size_weth": s, "priority_fee_gwei": f}
        for v in g["venue"]
        for s in g["size_weth"]
        for f in g["priority_fee_gwei"]
    ]


def run_point(ctx: Context, p: Params) -> Metrics:
    pool = deepest_weth_pool(ctx.w3, p["venue"])
    whale = shock(ctx.w3, pool, A.WETH, int(p["size_weth"]) * 10**18)
    out = backrun(ctx, priority_fee_wei=int(p["priority_fee_gwei"]) * GWEI)
    return out | {"pool": pool, "whale_amount_out": str(whale.amount_out)}


def rows(points: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "venue": pt["params"]["venue"],
            "size_weth": pt["params"]["size_weth"],
            "priority_fee_gwei": pt["params"]["priority_fee_gwei"],
            "opportunities": pt["metrics"]["opportunities"],
            "trades": pt["metrics"]["trades"],
            "best_route_hops": pt["metrics"]["best_route_hops"],
            "gas_used": pt["metrics"]["gas_used"],
            "gas_cost_wei": pt["metrics"]["gas_cost_wei"],
            "realized_eth_wei": pt["metrics"]["realized_eth_wei"],
            "captured_net_eth_wei": pt["metrics"]["captured_net_eth_wei"],
        }
        for pt in points
    ]


def plots(table: Sequence[dict[str, Any]], out: Path) -> list[Figure]:
    fees = sorted({r["priority_fee_gwei"] for r in table})
    figs = []
    for what, ylabel, fname in (
        ("captured_net_eth_wei", "captured net profit (ETH)", "captured_net.png"),
        ("best_route_hops", "longest route executed (hops)", "route_length.png"),
    ):
        fig = grouped_lines(
            table,
            x="size_weth",
            y=what,
            series="venue",
            panels="priority_fee_gwei",
            panel_values=fees,
            xlabel="whale sale (WETH)",
            ylabel=ylabel,
            scale=10**18 if what.endswith("_wei") else 1,
            panel_title="priority fee {} gwei",
        )
        save(fig, out / fname)
        figs.append(Figure(fname, f"{ylabel} by whale size and venue, one panel per gas price"))
    return figs


EXPERIMENT = Experiment(
    name="shock-sweep",
    title="Shock sweep: whale size x venue x gas price",
    question=(
        "A whale sells WETH into one venue's deepest WETH pool: how much does a backrun "
        "capture net of gas, and along how long a route?"
    ),
    grid=grid,
    run_point=run_point,
    rows=rows,
    plots=plots,
    notes=(
        "Captured net = realized profit of the executed trades, valued in ETH at the scan's "
        "prices, less gas used x (base fee + priority fee). Gas used and profit are measured "
        "on the fork; the gas price is the point's parameter."
    ),
)
