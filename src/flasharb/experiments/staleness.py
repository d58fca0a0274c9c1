"""staleness: what happens to an opportunity between the scan that found it and the block that
includes it: k blocks of other traders' swaps on its pools, or one competitor who takes part of
it first. Revert rate and profit decay, measured by sending the stale plan.

Each point shocks Uniswap V2 WETH/USDC (300 WETH), scans, keeps the best opportunity with its
exact plan (the pool states of the scan), then either
- `blocks` k: mines k blocks, each with a swap of 0.5%-3% of a random pool of the route's
  balance, in a random direction (seeded per point), or
- `competitor` f: a competitor sells f x the opportunity's input into the route's first pool,
  in the route's direction (it takes the same price move first),
and sends the stale plan. The executor simulates first: a plan that would revert or lose is
counted as reverted (it would have cost its gas on a real chain).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from flasharb.chain import addresses as A
from flasharb.chain.cheats import balance_of, mine
from flasharb.errors import FlasharbError, TransactionFailed
from flasharb.execute.executor import Executor
from flasharb.execute.shock import shock
from flasharb.experiments.base import Context, Experiment, Figure, Metrics, Params
from flasharb.experiments.common import deepest_weth_pool
from flasharb.report.plots import bars, save
from flasharb.search.rank import token_value_in_eth
from flasharb.search.scan import scan

SHOCK_WETH = 300
GRIDS: dict[str, list[Params]] = {
    "small": [
        {"scenario": "blocks", "k": 0, "seed": 1},
        {"scenario": "blocks", "k": 2, "seed": 1},
        {"scenario": "competitor", "fraction": "0.5", "seed": 1},
        {"scenario": "competitor", "fraction": "1", "seed": 1},
    ],
    "full": [{"scenario": "blocks", "k": k, "seed": s} for k in (0, 1, 2, 4, 8) for s in (1, 2, 3)]
    + [
        {"scenario": "competitor", "fraction": f, "seed": 1}
        for f in ("0.1", "0.25", "0.5", "0.75", "1")
    ],
}


def grid(size: str) -> list[Params]:
    return [dict(p) for p in GRIDS[size]]


def _disturb(ctx: Context, p: Params, route: Sequence[Any], amount_in: int) -> int:
    """Move the route's pools as the scenario says; returns the swaps that went through."""
    w3, done = ctx.w3, 0
    if p["scenario"] == "competitor":
        hop = route[0]
        amount = int(Fraction(p["fraction"]) * amount_in)
        if amount > 0:
            shock(w3, hop.pool, hop.token_in, amount, hop.token_out)
            done = 1
        return done
    rng = random.Random(int(p["seed"]))
    for _ in range(int(p["k"])):
        hop = rng.choice(list(route))
        t_in, t_out = (
            (hop.token_in, hop.token_out) if rng.random() < 0.5 else (hop.token_out, hop.token_in)
        )
        held = balance_of(w3, t_in, hop.pool) if hop.kind != "balancer" else 0
        amount = held * rng.randint(50, 300) // 10_000
        try:
            if amount > 0:
                shock(w3, hop.pool, t_in, amount, t_out)
                done += 1
        except FlasharbError:
            pass
        mine(w3)  # one block per step, swap or not
    return done


def run_point(ctx: Context, p: Params) -> Metrics:
    pool = deepest_weth_pool(ctx.w3, "uniswap_v2")
    shock(ctx.w3, pool, A.WETH, SHOCK_WETH * 10**18)
    res = scan(ctx.w3, max_hops=3)
    states: Mapping[str, Any] = getattr(res, "states", {})
    best = next((o for o in res.opportunities if o.net_profit > 0), None)
    if best is None:
        return {"found": False}
    ex = Executor(ctx.w3, ctx.deployment)
    source = None
    flash = getattr(best, "flash", None)
    if flash is not None:
        source = ex.source_of(best.cycle.token, flash, best.amount_in)
    plan = ex.plan(best.cycle, best.amount_in, source=source, states=states)  # as of the scan
    swaps = _disturb(ctx, p, best.cycle.hops, best.amount_in)
    predicted_eth = best.net_profit_eth
    try:
        trade = ex.execute_plan(
            plan, best.gas_cost, opportunity=best, gas_estimate=best.gas_estimate
        )
    except TransactionFailed as exc:
        return {
            "found": True,
            "swaps_between": swaps,
            "reverted": True,
            "reason": exc.reason[:120],
            "predicted_net_eth_wei": str(predicted_eth),
            "realized_net_eth_wei": "0",
            "hops": len(best.cycle.hops),
        }
    realized = token_value_in_eth(best.cycle.token, trade.realized_profit, states, A.WETH)
    gas_eth = trade.gas_used * res.gas_price_wei
    return {
        "found": True,
        "swaps_between": swaps,
        "reverted": False,
        "reason": "",
        "predicted_net_eth_wei": str(predicted_eth),
        "realized_net_eth_wei": str(realized - gas_eth),
        "hops": len(best.cycle.hops),
    }


def _label(params: Mapping[str, Any]) -> str:
    if params["scenario"] == "blocks":
        return f"{params['k']} blocks (seed {params['seed']})"
    return f"competitor x{params['fraction']}"


def rows(points: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for pt in points:
        m = pt["metrics"]
        out.append(
            {
                "scenario": _label(pt["params"]),
                "found": m.get("found", False),
                "swaps_between": m.get("swaps_between", 0),
                "reverted": m.get("reverted", False),
                "reason": m.get("reason", ""),
                "predicted_net_eth_wei": m.get("predicted_net_eth_wei", "0"),
                "realized_net_eth_wei": m.get("realized_net_eth_wei", "0"),
            }
        )
    return out


def plots(table: Sequence[dict[str, Any]], out: Path) -> list[Figure]:
    labels = [r["scenario"] for r in table]
    eth = 10**18
    fig = bars(
        labels,
        {
            "predicted at scan": [
                float(Fraction(int(r["predicted_net_eth_wei"]), eth)) for r in table
            ],
            "realized at inclusion": [
                float(Fraction(int(r["realized_net_eth_wei"]), eth)) for r in table
            ],
        },
        ylabel="net profit (ETH)",
        title="stale plan: predicted vs realized (0 = reverted)",
    )
    save(fig, out / "decay.png")
    return [Figure("decay.png", "net profit predicted at the scan vs realized when included")]


EXPERIMENT = Experiment(
    name="staleness",
    title="Staleness: blocks or a competitor between scan and inclusion",
    question=(
        "How often does a plan made at the scan revert, and how much of its profit is left, "
        "after k blocks of swaps on its pools or one competitor taking part of it first?"
    ),
    grid=grid,
    run_point=run_point,
    rows=rows,
    plots=plots,
    notes=(
        f"Each point: {SHOCK_WETH} WETH sold into Uniswap V2's deepest WETH pool, a scan, the "
        "best opportunity's exact plan frozen, the disturbance, then the stale plan sent. "
        "Reverted includes plans that fail simulation (they would revert on chain)."
    ),
)
