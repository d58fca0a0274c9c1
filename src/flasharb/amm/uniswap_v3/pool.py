"""A Uniswap V3 pool's swap state at one block, and its exact multi-tick swap.

ref: https://github.com/Uniswap/v3-core/blob/main/contracts/UniswapV3Pool.sol
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["V3PoolState"]


@dataclass(frozen=True, slots=True, kw_only=True)
class V3PoolState:
    """What `UniswapV3Pool.swap` reads: slot0, liquidity and the ticks around the price.

    Only the tick-bitmap words in `word_range` are known; a swap that needs a word outside
    it raises `IncompleteStateError` rather than guess.
    """

    address: str
    token0: str
    token1: str
    fee: int  # in hundredths of a bip (pips), 500 = 0.05%
    tick_spacing: int
    sqrt_price_x96: int  # slot0.sqrtPriceX96, Q64.96
    tick: int  # slot0.tick
    liquidity: int  # in-range liquidity, uint128
    tick_bitmap: Mapping[int, int] = field(default_factory=dict)  # word position -> 256-bit word
    ticks: Mapping[int, int] = field(default_factory=dict)  # initialized tick -> liquidityNet
    word_range: tuple[int, int] = (0, -1)  # inclusive word positions read; (0, -1) = none
    venue: str = "uniswap_v3"
