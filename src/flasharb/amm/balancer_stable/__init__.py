"""Balancer V2 ComposableStablePool math (20230206-composable-stable-pool-v3), ported 1:1.

`stable_math` mirrors StableMath.sol; `pool` the pool's `onSwap` steps (rate caches, scaling,
fees, amplification) and the Vault's checks around it. FixedPoint and the BAL# codes are shared
with `flasharb.amm.balancer_weighted`.
"""

from flasharb.amm.balancer_stable.pool import (
    AmpState,
    BptSwapNotSupported,
    RateCache,
    StablePoolState,
)

__all__ = ["AmpState", "BptSwapNotSupported", "RateCache", "StablePoolState"]
