"""Balancer's LogExpMath: x^y, e^x, ln and log on 18-decimal fixed point, exact integers.

ref: balancer-v2-monorepo pkg/solidity-utils/contracts/math/LogExpMath.sol (the library the
20210418 weighted pools link; it sat in pkg/solidity-utils from the April 2021 release on)

Solidity's signed `/` and `%` truncate towards zero, Python's `//` and `%` floor. Every signed
step here is computed on magnitudes and the sign put back afterwards, which gives exactly the
truncated results (each series term keeps the sign of its first factor). Values never leave the
ranges the range checks allow, so the unchecked 0.7 arithmetic of the Solidity never wraps.
"""

from __future__ import annotations

from flasharb.amm.balancer_weighted.errors import (
    INVALID_EXPONENT,
    OUT_OF_BOUNDS,
    PRODUCT_OUT_OF_BOUNDS,
    X_OUT_OF_BOUNDS,
    Y_OUT_OF_BOUNDS,
    bal_error,
)
from flasharb.errors import FlasharbValueError

__all__ = [
    "LN_36_LOWER_BOUND",
    "LN_36_UPPER_BOUND",
    "MAX_NATURAL_EXPONENT",
    "MILD_EXPONENT_BOUND",
    "MIN_NATURAL_EXPONENT",
    "ONE_18",
    "ONE_20",
    "ONE_36",
    "exp",
    "ln",
    "log",
    "pow",
]

ONE_18 = 10**18  # arguments and results: 18-decimal fixed point
ONE_20 = 10**20  # intermediate values in exp and _ln: 20 decimals
ONE_36 = 10**36  # _ln_36: 36 decimals

# e^x fits 20-decimal 256-bit words for x <= ln((2^255 - 1) / 1e20) = 130.70..., and is at least
# 1e-18 for x >= ln(1e-18) = -41.44...; the library keeps a margin.
MAX_NATURAL_EXPONENT = 130 * ONE_18
MIN_NATURAL_EXPONENT = -41 * ONE_18

# _ln_36 (36 decimals) is used strictly inside (0.9, 1.1).
LN_36_LOWER_BOUND = ONE_18 - 10**17
LN_36_UPPER_BOUND = ONE_18 + 10**17

MILD_EXPONENT_BOUND = 2**254 // ONE_20  # y below this keeps y * ln(x) inside int256

_INT256_BOUND = 2**255  # x must fit int256

# x_n = 2^(7 - n) and a_n = e^(x_n). a0 and a1 carry no decimals, x0 and x1 18 decimals; the rest
# are 20-decimal fixed point.
X0 = 128000000000000000000  # 2^7
A0 = 38877084059945950922200000000000000000000000000000000000  # e^(x0), no decimals
X1 = 64000000000000000000  # 2^6
A1 = 6235149080811616882910000000  # e^(x1), no decimals
X2 = 3200000000000000000000  # 2^5
A2 = 7896296018268069516100000000000000  # e^(x2)
X3 = 1600000000000000000000  # 2^4
A3 = 888611052050787263676000000  # e^(x3)
X4 = 800000000000000000000  # 2^3
A4 = 298095798704172827474000  # e^(x4)
X5 = 400000000000000000000  # 2^2
A5 = 5459815003314423907810  # e^(x5)
X6 = 200000000000000000000  # 2^1
A6 = 738905609893065022723  # e^(x6)
X7 = 100000000000000000000  # 2^0
A7 = 271828182845904523536  # e^(x7)
X8 = 50000000000000000000  # 2^-1
A8 = 164872127070012814685  # e^(x8)
X9 = 25000000000000000000  # 2^-2
A9 = 128402541668774148407  # e^(x9)
X10 = 12500000000000000000  # 2^-3
A10 = 113314845306682631683  # e^(x10)
X11 = 6250000000000000000  # 2^-4
A11 = 106449445891785942956  # e^(x11)

