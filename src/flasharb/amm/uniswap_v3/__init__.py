"""Uniswap V3 math, ported 1:1 from v3-core's libraries; integers only.

One module per Solidity library (`tick_math` <-> TickMath.sol, `swap_math` <-> SwapMath.sol,
...), and `pool.V3PoolState.swap`, the loop of `UniswapV3Pool.swap`. Where the Solidity
reverts, the port raises `V3Revert` (a `FlasharbValueError`) carrying the upstream reason.
"""

from flasharb.amm.uniswap_v3.pool import V3PoolState, V3SwapResult
from flasharb.amm.uniswap_v3.revert import V3Revert
from flasharb.amm.uniswap_v3.tick_bitmap import word_bounds
from flasharb.amm.uniswap_v3.tick_math import MAX_SQRT_RATIO, MAX_TICK, MIN_SQRT_RATIO, MIN_TICK

__all__ = [
    "MAX_SQRT_RATIO",
    "MAX_TICK",
    "MIN_SQRT_RATIO",
    "MIN_TICK",
    "V3PoolState",
    "V3Revert",
    "V3SwapResult",
    "word_bounds",
]
