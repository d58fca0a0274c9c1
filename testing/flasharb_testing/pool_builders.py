"""Consistent V3 and Balancer pool states from a price and positions, for synthetic markets
and tests: the tick matches the price, the in-range liquidity is the sum of the positions
around it, and the bitmap and ticks cover exactly the words the state claims to have read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from flasharb.amm.balancer_weighted import WeightedPoolState
from flasharb.amm.uniswap_v3 import MAX_TICK, MIN_TICK, V3PoolState
from flasharb.amm.uniswap_v3.tick_math import get_tick_at_sqrt_ratio
from flasharb.errors import FlasharbValueError

__all__ = ["TICK_SPACING", "full_range", "sqrt_price_x96_of", "v3_pool", "weighted_pool"]

TICK_SPACING = {100: 1, 500: 10, 3000: 60, 10_000: 200}  # Uniswap V3 factory's fee tiers


def sqrt_price_x96_of(price: float) -> int:
    """sqrt(price) * 2^96 for `price` in raw token1 units per raw token0 unit."""
    if not price > 0:
        raise FlasharbValueError(f"price must be positive, got {price}")
    return int(math.sqrt(price) * 2**96)


def full_range(tick_spacing: int) -> tuple[int, int]:
    """The lowest and highest ticks a position can use at this spacing."""
    return -(-MIN_TICK // tick_spacing) * tick_spacing, MAX_TICK // tick_spacing * tick_spacing


def v3_pool(
    *,
    address: str,
    token0: str,
    token1: str,
    fee: int,
    sqrt_price_x96: int,
    positions: Sequence[tuple[int, int, int]],
    word_range: tuple[int, int] | None = None,
    tick_spacing: int | None = None,
) -> V3PoolState:
    """A V3 pool at `sqrt_price_x96` holding `positions` (lower tick, upper tick, liquidity).

    `word_range`: the bitmap words the state knows (default: the current word +-1); ticks in
    other words are left out, as a chain read of that window would.
    """
    spacing = tick_spacing or TICK_SPACING[fee]
    tick = get_tick_at_sqrt_ratio(sqrt_price_x96)
    net: dict[int, int] = {}
    liquidity = 0
    for lower, upper, amount in positions:
        if lower % spacing or upper % spacing or not lower < upper:
            raise FlasharbValueError(f"position {lower}..{upper} does not fit spacing {spacing}")
        net[lower] = net.get(lower, 0) + amount
        net[upper] = net.get(upper, 0) - amount
        if lower <= tick < upper:
            liquidity += amount
    if word_range is None:
        here = (tick // spacing) >> 8
        word_range = (here - 1, here + 1)
    bitmap: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for t, value in net.items():
        word = (t // spacing) >> 8
        if value and word_range[0] <= word <= word_range[1]:
            bitmap[word] = bitmap.get(word, 0) | 1 << ((t // spacing) & 0xFF)
            ticks[t] = value
    return V3PoolState(
        address=address,
        token0=token0,
        token1=token1,
        fee=fee,
        tick_spacing=spacing,
        sqrt_price_x96=sqrt_price_x96,
        tick=tick,
        liquidity=liquidity,
        tick_bitmap=bitmap,
        ticks=ticks,
        word_range=word_range,
    )


def weighted_pool(
    *,
    address: str,
    tokens: Sequence[str],
    balances: Sequence[int],
    decimals: Sequence[int],
    weights: Sequence[int],
    swap_fee: int,
) -> WeightedPoolState:
    """A Balancer weighted pool; the pool id is the address followed by 12 zero bytes."""
    return WeightedPoolState(
        address=address,
        pool_id=bytes.fromhex(address[2:].rjust(40, "0")) + bytes(12),
        tokens=tuple(tokens),
        balances=tuple(balances),
        decimals=tuple(decimals),
        normalized_weights=tuple(weights),
        swap_fee=swap_fee,
    )
