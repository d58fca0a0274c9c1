"""hop-gas: what one executeArb costs by hop count, venue mix and capital source, and the gas
model fitted on those receipts.

Each point sells `shock_weth` WETH into Uniswap V2 WETH/USDC, builds the market on the shocked
fork, takes one route shape from its pools (shapes.py), has the engine size it for the point's
lender (`Market.opportunity`) and sends it through the trader (signed, simulated as mined, sent,
reconciled) in a fresh block. The diamond first holds 1 wei of every token the routes touch
(what TreasuryFacet leaves after a withdrawal: the steady state); without `dust`, none of the
route token, so its balance slot is written from zero (`GasModel.first_balance_write`; an
intermediate token's slot written from zero is refunded within the trade, so it is not a
figure of the model, but the gas limit must cover it before the refund). A route's Balancer
pools trade a tiny amount first (shapes.warm_balancer: no TWAP oracle sample is due when the
trade lands, as on an active pool; a due sample costs ~22,000 gas more on the replica).

Recorded per receipt: gas used, the trader's prediction (`Trade.gas_predicted`, the default
`GasModel` on the exact calldata), the default model on the receipt's true shape, and what the
gas depends on (the hop kinds, V3 ticks crossed, the source, the calldata's gas, whether the
route token's balance was cold).

The report fits `GasModel` (exact least squares, search/gas.py) on the journal's receipts and
shows each receipt against the fit: the fit is rebuilt from the journal with the report.
bench/gas_fit.py runs the full grid and fits the model's defaults on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from flasharb.chain import addresses as A
from flasharb.chain.cheats import balance_of, deal
from flasharb.errors import FlasharbValueError, TransactionFailed
from flasharb.experiments.base import Context, Experiment, Figure, Metrics, Params
from flasharb.experiments.common import trader
from flasharb.experiments.shapes import (
    funded_opportunity,
    shape,
    shock_v2_weth_usdc,
    warm_balancer,
)
from flasharb.kinds import HopKind, SourceKind
from flasharb.report.plots import save
from flasharb.search.gas import GasModel, GasShape
from flasharb.search.market import Market, MarketConfig

__all__ = ["EXPERIMENT", "fitted_model", "gas_shape"]

DUST_TOKENS = (A.USDC, A.WETH, A.DAI, A.USDT)  # 1 wei each: steady-state balance writes

_SMALL = [
    ("2-hop V2", "balancer_v2"),
    ("2-hop V2", "uniswap_v4"),
    ("3-hop V2", "balancer_v2"),
    ("4-hop V2", "balancer_v2"),
    ("V2 > V3", "balancer_v2"),
    ("V3 > V2", "balancer_v2"),
    ("2-hop V2", "uniswap_v3"),
    ("V2 > Bal", "uniswap_v3"),
]
_FULL_SHAPES = [
    ("2-hop V2", "balancer_v2"),
    ("3-hop V2", "balancer_v2"),
    ("4-hop V2", "balancer_v2"),
    ("V2 > V3", "balancer_v2"),
    ("V3 > V2", "balancer_v2"),
    ("V2 > V3 > V2", "balancer_v2"),
    ("V2 > V3 > V3", "balancer_v2"),
    ("V2 > Bal", "uniswap_v3"),
    ("Bal > V2", "uniswap_v3"),
    ("V2 > Bal > V2", "uniswap_v3"),
    ("2-hop V2", "uniswap_v3"),
    ("V3 > V2", "uniswap_v3"),
    ("2-hop V2", "uniswap_v2"),
    ("3-hop V2", "uniswap_v2"),
    ("V2 > Bal", "uniswap_v2"),
    ("2-hop V2", "inventory"),
    ("3-hop V2", "inventory"),
    ("V2 > V3", "inventory"),
    ("V2 > Bal", "inventory"),
    ("2-hop V2", "uniswap_v4"),
    ("3-hop V2", "uniswap_v4"),
    ("V2 > V3", "uniswap_v4"),
    ("V3 > V2", "uniswap_v4"),
    ("V2 > Bal", "uniswap_v4"),
    # V4 hops, through the market's uniswap_v4 venue (bench/gas_fit.py adds V4-hop receipts
    # of its own)
    ("V2 > V4", "balancer_v2"),
    ("V4 > V2", "uniswap_v4"),
    ("V2 > V4 > V4", "balancer_v2"),
]
_COLD = [  # the diamond holds none of the route token: its balance is written from zero
    ("2-hop V2", "balancer_v2"),
    ("4-hop V2", "balancer_v2"),
    ("V3 > V2", "balancer_v2"),
    ("V2 > V3 > V2", "balancer_v2"),
    ("2-hop V2", "uniswap_v3"),
    ("V2 > Bal", "uniswap_v3"),
    ("2-hop V2", "uniswap_v2"),
    ("2-hop V2", "uniswap_v4"),
]
GRIDS: dict[str, list[Params]] = {
    "small": [{"shape": s, "source": src, "shock_weth": 500, "dust": True} for s, src in _SMALL],
    "full": [
        {"shape": s, "source": src, "shock_weth": w, "dust": True}
        for w in (250, 500, 1000)
        for s, src in _FULL_SHAPES
    ]
    + [{"shape": s, "source": src, "shock_weth": 500, "dust": False} for s, src in _COLD],
}


def _no_route() -> Metrics:
    return {
        "hops": 0,
        "kinds": [],
        "v2_hops": 0,
        "v3_hops": 0,
        "balancer_hops": 0,
        "v4_hops": 0,
        "via_diamond": 0,
    }


def grid(size: str) -> list[Params]:
    return [dict(p) for p in GRIDS[size]]


def run_point(ctx: Context, p: Params) -> Metrics:
    w3, diamond = ctx.w3, ctx.deployment.diamond
    dust = bool(p.get("dust", True))
    shock_v2_weth_usdc(w3, int(p["shock_weth"]))
    market = Market.build(w3, MarketConfig(max_hops=2))  # the shapes are given: a small index
    try:
        route = shape(market, p["shape"])
    except FlasharbValueError as exc:  # a pool this market does not hold (V4: no venue yet)
        return {"executed": False, "reason": str(exc)[:160], **_no_route()}
    if warm_balancer(w3, market, [route]):  # no TWAP sample due: the steady state's gas
        market.update()
    for token in DUST_TOKENS:  # TreasuryFacet leaves 1 wei: balance writes are non-zero
        if dust or token != route.token:
            deal(w3, token, diamond, 1)
    kinds = [h.kind for h in route.hops]
    base: Metrics = {
        "hops": len(kinds),
        "kinds": [k.label for k in kinds],
        "v2_hops": kinds.count(HopKind.UNISWAP_V2),
        "v3_hops": kinds.count(HopKind.UNISWAP_V3),
        "balancer_hops": kinds.count(HopKind.BALANCER),
        "v4_hops": kinds.count(HopKind.UNISWAP_V4),
        "via_diamond": GasShape.of(route).via_diamond,
    }
    t = trader(ctx)
    try:
        opp = funded_opportunity(market, route, p["source"])
        if opp.source.kind is SourceKind.INVENTORY:  # own capital: the input, plus its dust
            deal(w3, route.token, diamond, opp.amount_in + 1)
        cold = balance_of(w3, route.token, diamond) == 0
        prepared = t.prepare([opp], market.head)[0]
        if not prepared.ok:
            reason = prepared.error or prepared.refused or "refused"
            return {"executed": False, "reason": reason[:160], **base}
        trade = t.reconcile(t.send(prepared))
    except (FlasharbValueError, TransactionFailed) as exc:
        return {"executed": False, "reason": str(exc)[:160], **base}
    receipt = GasShape.of(
        route,
        source=opp.source.kind,
        native_loan=opp.source.native,
        batch=opp.source.batch,
        ticks_crossed=opp.ticks_crossed,
        v4_ticks_crossed=prepared.plan.v4_ticks_crossed,
        calldata=prepared.calldata,
        cold_balance=cold,
        gas_used=trade.gas_used,
    )
    return {
        "executed": True,
        "reason": "",
        **base,
        "ticks_crossed": opp.ticks_crossed,
        "source": opp.source.label,
        "token": route.token,
        "amount_in": str(opp.amount_in),
        "realized_profit": str(trade.realized_profit),
        "cold_balance": cold,
        "v4_ticks_crossed": receipt.v4_ticks_crossed,
        "v4_netted": receipt.v4_netted,
        "v4_loan_netted": receipt.v4_loan_netted,
        "wraps": receipt.wraps,
        "unwraps": receipt.unwraps,
        "calldata_gas": receipt.calldata_gas,
        "gas_used": trade.gas_used,
        "gas_predicted": trade.gas_predicted,
        "gas_model_default": GasModel().estimate(receipt),
    }


def gas_shape(r: dict[str, Any]) -> GasShape:
    """The receipt of an executed row, as the gas model reads it."""
    label = str(r["source"])
    batch = label == "balancer_batch"
    return GasShape(
        kinds=tuple(HopKind.parse(k) for k in str(r["kinds"]).split(" > ")),
        source=SourceKind.INVENTORY if batch else SourceKind.parse(label),
        batch=batch,
        ticks_crossed=int(r["ticks_crossed"]),
        calldata_gas=int(r["calldata_gas"]),
        cold_balance=bool(r["cold_balance"]),
        gas_used=int(r["gas_used"]),
        v4_ticks_crossed=int(r.get("v4_ticks_crossed", 0)),
        v4_netted=int(r.get("v4_netted", 0)),
        v4_loan_netted=int(r.get("v4_loan_netted", 0)),
        wraps=int(r.get("wraps", 0)),
        unwraps=int(r.get("unwraps", 0)),
    )


# What a small grid cannot separate is held at its default, in this order: the rarer a figure's
# shape, the sooner it is held.
HOLD_ORDER = (
    "per_tick_crossed",
    "v2_to_pair",
    "mixed_walk",
    "vault_first_swap",
    "via_diamond",
    "first_balance_write",
)


def fitted_model(table: Sequence[dict[str, Any]]) -> tuple[GasModel | None, str]:
    """GasModel fitted on the executed rows, and how: "least squares", or which figures were
    held at their defaults because the receipts cannot separate them (the shortest prefix of
    HOLD_ORDER that lets the rest be solved). Figures no receipt exercises keep their
    defaults."""
    samples = [gas_shape(r) for r in table if r["executed"]]
    if not samples:
        return None, "no receipts"
    reason = "receipts do not separate the gas figures"
    for n in range(len(HOLD_ORDER) + 1):
        hold = HOLD_ORDER[:n]
        try:
            model = GasModel.fit(samples, hold=hold)
        except FlasharbValueError as exc:
            reason = str(exc)
            continue
        return model, "least squares" + (
            f", {', '.join(hold)} held at the defaults" if hold else ""
        )
    return None, reason


def figures(model: GasModel) -> str:
    """The model's figures on one line: `base balancer_v2 65,100, ..., per_tick_crossed ...`."""
    out = []
    for name, value in model.as_dict().items():
        if isinstance(value, dict):
            out += [f"{name} {k} {v:,}" for k, v in value.items()]
        else:
            out.append(f"{name} {value:,}")
    return ", ".join(out)


