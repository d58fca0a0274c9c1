"""hop-gas: what one executeArb costs by hop count and venue mix, and the gas model fitted on
those receipts.

Each point sells `shock_weth` WETH into Uniswap V2 WETH/USDC, builds one route shape from the
fork's pools (shapes.py), sizes it with the exact pool math for its capital source, and sends it
through the diamond in a fresh block. Recorded per receipt: gas used, ExecGas's prediction on
the exact calldata, the search's default GasModel estimate, and the route's counts (hops per
venue, V3 ticks crossed, hops whose input goes through the diamond, the lender).

The report fits `GasModel` (exact least squares, search/gas.py) on the journal's receipts and
shows each receipt against the fit: the fit is rebuilt from the journal with the report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from flasharb.chain import addresses as A
from flasharb.chain.cheats import deal
from flasharb.errors import FlasharbValueError, TransactionFailed
from flasharb.execute import routes as R
from flasharb.execute.executor import Executor
from flasharb.experiments.base import Context, Experiment, Figure, Metrics, Params
from flasharb.experiments.shapes import SEARCH_SOURCE, funded_plan, shape
from flasharb.report.plots import save
from flasharb.search.gas import GasModel, GasSample

__all__ = ["EXPERIMENT", "fitted_model"]

DUST_TOKENS = (A.USDC, A.WETH, A.DAI, A.USDT)  # 1 wei each: steady-state balance writes

_SMALL = [
    ("2-hop V2", "balancer_v2"),
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
    ("2-hop V2", "uniswap_v2"),
    ("3-hop V2", "uniswap_v2"),
]
GRIDS: dict[str, list[Params]] = {
    "small": [{"shape": s, "source": src, "shock_weth": 500} for s, src in _SMALL],
    "full": [
        {"shape": s, "source": src, "shock_weth": w}
        for w in (250, 500, 1000)
        for s, src in _FULL_SHAPES
    ],
}


def grid(size: str) -> list[Params]:
    return [dict(p) for p in GRIDS[size]]


def run_point(ctx: Context, p: Params) -> Metrics:
    w3 = ctx.w3
    for token in DUST_TOKENS:  # TreasuryFacet leaves 1 wei: balance writes are non-zero
        deal(w3, token, ctx.deployment.diamond, 1)
    R.shock_v2_weth_usdc(w3, int(p["shock_weth"]))
    route = shape(w3, p["shape"])
    kinds = [h.kind for h in route.hops]
    counts = {
        "v2_hops": kinds.count("uniswap_v2"),
        "v3_hops": kinds.count("uniswap_v3"),
        "balancer_hops": kinds.count("balancer"),
        "via_diamond": sum(1 for k in kinds[1:] if k != "uniswap_v2"),
    }
    ex = Executor(w3, ctx.deployment)
    try:
        plan = funded_plan(ex, route, p["source"])
        trade = ex.execute_plan(plan)
    except (FlasharbValueError, TransactionFailed) as exc:
        return {"executed": False, "reason": str(exc)[:160], "hops": len(kinds), **counts}
    source = SEARCH_SOURCE[plan.source.kind]
    return {
        "executed": True,
        "reason": "",
        "hops": len(kinds),
        **counts,
        "ticks_crossed": plan.ticks_crossed,
        "source": source,
        "token": route.token,
        "amount_in": str(plan.amount_in),
        "realized_profit": str(trade.realized_profit),
        "gas_used": trade.gas_used,
        "gas_predicted": trade.gas_predicted,
        "gas_model_default": GasModel().estimate(route, plan.ticks_crossed, source),
    }


def _sample(r: dict[str, Any], gas_used: int = 0) -> GasSample:
    return GasSample(
        uniswap_v2_hops=r["v2_hops"],
        uniswap_v3_hops=r["v3_hops"],
        ticks_crossed=r["ticks_crossed"],
        balancer_hops=r["balancer_hops"],
        via_diamond=r["via_diamond"],
        v3_flash=int(r["source"] == "uniswap_v3_flash"),
        v2_flash=int(r["source"] == "uniswap_v2_flash"),
        gas_used=gas_used,
    )


def fitted_model(table: Sequence[dict[str, Any]]) -> tuple[GasModel | None, str]:
    """GasModel fitted on the executed rows, and how: "all figures", or without the tick
    figure when ticks crossed cannot be told apart from V3 hops (it keeps its default)."""
    done = [r for r in table if r["executed"]]
    if not done:
        return None, "no receipts"
    try:
        return GasModel.fit(_sample(r, r["gas_used"]) for r in done), "least squares"
    except FlasharbValueError:
        pass
    try:  # the default figure per tick crossed taken off each receipt, the rest fitted
        tick = GasModel().per_tick_crossed
        flat = [
            {**r, "ticks_crossed": 0, "gas_used": r["gas_used"] - tick * r["ticks_crossed"]}
            for r in done
        ]
        model = GasModel.fit(_sample(r, r["gas_used"]) for r in flat)
        return model, "least squares, per_tick_crossed kept at its default"
    except FlasharbValueError as exc:
        return None, str(exc)


def _estimate(model: GasModel, r: dict[str, Any]) -> int:
    s = _sample(r)
    return model.estimate_counts(
        s.uniswap_v2_hops,
        s.uniswap_v3_hops,
        s.balancer_hops,
        s.ticks_crossed,
        via_diamond=s.via_diamond,
        source=r["source"],
    )


def rows(points: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    table = []
    for pt in points:
        m, prm = pt["metrics"], pt["params"]
        table.append(
            {
                "shape": prm["shape"],
                "shock_weth": prm["shock_weth"],
                "executed": m["executed"],
                "hops": m["hops"],
                "v2_hops": m["v2_hops"],
                "v3_hops": m["v3_hops"],
                "balancer_hops": m["balancer_hops"],
                "via_diamond": m["via_diamond"],
                "ticks_crossed": m.get("ticks_crossed", 0),
                "source": m.get("source", prm["source"]),
                "gas_used": m.get("gas_used", 0),
                "gas_predicted": m.get("gas_predicted", 0),
                "gas_model_default": m.get("gas_model_default", 0),
                "realized_profit": m.get("realized_profit", "0"),
                "reason": m["reason"],
            }
        )
    model, _how = fitted_model(table)
    for r in table:
        fit = _estimate(model, r) if model is not None and r["executed"] else 0
        r["gas_fitted"] = fit
        r["fit_residual"] = r["gas_used"] - fit if r["executed"] else 0
    return table


def _label(r: dict[str, Any]) -> str:
    src = "" if r["source"] == "balancer_v2" else f" ({r['source'].removesuffix('_flash')})"
    return str(r["shape"]) + src


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
        ("ExecGas prediction", "gas_predicted"),
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
    figures = model.as_dict() if model else {}
    fitted = ", ".join(f"{k} {v:,}" for k, v in figures.items())
    fig2, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    mixes: tuple[tuple[str, Callable[[dict[str, Any]], bool]], ...] = (
        ("V2 only", lambda r: r["v3_hops"] == 0 and r["balancer_hops"] == 0),
        ("with V3", lambda r: r["v3_hops"] > 0 and r["balancer_hops"] == 0),
        ("with Balancer", lambda r: r["balancer_hops"] > 0),
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
        Figure("gas_by_route.png", "gas used, fitted model and ExecGas prediction per route"),
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
        "Every point: a whale sells shock_weth WETH into Uniswap V2 WETH/USDC, one route of "
        "the given shape is sized exactly for its lender (the Balancer Vault unless the route "
        "trades a Balancer pool or the point names another) and sent in a fresh block; the "
        "diamond holds 1 wei of USDC, WETH, DAI and USDT. gas_fitted is GasModel.fit over "
        "this run's receipts (exact least squares, rounded to whole gas); gas_predicted is "
        "ExecGas on the exact calldata; gas_model_default the search's default figures."
    ),
)
