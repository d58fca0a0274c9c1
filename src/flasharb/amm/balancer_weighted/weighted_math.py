"""Balancer's WeightedMath for swaps (and the invariant), on upscaled 18-decimal amounts.

ref: balancer-v2-monorepo pkg/pool-weighted/contracts/WeightedMath.sol (20210418 deployment)
ref: balancer-v2-monorepo@5082b2869 pkg/pool-weighted/contracts/WeightedMath.sol (20230206,
weighted-pool-v3): the same formulas and roundings; only FixedPoint's powers differ, which
`exact_powers` selects.
"""

from __future__ import annotations

from flasharb.amm.balancer_weighted.errors import MAX_IN_RATIO as MAX_IN_RATIO_CODE
from flasharb.amm.balancer_weighted.errors import MAX_OUT_RATIO as MAX_OUT_RATIO_CODE
from flasharb.amm.balancer_weighted.errors import ZERO_INVARIANT, bal_error
from flasharb.amm.balancer_weighted.fixed_point import (
    ONE,
    add,
    complement,
    div_down,
    div_up,
    mul_down,
    mul_up,
    pow_down,
    pow_down_exact,
    pow_up,
    pow_up_exact,
    sub,
)

__all__ = [
    "MAX_IN_RATIO",
    "MAX_OUT_RATIO",
    "MIN_WEIGHT",
    "calc_in_given_out",
    "calc_out_given_in",
    "calculate_invariant",
]

MIN_WEIGHT = ONE // 100  # 1%: bounds the weight ratios that become exponents
# Swap limits: an amount in (out) may not exceed 30% of the balance in (out), upscaled.
MAX_IN_RATIO = 3 * ONE // 10
MAX_OUT_RATIO = 3 * ONE // 10


def calc_out_given_in(
    balance_in: int,
    weight_in: int,
    balance_out: int,
    weight_out: int,
    amount_in: int,
    exact_powers: bool = False,
) -> int:
    """Amount out for `amount_in` (fee already taken off), all upscaled; rounds down.

    ref: WeightedMath.sol `_calcOutGivenIn`
        aO = bO * (1 - (bI / (bI + aI)) ^ (wI / wO))
    base rounds up (divUp), exponent down (divDown), power up (powUp), product down (mulDown).

    Raises:
        InsufficientLiquidityError: `BAL#304 MAX_IN_RATIO` (amount_in > 30% of balance_in).
    """
    if amount_in > mul_down(balance_in, MAX_IN_RATIO):
        raise bal_error(
            MAX_IN_RATIO_CODE, f"amount in {amount_in} > 30% of balance {balance_in} (upscaled)"
        )
    denominator = add(balance_in, amount_in)
    base = div_up(balance_in, denominator)
    exponent = div_down(weight_in, weight_out)
    power = (pow_up_exact if exact_powers else pow_up)(base, exponent)
    return mul_down(balance_out, complement(power))


def calc_in_given_out(
    balance_in: int,
    weight_in: int,
    balance_out: int,
    weight_out: int,
    amount_out: int,
    exact_powers: bool = False,
) -> int:
    """Amount in (before the fee) that buys `amount_out`, all upscaled; rounds up.

    ref: WeightedMath.sol `_calcInGivenOut`
        aI = bI * ((bO / (bO - aO)) ^ (wO / wI) - 1)
    base, exponent, power and product all round up.

    Raises:
        InsufficientLiquidityError: `BAL#305 MAX_OUT_RATIO` (amount_out > 30% of balance_out).
    """
    if amount_out > mul_down(balance_out, MAX_OUT_RATIO):
        raise bal_error(
            MAX_OUT_RATIO_CODE,
            f"amount out {amount_out} > 30% of balance {balance_out} (upscaled)",
        )
    base = div_up(balance_out, sub(balance_out, amount_out))
    exponent = div_up(weight_out, weight_in)
    power = (pow_up_exact if exact_powers else pow_up)(base, exponent)
    ratio = sub(power, ONE)  # power > 1: the base is and powUp rounds up
    return mul_up(balance_in, ratio)


def calculate_invariant(
    normalized_weights: tuple[int, ...], balances: tuple[int, ...], exact_powers: bool = False
) -> int:
    """prod(balance_i ^ weight_i) on upscaled balances, rounded down (what `getInvariant` says).

    ref: WeightedMath.sol `_calculateInvariant`

    Raises:
        FlasharbValueError: `BAL#311 ZERO_INVARIANT`.
    """
    invariant = ONE
    power = pow_down_exact if exact_powers else pow_down
    for weight, balance in zip(normalized_weights, balances, strict=True):
        invariant = mul_down(invariant, power(balance, weight))
    if invariant == 0:
        raise bal_error(ZERO_INVARIANT)
    return invariant
