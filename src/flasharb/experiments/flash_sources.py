"""flash-sources: the same routes funded by each capital source — the Balancer Vault's flash loan,
a Uniswap V3 pool's flash, a Uniswap V2 pair's flash swap, the diamond's own inventory — and
what each costs: gas, lender fee, and what is left net.

Each point sells 500 WETH into Uniswap V2 WETH/USDC, builds the market on the shocked fork, takes
the route from its pools (shapes.py) and the market's preferred lender of that kind off the
route that can lend the input (V3: the lowest fee tier, then the most held), has the engine size
the route *for that lender* (its fee moves the optimum: `Market.opportunity`), and sends it
through the trader (the route's Balancer pools trade a tiny amount first, as in hop-gas: no TWAP
oracle sample is due). A source the chain does not allow (a Balancer loan around a Balancer hop:
the Vault's reentrancy guard, BAL#400) is recorded as refused, with the planner's reason; a
trade the trader's simulation refuses is recorded as reverted, with the decoded reason.

Net = realized profit valued in ETH at the market's price of the token (the mid price of its
deepest WETH pool, after the shock) less gas used x `gas_price_gwei`. Inventory pays no fee,
but ties up the capital: the diamond is funded with the exact input first.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from flasharb.chain.cheats import deal
from flasharb.errors import FlasharbValueError, TransactionFailed
from flasharb.execute.plan import plan
from flasharb.experiments.base import Context, Experiment, Figure, Metrics, Params
from flasharb.experiments.common import trader
from flasharb.experiments.hop_gas import DUST_TOKENS
from flasharb.experiments.shapes import (
    SOURCES,
    funded_opportunity,
    shape,
    shock_v2_weth_usdc,
    warm_balancer,
)
from flasharb.kinds import SourceKind
from flasharb.report.plots import save
from flasharb.search.market import Market, MarketConfig

__all__ = ["EXPERIMENT"]

GWEI = 10**9
SHOCK_WETH = 500
GAS_PRICE_GWEI = 20
GRIDS: dict[str, list[str]] = {
    "small": ["2-hop V2", "V2 > Bal"],
    "full": ["2-hop V2", "3-hop V2", "4-hop V2", "V2 > V3", "V3 > V2", "V2 > Bal", "Bal > V2"],
}


def grid(size: str) -> list[Params]:
    return [
        {"route": r, "source": s, "gas_price_gwei": GAS_PRICE_GWEI}
        for r in GRIDS[size]
        for s in SOURCES
    ]


def run_point(ctx: Context, p: Params) -> Metrics:
    w3, diamond = ctx.w3, ctx.deployment.diamond
    for token in DUST_TOKENS:  # TreasuryFacet leaves 1 wei: balance writes are non-zero
        deal(w3, token, diamond, 1)
    shock_v2_weth_usdc(w3, SHOCK_WETH)
    market = Market.build(w3, MarketConfig(max_hops=2))  # the routes are given: a small index
    route = shape(market, p["route"])
    if warm_balancer(w3, market, [route]):  # no TWAP sample due, as in hop-gas
        market.update()
    base = {"hops": len(route.hops), "token": route.token}
    try:
        opp = funded_opportunity(market, route, p["source"])
        plan(opp)  # the planner refuses what the chain does not allow (BAL#400)
    except FlasharbValueError as exc:
        return base | {"allowed": False, "reason": str(exc)[:160]}
    if opp.source.kind is SourceKind.INVENTORY:  # own capital: exactly the input, plus its dust
        deal(w3, route.token, diamond, opp.amount_in + 1)
    t = trader(ctx)
    prepared = t.prepare([opp], market.head)[0]
    try:
        if not prepared.ok:
            raise TransactionFailed("executeArb", prepared.error or prepared.refused or "refused")
        trade = t.reconcile(t.send(prepared))
    except TransactionFailed as exc:
        return base | {"allowed": True, "reverted": True, "reason": exc.reason[:160]}
    gas_cost = trade.gas_used * int(p["gas_price_gwei"]) * GWEI
    profit_eth = opp.price.to_eth(trade.realized_profit)
    return base | {
        "allowed": True,
        "reverted": False,
        "reason": "",
        "lender": opp.source.lender,
        "amount_in": str(opp.amount_in),
        "gross_profit": str(opp.gross_profit),
        "flash_fee": str(opp.flash_fee),
        "realized_profit": str(trade.realized_profit),
        "fee_eth_wei": str(opp.price.to_eth(opp.flash_fee)),
        "gas_used": trade.gas_used,
        "gas_cost_wei": str(gas_cost),
        "profit_eth_wei": str(profit_eth),
        "net_eth_wei": str(profit_eth - gas_cost),
    }


def rows(points: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for pt in points:
        m, prm = pt["metrics"], pt["params"]
        ran = m["allowed"] and not m.get("reverted", False)
        out.append(
            {
                "route": prm["route"],
                "source": prm["source"],
                "gas_price_gwei": prm["gas_price_gwei"],
                "executed": ran,
                "token": m["token"],
                "amount_in": m.get("amount_in", "0"),
                "gross_profit": m.get("gross_profit", "0"),
                "flash_fee": m.get("flash_fee", "0"),
                "realized_profit": m.get("realized_profit", "0"),
                "gas_used": m.get("gas_used", 0),
                "fee_eth_wei": m.get("fee_eth_wei", "0"),
                "gas_cost_wei": m.get("gas_cost_wei", "0"),
                "net_eth_wei": m.get("net_eth_wei", "0"),
                "reason": m.get("reason", ""),
            }
        )
    return out


def _eth(v: Any) -> float:
    return float(Fraction(int(v), 10**18))


def plots(table: Sequence[dict[str, Any]], out: Path) -> list[Figure]:
    import matplotlib.pyplot as plt  # the report layer chose the Agg backend on import

    routes = list(dict.fromkeys(r["route"] for r in table))
    sources = [s for s in SOURCES if any(r["source"] == s for r in table)]
    cell = {(r["route"], r["source"]): r for r in table}
    width = 0.8 / max(1, len(sources))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, key, ylabel, scale in (
        (axes[0], "gas_used", "gas used", float),
        (axes[1], "fee_eth_wei", "lender fee (ETH)", _eth),
        (axes[2], "net_eth_wei", "net profit (ETH)", _eth),
    ):
        for i, s in enumerate(sources):
            xs, ys = [], []
            for j, route in enumerate(routes):
                r = cell.get((route, s))
                if r is not None and r["executed"]:
                    xs.append(j + i * width)
                    ys.append(scale(r[key]))
            ax.bar(xs, ys, width, label=s)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(routes))], routes, fontsize=8)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=8)
    axes[0].set_title("gas by capital source (no bar: the source is refused)")
    axes[1].set_title("what the lender charges")
    axes[2].set_title(f"net of gas at {table[0]['gas_price_gwei'] if table else '?'} gwei")
    fig.tight_layout()
    save(fig, out / "sources.png")
    return [Figure("sources.png", "gas, lender fee and net profit of each route per source")]


EXPERIMENT = Experiment(
    name="flash-sources",
    title="Flash sources: the same routes through each capital source",
    question=(
        "For the same route, what do the Balancer Vault loan, a Uniswap V3 flash, a Uniswap V2 "
        "flash swap and the diamond's own inventory cost in gas and fees, and what is left net?"
    ),
    grid=grid,
    run_point=run_point,
    rows=rows,
    plots=plots,
    notes=(
        f"Every point: {SHOCK_WETH} WETH sold into Uniswap V2 WETH/USDC, the route sized "
        "by the engine for its lender (the market's preferred V3 pool or V2 pair off the route "
        "that can lend the input: lowest fee, then the most held), then sent through the "
        "trader (its Balancer pools traded a block before: no TWAP oracle sample due). Fee "
        "and profit in ETH at the mid price of the token's deepest WETH "
        "pool after the shock; net = profit (ETH) - gas used x the point's gas price. A "
        "Balancer loan around a Balancer hop is refused (BAL#400) and has no bar."
    ),
)
