"""Fit the defaults of the one executeArb gas model (`flasharb.search.gas.GasModel`) on receipts
of the replica fork, and print them with every receipt's residual.

The receipts:

1. the hop-gas experiment's full grid (`flasharb experiment hop-gas --size full`): every route
   shape and capital source after 250, 500 and 1,000 WETH sold into Uniswap V2 WETH/USDC, with
   the diamond holding 1 wei of each token (the steady state) and, for some, holding none of
   the route token (its balance written from zero); journaled, its report written as the
   experiment writes it;
2. the scan's own routes (tests/fork/test_scan_gas.py's method): after each scenario's shocks the
   market's best route of every hop sequence, ticks crossed (0, 1, 2+) and capital source,
   batch swaps included, each executed through the trader from the same snapshot, once with the
   diamond holding 1 wei of every token of the route and once with none of the route token;
   their Balancer pools trade a tiny amount first, as hop-gas's do (experiments/shapes.py
   `warm_balancer`: no TWAP oracle sample due);
3. Uniswap V4 routes (issue 16), hand-built until the market reads V4 pools: V4 hops (ERC-20
   and native-ETH pools, one or two in a row, next to V2, V3 and Balancer hops) on every
   capital source, V4 loans netting against their first or last hop, after 500 and 1,000 WETH
   into Uniswap V2 WETH/USDC (and 300 WETH into Balancer's WETH/USDC for the Balancer > V4
   route); V4 states read from the PoolManager and sized with exact quotes
   (testing/flasharb_testing/v4.py); a few with none of the route token in the diamond.

Everything goes through the one trading path: `Market` sizes, the `Trader` plans, signs,
simulates as mined, sends and reconciles. `GasModel.fit` solves the least squares exactly and
rounds each figure to whole gas; calldata gas is computed per receipt, never fitted.

Run: PYTHONPATH=src:testing .venv/bin/python bench/gas_fit.py [--workers 2] [--run ID]
     [--journal PATH] [--out DIR] [--json PATH] [--hold FIGURE ...]
(`--run ID` reuses a finished hop-gas run of the journal instead of running the grid again;
`--hold FIGURE`, repeatable, keeps a figure at its default: the defaults hold `per_batch_hop`,
which no receipt here fits, and `base:inventory`, the other half of a batch swap's estimate.)
`--v4-figures` fits the V4 figures only (base and per-hop V4, V4 ticks, the route's unlock,
netting, wraps), every other figure held at its default, on the receipts without a Balancer
hop: how the V4 defaults were fitted (issue 16). Why: since issue 16's replica added 2023
weighted and stable pools, a Balancer hop's gas depends on the pool and the tokens the Vault
moves, which the one Balancer figure cannot see (the defaults miss the scan's Balancer routes
by up to 16% with no V4 in them), and the search funds every Balancer route with the
zero-fee V4 loan, so fitting on those would push that error into the V4 loan's figure.
Residuals are printed for every receipt. `--v4-only` runs stage 3 alone with `--v4-figures`
(a quick look).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from web3 import Web3

from flasharb.amm.uniswap_v4 import NATIVE
from flasharb.chain import addresses as A
from flasharb.chain.cheats import balance_of, deal, snapshot
from flasharb.chain.rpc import connect
from flasharb.errors import FlasharbValueError
from flasharb.execute.deploy import Deployment, deploy
from flasharb.execute.keys import signer
from flasharb.execute.shock import shock
from flasharb.execute.trader import Trader
from flasharb.experiments.hop_gas import gas_shape
from flasharb.experiments.runner import rebuild, run_experiment
from flasharb.experiments.shapes import warm_balancer
from flasharb.journal.store import Journal, default_path
from flasharb.kinds import HopKind, SourceKind
from flasharb.paths import reports_dir
from flasharb.replica.lab import start_replica_lab
from flasharb.search.capital import FlashSource
from flasharb.search.cycles import Cycle
from flasharb.search.gas import GasModel, GasShape
from flasharb.search.market import Market, MarketConfig
from flasharb.search.rank import Opportunity

MAX_ROUTES = 24  # per scenario: the best route of each hop sequence, ticks and source

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "testing"))
from flasharb_testing import routes as R  # noqa: E402 - test and bench scaffolding
from flasharb_testing import v4 as V4  # noqa: E402


@dataclass(frozen=True, slots=True)
class Receipt:
    what: str  # where it comes from, for the table
    shape: GasShape


def _pool(market: Market, venue: str, a: str, b: str, fee: int | None = None) -> str:
    return market.pool(venue, a, b, fee=fee).address


def _v3_and_balancer(w3: Web3, market: Market) -> None:
    """3M USDC into Uniswap V3 WETH/USDC 0.3%, 300 WETH into Balancer's WETH/USDC 50/50."""
    shock(w3, _pool(market, "uniswap_v3", A.WETH, A.USDC, 3000), A.USDC, 3_000_000 * 10**6)
    shock(w3, _pool(market, "balancer", A.WETH, A.USDC), A.WETH, 300 * 10**18)


