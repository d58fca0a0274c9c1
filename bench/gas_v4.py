"""Gas of Uniswap V4 in FlashArbFacet against its V3 and Balancer counterparts, on the replica
fork: a V4 hop against a V3 hop of the same pair and fee tier, the PoolManager's loan against
the Balancer Vault's on the same route, and what flash accounting nets (a V4 loan whose last
hop is V4, two V4 hops in a row, a native-ETH pool).

Every case trades the demo's opportunity (500 WETH sold into Uniswap V2 WETH/USDC) from the same
snapshot, in a fresh block, with the diamond holding 1 wei of USDC, WETH, DAI and USDT (the
steady state), sized with exact pool math for its source; realized profit equals predicted
profit to the wei in every row (asserted). "predicted" is the trader's GasModel on the exact
calldata. Pairs of rows differ in one thing only, and the delta is printed.

Run: PYTHONPATH=src:testing .venv/bin/python bench/gas_v4.py [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from web3 import Web3

from flasharb.amm.uniswap_v4 import NATIVE
from flasharb.chain import addresses as A
from flasharb.chain.cheats import deal, snapshot
from flasharb.chain.rpc import connect
from flasharb.execute.deploy import deploy
from flasharb.replica.lab import start_replica_lab
from flasharb.search.capital import FlashSource
from flasharb.search.cycles import Cycle

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "testing"))
from flasharb_testing import routes as R  # noqa: E402 - test and bench scaffolding
from flasharb_testing import v4 as V4  # noqa: E402

DUST_TOKENS = (A.USDC, A.WETH, A.DAI, A.USDT)


def _uni(w3: Web3) -> object:
    return R.pool(w3, "uniswap_v2", A.WETH, A.USDC)


ROUTES: dict[str, Callable[[Web3], Cycle]] = {
    "2-hop V2": lambda w3: R.v2_routes(w3)["2-hop"],
    "V2 > V3": lambda w3: R.cycle(
        A.USDC, (_uni(w3), A.WETH), (R.pool(w3, "uniswap_v3", A.WETH, A.USDC, fee=500), A.USDC)
    ),
    "V2 > V4": lambda w3: V4.cycle(
        A.USDC, (_uni(w3), A.WETH), (V4.key(w3, A.WETH, A.USDC, fee=500), A.USDC)
    ),
    "V2 > V4 native": lambda w3: V4.cycle(
        A.USDC, (_uni(w3), A.WETH), (V4.key(w3, NATIVE, A.USDC, fee=500), A.USDC)
    ),
    "V2 > V3 > V3": lambda w3: R.cycle(
        A.USDC,
        (_uni(w3), A.WETH),
        (R.pool(w3, "uniswap_v3", A.WETH, A.USDT, fee=500), A.USDT),
        (R.pool(w3, "uniswap_v3", A.USDC, A.USDT, fee=100), A.USDC),
    ),
    "V2 > V4 > V4": lambda w3: V4.cycle(
        A.USDC,
        (_uni(w3), A.WETH),
        (V4.key(w3, A.WETH, A.USDT, fee=500), A.USDT),
        (V4.key(w3, A.USDC, A.USDT, fee=100), A.USDC),
    ),
    "V3 > V2 (WETH)": lambda w3: R.cycle(
        A.WETH, (R.pool(w3, "uniswap_v3", A.WETH, A.USDC, fee=500), A.USDC), (_uni(w3), A.WETH)
    ),
    "V4 > V2 (WETH)": lambda w3: V4.cycle(
        A.WETH, (V4.key(w3, A.WETH, A.USDC, fee=500), A.USDC), (_uni(w3), A.WETH)
    ),
}


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    route: str
    source: str  # "balancer", "v4", "v4-native"


CASES = (
    Case("2-hop V2, Balancer loan", "2-hop V2", "balancer"),
    Case("2-hop V2, V4 loan", "2-hop V2", "v4"),
    Case("V2 > V3 500, Balancer loan", "V2 > V3", "balancer"),
    Case("V2 > V4 500, Balancer loan", "V2 > V4", "balancer"),
    Case("V2 > V4 500 native ETH, Balancer loan", "V2 > V4 native", "balancer"),
    Case("V2 > V3 500, V4 loan", "V2 > V3", "v4"),
    Case("V2 > V4 500, V4 loan (last hop nets)", "V2 > V4", "v4"),
    Case("V2 > V3 > V3, Balancer loan", "V2 > V3 > V3", "balancer"),
    Case("V2 > V4 > V4, Balancer loan (nets)", "V2 > V4 > V4", "balancer"),
    Case("V3 > V2 from WETH, Balancer loan", "V3 > V2 (WETH)", "balancer"),
    Case("V4 > V2 from WETH, V4 loan (first hop nets)", "V4 > V2 (WETH)", "v4"),
    Case("V4 > V2 from WETH, native V4 loan", "V4 > V2 (WETH)", "v4-native"),
)
PAIRS = (  # (what is compared, case A, case B): B - A is printed
    ("a V4 hop instead of a V3 hop", "V2 > V3 500, Balancer loan", "V2 > V4 500, Balancer loan"),
    ("a V4 loan instead of a Balancer loan", "2-hop V2, Balancer loan", "2-hop V2, V4 loan"),
    (
        "V4 hop + V4 loan, netted, vs V3 hop + Balancer loan",
        "V2 > V3 500, Balancer loan",
        "V2 > V4 500, V4 loan (last hop nets)",
    ),
    (
        "native ETH pool instead of the WETH pool",
        "V2 > V4 500, Balancer loan",
        "V2 > V4 500 native ETH, Balancer loan",
    ),
    (
        "two V4 hops (netted) instead of two V3 hops",
        "V2 > V3 > V3, Balancer loan",
        "V2 > V4 > V4, Balancer loan (nets)",
    ),
    (
        "V4 first hop on a V4 loan vs V3 first hop on a Balancer loan",
        "V3 > V2 from WETH, Balancer loan",
        "V4 > V2 from WETH, V4 loan (first hop nets)",
    ),
)


def _source(w3: Web3, kind: str) -> FlashSource:
    if kind == "balancer":
        return R.balancer(w3)
    return FlashSource.uniswap_v4(native=kind == "v4-native")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args()
    rows: dict[str, dict[str, object]] = {}
    with start_replica_lab() as lab:
        w3 = connect(lab.rpc_url)
        dep = deploy(w3, w3.eth.accounts[0], lab.rpc_url, record=False)
        for token in DUST_TOKENS:
            deal(w3, token, dep.diamond, 1)
        R.shock_v2_weth_usdc(w3)
        block = w3.eth.block_number
        for case in CASES:
            with snapshot(w3):
                route = ROUTES[case.route](w3)
                plan, _ = V4.sized_plan(w3, route, _source(w3, case.source))
                trade = R.execute(R.trader(w3, dep), plan)
                assert trade.realized_profit == trade.simulated_profit == plan.predicted_profit
                rows[case.name] = {
                    "route": case.route,
                    "source": plan.source.label + (" (native)" if plan.source.native else ""),
                    "ticks_crossed": f"{plan.ticks_crossed}+{plan.v4_ticks_crossed}",
                    "gas_used": trade.gas_used,
                    "gas_predicted": trade.gas_predicted,
                    "profit": str(trade.realized_profit),
                }
    print(f"flasharb V4 gas bench: replica fork, block {block}, after 500 WETH into V2 WETH/USDC")
    print(f"{'case':<46} {'source':<20} {'ticks':>5} {'gas':>9} {'predicted':>10} {'err':>6}")
    print("(ticks: initialized V3 + V4 ticks crossed)")
    for name, r in rows.items():
        used, pred = int(str(r["gas_used"])), int(str(r["gas_predicted"]))
        print(
            f"{name:<46} {r['source']!s:<20} {r['ticks_crossed']!s:>5} {used:>9,} "
            f"{pred:>10,} {(pred - used) / used:>+6.1%}"
        )
    print()
    for what, a, b in PAIRS:
        delta = int(str(rows[b]["gas_used"])) - int(str(rows[a]["gas_used"]))
        print(f"{what:<62} {delta:>+8,}")
    if args.json:
        Path(args.json).write_text(json.dumps({"block": block, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
