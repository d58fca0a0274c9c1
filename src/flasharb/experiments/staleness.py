"""staleness: what happens to an opportunity between the block the market found it on and the
block that includes it: k blocks of other traders' swaps on its pools, or one competitor who
takes part of it first. Revert rate and profit decay, measured by sending the stale plan.

Each point shocks Uniswap V2's deepest WETH pool (300 WETH), builds the market on the shocked
fork and keeps what the selection policy would send first (`Market.select(top=1)`: the
opportunity, sized on the states of that block), then either
- `blocks` k: mines k blocks, each with a swap of 0.5%-3% of a random pool of the route's
  balance, in a random direction (seeded per point), or
- `competitor` f: a competitor sells f x the opportunity's input into the route's first pool,
  in the route's direction (it takes the same price move first),
and only then hands the stale opportunity to the trader, which plans it as it was sized and
simulates it as mined on the then-current state: what it refuses (the simulation reverts, or
the profit no longer pays the gas) is counted as reverted, with the decoded reason (on a real
chain it would have cost its gas); what it accepts is sent.
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
from flasharb.execute.shock import shock
from flasharb.experiments.base import Context, Experiment, Figure, Metrics, Params
from flasharb.experiments.common import deepest_weth_pool, trader
from flasharb.kinds import HopKind
from flasharb.report.plots import bars, save
from flasharb.search.market import Head, Market, MarketConfig

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
        held = balance_of(w3, t_in, hop.pool) if hop.kind is not HopKind.BALANCER else 0
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
    market = Market.build(ctx.w3, MarketConfig(max_hops=3))
    chosen = market.select(top=1)
    if not chosen:
        return {"found": False}
    best = chosen[0]  # sized on the states of the market's block: stale from here on
    swaps = _disturb(ctx, p, best.cycle.hops, best.amount_in)
    predicted_eth = best.net_profit_eth
    stale = {
        "found": True,
        "swaps_between": swaps,
        "predicted_net_eth_wei": str(predicted_eth),
        "hops": len(best.cycle.hops),
    }
    t = trader(ctx)
    now = Head.of(ctx.w3.eth.get_block("latest"))  # the block the stale plan is sent after
    prepared = t.prepare([best], now)[0]
    try:
        if not prepared.ok:
            raise TransactionFailed("executeArb", prepared.error or prepared.refused or "refused")
        trade = t.reconcile(t.send(prepared))
    except TransactionFailed as exc:
        return stale | {"reverted": True, "reason": exc.reason[:120], "realized_net_eth_wei": "0"}
    realized = best.price.to_eth(trade.realized_profit)  # at the prices it was found at
    gas_eth = trade.gas_used * market.gas_price_wei
    return stale | {
        "reverted": False,
        "reason": "",
        "realized_net_eth_wei": str(realized - gas_eth),
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
        f"Each point: {SHOCK_WETH} WETH sold into Uniswap V2's deepest WETH pool, the market "
        "built, the opportunity the selection policy sends first frozen as sized, the "
        "disturbance, then the stale opportunity handed to the trader. Reverted includes what "
        "the trader's simulation as mined refuses (it would revert on chain, or no longer pay "
        "its gas), with the decoded reason."
    ),
)
