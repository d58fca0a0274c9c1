"""Uniswap V3 math, ported 1:1 from v3-core's libraries; integers only."""

from flasharb.amm.uniswap_v3.pool import V3PoolState

__all__ = ["V3PoolState"]
