"""Signed liquidity deltas on a uint128, as v3-core's LiquidityMath.

ref: https://github.com/Uniswap/v3-core/blob/main/contracts/libraries/LiquidityMath.sol
"""

from __future__ import annotations

from flasharb.amm.uniswap_v3.revert import V3Revert

__all__ = ["add_delta"]

_MOD_128 = 1 << 128


def add_delta(x: int, y: int) -> int:
    """`x` (uint128) plus `y` (int128), reverting on underflow ("LS") or overflow ("LA").

    ref: LiquidityMath.sol `addDelta`:
        if (y < 0) require((z = x - uint128(-y)) < x, 'LS');
        else require((z = x + uint128(y)) >= x, 'LA');
    The uint128 arithmetic wraps (solc 0.7.6) and the require catches the wrap; `x + y` taken
    modulo 2**128 is that wrapped value in both branches, `y = type(int128).min` included.
    """
    z = (x + y) % _MOD_128
    if y < 0:
        if z >= x:
            raise V3Revert("LiquidityMath.addDelta", "LS", f"{x} + ({y}) underflows uint128")
    elif z < x:
        raise V3Revert("LiquidityMath.addDelta", "LA", f"{x} + {y} overflows uint128")
    return z