def rows(points: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    table = []
    for pt in points:
        m, prm = pt["metrics"], pt["params"]
        table.append(
            {
                "shape": prm["shape"],
                "shock_weth": prm["shock_weth"],
                "dust": prm.get("dust", True),
                "executed": m["executed"],
                "hops": m["hops"],
                "kinds": " > ".join(m["kinds"]),
                "v2_hops": m["v2_hops"],
                "v3_hops": m["v3_hops"],
                "balancer_hops": m["balancer_hops"],
                "v4_hops": m.get("v4_hops", 0),
                "via_diamond": m["via_diamond"],
                "ticks_crossed": m.get("ticks_crossed", 0),
                "source": m.get("source", prm["source"]),
                "cold_balance": m.get("cold_balance", False),
                "v4_ticks_crossed": m.get("v4_ticks_crossed", 0),
                "v4_netted": m.get("v4_netted", 0),
                "v4_loan_netted": m.get("v4_loan_netted", 0),
                "wraps": m.get("wraps", 0),
                "unwraps": m.get("unwraps", 0),
                "calldata_gas": m.get("calldata_gas", 0),
                "gas_used": m.get("gas_used", 0),
                "gas_predicted": m.get("gas_predicted", 0),
                "gas_model_default": m.get("gas_model_default", 0),
                "realized_profit": m.get("realized_profit", "0"),
                "reason": m["reason"],
            }
        )
    model, _how = fitted_model(table)
    for r in table:
        fit = model.estimate(gas_shape(r)) if model is not None and r["executed"] else 0
        r["gas_fitted"] = fit
        r["fit_residual"] = r["gas_used"] - fit if r["executed"] else 0
    return table


def _label(r: dict[str, Any]) -> str:
    src = "" if r["source"] == "balancer_v2" else f" ({r['source']})"
    return str(r["shape"]) + src + ("" if r["dust"] else ", cold")


def plots(table: Sequence[dict[str, Any]], out: Path) -> list[Figure]:
    import matplotlib.pyplot as plt  # the report layer chose the Agg backend on import

    done = [r for r in table if r["executed"]]
    shocks = sorted({r["shock_weth"] for r in done}) or [0]
    width = max(sum(r["shock_weth"] == w for r in done) for w in shocks)
    fig, axes = plt.subplots(
        len(shocks), 1, figsize=(max(8.0, 0.8 * width + 2), 3.6 * len(shocks)), squeeze=False
    )
    series = [
        ("gas used", "gas_used"),
        ("fitted GasModel", "gas_fitted"),
        ("trader's prediction", "gas_predicted"),
    ]
    bar = 0.8 / len(series)
    for ax, w in zip(axes[:, 0], shocks, strict=True):
        sub = [r for r in done if r["shock_weth"] == w]
        for i, (name, key) in enumerate(series):
            ax.bar([j + i * bar for j in range(len(sub))], [r[key] for r in sub], bar, label=name)
        ticks = [j + bar for j in range(len(sub))]
        ax.set_xticks(ticks, [_label(r) for r in sub], rotation=25, ha="right", fontsize=8)
        ax.set_ylabel("gas")
        ax.set_title(f"after a {w} WETH sale into Uniswap V2 WETH/USDC", fontsize=10)
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, out / "gas_by_route.png")
    model, how = fitted_model(table)
    fitted = figures(model) if model else ""
    fig2, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    mixes: tuple[tuple[str, Callable[[dict[str, Any]], bool]], ...] = (
        ("V2 only", lambda r: r["v3_hops"] == r["balancer_hops"] == r["v4_hops"] == 0),
        ("with V3", lambda r: r["v3_hops"] > 0 and r["balancer_hops"] == r["v4_hops"] == 0),
        ("with Balancer", lambda r: r["balancer_hops"] > 0),
        ("with V4", lambda r: r["v4_hops"] > 0 and r["balancer_hops"] == 0),
    )
    for name, keep in mixes:
        sub = [r for r in done if keep(r)]
        if sub:
            ax1.scatter([r["hops"] for r in sub], [r["gas_used"] for r in sub], label=name)
            ax2.scatter([r["gas_used"] for r in sub], [r["gas_fitted"] for r in sub], label=name)
    ax1.set_xlabel("hops")
    ax1.set_ylabel("gas used")
    ax1.set_xticks(sorted({r["hops"] for r in done}) or [2])
    ax1.set_title("gas by hop count and venue mix")
    if done:
        lo = min(min(r["gas_used"], r["gas_fitted"]) for r in done)
        hi = max(max(r["gas_used"], r["gas_fitted"]) for r in done)
        ax2.plot([lo, hi], [lo, hi], color="grey", linewidth=1, label="fit = receipt")
    ax2.set_xlabel("gas used (receipt)")
    ax2.set_ylabel("fitted GasModel")
    ax2.set_title("receipts against the fitted model")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig2.tight_layout()
    save(fig2, out / "gas_fit.png")
    return [
        Figure(
            "gas_by_route.png",
            "gas used, fitted model and the trader's prediction (default GasModel) per route",
        ),
        Figure(
            "gas_fit.png",
            f"gas by hop count and venue mix; fitted GasModel ({how}): {fitted}",
        ),
    ]


EXPERIMENT = Experiment(
    name="hop-gas",
    title="Hop gas: executeArb gas by hop count and venue mix, with the fitted gas model",
    question=(
        "What does one flash-loan arbitrage cost in gas per hop and per venue, and how well "
        "does a linear gas model fitted on the receipts predict it?"
    ),
    grid=grid,
    run_point=run_point,
    rows=rows,
    plots=plots,
    notes=(
        "Every point: a whale sells shock_weth WETH into Uniswap V2 WETH/USDC, the market is "
        "built on the shocked fork, one route of the given shape is sized by the engine for "
        "the point's lender (the preferred one of that kind off the route that can lend the "
        "input) and sent through the trader in a fresh block. The diamond holds 1 wei of USDC, "
        "WETH, DAI and USDT; without dust (cold_balance), none of the route token. A "
        "route's Balancer pools trade a millionth of a balance a block before (no TWAP "
        "oracle sample due, as on an active pool). "
        "gas_fitted is GasModel.fit over this run's receipts (exact least squares, rounded to "
        "whole gas; calldata gas is computed, not fitted); gas_predicted is the trader's "
        "prediction (the default GasModel on the exact calldata); gas_model_default the "
        "default model on the receipt's true shape (cold balance included)."
    ),
)
