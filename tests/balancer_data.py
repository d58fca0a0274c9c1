"""The Balancer weighted pools every replica data file carries, and how to find them in a spec
(shared by tests/unit/test_replica_balancer.py and tests/fork/test_replica_balancer.py)."""

from __future__ import annotations

from decimal import Decimal

from flasharb.replica.spec import ReplicaSpec, WeightedPoolSpec

# The pools every data file carries (token -> weight); "1/3 each" may be written 0.3334/0.3333/...
REQUIRED = {
    "BAL/WETH 80/20": {"BAL": Decimal("0.8"), "WETH": Decimal("0.2")},
    "WETH/USDC 50/50": {"WETH": Decimal("0.5"), "USDC": Decimal("0.5")},
    "WBTC/WETH/USDC 1/3 each": {s: Decimal(1) / 3 for s in ("WBTC", "WETH", "USDC")},
}
WEIGHT_TOLERANCE = Decimal("0.001")


def find_spec_pool(spec: ReplicaSpec, weights: dict[str, Decimal]) -> WeightedPoolSpec | None:
    """The data file's first weighted pool with exactly these tokens and (nearly) these weights."""
    for p in spec.pools_of(WeightedPoolSpec):
        have = dict(zip(p.tokens, p.weights, strict=True))
        if have.keys() == weights.keys() and all(
            abs(have[s] - w) <= WEIGHT_TOLERANCE for s, w in weights.items()
        ):
            return p  # type: ignore[no-any-return]
    return None
