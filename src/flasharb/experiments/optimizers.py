"""optimizers: how much profit each way of sizing a route leaves, and what it costs in time.

Each point sells `size_weth` WETH into one venue's deepest WETH pool, builds the market on the
shocked fork, and takes its `cycles` best opportunities of each route kind, V2 only and mixed
(the ranked list: nothing is sent, so the selection policy, which keeps a pool-disjoint set to
send, does not apply; the V2-only routes are where the exact search is proven optimal). Every
cycle is sized three ways on the market's exact pool states:

- exact: `search.exact.size_cycle`, the engine's integer sizing (the V2 closed form searched
  and proven optimal on the exact saw-tooth; quote-based bracket, golden section and tooth
  search for mixed routes, which proves nothing).
- closed form: the smooth optimum of the route, floored, and the exact profit at that input.
  For V2-only routes it is the composed Moebius map's `(sqrt(KM) - M) / N`, exact in
  integers; for routes with V3 or Balancer hops, the optimum of their constant-product
  stand-in (V3 virtual reserves at the current price, Balancer spot price and depth).
- generic: what a user without the pool math would do with only a quote function: bound the
  input (2^112, halved until the route quotes), then Brent's bounded minimiser
  (golden section + parabolic interpolation, the fminbound algorithm) on the float input,
  minimising minus the exact profit at the rounded input; the result is rounded.

Each method's gap is against the best profit any of the three found for the cycle (on V2-only
routes that is the proven optimum). Times are wall-clock per cycle, the minimum of `repeat`
runs, in the worker process (noisy on a shared machine; the profit gaps are exact and
repeatable).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from flasharb.amm.pool import PoolState
from flasharb.chain import addresses as A
from flasharb.errors import FlasharbError
from flasharb.execute.shock import shock
from flasharb.experiments.base import Context, Experiment, Figure, Metrics, Params
from flasharb.experiments.common import deepest_weth_pool
from flasharb.kinds import HopKind
from flasharb.report.plots import save
from flasharb.search.cycles import Cycle
from flasharb.search.exact import route_seed, size_cycle
from flasharb.search.market import Market, MarketConfig
from flasharb.search.sizing import closed_form_amount_in, state_for
from flasharb.search.valuation import EthPrice

__all__ = ["EXPERIMENT", "brent_max", "generic_size"]

MAX_INPUT = 2**112 - 1  # LibRoute.MAX_AMOUNT_IN: nothing larger can be sent
METHODS = ("exact", "closed_form", "generic")
GRIDS: dict[str, list[Params]] = {
    "small": [
        {"venue": "uniswap_v2", "size_weth": 300, "cycles": 3, "repeat": 3},
        {"venue": "uniswap_v3", "size_weth": 300, "cycles": 3, "repeat": 3},
    ],
    "full": [
        {"venue": v, "size_weth": s, "cycles": 20, "repeat": 5}
        for v in ("uniswap_v2", "sushiswap", "uniswap_v3", "balancer")
        for s in (100, 300, 1000)
    ],
}


def grid(size: str) -> list[Params]:
    return [dict(p) for p in GRIDS[size]]


# ---------------------------------------------------------------- the three optimisers


def profit_at(cycle: Cycle, states: Mapping[str, PoolState], x: int) -> int | None:
    """Exact profit of `cycle` at input `x`, hop by hop; None where a hop raises or pays 0."""
    amount = x
    try:
        for hop in cycle.hops:
            amount = state_for(states, hop).quote_exact_in(hop.token_in, hop.token_out, amount)
            if amount <= 0:
                return None
    except FlasharbError:
        return None
    return amount - x


def closed_form_size(cycle: Cycle, states: Mapping[str, PoolState]) -> int:
    """The smooth optimum, floored: exact Moebius for V2 routes, the stand-in's otherwise."""
    if all(h.kind is HopKind.UNISWAP_V2 for h in cycle.hops):
        return closed_form_amount_in(cycle, states)  # type: ignore[arg-type]  # V2 states
    return route_seed(cycle, states)


_SQRT_EPS = math.sqrt(2.2e-16)
_GOLDEN = 0.5 * (3.0 - math.sqrt(5.0))