def _v2(w3: Web3, market: Market) -> None:
    """500 WETH into Uniswap V2 WETH/USDC (the demo's opportunity)."""
    shock(w3, _pool(market, "uniswap_v2", A.WETH, A.USDC), A.WETH, 500 * 10**18)


SCENARIOS: dict[str, Callable[[Web3, Market], None]] = {
    "v3+balancer": _v3_and_balancer,
    "v2": _v2,
}


def best_of_each_shape(market: Market, limit: int = MAX_ROUTES) -> list[Opportunity]:
    """The market's best opportunity of each (hop kinds, ticks crossed up to 2, source)."""
    found: dict[tuple[tuple[HopKind, ...], int, str], Opportunity] = {}
    for opp in market.opportunities():
        key = (tuple(h.kind for h in opp.cycle.hops), min(opp.ticks_crossed, 2), opp.flash_source)
        found.setdefault(key, opp)
        if len(found) == limit:
            break
    return list(found.values())


def execute(
    w3: Web3, dep: Deployment, market: Market, opp: Opportunity, *, dust: bool
) -> GasShape | str:
    """`opp` through a fresh trader (inside the caller's snapshot), as a receipt; the diamond
    holds 1 wei of every token of the route (without `dust`: of all but the route token). The
    trader's reason when it refuses."""
    tokens = {h.token_out for h in opp.cycle.hops}
    for token in sorted(tokens):
        if dust or token != opp.cycle.token:
            deal(w3, token, dep.diamond, 1)
    cold = balance_of(w3, opp.cycle.token, dep.diamond) == 0
    t = Trader(w3, dep, signer(dep.owner))
    prepared = t.prepare([opp], market.head)[0]
    if not prepared.ok:
        return prepared.refused or "refused"
    trade = t.reconcile(t.send(prepared))
    return GasShape.of(
        opp.cycle,
        source=opp.source.kind,
        native_loan=opp.source.native,
        batch=opp.source.batch,
        ticks_crossed=opp.ticks_crossed,
        v4_ticks_crossed=opp.v4_ticks_crossed,  # the scan's V4 routes cross V4 ticks too
        calldata=prepared.calldata,
        cold_balance=cold,
        gas_used=trade.gas_used,
    )


@contextmanager
def fork() -> Iterator[tuple[Web3, Deployment]]:
    with start_replica_lab() as lab:
        w3 = connect(lab.rpc_url)
        yield w3, deploy(w3, w3.eth.accounts[0], lab.rpc_url, record=False)


def scan_receipts(w3: Web3, dep: Deployment) -> list[Receipt]:
    out = []
    for name, scenario in SCENARIOS.items():
        with snapshot(w3):
            scenario(w3, Market.build(w3, MarketConfig(max_hops=2)))  # to find the pools
            market = Market.build(w3, MarketConfig(max_hops=3))
            if warm_balancer(w3, market, [o.cycle for o in best_of_each_shape(market)]):
                market.update()  # their TWAP oracles have no sample due, as on active pools
            for opp in best_of_each_shape(market):
                label = " > ".join(h.kind.label for h in opp.cycle.hops)
                for dust in (True, False):
                    with snapshot(w3):
                        shape = execute(w3, dep, market, opp, dust=dust)
                    what = f"scan {name}: {label} ({opp.flash_source}, {opp.ticks_crossed} ticks)"
                    what += "" if dust else ", cold"
                    if isinstance(shape, str):
                        print(f"  not executed: {what}: {shape}", file=sys.stderr)
                    else:
                        out.append(Receipt(what, shape))
    return out


