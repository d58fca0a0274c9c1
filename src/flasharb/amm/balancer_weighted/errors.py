"""Balancer's revert codes, as flasharb exceptions.

Balancer V2 reverts with `Error("BAL#xyz")` (a three-digit code, no text). Where the Solidity would
revert, the Python port raises a `flasharb.errors` exception whose message starts with the same
`BAL#xyz` followed by the code's name, so a revert seen on-chain and a Python exception can be
compared by code (`bal_code`).

ref: balancer-v2-monorepo pkg/solidity-utils/contracts/helpers/BalancerErrors.sol
"""

from __future__ import annotations

import re

from flasharb.errors import FlasharbValueError, InsufficientLiquidityError

__all__ = [
    "ADD_OVERFLOW",
    "BALANCE_TOTAL_OVERFLOW",
    "CANNOT_SWAP_SAME_TOKEN",
    "DIV_INTERNAL",
    "INVALID_EXPONENT",
    "MAX_IN_RATIO",
    "MAX_OUT_RATIO",
    "MUL_OVERFLOW",
    "OUT_OF_BOUNDS",
    "PRODUCT_OUT_OF_BOUNDS",
    "STABLE_GET_BALANCE_DIDNT_CONVERGE",
    "STABLE_INVARIANT_DIDNT_CONVERGE",
    "SUB_OVERFLOW",
    "TOKEN_NOT_REGISTERED",
    "UNKNOWN_AMOUNT_IN_FIRST_SWAP",
    "X_OUT_OF_BOUNDS",
    "Y_OUT_OF_BOUNDS",
    "ZERO_DIVISION",
    "ZERO_INVARIANT",
    "bal_code",
    "bal_error",
]

# Math
ADD_OVERFLOW = 0
SUB_OVERFLOW = 1
MUL_OVERFLOW = 3
ZERO_DIVISION = 4
DIV_INTERNAL = 5
X_OUT_OF_BOUNDS = 6
Y_OUT_OF_BOUNDS = 7
PRODUCT_OUT_OF_BOUNDS = 8
INVALID_EXPONENT = 9
# Input
OUT_OF_BOUNDS = 100
# Pools
MAX_IN_RATIO = 304
MAX_OUT_RATIO = 305
ZERO_INVARIANT = 311
STABLE_INVARIANT_DIDNT_CONVERGE = 321
STABLE_GET_BALANCE_DIDNT_CONVERGE = 322
# Vault
CANNOT_SWAP_SAME_TOKEN = 509
UNKNOWN_AMOUNT_IN_FIRST_SWAP = 510
TOKEN_NOT_REGISTERED = 521
BALANCE_TOTAL_OVERFLOW = 526

_NAMES = {
    ADD_OVERFLOW: "ADD_OVERFLOW",
    SUB_OVERFLOW: "SUB_OVERFLOW",
    MUL_OVERFLOW: "MUL_OVERFLOW",
    ZERO_DIVISION: "ZERO_DIVISION",
    DIV_INTERNAL: "DIV_INTERNAL",
    X_OUT_OF_BOUNDS: "X_OUT_OF_BOUNDS",
    Y_OUT_OF_BOUNDS: "Y_OUT_OF_BOUNDS",
    PRODUCT_OUT_OF_BOUNDS: "PRODUCT_OUT_OF_BOUNDS",
    INVALID_EXPONENT: "INVALID_EXPONENT",
    OUT_OF_BOUNDS: "OUT_OF_BOUNDS",
    MAX_IN_RATIO: "MAX_IN_RATIO",
    MAX_OUT_RATIO: "MAX_OUT_RATIO",
    ZERO_INVARIANT: "ZERO_INVARIANT",
    STABLE_INVARIANT_DIDNT_CONVERGE: "STABLE_INVARIANT_DIDNT_CONVERGE",
    STABLE_GET_BALANCE_DIDNT_CONVERGE: "STABLE_GET_BALANCE_DIDNT_CONVERGE",
    CANNOT_SWAP_SAME_TOKEN: "CANNOT_SWAP_SAME_TOKEN",
    UNKNOWN_AMOUNT_IN_FIRST_SWAP: "UNKNOWN_AMOUNT_IN_FIRST_SWAP",
    TOKEN_NOT_REGISTERED: "TOKEN_NOT_REGISTERED",
    BALANCE_TOTAL_OVERFLOW: "BALANCE_TOTAL_OVERFLOW",
}
_LIQUIDITY = frozenset({MAX_IN_RATIO, MAX_OUT_RATIO})  # the pool cannot take or pay that much
_CODE = re.compile(r"BAL#(\d{3})")


def bal_error(code: int, detail: str = "") -> FlasharbValueError:
    """The exception for Balancer revert `code`: `InsufficientLiquidityError` for the swap ratio
    limits, `FlasharbValueError` otherwise; the message starts with `BAL#xyz NAME`."""
    msg = f"BAL#{code:03d} {_NAMES.get(code, 'UNKNOWN')}" + (f": {detail}" if detail else "")
    if code in _LIQUIDITY:
        return InsufficientLiquidityError(msg)
    return FlasharbValueError(msg)


def bal_code(text: str | BaseException) -> int | None:
    """The Balancer code in an exception message or a decoded revert string, if any."""
    m = _CODE.search(str(text))
    return int(m.group(1)) if m else None