def brent_max(
    f: Callable[[float], float], a: float, b: float, xatol: float = 1.0, maxfun: int = 500
) -> float:
    """x in [a, b] maximising f: Brent's bounded method (golden section with parabolic
    interpolation; the algorithm of Forsythe, Malcolm & Moler's fmin, as in fminbound)."""

    def g(x: float) -> float:
        return -f(x)

    fulc = nfc = xf = a + _GOLDEN * (b - a)
    rat = e = 0.0
    fx = g(xf)
    num = 1
    ffulc = fnfc = fx
    xm = 0.5 * (a + b)
    tol1 = _SQRT_EPS * abs(xf) + xatol / 3.0
    tol2 = 2.0 * tol1
    while abs(xf - xm) > (tol2 - 0.5 * (b - a)) and num < maxfun:
        golden = True
        if abs(e) > tol1:  # try a parabola through the three best points
            golden = False
            r = (xf - nfc) * (fx - ffulc)
            q = (xf - fulc) * (fx - fnfc)
            p = (xf - fulc) * q - (xf - nfc) * r
            q = 2.0 * (q - r)
            if q > 0.0:
                p = -p
            q = abs(q)
            r, e = e, rat
            if abs(p) < abs(0.5 * q * r) and q * (a - xf) < p < q * (b - xf):
                rat = p / q
                x = xf + rat
                if (x - a) < tol2 or (b - x) < tol2:
                    rat = tol1 if xm >= xf else -tol1
            else:
                golden = True
        if golden:
            e = (a - xf) if xf >= xm else (b - xf)
            rat = _GOLDEN * e
        x = xf + (1.0 if rat >= 0 else -1.0) * max(abs(rat), tol1)
        fu = g(x)
        num += 1
        if fu <= fx:
            if x < xf:
                b = xf
            else:
                a = xf
            fulc, ffulc, nfc, fnfc, xf, fx = nfc, fnfc, xf, fx, x, fu
        else:
            if x < xf:
                a = x
            else:
                b = x
            if fu <= fnfc or nfc == xf:
                fulc, ffulc, nfc, fnfc = nfc, fnfc, x, fu
            elif fu <= ffulc or fulc in (xf, nfc):
                fulc, ffulc = x, fu
        xm = 0.5 * (a + b)
        tol1 = _SQRT_EPS * abs(xf) + xatol / 3.0
        tol2 = 2.0 * tol1
    return xf


def generic_size(cycle: Cycle, states: Mapping[str, PoolState]) -> tuple[int, int]:
    """(input, quote evaluations) of the generic optimiser: a bound where the route still
    quotes, then Brent on the float input; an input that cannot be quoted scores as a loss of
    the whole input."""
    evals = 0

    def profit(x: int) -> int | None:
        nonlocal evals
        evals += 1
        return profit_at(cycle, states, x)

    hi = MAX_INPUT
    while hi > 1 and profit(hi) is None:
        hi //= 2

    def f(xf: float) -> float:
        x = max(int(round(xf)), 1)
        p = profit(x)
        return float(-x if p is None else p)

    x = max(int(round(brent_max(f, 1.0, float(hi)))), 1)
    return x, evals


# ---------------------------------------------------------------- one point


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[Any, int]:
    best, out = None, None
    for _ in range(repeat):
        t = time.perf_counter_ns()
        out = fn()
        elapsed = time.perf_counter_ns() - t
        best = elapsed if best is None else min(best, elapsed)
    return out, int(best or 0)


def _route_kind(cycle: Cycle) -> str:
    return "V2 only" if all(h.kind is HopKind.UNISWAP_V2 for h in cycle.hops) else "mixed"


def run_point(ctx: Context, p: Params) -> Metrics:
    w3 = ctx.w3
    pool = deepest_weth_pool(w3, p["venue"])
    shock(w3, pool, A.WETH, int(p["size_weth"]) * 10**18)
    market = Market.build(w3, MarketConfig(max_hops=3))
    states = market.states
    found = market.opportunities()
    repeat = int(p["repeat"])
    cycles = []
    each = int(p["cycles"])  # the best of each route kind
    chosen = [
        o
        for kind in ("V2 only", "mixed")
        for o in [q for q in found if _route_kind(q.cycle) == kind][:each]
    ]
    for opp in chosen:
        c = opp.cycle
        sized, t_exact = _timed(partial(size_cycle, c, states), repeat)
        x_cf, t_cf = _timed(partial(closed_form_size, c, states), repeat)
        (x_gen, evals), t_gen = _timed(partial(generic_size, c, states), repeat)
        t_cf += _timed(partial(profit_at, c, states, x_cf), repeat)[1]  # + its exact quote
        got = {
            "exact": sized.profit,
            "closed_form": (profit_at(c, states, x_cf) or 0) if x_cf > 0 else 0,
            "generic": profit_at(c, states, x_gen) or 0,
        }
        best = max(got.values())  # the exact search is proven optimal on V2 routes only

        def eth(v: int, price: EthPrice = opp.price) -> str:
            return str(price.to_eth(v))

        cycles.append(
            {
                "route": " > ".join(h.kind.label.removeprefix("uniswap_") for h in c.hops),
                "route_kind": _route_kind(c),
                "token": c.token,
                "pools": list(c.pools),
                "exact_proven": sized.exact,
                "exact_amount_in": str(sized.amount_in),
                "closed_form_amount_in": str(x_cf),
                "generic_amount_in": str(x_gen),
                "generic_evals": evals,
                "best_profit_eth_wei": eth(best),
                **{f"{m}_profit": str(got[m]) for m in METHODS},
                **{f"{m}_gap_eth_wei": eth(best - got[m]) for m in METHODS},
                "exact_ns": t_exact,
                "closed_form_ns": t_cf,
                "generic_ns": t_gen,
            }
        )
    return {"block": market.block, "opportunities": len(found), "cycles": cycles}


# ---------------------------------------------------------------- report


def _ppb(gap: int, of: int) -> int:
    return gap * 10**9 // of if of > 0 else 0