_EXP_STEPS = ((X2, A2), (X3, A3), (X4, A4), (X5, A5), (X6, A6), (X7, A7), (X8, A8), (X9, A9))
_LN_STEPS = (
    (A2, X2),
    (A3, X3),
    (A4, X4),
    (A5, X5),
    (A6, X6),
    (A7, X7),
    (A8, X8),
    (A9, X9),
    (A10, X10),
    (A11, X11),
)
_A0_18 = A0 * ONE_18
_A1_18 = A1 * ONE_18


def _tdiv(a: int, b: int) -> int:
    """Solidity's signed `a / b`: the quotient truncated towards zero (b != 0)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def pow(x: int, y: int) -> int:  # the Solidity name; shadows the builtin in this module only
    """x^y for an unsigned 18-decimal base and exponent, as exp(y * ln(x)).

    ref: LogExpMath.sol `pow`

    Raises:
        FlasharbValueError: `BAL#006 X_OUT_OF_BOUNDS` (x >= 2^255), `BAL#007 Y_OUT_OF_BOUNDS`
            (y >= MILD_EXPONENT_BOUND), `BAL#008 PRODUCT_OUT_OF_BOUNDS` (y * ln(x) outside
            [-41, 130]).
    """
    if y == 0:
        return ONE_18  # 0^0 is taken as 1
    if x == 0:
        return 0
    if x >= _INT256_BOUND:
        raise bal_error(X_OUT_OF_BOUNDS, f"x={x}")
    if y >= MILD_EXPONENT_BOUND:
        raise bal_error(Y_OUT_OF_BOUNDS, f"y={y}")

    if LN_36_LOWER_BOUND < x < LN_36_UPPER_BOUND:
        ln_36_x = _ln_36(x)
        # (ln_36_x / ONE_18) * y + ((ln_36_x % ONE_18) * y) / ONE_18, on the magnitude
        m = -ln_36_x if ln_36_x < 0 else ln_36_x
        q, r = divmod(m, ONE_18)
        magnitude = (q * y + (r * y) // ONE_18) // ONE_18
        negative = ln_36_x < 0
    else:
        ln_x = _ln(x)
        negative = ln_x < 0
        magnitude = ((-ln_x if negative else ln_x) * y) // ONE_18
    logx_times_y = -magnitude if negative else magnitude

    if not MIN_NATURAL_EXPONENT <= logx_times_y <= MAX_NATURAL_EXPONENT:
        raise bal_error(PRODUCT_OUT_OF_BOUNDS, f"x={x} y={y}")
    return exp(logx_times_y)


def exp(x: int) -> int:
    """e^x for a signed 18-decimal exponent.

    ref: LogExpMath.sol `exp`

    Raises:
        FlasharbValueError: `BAL#009 INVALID_EXPONENT` (x outside [-41, 130]).
    """
    if not MIN_NATURAL_EXPONENT <= x <= MAX_NATURAL_EXPONENT:
        raise bal_error(INVALID_EXPONENT, f"x={x}")
    if x < 0:
        return (ONE_18 * ONE_18) // exp(-x)  # e^-x = 1 / e^x; both positive, so floor = trunc

    if x >= X0:
        x -= X0
        first_an = A0
    elif x >= X1:
        x -= X1
        first_an = A1
    else:
        first_an = 1  # one, no decimals

    x *= 100  # to 20 decimals
    product = ONE_20
    for xn, an in _EXP_STEPS:
        if x >= xn:
            x -= xn
            product = (product * an) // ONE_20

    # Taylor series of e^x for the small remainder: term_n = term_(n-1) * x / n, 12 terms
    # after the leading one (unrolled as in the Solidity: this is the hot path of every quote).
    term = x
    series_sum = ONE_20 + term
    term = term * x // ONE_20 // 2
    series_sum += term
    term = term * x // ONE_20 // 3
    series_sum += term
    term = term * x // ONE_20 // 4
    series_sum += term
    term = term * x // ONE_20 // 5
    series_sum += term
    term = term * x // ONE_20 // 6
    series_sum += term
    term = term * x // ONE_20 // 7
    series_sum += term
    term = term * x // ONE_20 // 8
    series_sum += term
    term = term * x // ONE_20 // 9
    series_sum += term
    term = term * x // ONE_20 // 10
    series_sum += term
    term = term * x // ONE_20 // 11
    series_sum += term
    term = term * x // ONE_20 // 12
    series_sum += term

    return (((product * series_sum) // ONE_20) * first_an) // 100


def log(arg: int, base: int) -> int:
    """log_base(arg) for signed 18-decimal argument and base, as ln(arg) / ln(base).

    ref: LogExpMath.sol `log`

    The Solidity checks neither argument: a base of exactly 1 divides by zero and a non-positive
    argument or base never terminates. Both raise `FlasharbValueError` here.
    """
    if arg <= 0 or base <= 0:
        raise FlasharbValueError(f"LogExpMath.log: arg and base must be positive ({arg}, {base})")
    in_36 = LN_36_LOWER_BOUND < base < LN_36_UPPER_BOUND
    log_base = _ln_36(base) if in_36 else _ln(base) * ONE_18
    if log_base == 0:
        raise FlasharbValueError("LogExpMath.log: base 1 (division by zero)")

    in_36 = LN_36_LOWER_BOUND < arg < LN_36_UPPER_BOUND
    log_arg = _ln_36(arg) if in_36 else _ln(arg) * ONE_18

    return _tdiv(log_arg * ONE_18, log_base)


def ln(a: int) -> int:
    """Natural logarithm of a signed 18-decimal argument.

    ref: LogExpMath.sol `ln`

    Raises:
        FlasharbValueError: `BAL#100 OUT_OF_BOUNDS` (a <= 0).
    """
    if a <= 0:
        raise bal_error(OUT_OF_BOUNDS, f"ln({a})")
    if LN_36_LOWER_BOUND < a < LN_36_UPPER_BOUND:
        return _tdiv(_ln_36(a), ONE_18)
    return _ln(a)


def _ln(a: int) -> int:
    """ln(a), 18 decimals in and out, for a > 0.

    ref: LogExpMath.sol `_ln`
    """
    if a < ONE_18:
        return -_ln((ONE_18 * ONE_18) // a)  # ln(a) = -ln(1/a); a > 0, so floor = trunc

    total = 0
    if a >= _A0_18:
        a //= A0  # integer, not fixed point, division
        total += X0
    if a >= _A1_18:
        a //= A1
        total += X1

    total *= 100  # to 20 decimals
    a *= 100
    for an, xn in _LN_STEPS:
        if a >= an:
            a = (a * ONE_20) // an
            total += xn

    # a is now below a11 (~1.06): ln(a) = 2 * (z + z^3/3 + z^5/5 + ...), z = (a - 1) / (a + 1)
    z = ((a - ONE_20) * ONE_20) // (a + ONE_20)  # a >= 1 here, so z >= 0
    z_squared = (z * z) // ONE_20
    num = z
    series_sum = num
    for k in (3, 5, 7, 9, 11):
        num = (num * z_squared) // ONE_20
        series_sum += num // k
    series_sum *= 2

    return (total + series_sum) // 100


def _ln_36(x: int) -> int:
    """ln(x) with 36 decimals out, for an 18-decimal x inside (0.9, 1.1).

    ref: LogExpMath.sol `_ln_36`

    z = (x - 1) / (x + 1) is negative below one; every term of the series then is too, and its
    truncated value is minus the floor of its magnitude: the series runs on |z|.
    """
    x *= ONE_18  # to 36 decimals
    negative = x < ONE_36
    diff = ONE_36 - x if negative else x - ONE_36
    z = (diff * ONE_36) // (x + ONE_36)
    z_squared = (z * z) // ONE_36
    num = z
    series_sum = num
    num = num * z_squared // ONE_36
    series_sum += num // 3
    num = num * z_squared // ONE_36
    series_sum += num // 5
    num = num * z_squared // ONE_36
    series_sum += num // 7
    num = num * z_squared // ONE_36
    series_sum += num // 9
    num = num * z_squared // ONE_36
    series_sum += num // 11
    num = num * z_squared // ONE_36
    series_sum += num // 13
    num = num * z_squared // ONE_36
    series_sum += num // 15
    series_sum *= 2
    return -series_sum if negative else series_sum
