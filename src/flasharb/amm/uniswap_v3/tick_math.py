"""Square-root prices from ticks and back, as v3-core's TickMath.

ref: https://github.com/Uniswap/v3-core/blob/main/contracts/libraries/TickMath.sol

Prices are sqrt(1.0001^tick) as Q64.96 fixed point numbers, for ticks in
[MIN_TICK, MAX_TICK], i.e. prices between 2**-128 and 2**128.
"""

from __future__ import annotations

from functools import lru_cache

from flasharb.amm.uniswap_v3.fixed_point import MAX_UINT256
from flasharb.amm.uniswap_v3.revert import V3Revert

__all__ = [
    "MAX_SQRT_RATIO",
    "MAX_TICK",
    "MIN_SQRT_RATIO",
    "MIN_TICK",
    "get_sqrt_ratio_at_tick",
    "get_tick_at_sqrt_ratio",
]

MIN_TICK = -887272  # log base 1.0001 of 2**-128
MAX_TICK = -MIN_TICK
MIN_SQRT_RATIO = 4295128739  # getSqrtRatioAtTick(MIN_TICK)
MAX_SQRT_RATIO = 1461446703485210103287273052203988822378723970342  # getSqrtRatioAtTick(MAX_TICK)

# ratio multipliers for bits 1..19 of |tick|: 2**128 / sqrt(1.0001)^(2**i), as in the Solidity
_FACTORS = (
    (0x2, 0xFFF97272373D413259A46990580E213A),
    (0x4, 0xFFF2E50F5F656932EF12357CF3C7FDCC),
    (0x8, 0xFFE5CACA7E10E4E61C3624EAA0941CD0),
    (0x10, 0xFFCB9843D60F6159C9DB58835C926644),
    (0x20, 0xFF973B41FA98C081472E6896DFB254C0),
    (0x40, 0xFF2EA16466C96A3843EC78B326B52861),
    (0x80, 0xFE5DEE046A99A2A811C461F1969C3053),
    (0x100, 0xFCBE86C7900A88AEDCFFC83B479AA3A4),
    (0x200, 0xF987A7253AC413176F2B074CF7815E54),
    (0x400, 0xF3392B0822B70005940C7A398E4B70F3),
    (0x800, 0xE7159475A2C29B7443B29C7FA6E889D9),
    (0x1000, 0xD097F3BDFD2022B8845AD8F792AA5825),
    (0x2000, 0xA9F746462D870FDF8A65DC1F90E061E5),
    (0x4000, 0x70D869A156D2A1B890BB3DF62BAF32F7),
    (0x8000, 0x31BE135F97D08FD981231505542FCFA6),
    (0x10000, 0x9AA508B5B7A84E1C677DE54F3E99BC9),
    (0x20000, 0x5D6AF8DEDB81196699C329225EE604),
    (0x40000, 0x2216E584F5FA1EA926041BEDFE98),
    (0x80000, 0x48A170391F7DC42444E8FA2),
)
_LOG_SQRT10001 = 255738958999603826347141  # 2**64 / log2(sqrt(1.0001)), Q128.128 scale
_TICK_LOW_OFFSET = 3402992956809132418596140100660247210
_TICK_HIGH_OFFSET = 291339464771989622907027621153398088495


@lru_cache(maxsize=1 << 16)
def get_sqrt_ratio_at_tick(tick: int) -> int:
    """sqrt(1.0001^tick) * 2**96, rounded up (a uint160).

    ref: TickMath.sol `getSqrtRatioAtTick`: require(absTick <= uint256(MAX_TICK), 'T')

    Cached: a swap asks for the same tick boundaries again and again.

    Raises:
        V3Revert: |tick| > MAX_TICK ("T").
    """
    abs_tick = -tick if tick < 0 else tick
    if abs_tick > MAX_TICK:
        raise V3Revert("TickMath.getSqrtRatioAtTick", "T", f"|tick| = {abs_tick} > {MAX_TICK}")
    ratio = (
        0xFFFCB933BD6FAD37AA2D162D1A594001
        if abs_tick & 0x1
        else 0x100000000000000000000000000000000
    )
    for bit, factor in _FACTORS:
        if abs_tick & bit:
            ratio = (ratio * factor) >> 128
    if tick > 0:
        ratio = MAX_UINT256 // ratio
    # Q128.128 -> Q128.96, rounding up so that getTickAtSqrtRatio of the result is consistent
    return (ratio >> 32) + (1 if ratio & 0xFFFFFFFF else 0)


def get_tick_at_sqrt_ratio(sqrt_price_x96: int) -> int:
    """The greatest tick whose sqrt ratio is <= `sqrt_price_x96`.

    ref: TickMath.sol `getTickAtSqrtRatio`:
        require(sqrtPriceX96 >= MIN_SQRT_RATIO && sqrtPriceX96 < MAX_SQRT_RATIO, 'R')
    The same fixed-point log2 as the Solidity: integer part from the most significant bit,
    then 14 fractional bits by repeated squaring, then the tick candidates checked against
    getSqrtRatioAtTick.

    Raises:
        V3Revert: the price is outside [MIN_SQRT_RATIO, MAX_SQRT_RATIO) ("R").
    """
    if not MIN_SQRT_RATIO <= sqrt_price_x96 < MAX_SQRT_RATIO:
        raise V3Revert(
            "TickMath.getTickAtSqrtRatio",
            "R",
            f"sqrtPriceX96 {sqrt_price_x96} outside [{MIN_SQRT_RATIO}, {MAX_SQRT_RATIO})",
        )
    ratio = sqrt_price_x96 << 32
    msb = ratio.bit_length() - 1  # the assembly's shl/gt chain computes this index
    r = ratio >> (msb - 127) if msb >= 128 else ratio << (127 - msb)
    log_2 = (msb - 128) << 64
    for shift in range(63, 49, -1):
        r = (r * r) >> 127
        f = r >> 128
        log_2 |= f << shift
        r >>= f
    log_sqrt10001 = log_2 * _LOG_SQRT10001  # Q128.128
    tick_low = (log_sqrt10001 - _TICK_LOW_OFFSET) >> 128
    tick_high = (log_sqrt10001 + _TICK_HIGH_OFFSET) >> 128
    if tick_low == tick_high:
        return tick_low
    return tick_high if get_sqrt_ratio_at_tick(tick_high) <= sqrt_price_x96 else tick_low
