"""Uniswap V4 swap math (v4-core 1.0.2), integers only, for pools without hooks.

`pool.V4PoolState.swap` is Pool.swap's loop; `swap_math` is v4's SwapMath (its own step and sign
convention); `fees` composes LP and protocol fees; `layout` gives PoolIds and the PoolManager
storage slots a state reader fetches. SqrtPriceMath, TickMath, TickBitmap, FullMath and
LiquidityMath are the same Solidity as v3-core's and are reused from `flasharb.amm.uniswap_v3`.
"""

from flasharb.amm.uniswap_v4.pool import POOL_MANAGER, V4PoolState, V4SwapResult
from flasharb.amm.uniswap_v4.revert import V4Revert
from flasharb.chain.uniswap_v4 import NATIVE, PoolKey

__all__ = ["NATIVE", "POOL_MANAGER", "PoolKey", "V4PoolState", "V4Revert", "V4SwapResult"]
