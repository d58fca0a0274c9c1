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
   `warm_balancer`: no TWAP oracle sample due).

Everything goes through the one trading path: `Market` sizes, the `Trader` plans, signs,
simulates as mined, sends and reconciles. `GasModel.fit` solves the least squares exactly and
rounds each figure to whole gas; calldata gas is computed per receipt, never fitted.

Run: PYTHONPATH=src:testing .venv/bin/python bench/gas_fit.py [--workers 2] [--run ID]
     [--journal PATH] [--out DIR] [--json PATH]
(`--run ID` reuses a finished hop-gas run of the journal instead of running the grid again.)
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

from flasharb.chain import addresses as A
from flasharb.chain.cheats import balance_of, deal, snapshot
from flasharb.chain.rpc import connect
from flasharb.execute.deploy import Deployment, deploy
from flasharb.execute.keys import signer
from flasharb.execute.shock import shock
from flasharb.execute.trader import Trader
from flasharb.experiments.hop_gas import gas_shape
from flasharb.experiments.runner import rebuild, run_experiment
from flasharb.experiments.shapes import warm_balancer
from flasharb.journal.store import Journal, default_path
from flasharb.kinds import HopKind
from flasharb.paths import reports_dir
from flasharb.replica.lab import start_replica_lab
from flasharb.search.gas import GasModel, GasShape
from flasharb.search.market import Market, MarketConfig
from flasharb.search.rank import Opportunity

MAX_ROUTES = 24  # per scenario: the best route of each hop sequence, ticks and source


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
        batch=opp.source.batch,
        ticks_crossed=opp.ticks_crossed,
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--run", type=int, help="reuse this finished hop-gas run of the journal")
    ap.add_argument("--journal", type=Path)
    ap.add_argument("--out", type=Path, help="the hop-gas report directory")
    ap.add_argument("--json", type=Path, help="write the fit and every receipt here")
    args = ap.parse_args()
    grid, run_id = hop_gas_receipts(args)
    with fork() as (w3, dep):
        scanned = scan_receipts(w3, dep)
    receipts = grid + scanned
    shapes = [r.shape for r in receipts]
    before = GasModel()
    fitted = GasModel.fit(shapes, prior=before)
    print(f"{len(receipts)} receipts: {len(grid)} from hop-gas run {run_id}, {len(scanned)} scan")
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
                            "calldata_gas": r.shape.calldata_gas,
                            "cold_balance": r.shape.cold_balance,
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
