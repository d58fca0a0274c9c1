"""Prices and token deltas from Q64.96 square-root prices and liquidity, as v3-core's
SqrtPriceMath.

ref: https://github.com/Uniswap/v3-core/blob/main/contracts/libraries/SqrtPriceMath.sol

Arguments have the Solidity types (sqrt prices uint160, liquidity uint128, amounts uint256);
where the Solidity relies on uint256 wrap-around to detect an overflow, so does this port.
"""

from __future__ import annotations

from flasharb.amm.uniswap_v3.fixed_point import MAX_UINT160, MAX_UINT256, Q96, RESOLUTION
from flasharb.amm.uniswap_v3.full_math import mul_div, mul_div_rounding_up
from flasharb.amm.uniswap_v3.revert import V3Revert
from flasharb.amm.uniswap_v3.safe_cast import to_int256, to_uint160
from flasharb.amm.uniswap_v3.unsafe_math import div_rounding_up

__all__ = [
    "get_amount0_delta",
    "get_amount0_delta_signed",
    "get_amount1_delta",
    "get_amount1_delta_signed",
    "get_next_sqrt_price_from_amount0_rounding_up",
    "get_next_sqrt_price_from_amount1_rounding_down",
    "get_next_sqrt_price_from_input",
    "get_next_sqrt_price_from_output",
]

_MOD_256 = 1 << 256


def get_next_sqrt_price_from_amount0_rounding_up(
    sqrt_px96: int, liquidity: int, amount: int, add: bool
) -> int:
    """The price after adding (`add`) or removing `amount` of token0, rounded up.

    ref: SqrtPriceMath.sol `getNextSqrtPriceFromAmount0RoundingUp`
        add:    liquidity * sqrtP / (liquidity + amount * sqrtP), or if `amount * sqrtP`
                overflows 256 bits, liquidity / (liquidity / sqrtP + amount)
        remove: liquidity * sqrtP / (liquidity - amount * sqrtP)

    Raises:
        V3Revert: removing more token0 than the virtual reserves hold (bare require), the
            fallback denominator overflowing (LowGasSafeMath.add) or a result beyond uint160.
    """
    if amount == 0:  # the result is otherwise not guaranteed to equal the input price
        return sqrt_px96
    numerator1 = liquidity << RESOLUTION
    product = (amount * sqrt_px96) % _MOD_256  # uint256 multiply, wraps
    product_fits = product // amount == sqrt_px96
    if add:
        if product_fits:
            denominator = (numerator1 + product) % _MOD_256  # uint256 add, wraps
            if denominator >= numerator1:  # always fits in 160 bits
                return mul_div_rounding_up(numerator1, sqrt_px96, denominator)
        fallback = numerator1 // sqrt_px96 + amount
        if fallback > MAX_UINT256:  # LowGasSafeMath.add
            raise V3Revert(
                "SqrtPriceMath.getNextSqrtPriceFromAmount0RoundingUp",
                "",
                f"numerator1 / sqrtP + amount overflows uint256 (amount {amount})",
            )
        return div_rounding_up(numerator1, fallback) & MAX_UINT160  # uint160(...) truncates
    # if the product overflows, we know the denominator underflows
    if not (product_fits and numerator1 > product):
        raise V3Revert(
            "SqrtPriceMath.getNextSqrtPriceFromAmount0RoundingUp",
            "",
            f"removing {amount} token0 exceeds the virtual reserves (liquidity {liquidity})",
        )
    return to_uint160(mul_div_rounding_up(numerator1, sqrt_px96, numerator1 - product))


def get_next_sqrt_price_from_amount1_rounding_down(
    sqrt_px96: int, liquidity: int, amount: int, add: bool
) -> int:
    """The price after adding (`add`) or removing `amount` of token1, rounded down.

    ref: SqrtPriceMath.sol `getNextSqrtPriceFromAmount1RoundingDown`: sqrtP +- amount / liquidity

    Raises:
        V3Revert: the new price overflows uint160 (SafeCast) or removing reaches price 0 (bare
            require), or a division by zero liquidity.
    """
    if add:
        if amount <= MAX_UINT160:
            if liquidity == 0:  # Solidity `/` by zero panics
                raise V3Revert(
                    "SqrtPriceMath.getNextSqrtPriceFromAmount1RoundingDown", "", "liquidity is 0"
                )
            quotient = (amount << RESOLUTION) // liquidity
        else:
            quotient = mul_div(amount, Q96, liquidity)
        total = sqrt_px96 + quotient
        if total > MAX_UINT256:  # LowGasSafeMath.add
            raise V3Revert(
                "SqrtPriceMath.getNextSqrtPriceFromAmount1RoundingDown", "", "sum overflows"
            )
        return to_uint160(total)
    if amount <= MAX_UINT160:
        quotient = div_rounding_up(amount << RESOLUTION, liquidity)
    else:
        quotient = mul_div_rounding_up(amount, Q96, liquidity)
    if not sqrt_px96 > quotient:
        raise V3Revert(
            "SqrtPriceMath.getNextSqrtPriceFromAmount1RoundingDown",
            "",
            f"removing {amount} token1 exceeds the virtual reserves (liquidity {liquidity})",
        )
    return sqrt_px96 - quotient  # always fits 160 bits


