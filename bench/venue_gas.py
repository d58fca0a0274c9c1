"""What a swap through each Balancer venue costs beyond the GasModel's BALANCER figure: the
`hop_gas` of `flasharb.venues.balancer_weighted` (weighted-pool-v3) and `balancer_stable`.

For every Balancer pool of the replica: a shock on it, the market built, the best opportunity
through it whose other hops are not Balancer hops (so the residual is this pool's alone), sent
through the trader from a snapshot with the diamond holding dust (the defaults' condition, after
a warm-up swap: no oracle sample due); the residual is the receipt's gas used less the default
model's estimate of the same shape without any venue's own figure. Printed per venue: the
median residual (the 20210418 pools', on which the BALANCER figure was fitted, should be near
0), and each pool's.

Run: PYTHONPATH=src:testing .venv/bin/python bench/venue_gas.py
"""

from __future__ import annotations

import statistics
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "testing"))  # flasharb_testing

from flasharb.chain import addresses as A
from flasharb.chain.cheats import deal, mine, snapshot
from flasharb.chain.rpc import connect
from flasharb.execute.deploy import deploy
from flasharb.execute.shock import shock
from flasharb.kinds import HopKind
from flasharb.replica.lab import open_lab
from flasharb.search.gas import GasModel, GasShape
from flasharb.search.market import Market, MarketConfig
from flasharb_testing import routes as R

VENUES = ("balancer", "balancer_weighted_v3", "balancer_stable")
DUST = (A.USDC, A.WETH, A.DAI, A.USDT, A.WBTC)
SHOCK = {"balancer": 40, "balancer_weighted_v3": 40, "balancer_stable": 3}  # 1/N of a balance


def main() -> None:
    model = GasModel()
    with open_lab() as lab:
        w3 = connect(lab.rpc_url)
        dep = deploy(w3, w3.eth.accounts[0], lab.rpc_url, record=False)
        for token in DUST:
            deal(w3, token, dep.diamond, 1)
        market = Market.build(w3, MarketConfig(max_hops=3, screen=False))
        residuals: dict[str, list[tuple[int, str]]] = {v: [] for v in VENUES}
        for venue in VENUES:
            for info in market.registry.of_venue(venue):
                with snapshot(w3):
                    state = market.states[info.uid]
                    tokens = [t for t in info.tokens if t != info.address]
                    held = state.balances[info.tokens.index(tokens[0])]  # type: ignore[attr-defined]
                    shock(w3, info.address, tokens[0], held // 1_000_000, tokens[1])  # warm
                    mine(w3, 1)
                    shock(w3, info.address, tokens[0], held // SHOCK[venue], tokens[1])
                    market.update()
                    through = [
                        o
                        for o in market.opportunities()
                        if info.uid in o.cycle.pools
                        and sum(h.kind is HopKind.BALANCER for h in o.cycle.hops) == 1
                    ]
                    if not through:
                        print(f"  {venue} {info.address}: no opportunity through it")
                        continue
                    best = max(through, key=lambda o: o.net_profit)
                    t = R.trader(w3, dep)
                    prepared = t.prepare([best], market.head)[0]
                    if not prepared.ok:
                        print(f"  {venue} {info.address}: refused ({prepared.refused})")
                        continue
                    trade = t.reconcile(t.send(prepared))
                    shape = GasShape.of(
                        best.cycle,
                        source=best.source.kind,
                        batch=best.source.batch,
                        ticks_crossed=best.ticks_crossed,
                        calldata=prepared.calldata,
                    )
                    bare = model.estimate(replace(shape, hop_gas=0))
                    residuals[venue].append((trade.gas_used - bare, info.address))
                market = Market.build(w3, MarketConfig(max_hops=3, screen=False))
        for venue, rows in residuals.items():
            if rows:
                med = statistics.median(r for r, _ in rows)
                print(f"{venue:<22} {len(rows):>3} pools  median residual {med:>8.0f} gas")
                for r, pool in sorted(rows):
                    print(f"    {pool} {r:>8}")


if __name__ == "__main__":
    main()
