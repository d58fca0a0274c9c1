"""Most and least significant bit of a uint256, as v3-core's BitMath.

ref: https://github.com/Uniswap/v3-core/blob/main/contracts/libraries/BitMath.sol
"""

from __future__ import annotations

from flasharb.amm.uniswap_v3.fixed_point import MAX_UINT256
from flasharb.amm.uniswap_v3.revert import V3Revert

__all__ = ["least_significant_bit", "most_significant_bit"]


def most_significant_bit(x: int) -> int:
    """Index of the highest set bit: x >= 2**r and x < 2**(r+1).

    ref: BitMath.sol `mostSignificantBit` (a binary search; `bit_length` gives the same index)

    Raises:
        V3Revert: `x == 0` (require(x > 0)) or `x` is not a uint256.
    """
    if not 0 < x <= MAX_UINT256:
        raise V3Revert("BitMath.mostSignificantBit", "", f"x = {x} is not in (0, 2**256)")
    return x.bit_length() - 1


def least_significant_bit(x: int) -> int:
    """Index of the lowest set bit: (x & 2**r) != 0 and (x & (2**r - 1)) == 0.

    ref: BitMath.sol `leastSignificantBit` (a binary search; `x & -x` isolates the same bit)

    Raises:
        V3Revert: `x == 0` (require(x > 0)) or `x` is not a uint256.
    """
    if not 0 < x <= MAX_UINT256:
        raise V3Revert("BitMath.leastSignificantBit", "", f"x = {x} is not in (0, 2**256)")
    return (x & -x).bit_length() - 1
