"""One swap step within a single tick range, as v4-core's SwapMath.

v4 keeps v3's step but flips the sign convention (`amountRemaining < 0` is exact input) and, when
an exact-input step stops short of its target, counts all of the remaining input less the fee as
`amountIn` (v3 recomputes it from the price reached, and books the difference as fee). The
amounts paid and received are the same; the fee split differs. The price math is v3-core's
(SqrtPriceMath, FullMath), reused from `flasharb.amm.uniswap_v3`.

ref: v4-core src/libraries/SwapMath.sol
"""

from __future__ import annotations

from flasharb.amm.uniswap_v3.full_math import mul_div, mul_div_rounding_up
from flasharb.amm.uniswap_v3.sqrt_price_math import (
    get_amount0_delta,
    get_amount1_delta,
    get_next_sqrt_price_from_input,
    get_next_sqrt_price_from_output,
)
from flasharb.amm.uniswap_v4.fees import PIPS

__all__ = ["MAX_SWAP_FEE", "compute_swap_step", "get_sqrt_price_target"]

MAX_SWAP_FEE = PIPS  # SwapMath.MAX_SWAP_FEE: 100%


def get_sqrt_price_target(zero_for_one: bool, sqrt_price_next_x96: int, limit_x96: int) -> int:
    """The next tick's price, or the limit if the limit comes first in the swap's direction.

    ref: SwapMath.sol `getSqrtPriceTarget` (branch-free assembly of the same choice)
    """
    if zero_for_one:
        return limit_x96 if sqrt_price_next_x96 < limit_x96 else sqrt_price_next_x96
    return limit_x96 if sqrt_price_next_x96 > limit_x96 else sqrt_price_next_x96


def compute_swap_step(
    sqrt_price_current_x96: int,
    sqrt_price_target_x96: int,
    liquidity: int,
    amount_remaining: int,
    fee_pips: int,
) -> tuple[int, int, int, int]:
    """(sqrt price reached, amountIn, amountOut, feeAmount) of one step.

    ref: SwapMath.sol `computeSwapStep`: exact input if `amount_remaining < 0`, exact output if
    `> 0`; the direction is current >= target (zeroForOne).
    """
    zero_for_one = sqrt_price_current_x96 >= sqrt_price_target_x96
    if amount_remaining < 0:  # exact input
        remaining = -amount_remaining
        remaining_less_fee = mul_div(remaining, MAX_SWAP_FEE - fee_pips, MAX_SWAP_FEE)
        amount_in = (
            get_amount0_delta(sqrt_price_target_x96, sqrt_price_current_x96, liquidity, True)
            if zero_for_one
            else get_amount1_delta(sqrt_price_current_x96, sqrt_price_target_x96, liquidity, True)
        )
        if remaining_less_fee >= amount_in:
            sqrt_next = sqrt_price_target_x96
            fee_amount = (
                amount_in
                if fee_pips == MAX_SWAP_FEE
                else mul_div_rounding_up(amount_in, fee_pips, MAX_SWAP_FEE - fee_pips)
            )
        else:
            amount_in = remaining_less_fee
            sqrt_next = get_next_sqrt_price_from_input(
                sqrt_price_current_x96, liquidity, remaining_less_fee, zero_for_one
            )
            fee_amount = remaining - amount_in
        amount_out = (
            get_amount1_delta(sqrt_next, sqrt_price_current_x96, liquidity, False)
            if zero_for_one
            else get_amount0_delta(sqrt_price_current_x96, sqrt_next, liquidity, False)
        )
        return sqrt_next, amount_in, amount_out, fee_amount
    amount_out = (
        get_amount1_delta(sqrt_price_target_x96, sqrt_price_current_x96, liquidity, False)
        if zero_for_one
        else get_amount0_delta(sqrt_price_current_x96, sqrt_price_target_x96, liquidity, False)
    )
    if amount_remaining >= amount_out:
        sqrt_next = sqrt_price_target_x96
    else:
        amount_out = amount_remaining
        sqrt_next = get_next_sqrt_price_from_output(
            sqrt_price_current_x96, liquidity, amount_out, zero_for_one
        )
    amount_in = (
        get_amount0_delta(sqrt_next, sqrt_price_current_x96, liquidity, True)
        if zero_for_one
        else get_amount1_delta(sqrt_price_current_x96, sqrt_next, liquidity, True)
    )
    fee_amount = mul_div_rounding_up(amount_in, fee_pips, MAX_SWAP_FEE - fee_pips)
    return sqrt_next, amount_in, amount_out, fee_amount
