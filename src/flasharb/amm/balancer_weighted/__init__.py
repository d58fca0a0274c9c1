"""Balancer V2 weighted pool math, ported 1:1 from the Solidity mainnet runs; integers only.

Modules mirror the Solidity files of the 20210418 deployment: `fixed_point` (FixedPoint.sol),
`log_exp_math` (LogExpMath.sol), `weighted_math` (WeightedMath.sol), `swap` (the pools' `onSwap`
steps: scaling and fees), `pool` (the Vault's checks around one pool), `errors` (BAL#xyz codes).
"""

from flasharb.amm.balancer_weighted.errors import bal_code
from flasharb.amm.balancer_weighted.pool import WeightedPoolState

__all__ = ["WeightedPoolState", "bal_code"]