def hop_gas_receipts(args: argparse.Namespace) -> tuple[list[Receipt], int]:
    out_dir = args.out or reports_dir() / "hop-gas"
    with Journal(args.journal or default_path()) as journal:
        if args.run is None:
            report = run_experiment("hop-gas", journal, out_dir, size="full", workers=args.workers)
        else:
            report = rebuild("hop-gas", journal, out_dir, args.run)
    receipts = []
    for r in report["rows"]:
        if not r["executed"]:
            print(f"  not executed: {r['shape']} ({r['source']}): {r['reason']}", file=sys.stderr)
            continue
        what = f"hop-gas {r['shape']} ({r['source']}, {r['shock_weth']} WETH"
        receipts.append(Receipt(what + ("" if r["dust"] else ", cold") + ")", gas_shape(r)))
    return receipts, int(report["run_id"])


# ---------------------------------------------------------------- stage 3: V4 routes


def _uni(w3: Web3) -> object:
    return R.pool(w3, "uniswap_v2", A.WETH, A.USDC)


V4_SHAPES: dict[str, Callable[[Web3], Cycle]] = {
    "V2 > V4": lambda w3: V4.cycle(
        A.USDC, (_uni(w3), A.WETH), (V4.key(w3, A.WETH, A.USDC, fee=500), A.USDC)
    ),
    "V2 > V4 native": lambda w3: V4.cycle(
        A.USDC, (_uni(w3), A.WETH), (V4.key(w3, NATIVE, A.USDC, fee=500), A.USDC)
    ),
    "V4 > V2": lambda w3: V4.cycle(
        A.WETH, (V4.key(w3, A.WETH, A.USDC, fee=500), A.USDC), (_uni(w3), A.WETH)
    ),
    "V4 native > V2": lambda w3: V4.cycle(
        A.WETH, (V4.key(w3, NATIVE, A.USDC, fee=3000), A.USDC), (_uni(w3), A.WETH)
    ),
    "V2 > V4 > V4": lambda w3: V4.cycle(
        A.USDC,
        (_uni(w3), A.WETH),
        (V4.key(w3, A.WETH, A.USDT, fee=500), A.USDT),
        (V4.key(w3, A.USDC, A.USDT, fee=100), A.USDC),
    ),
    "V2 > V4 native > V4": lambda w3: V4.cycle(
        A.USDC,
        (_uni(w3), A.WETH),
        (V4.key(w3, NATIVE, A.DAI, fee=500), A.DAI),
        (V4.key(w3, A.USDC, A.DAI, fee=10), A.USDC),
    ),
    "V4 > V2 > V4 native": lambda w3: V4.cycle(
        A.DAI,
        (V4.key(w3, A.USDC, A.DAI, fee=10), A.USDC),
        (_uni(w3), A.WETH),
        (V4.key(w3, NATIVE, A.DAI, fee=500), A.DAI),
    ),
    "V2 > V4 native > V3": lambda w3: V4.cycle(
        A.USDC,
        (_uni(w3), A.WETH),
        (V4.key(w3, NATIVE, A.DAI, fee=3000), A.DAI),
        (R.pool(w3, "uniswap_v3", A.DAI, A.USDC, fee=100), A.USDC),
    ),
    "V2 > V3 > V4": lambda w3: V4.cycle(
        A.USDC,
        (_uni(w3), A.WETH),
        (R.pool(w3, "uniswap_v3", A.WETH, A.DAI, fee=500), A.DAI),
        (V4.key(w3, A.USDC, A.DAI, fee=10), A.USDC),
    ),
    "V2 > V4 native > V2": lambda w3: V4.cycle(
        A.USDC,
        (_uni(w3), A.WETH),
        (V4.key(w3, NATIVE, A.DAI, fee=500), A.DAI),
        (R.pool(w3, "uniswap_v2", A.USDC, A.DAI), A.USDC),
    ),
}
V4_BALANCER_SHAPES: dict[str, Callable[[Web3], Cycle]] = {
    "Bal > V4": lambda w3: V4.cycle(
        A.USDC,
        (R.pool(w3, "balancer", A.WETH, A.USDC), A.WETH),
        (V4.key(w3, A.WETH, A.USDC, fee=500), A.USDC),
    ),
}
V4_SOURCES = ("balancer_v2", "uniswap_v3", "uniswap_v2", "inventory", "uniswap_v4", "v4_native")
V4_COLD = {("V2 > V4", "balancer_v2"), ("V4 > V2", "uniswap_v4"), ("V2 > V4 > V4", "uniswap_v4")}