def get_next_sqrt_price_from_input(
    sqrt_px96: int, liquidity: int, amount_in: int, zero_for_one: bool
) -> int:
    """The price after swapping `amount_in` of token0 (`zero_for_one`) or token1 in; rounded
    so that the price does not pass the target.

    ref: SqrtPriceMath.sol `getNextSqrtPriceFromInput`:
        require(sqrtPX96 > 0); require(liquidity > 0)

    Raises:
        V3Revert: zero price or liquidity, or a revert of the helpers above.
    """
    if sqrt_px96 == 0 or liquidity == 0:
        raise V3Revert(
            "SqrtPriceMath.getNextSqrtPriceFromInput",
            "",
            f"sqrtPX96 ({sqrt_px96}) and liquidity ({liquidity}) must be positive",
        )
    if zero_for_one:
        return get_next_sqrt_price_from_amount0_rounding_up(sqrt_px96, liquidity, amount_in, True)
    return get_next_sqrt_price_from_amount1_rounding_down(sqrt_px96, liquidity, amount_in, True)


def get_next_sqrt_price_from_output(
    sqrt_px96: int, liquidity: int, amount_out: int, zero_for_one: bool
) -> int:
    """The price after swapping `amount_out` of token1 (`zero_for_one`) or token0 out; rounded
    so that the price passes the target.

    ref: SqrtPriceMath.sol `getNextSqrtPriceFromOutput`:
        require(sqrtPX96 > 0); require(liquidity > 0)

    Raises:
        V3Revert: zero price or liquidity, or a revert of the helpers above.
    """
    if sqrt_px96 == 0 or liquidity == 0:
        raise V3Revert(
            "SqrtPriceMath.getNextSqrtPriceFromOutput",
            "",
            f"sqrtPX96 ({sqrt_px96}) and liquidity ({liquidity}) must be positive",
        )
    if zero_for_one:
        return get_next_sqrt_price_from_amount1_rounding_down(
            sqrt_px96, liquidity, amount_out, False
        )
    return get_next_sqrt_price_from_amount0_rounding_up(sqrt_px96, liquidity, amount_out, False)


def get_amount0_delta(
    sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int, round_up: bool
) -> int:
    """Token0 between two prices for `liquidity`: L * (sqrtB - sqrtA) / (sqrtB * sqrtA).

    ref: SqrtPriceMath.sol `getAmount0Delta(uint160,uint160,uint128,bool)`:
        require(sqrtRatioAX96 > 0)

    Raises:
        V3Revert: the lower price is 0.
    """
    if sqrt_ratio_a_x96 > sqrt_ratio_b_x96:
        sqrt_ratio_a_x96, sqrt_ratio_b_x96 = sqrt_ratio_b_x96, sqrt_ratio_a_x96
    if sqrt_ratio_a_x96 == 0:
        raise V3Revert("SqrtPriceMath.getAmount0Delta", "", "sqrtRatioAX96 is 0")
    numerator1 = liquidity << RESOLUTION
    numerator2 = sqrt_ratio_b_x96 - sqrt_ratio_a_x96
    if round_up:
        return div_rounding_up(
            mul_div_rounding_up(numerator1, numerator2, sqrt_ratio_b_x96), sqrt_ratio_a_x96
        )
    return mul_div(numerator1, numerator2, sqrt_ratio_b_x96) // sqrt_ratio_a_x96


def get_amount1_delta(
    sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int, round_up: bool
) -> int:
    """Token1 between two prices for `liquidity`: L * (sqrtB - sqrtA).

    ref: SqrtPriceMath.sol `getAmount1Delta(uint160,uint160,uint128,bool)`
    """
    if sqrt_ratio_a_x96 > sqrt_ratio_b_x96:
        sqrt_ratio_a_x96, sqrt_ratio_b_x96 = sqrt_ratio_b_x96, sqrt_ratio_a_x96
    if round_up:
        return mul_div_rounding_up(liquidity, sqrt_ratio_b_x96 - sqrt_ratio_a_x96, Q96)
    return mul_div(liquidity, sqrt_ratio_b_x96 - sqrt_ratio_a_x96, Q96)


def get_amount0_delta_signed(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int) -> int:
    """Signed token0 delta for a signed liquidity change (int128): rounded up when adding
    liquidity, down (and negated) when removing it.

    ref: SqrtPriceMath.sol `getAmount0Delta(uint160,uint160,int128)`
    """
    if liquidity < 0:
        return -to_int256(get_amount0_delta(sqrt_ratio_a_x96, sqrt_ratio_b_x96, -liquidity, False))
    return to_int256(get_amount0_delta(sqrt_ratio_a_x96, sqrt_ratio_b_x96, liquidity, True))


def get_amount1_delta_signed(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int) -> int:
    """Signed token1 delta for a signed liquidity change (int128).

    ref: SqrtPriceMath.sol `getAmount1Delta(uint160,uint160,int128)`
    """
    if liquidity < 0:
        return -to_int256(get_amount1_delta(sqrt_ratio_a_x96, sqrt_ratio_b_x96, -liquidity, False))
    return to_int256(get_amount1_delta(sqrt_ratio_a_x96, sqrt_ratio_b_x96, liquidity, True))
