"""Market build and update latency on the replica: `Market.build` (discover, read every pool,
index, lenders, evaluate) and `Market.update` after a block of background swaps (logs, the
re-read of the pools they touched, lenders, re-evaluation), plus the batched read of every pool
(`read_states`) alone.

The same fixed, seeded swaps on the same pools of the three venues every flasharb version has
(Uniswap V2, SushiSwap, Uniswap V3), so two checkouts can be compared on the same work: run it
once with each checkout's `src` first on PYTHONPATH, interleaved, and compare the medians. With
`--venues NAME,...` the market reads only those venues (a checkout without venue plug-ins
ignores the flag). Nothing here judges a timing.

Run: PYTHONPATH=src:testing .venv/bin/python bench/market_update.py [--builds 5] [--steps 30]
     [--reads 20] [--venues uniswap_v2,sushiswap,uniswap_v3,balancer] [--json PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

from flasharb.chain.rpc import connect
from flasharb.execute.shock import shock
from flasharb.replica.lab import open_lab
from flasharb.search.market import Market, MarketConfig
from flasharb.state.reader import read_states

SWAP_VENUES = ("uniswap_v2", "sushiswap", "uniswap_v3")


def _config(venues: str | None) -> MarketConfig:
    if not venues:
        return MarketConfig(max_hops=3)
    try:
        from flasharb.state.venue import Venues  # a checkout with venue plug-ins
    except ImportError:
        return MarketConfig(max_hops=3)
    return MarketConfig(max_hops=3, venues=Venues.builtin().only(*venues.split(",")))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--builds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--reads", type=int, default=20)
    ap.add_argument("--swaps", type=int, default=2, help="background swaps per step")
    ap.add_argument("--venues", default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    out: dict[str, Any] = {"venues": args.venues}
    with open_lab() as lab:
        w3 = connect(lab.rpc_url)
        cfg = _config(args.venues)
        builds = []
        for _ in range(args.builds):
            t = time.perf_counter()
            market = Market.build(w3, cfg)
            builds.append((time.perf_counter() - t) * 1e3)
        out["pools"] = len(market.states)
        out["cycles"] = len(market.index)
        pools = [market.registry[a] for a in sorted(market.states)]
        reads = []
        for _ in range(args.reads):
            t = time.perf_counter()
            result = read_states(w3, pools)
            reads.append((time.perf_counter() - t) * 1e3)
            assert not result.failed, result.failed
        rng = random.Random(7)
        swappable = sorted(p.address for p in market.registry if p.venue in SWAP_VENUES)
        updates, syncs, changed = [], [], []
        for _ in range(args.steps):
            for _ in range(args.swaps):
                address = rng.choice(swappable)
                info = market.registry[address]
                token_in = info.tokens[rng.randrange(2)]
                amount = 10 ** info.decimals[info.tokens.index(token_in)] * rng.randint(1, 20)
                with contextlib.suppress(Exception):  # a pool that refuses that size: same in all
                    shock(w3, address, token_in, amount)
            t = time.perf_counter()
            update = market.update()
            updates.append((time.perf_counter() - t) * 1e3)
            syncs.append(update.sync_s * 1e3)
            changed.append(update.pools_changed)
    out.update(
        build_ms_median=statistics.median(builds),
        read_all_ms_median=statistics.median(reads),
        read_all_ms_p95=_pct(reads, 0.95),
        update_ms_median=statistics.median(updates),
        update_ms_p95=_pct(updates, 0.95),
        update_sync_ms_median=statistics.median(syncs),
        pools_changed_per_update=statistics.mean(changed),
    )
    for key, value in out.items():
        print(f"{key:<28} {value:.2f}" if isinstance(value, float) else f"{key:<28} {value}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