def v4_source(w3: Web3, kind: str, route: Cycle) -> FlashSource | None:
    """A lender of `kind` for `route` (off the route), or None if the route cannot use it."""
    token, pools = route.token, set(route.pools)
    balancer_hop = any(h.kind is HopKind.BALANCER for h in route.hops)
    if kind == "balancer_v2":
        return None if balancer_hop else R.balancer(w3)
    if kind in ("uniswap_v4", "v4_native"):
        native = kind == "v4_native"
        return None if native and token != A.WETH else FlashSource.uniswap_v4(native=native)
    if kind == "inventory":
        return FlashSource.inventory()
    venue = "uniswap_v3" if kind == "uniswap_v3" else "uniswap_v2"
    for info in sorted(R.registry(w3), key=lambda p: (p.fee, p.address)):
        if info.venue == venue and token in info.tokens and info.address not in pools:
            return R.v3_lender(info, token) if venue == "uniswap_v3" else R.v2_lender(info, token)
    return None


def _v4_receipt(
    w3: Web3, dep: Deployment, route: Cycle, src: FlashSource, *, dust: bool
) -> GasShape | str:
    for token in {h.token_out for h in route.hops}:
        if dust or token != route.token:
            deal(w3, token, dep.diamond, 1)
    try:
        plan, _ = V4.sized_plan(w3, route, src)
    except FlasharbValueError as exc:
        return str(exc)
    if src.kind is SourceKind.INVENTORY:
        deal(w3, route.token, dep.diamond, plan.amount_in + (1 if dust else 0))
    cold = balance_of(w3, route.token, dep.diamond) == 0
    t = Trader(w3, dep, signer(dep.owner))
    t.resync_nonce()
    prepared = t.prepare_plans([plan], R.head(w3))[0]
    if not prepared.ok:
        return prepared.error or prepared.refused or "refused"
    trade = t.reconcile(t.send(prepared))
    assert trade.realized_profit == trade.simulated_profit == plan.predicted_profit
    return GasShape.of(
        route,
        source=src.kind,
        native_loan=src.native,
        ticks_crossed=plan.ticks_crossed,
        v4_ticks_crossed=plan.v4_ticks_crossed,
        calldata=prepared.calldata,
        cold_balance=cold,
        gas_used=trade.gas_used,
    )


def v4_receipts(w3: Web3, dep: Deployment) -> list[Receipt]:
    out = []

    def run(scenario: str, shapes: dict[str, Callable[[Web3], Cycle]]) -> None:
        for name, build in shapes.items():
            route = build(w3)
            for kind in V4_SOURCES:
                src = v4_source(w3, kind, route)
                if src is None:
                    continue
                for dust in (True, False) if (name, kind) in V4_COLD else (True,):
                    with snapshot(w3):
                        shape = _v4_receipt(w3, dep, route, src, dust=dust)
                    what = f"v4 {scenario}: {name} ({kind}{'' if dust else ', cold'})"
                    if isinstance(shape, str):
                        print(f"  not executed: {what}: {shape[:120]}", file=sys.stderr)
                    else:
                        out.append(Receipt(what, shape))

    for weth in (500, 1000):
        with snapshot(w3):
            shock(w3, R.pool(w3, "uniswap_v2", A.WETH, A.USDC).address, A.WETH, weth * 10**18)
            run(f"{weth} WETH into V2", V4_SHAPES)
    with snapshot(w3):
        bal = R.pool(w3, "balancer", A.WETH, A.USDC)
        shock(w3, bal.address, A.WETH, 300 * 10**18)
        market = Market.build(w3, MarketConfig(max_hops=2))
        if warm_balancer(w3, market, [V4_BALANCER_SHAPES["Bal > V4"](w3)]):
            market.update()
        run("300 WETH into Balancer", V4_BALANCER_SHAPES)
    return out


