"""Balancer's FixedPoint: 18-decimal fixed point with explicit rounding direction, exact integers.

ref: balancer-v2-monorepo pkg/solidity-utils/contracts/math/FixedPoint.sol, as the 20210418
weighted pools were built: `powDown` / `powUp` always go through `LogExpMath.pow` and widen by the
maximum relative error. Later releases special-case exponents 1, 2 and 4
(`if (y == ONE) return x;` ...); the deployed pools do not, and the parity suite pins it (a 50/50
pool's quote differs by far more than a wei between the two). The later version is here too, as
`pow_down_exact` / `pow_up_exact`: the 20230206 weighted pools (weighted-pool-v3) run it.
ref: balancer-v2-monorepo@5082b2869 (the 20230206 deployment preparation)
pkg/solidity-utils/contracts/math/FixedPoint.sol `powDown` / `powUp`

Arguments are uint256: checked multiplications raise where the Solidity `_require`s do.
"""

from __future__ import annotations

from flasharb.amm.balancer_weighted import log_exp_math
from flasharb.amm.balancer_weighted.errors import (
    ADD_OVERFLOW,
    DIV_INTERNAL,
    MUL_OVERFLOW,
    SUB_OVERFLOW,
    ZERO_DIVISION,
    bal_error,
)

__all__ = [
    "MAX_POW_RELATIVE_ERROR",
    "ONE",
    "UINT256_MAX",
    "add",
    "complement",
    "div_down",
    "div_up",
    "mul_down",
    "mul_up",
    "pow_down",
    "pow_down_exact",
    "pow_up",
    "pow_up_exact",
    "sub",
]

ONE = 10**18  # 18 decimal places
TWO = 2 * ONE  # the exponents the later powDown / powUp compute with multiplications only
FOUR = 4 * ONE
MAX_POW_RELATIVE_ERROR = 10_000  # 1e-14: LogExpMath.pow's worst relative error, in 18 decimals
UINT256_MAX = 2**256 - 1
_WORD = 2**256


def add(a: int, b: int) -> int:
    """a + b. ref: FixedPoint.sol `add`. Raises `BAL#000 ADD_OVERFLOW` past uint256."""
    c = a + b
    if c >= _WORD:
        raise bal_error(ADD_OVERFLOW, f"{a} + {b}")
    return c


def sub(a: int, b: int) -> int:
    """a - b. ref: FixedPoint.sol `sub`. Raises `BAL#001 SUB_OVERFLOW` if b > a."""
    if b > a:
        raise bal_error(SUB_OVERFLOW, f"{a} - {b}")
    return a - b


def mul_down(a: int, b: int) -> int:
    """a * b / ONE rounded down. ref: FixedPoint.sol `mulDown`. Raises `BAL#003 MUL_OVERFLOW`."""
    product = a * b
    if product >= _WORD:
        raise bal_error(MUL_OVERFLOW, f"{a} * {b}")
    return product // ONE


def mul_up(a: int, b: int) -> int:
    """a * b / ONE rounded up. ref: FixedPoint.sol `mulUp`. Raises `BAL#003 MUL_OVERFLOW`."""
    product = a * b
    if product >= _WORD:
        raise bal_error(MUL_OVERFLOW, f"{a} * {b}")
    return 0 if product == 0 else (product - 1) // ONE + 1


def div_down(a: int, b: int) -> int:
    """a * ONE / b rounded down. ref: FixedPoint.sol `divDown`.

    Raises `BAL#004 ZERO_DIVISION` (b == 0) or `BAL#005 DIV_INTERNAL` (a * ONE past uint256).
    """
    if b == 0:
        raise bal_error(ZERO_DIVISION, f"{a} / 0")
    if a == 0:
        return 0
    a_inflated = a * ONE
    if a_inflated >= _WORD:
        raise bal_error(DIV_INTERNAL, f"{a} * ONE")
    return a_inflated // b


def div_up(a: int, b: int) -> int:
    """a * ONE / b rounded up. ref: FixedPoint.sol `divUp`.

    Raises `BAL#004 ZERO_DIVISION` (b == 0) or `BAL#005 DIV_INTERNAL` (a * ONE past uint256).
    """
    if b == 0:
        raise bal_error(ZERO_DIVISION, f"{a} / 0")
    if a == 0:
        return 0
    a_inflated = a * ONE
    if a_inflated >= _WORD:
        raise bal_error(DIV_INTERNAL, f"{a} * ONE")
    return (a_inflated - 1) // b + 1


def pow_down(x: int, y: int) -> int:
    """x^y rounded down: never above the true value.

    ref: FixedPoint.sol `powDown` (20210418: no special exponents)
        raw = LogExpMath.pow(x, y); maxError = add(mulUp(raw, MAX_POW_RELATIVE_ERROR), 1)
        return raw < maxError ? 0 : sub(raw, maxError)
    """
    raw = log_exp_math.pow(x, y)
    max_error = add(mul_up(raw, MAX_POW_RELATIVE_ERROR), 1)
    return 0 if raw < max_error else raw - max_error


def pow_up(x: int, y: int) -> int:
    """x^y rounded up: never below the true value.

    ref: FixedPoint.sol `powUp` (20210418: no special exponents)
        raw = LogExpMath.pow(x, y); maxError = add(mulUp(raw, MAX_POW_RELATIVE_ERROR), 1)
        return add(raw, maxError)
    """
    raw = log_exp_math.pow(x, y)
    max_error = add(mul_up(raw, MAX_POW_RELATIVE_ERROR), 1)
    return add(raw, max_error)


def pow_down_exact(x: int, y: int) -> int:
    """x^y rounded down, exact for y in {1, 2, 4}: the 20230206 pools' `powDown`.

    ref: FixedPoint.sol `powDown` (balancer-v2-monorepo@5082b2869)
        y == ONE: x; y == TWO: mulDown(x, x); y == FOUR: mulDown(sq, sq) with sq = mulDown(x, x);
        otherwise the 20210418 `powDown` above
    """
    if y == ONE:
        return x
    if y == TWO:
        return mul_down(x, x)
    if y == FOUR:
        square = mul_down(x, x)
        return mul_down(square, square)
    return pow_down(x, y)


def pow_up_exact(x: int, y: int) -> int:
    """x^y rounded up, exact for y in {1, 2, 4}: the 20230206 pools' `powUp`.

    ref: FixedPoint.sol `powUp` (balancer-v2-monorepo@5082b2869), as `pow_down_exact` with
    mulUp
    """
    if y == ONE:
        return x
    if y == TWO:
        return mul_up(x, x)
    if y == FOUR:
        square = mul_up(x, x)
        return mul_up(square, square)
    return pow_up(x, y)


def complement(x: int) -> int:
    """1 - x, floored at zero. ref: FixedPoint.sol `complement`."""
    return ONE - x if x < ONE else 0
