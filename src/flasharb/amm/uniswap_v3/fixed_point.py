"""Fixed-point constants and the integer type bounds the Solidity relies on.

ref: https://github.com/Uniswap/v3-core/blob/main/contracts/libraries/FixedPoint96.sol
ref: https://github.com/Uniswap/v3-core/blob/main/contracts/libraries/FixedPoint128.sol
"""

from __future__ import annotations

__all__ = [
    "MAX_INT128",
    "MAX_INT256",
    "MAX_UINT128",
    "MAX_UINT160",
    "MAX_UINT256",
    "MIN_INT128",
    "MIN_INT256",
    "Q96",
    "Q128",
    "RESOLUTION",
]

RESOLUTION = 96  # FixedPoint96.RESOLUTION
Q96 = 1 << 96  # FixedPoint96.Q96
Q128 = 1 << 128  # FixedPoint128.Q128

MAX_UINT128 = (1 << 128) - 1
MAX_UINT160 = (1 << 160) - 1
MAX_UINT256 = (1 << 256) - 1
MIN_INT128 = -(1 << 127)
MAX_INT128 = (1 << 127) - 1
MIN_INT256 = -(1 << 255)
MAX_INT256 = (1 << 255) - 1
