"""Batched state reads vs one call per pool, on the replica fork.

Prints the time of a full reserve read of every discovered pool, done (a) in one eth_call through
the V2PoolReader state override and (b) as one getReserves() call per pool, and their ratio.
Run: .venv/bin/python bench/state.py
"""

from __future__ import annotations

import time

from eth_utils import function_signature_to_4byte_selector

from flasharb.chain.rpc import connect
from flasharb.replica.lab import start_replica_lab
from flasharb.state.v2 import discover_pairs, refresh_reserves

ROUNDS = 50


def main() -> None:
    sel = "0x" + function_signature_to_4byte_selector("getReserves()").hex()
    with start_replica_lab() as lab:
        w3 = connect(lab.rpc_url)
        pools = discover_pairs(w3)
        refresh_reserves(w3, pools)  # warm the fork's cache of the upstream state
        t = time.perf_counter()
        for _ in range(ROUNDS):
            refresh_reserves(w3, pools)
        batched = (time.perf_counter() - t) / ROUNDS
        t = time.perf_counter()
        for _ in range(ROUNDS):
            for p in pools:
                w3.eth.call({"to": p.address, "data": sel})  # type: ignore[typeddict-item]
        single = (time.perf_counter() - t) / ROUNDS
    print(f"pools                 {len(pools)}")
    print(f"batched (1 eth_call)  {batched * 1e3:8.2f} ms")
    print(f"one call per pool     {single * 1e3:8.2f} ms   (baseline)")
    print(f"ratio baseline/batched {single / batched:7.1f}x")


if __name__ == "__main__":
    main()