def rows(points: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for pt in points:
        prm = pt["params"]
        for i, c in enumerate(pt["metrics"]["cycles"], 1):
            profit = {m: int(c[f"{m}_profit"]) for m in METHODS}
            best = max(profit.values())
            row: dict[str, Any] = {
                "venue": prm["venue"],
                "size_weth": prm["size_weth"],
                "rank": i,
                "route": c["route"],
                "route_kind": c["route_kind"],
                "exact_proven": c["exact_proven"],
                "best_profit": str(best),
                "best_profit_eth_wei": c["best_profit_eth_wei"],
            }
            for m in METHODS:
                row[f"{m}_gap"] = str(best - profit[m])
                row[f"{m}_gap_eth_wei"] = c[f"{m}_gap_eth_wei"]
                row[f"{m}_gap_ppb"] = _ppb(best - profit[m], best)
            row["generic_evals"] = c["generic_evals"]
            for m in METHODS:
                row[f"{m}_us"] = c[f"{m}_ns"] // 1000
            out.append(row)
    return out


def summary(table: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per route kind and method: cycles, median and max gap (ppb), median time (us)."""
    out: dict[str, dict[str, Any]] = {}
    for kind in ("V2 only", "mixed"):
        sub = [r for r in table if r["route_kind"] == kind]
        if not sub:
            continue
        entry: dict[str, Any] = {"cycles": len(sub)}
        for m in METHODS:
            entry[f"{m}_median_us"] = statistics.median_low([r[f"{m}_us"] for r in sub])
            gaps = [r[f"{m}_gap_ppb"] for r in sub]
            entry[f"{m}_median_gap_ppb"] = statistics.median_low(gaps)
            entry[f"{m}_max_gap_ppb"] = max(gaps)
            entry[f"{m}_best"] = sum(1 for r in sub if r[f"{m}_gap"] == "0")
        out[kind] = entry
    return out


def plots(table: Sequence[dict[str, Any]], out: Path) -> list[Figure]:
    import matplotlib.pyplot as plt  # the report layer chose the Agg backend on import

    kinds = [k for k in ("V2 only", "mixed") if any(r["route_kind"] == k for r in table)]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for j, (m, marker) in enumerate(zip(METHODS, "os^", strict=True)):
        xs, ys = [], []
        for i, k in enumerate(kinds):
            gaps = [r[f"{m}_gap_ppb"] for r in table if r["route_kind"] == k]
            xs += [i + (j - 1) * 0.25 for _ in gaps]
            ys += gaps
        ax1.scatter(xs, ys, marker=marker, label=m)
    ax1.set_yscale("symlog", linthresh=1)
    ax1.set_xticks(range(len(kinds)), kinds)
    ax1.set_ylabel("gap to the best input found (ppb)")
    ax1.set_title("profit left by each method, per cycle")
    width = 0.8 / len(METHODS)
    stats = summary(table)
    for i, m in enumerate(METHODS):
        ys = [stats[k][f"{m}_median_us"] for k in kinds]
        ax2.bar([j + i * width for j in range(len(kinds))], ys, width, label=m)
    ax2.set_xticks([j + 0.4 - width / 2 for j in range(len(kinds))], kinds)
    ax2.set_yscale("log")
    ax2.set_ylabel("median time per cycle (us)")
    ax2.set_title("time per cycle")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, out / "optimizers.png")
    lines = "; ".join(
        f"{k}: {s['cycles']} cycles; median (max) gap in ppb of the best profit found: "
        + ", ".join(
            f"{m} {s[f'{m}_median_gap_ppb']} ({s[f'{m}_max_gap_ppb']}, best on {s[f'{m}_best']})"
            for m in METHODS
        )
        + "; median time per cycle: "
        + ", ".join(f"{m} {s[f'{m}_median_us']} us" for m in METHODS)
        for k, s in stats.items()
    )
    return [Figure("optimizers.png", f"profit gap and time per cycle. {lines}")]


EXPERIMENT = Experiment(
    name="optimizers",
    title="Optimizers: closed form vs exact search vs a generic numeric optimiser",
    question=(
        "How much profit does sizing a route by its closed form, or by a generic numeric "
        "optimiser over a quote function, leave against the exact integer optimum, and how "
        "long does each take per cycle?"
    ),
    grid=grid,
    run_point=run_point,
    rows=rows,
    plots=plots,
    notes=(
        "Gaps are exact integers: the best gross profit (before flash fee and gas) any method "
        "found for the cycle minus the method's, at its rounded input, in the route token (and "
        "in ETH at the market's prices); ppb = parts per billion of that best profit (above 1e9: "
        "the method's input loses money). On V2-only "
        "routes the exact search proves its input optimal (exact_proven); on mixed routes it "
        "is a search too, and another method may beat it by a few units. Closed form: "
        "Moebius x* for V2-only routes, the constant-product stand-in's x* otherwise. "
        "Generic: Brent's bounded method on the float input over [1, the largest input "
        "<= 2^112 the route quotes]. Times: the best of `repeat` runs per cycle, wall-clock, "
        "in the worker."
    ),
)
