"""Math without overflow or underflow checks, as v3-core's UnsafeMath.

ref: https://github.com/Uniswap/v3-core/blob/main/contracts/libraries/UnsafeMath.sol
"""

from __future__ import annotations

__all__ = ["div_rounding_up"]


def div_rounding_up(x: int, y: int) -> int:
    """ceil(x / y) for uint256 `x`, `y`; 0 when `y == 0`, as the EVM's `div` and `mod` give.

    ref: UnsafeMath.sol `divRoundingUp`: z := add(div(x, y), gt(mod(x, y), 0))
    """
    if y == 0:
        return 0  # EVM div/mod by zero are 0: no revert
    q, r = divmod(x, y)
    return q + 1 if r else q
