"""One swap step within a single tick range, as v3-core's SwapMath.

ref: https://github.com/Uniswap/v3-core/blob/main/contracts/libraries/SwapMath.sol
"""

from __future__ import annotations

from flasharb.amm.uniswap_v3.full_math import mul_div, mul_div_rounding_up
from flasharb.amm.uniswap_v3.sqrt_price_math import (
    get_amount0_delta,
    get_amount1_delta,
    get_next_sqrt_price_from_input,
    get_next_sqrt_price_from_output,
)

__all__ = ["compute_swap_step"]

_PIPS = 1_000_000  # 1e6: fees are in hundredths of a bip


def compute_swap_step(
    sqrt_ratio_current_x96: int,
    sqrt_ratio_target_x96: int,
    liquidity: int,
    amount_remaining: int,
    fee_pips: int,
) -> tuple[int, int, int, int]:
    """Swap `amount_remaining` (exact input if >= 0, exact output if < 0) from the current
    price towards the target price, within one range of constant `liquidity`.

    ref: SwapMath.sol `computeSwapStep`; the direction is current >= target (zeroForOne).

    Returns:
        (sqrt_ratio_next_x96, amount_in, amount_out, fee_amount): the price reached (never past
        the target), the input used and output paid (uint256), and the fee taken from the input.
        For exact input, amount_in + fee_amount never exceeds amount_remaining.
    """
    zero_for_one = sqrt_ratio_current_x96 >= sqrt_ratio_target_x96
    exact_in = amount_remaining >= 0

    if exact_in:
        amount_remaining_less_fee = mul_div(amount_remaining, _PIPS - fee_pips, _PIPS)
        amount_in = (
            get_amount0_delta(sqrt_ratio_target_x96, sqrt_ratio_current_x96, liquidity, True)
            if zero_for_one
            else get_amount1_delta(sqrt_ratio_current_x96, sqrt_ratio_target_x96, liquidity, True)
        )
        if amount_remaining_less_fee >= amount_in:
            sqrt_ratio_next_x96 = sqrt_ratio_target_x96
        else:
            sqrt_ratio_next_x96 = get_next_sqrt_price_from_input(
                sqrt_ratio_current_x96, liquidity, amount_remaining_less_fee, zero_for_one
            )
        amount_out = 0
    else:
        amount_out = (
            get_amount1_delta(sqrt_ratio_target_x96, sqrt_ratio_current_x96, liquidity, False)
            if zero_for_one
            else get_amount0_delta(sqrt_ratio_current_x96, sqrt_ratio_target_x96, liquidity, False)
        )
        # uint256(-amountRemaining): int256.min negates to itself, read as 2**255 unsigned
        if -amount_remaining >= amount_out:
            sqrt_ratio_next_x96 = sqrt_ratio_target_x96
        else:
            sqrt_ratio_next_x96 = get_next_sqrt_price_from_output(
                sqrt_ratio_current_x96, liquidity, -amount_remaining, zero_for_one
            )
        amount_in = 0

    reached = sqrt_ratio_target_x96 == sqrt_ratio_next_x96  # `max` in the Solidity

    # get the input/output amounts
    if zero_for_one:
        if not (reached and exact_in):
            amount_in = get_amount0_delta(
                sqrt_ratio_next_x96, sqrt_ratio_current_x96, liquidity, True
            )
        if not (reached and not exact_in):
            amount_out = get_amount1_delta(
                sqrt_ratio_next_x96, sqrt_ratio_current_x96, liquidity, False
            )
    else:
        if not (reached and exact_in):
            amount_in = get_amount1_delta(
                sqrt_ratio_current_x96, sqrt_ratio_next_x96, liquidity, True
            )
        if not (reached and not exact_in):
            amount_out = get_amount0_delta(
                sqrt_ratio_current_x96, sqrt_ratio_next_x96, liquidity, False
            )

    # cap the output amount to not exceed the remaining output amount
    if not exact_in and amount_out > -amount_remaining:
        amount_out = -amount_remaining

    if exact_in and sqrt_ratio_next_x96 != sqrt_ratio_target_x96:
        # we didn't reach the target, so take the remainder of the maximum input as fee
        fee_amount = amount_remaining - amount_in
    else:
        fee_amount = mul_div_rounding_up(amount_in, fee_pips, _PIPS - fee_pips)
    return sqrt_ratio_next_x96, amount_in, amount_out, fee_amount
