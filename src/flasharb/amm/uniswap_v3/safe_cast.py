"""Checked downcasts, as v3-core's SafeCast.

ref: https://github.com/Uniswap/v3-core/blob/main/contracts/libraries/SafeCast.sol
"""

from __future__ import annotations

from flasharb.amm.uniswap_v3.fixed_point import MAX_INT128, MAX_UINT160, MIN_INT128
from flasharb.amm.uniswap_v3.revert import V3Revert

__all__ = ["to_int128", "to_int256", "to_uint160"]


def to_uint160(y: int) -> int:
    """`y` as a uint160; reverts if it does not fit.

    ref: SafeCast.sol `toUint160`: require((z = uint160(y)) == y)
    """
    if y > MAX_UINT160:
        raise V3Revert("SafeCast.toUint160", "", f"{y} does not fit in 160 bits")
    return y


def to_int128(y: int) -> int:
    """`y` (an int256) as an int128; reverts if it does not fit.

    ref: SafeCast.sol `toInt128`: require((z = int128(y)) == y)
    """
    if not MIN_INT128 <= y <= MAX_INT128:
        raise V3Revert("SafeCast.toInt128", "", f"{y} does not fit in int128")
    return y


def to_int256(y: int) -> int:
    """`y` (a uint256) as an int256; reverts if it is 2**255 or more.

    ref: SafeCast.sol `toInt256`: require(y < 2**255)
    """
    if y >= 1 << 255:
        raise V3Revert("SafeCast.toInt256", "", f"{y} >= 2**255")
    return y
