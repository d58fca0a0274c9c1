"""512-bit-intermediate multiply-divide, as v3-core's FullMath.

ref: https://github.com/Uniswap/v3-core/blob/main/contracts/libraries/FullMath.sol

Python integers are unbounded, so `a * b // denominator` is the exact floor the Solidity
reconstructs from its 512-bit product. What must be mirrored is where it reverts: when the
denominator is 0, and when the quotient does not fit in 256 bits (the Solidity checks
`denominator > prod1`, which holds exactly when `a * b < denominator * 2**256`).
Arguments are uint256 values (0 <= x < 2**256), as the Solidity types guarantee.
"""

from __future__ import annotations

from flasharb.amm.uniswap_v3.fixed_point import MAX_UINT256
from flasharb.amm.uniswap_v3.revert import V3Revert

__all__ = ["mul_div", "mul_div_rounding_up"]


def mul_div(a: int, b: int, denominator: int) -> int:
    """floor(a * b / denominator) with full precision.

    ref: FullMath.sol `mulDiv`: require(denominator > 0) when the product fits in 256 bits,
        else require(denominator > prod1), i.e. the result fits in 256 bits.

    Raises:
        V3Revert: `denominator == 0`, or the result overflows a uint256.
    """
    if denominator == 0:
        raise V3Revert("FullMath.mulDiv", "", "denominator is 0")
    result = a * b // denominator
    if result > MAX_UINT256:
        raise V3Revert("FullMath.mulDiv", "", f"{a} * {b} / {denominator} overflows uint256")
    return result


def mul_div_rounding_up(a: int, b: int, denominator: int) -> int:
    """ceil(a * b / denominator) with full precision.

    ref: FullMath.sol `mulDivRoundingUp`:
        result = mulDiv(a, b, denominator);
        if (mulmod(a, b, denominator) > 0) { require(result < type(uint256).max); result++; }

    Raises:
        V3Revert: `denominator == 0`, or the rounded-up result overflows a uint256.
    """
    if denominator == 0:
        raise V3Revert("FullMath.mulDivRoundingUp", "", "denominator is 0")
    result, remainder = divmod(a * b, denominator)
    if remainder:
        result += 1
    if result > MAX_UINT256:
        raise V3Revert(
            "FullMath.mulDivRoundingUp", "", f"{a} * {b} / {denominator} overflows uint256"
        )
    return result
