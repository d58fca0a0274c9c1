"""Balancer's StableMath for swaps: the invariant and the balance of one token given the others.

ref: balancer-v2-monorepo@5082b2869 pkg/pool-stable/contracts/StableMath.sol (the
20230206-composable-stable-pool-v3 deployment); balances are upscaled 18-decimal amounts (rates
included) and the amplification parameter carries `AMP_PRECISION` (1e3).

Solidity 0.7 checks nothing but what goes through `Math`/`FixedPoint`: the plain `*` and `-`
of the source (`amplificationParameter * numTokens`, `ampTimesTotal - _AMP_PRECISION`,
`balances[0] * balances.length`, `sum - balances[tokenIndex]`) wrap modulo 2^256 here as there.
"""

from __future__ import annotations

from flasharb.amm.balancer_weighted.errors import (
    ADD_OVERFLOW,
    MUL_OVERFLOW,
    SUB_OVERFLOW,
    ZERO_DIVISION,
    bal_error,
)

__all__ = [
    "AMP_PRECISION",
    "GET_BALANCE_DIDNT_CONVERGE",
    "INVARIANT_DIDNT_CONVERGE",
    "calc_in_given_out",
    "calc_out_given_in",
    "calculate_invariant",
    "token_balance_given_invariant",
]

AMP_PRECISION = 1000  # StableMath._AMP_PRECISION
INVARIANT_DIDNT_CONVERGE = 321  # Errors.STABLE_INVARIANT_DIDNT_CONVERGE
GET_BALANCE_DIDNT_CONVERGE = 322  # Errors.STABLE_GET_BALANCE_DIDNT_CONVERGE
_WORD = 2**256
_MASK = _WORD - 1


def _add(a: int, b: int) -> int:
    """Math.add / FixedPoint.add: checked."""
    c = a + b
    if c >= _WORD:
        raise bal_error(ADD_OVERFLOW, f"{a} + {b}")
    return c


def _sub(a: int, b: int) -> int:
    """Math.sub / FixedPoint.sub: checked."""
    if b > a:
        raise bal_error(SUB_OVERFLOW, f"{a} - {b}")
    return a - b


def _mul(a: int, b: int) -> int:
    """Math.mul: checked."""
    c = a * b
    if c >= _WORD:
        raise bal_error(MUL_OVERFLOW, f"{a} * {b}")
    return c


def _div_down(a: int, b: int) -> int:
    """Math.divDown."""
    if b == 0:
        raise bal_error(ZERO_DIVISION, f"{a} / 0")
    return a // b


def _div_up(a: int, b: int) -> int:
    """Math.divUp: 0 for a == 0, else 1 + (a - 1) / b."""
    if b == 0:
        raise bal_error(ZERO_DIVISION, f"{a} / 0")
    return 0 if a == 0 else 1 + (a - 1) // b


def calculate_invariant(amp: int, balances: list[int] | tuple[int, ...]) -> int:
    """D for the balances, by Newton's method; rounds down.

    ref: StableMath.sol `_calculateInvariant`

    Raises:
        FlasharbValueError: `BAL#321 STABLE_INVARIANT_DIDNT_CONVERGE` after 255 rounds, or a
            `Math` overflow.
    """
    total = 0
    n = len(balances)
    for b in balances:
        total = _add(total, b)
    if total == 0:
        return 0
    invariant = total
    amp_times_total = (amp * n) & _MASK  # unchecked
    for _ in range(255):
        d_p = invariant
        for b in balances:
            d_p = _div_down(_mul(d_p, invariant), _mul(b, n))
        prev = invariant
        numerator = _mul(
            _add(_div_down(_mul(amp_times_total, total), AMP_PRECISION), _mul(d_p, n)), invariant
        )
        denominator = _add(
            _div_down(_mul((amp_times_total - AMP_PRECISION) & _MASK, invariant), AMP_PRECISION),
            _mul(n + 1, d_p),
        )
        invariant = _div_down(numerator, denominator)
        if invariant > prev:
            if invariant - prev <= 1:
                return invariant
        elif prev - invariant <= 1:
            return invariant
    raise bal_error(INVARIANT_DIDNT_CONVERGE)


def token_balance_given_invariant(
    amp: int, balances: list[int] | tuple[int, ...], invariant: int, token_index: int
) -> int:
    """The balance of `token_index` that keeps `invariant` with every other balance; rounds up.

    ref: StableMath.sol `_getTokenBalanceGivenInvariantAndAllOtherBalances`

    Raises:
        FlasharbValueError: `BAL#322 STABLE_GET_BALANCE_DIDNT_CONVERGE` after 255 rounds, or a
            `Math` overflow / division by zero.
    """
    n = len(balances)
    amp_times_total = (amp * n) & _MASK  # unchecked
    total = balances[0]
    p_d = (balances[0] * n) & _MASK  # unchecked
    for j in range(1, n):
        p_d = _div_down(_mul(_mul(p_d, balances[j]), n), invariant)
        total = _add(total, balances[j])
    total = (total - balances[token_index]) & _MASK  # unchecked
    inv2 = _mul(invariant, invariant)
    c = _mul(_mul(_div_up(inv2, _mul(amp_times_total, p_d)), AMP_PRECISION), balances[token_index])
    b = _add(total, _mul(_div_down(invariant, amp_times_total), AMP_PRECISION))
    token_balance = _div_up(_add(inv2, c), _add(invariant, b))
    for _ in range(255):
        prev = token_balance
        token_balance = _div_up(
            _add(_mul(token_balance, token_balance), c),
            _sub(_add(_mul(token_balance, 2), b), invariant),
        )
        if token_balance > prev:
            if token_balance - prev <= 1:
                return token_balance
        elif prev - token_balance <= 1:
            return token_balance
    raise bal_error(GET_BALANCE_DIDNT_CONVERGE)


def calc_out_given_in(
    amp: int,
    balances: tuple[int, ...],
    index_in: int,
    index_out: int,
    amount_in: int,
    invariant: int,
) -> int:
    """Amount out for `amount_in` (fee already taken), upscaled; rounds down (minus 1 wei).

    ref: StableMath.sol `_calcOutGivenIn`
    """
    moved = list(balances)
    moved[index_in] = _add(moved[index_in], amount_in)
    final_out = token_balance_given_invariant(amp, moved, invariant, index_out)
    return _sub(_sub(balances[index_out], final_out), 1)


def calc_in_given_out(
    amp: int,
    balances: tuple[int, ...],
    index_in: int,
    index_out: int,
    amount_out: int,
    invariant: int,
) -> int:
    """Amount in (before the fee) that buys `amount_out`, upscaled; rounds up (plus 1 wei).

    ref: StableMath.sol `_calcInGivenOut`
    """
    moved = list(balances)
    moved[index_out] = _sub(moved[index_out], amount_out)
    final_in = token_balance_given_invariant(amp, moved, invariant, index_in)
    return _add(_sub(final_in, balances[index_in]), 1)