V4_FIGURES = (
    "base:uniswap_v4",
    "per_hop:uniswap_v4",
    "per_v4_tick_crossed",
    "v4_unlock",
    "v4_netted",
    "v4_loan_netted",
    "wrap",
    "unwrap",
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--run", type=int, help="reuse this finished hop-gas run of the journal")
    ap.add_argument("--journal", type=Path)
    ap.add_argument("--out", type=Path, help="the hop-gas report directory")
    ap.add_argument("--json", type=Path, help="write the fit and every receipt here")
    ap.add_argument("--v4-only", action="store_true", help="stage 3 only, V4 figures only")
    ap.add_argument("--v4-figures", action="store_true", help="fit the V4 figures only")
    ap.add_argument(
        "--hold",
        action="append",
        default=[],
        metavar="FIGURE",
        help="keep FIGURE at its default (repeatable; e.g. per_batch_hop, which no receipt fits)",
    )
    args = ap.parse_args()
    if args.v4_only:
        grid, run_id, scanned = [], 0, []
        with fork() as (w3, dep):
            v4 = v4_receipts(w3, dep)
    else:
        grid, run_id = hop_gas_receipts(args)
        with fork() as (w3, dep):
            scanned = scan_receipts(w3, dep)
            v4 = v4_receipts(w3, dep)
    receipts = grid + scanned + v4
    shapes = [r.shape for r in receipts]
    before = GasModel()
    only_v4 = args.v4_only or args.v4_figures
    hold = [f for f in GasModel.figure_names() if f not in V4_FIGURES] if only_v4 else []
    hold += [f for f in args.hold if f not in hold]
    fit_on = [s for s in shapes if HopKind.BALANCER not in s.kinds] if only_v4 else shapes
    fitted = GasModel.fit(fit_on, prior=before, hold=hold)
    print(
        f"{len(receipts)} receipts: {len(grid)} from hop-gas run {run_id}, {len(scanned)} scan, "
        f"{len(v4)} V4"
    )
    print(f"{'receipt':<72} {'gas used':>9} {'default':>9} {'fitted':>9} {'resid':>7}")
    for r in receipts:
        used, old, new = r.shape.gas_used, before.estimate(r.shape), fitted.estimate(r.shape)
        print(f"{r.what[:72]:<72} {used:>9,} {old:>9,} {new:>9,} {used - new:>+7,}")

    def worst(model: GasModel) -> tuple[int, float, str]:
        res = [
            (abs(x), abs(x) / s.gas_used, r.what)
            for x, s, r in zip(model.residuals(shapes), shapes, receipts, strict=True)
        ]
        return max(res, key=lambda t: t[1])

    for name, model in (("defaults before", before), ("fitted", fitted)):
        gas, rel, what = worst(model)
        print(f"{name}: worst residual {gas:,} gas ({rel:.2%}) on {what}")
        print(f"  {json.dumps(model.as_dict())}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "hop_gas_run": run_id,
                    "receipts": len(receipts),
                    "before": before.as_dict(),
                    "fitted": fitted.as_dict(),
                    "worst_before": worst(before)[:2],
                    "worst_fitted": worst(fitted)[:2],
                    "rows": [
                        {
                            "receipt": r.what,
                            "kinds": [k.label for k in r.shape.kinds],
                            "source": r.shape.source.label,
                            "batch": r.shape.batch,
                            "ticks_crossed": r.shape.ticks_crossed,
                            "v4_ticks_crossed": r.shape.v4_ticks_crossed,
                            "v4_netted": r.shape.v4_netted,
                            "v4_loan_netted": r.shape.v4_loan_netted,
                            "wraps": r.shape.wraps,
                            "unwraps": r.shape.unwraps,
                            "calldata_gas": r.shape.calldata_gas,
                            "cold_balance": r.shape.cold_balance,
                            "hop_gas": r.shape.hop_gas,
                            "gas_used": r.shape.gas_used,
                            "default": before.estimate(r.shape),
                            "fitted": fitted.estimate(r.shape),
                        }
                        for r in receipts
                    ],
                },
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
