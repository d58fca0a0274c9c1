"""A weighted pool's own swap steps: scaling to 18 decimals, the swap fee, WeightedMath.

Amounts and balances here are raw token units; the functions upscale them by each token's
scaling factor (10^(18 - decimals)), run WeightedMath, and scale the result back with the
rounding the pool uses: down for what leaves the pool, up for what enters it.

ref: balancer-v2-monorepo pkg/pool-weighted/contracts/WeightedPool2Tokens.sol `onSwap` and
pkg/pool-utils/contracts/BaseMinimalSwapInfoPool.sol `onSwap` (WeightedPool), 20210418:
    GIVEN_IN:  amount -= amount.mulUp(fee); upscale; calcOutGivenIn; downscaleDown
    GIVEN_OUT: upscale; calcInGivenOut; downscaleUp; amount.divUp(fee.complement())
Both pools compute the same numbers; WeightedPool2Tokens also writes its price oracle, which a
quote does not need. Scaling factors are plain integers in this release (BasePool.sol
`_computeScalingFactor`, Math.sol `mul` / `divDown` / `divUp`).

`version=3` is the 20230206 WeightedPool (weighted-pool-v3): the same steps in the same order,
but its scaling factors are 18-decimal fixed point (10^(18 - decimals) * 1e18) applied with
FixedPoint `mulDown` / `divDown` / `divUp`, which give the same amounts and overflow on other
inputs (`BAL#003` / `BAL#005`), and its WeightedMath powers are exact for exponents 1, 2, 4.
ref: balancer-v2-monorepo@5082b2869 pkg/pool-utils/contracts/BaseMinimalSwapInfoPool.sol
`onSwap` and pkg/solidity-utils/contracts/helpers/ScalingHelpers.sol
"""

from __future__ import annotations

from flasharb.amm.balancer_weighted.errors import MUL_OVERFLOW, ZERO_DIVISION, bal_error
from flasharb.amm.balancer_weighted.fixed_point import (
    ONE,
    complement,
    div_down,
    div_up,
    mul_down,
    mul_up,
    sub,
)
from flasharb.amm.balancer_weighted.weighted_math import calc_in_given_out, calc_out_given_in
from flasharb.errors import FlasharbValueError

__all__ = [
    "VERSIONS",
    "add_swap_fee_amount",
    "downscale_down",
    "downscale_up",
    "scaling_factor",
    "subtract_swap_fee_amount",
    "swap_given_in",
    "swap_given_out",
    "upscale",
]

_WORD = 2**256
VERSIONS = (1, 3)  # WeightedPool of 20210418 (v1) and of 20230206 (weighted-pool-v3)
_FACTORS: tuple[int, ...] = tuple(10**k for k in range(18, -1, -1))  # by decimals 0..18


def scaling_factor(decimals: int) -> int:
    """10^(18 - decimals): what makes a raw amount an 18-decimal one.

    ref: WeightedPool2Tokens.sol / BasePool.sol `_computeScalingFactor` (tokens with more than
    18 decimals make the pool's constructor revert: `Math.sub(18, decimals)`).
    """
    if not 0 <= decimals <= 18:
        raise FlasharbValueError(f"Balancer pools take tokens with 0..18 decimals, not {decimals}")
    return _FACTORS[decimals]


def upscale(amount: int, factor: int) -> int:
    """amount * factor, checked. ref: `_upscale` = Math.sol `mul`. Raises `BAL#003`."""
    c = amount * factor
    if c >= _WORD:
        raise bal_error(MUL_OVERFLOW, f"{amount} * scaling factor {factor}")
    return c


def downscale_down(amount: int, factor: int) -> int:
    """amount / factor rounded down. ref: `_downscaleDown` = Math.sol `divDown`."""
    if factor == 0:
        raise bal_error(ZERO_DIVISION)
    return amount // factor


def downscale_up(amount: int, factor: int) -> int:
    """amount / factor rounded up. ref: `_downscaleUp` = Math.sol `divUp`."""
    if factor == 0:
        raise bal_error(ZERO_DIVISION)
    return 0 if amount == 0 else 1 + (amount - 1) // factor


def _up(amount: int, factor: int, version: int) -> int:
    """`_upscale`: Math.mul (v1) or FixedPoint.mulDown by factor * 1e18 (v3)."""
    return upscale(amount, factor) if version == 1 else mul_down(amount, factor * ONE)


def _down_down(amount: int, factor: int, version: int) -> int:
    """`_downscaleDown`: Math.divDown (v1) or FixedPoint.divDown by factor * 1e18 (v3)."""
    return downscale_down(amount, factor) if version == 1 else div_down(amount, factor * ONE)


def _down_up(amount: int, factor: int, version: int) -> int:
    """`_downscaleUp`: Math.divUp (v1) or FixedPoint.divUp by factor * 1e18 (v3)."""
    return downscale_up(amount, factor) if version == 1 else div_up(amount, factor * ONE)


def subtract_swap_fee_amount(amount: int, swap_fee: int) -> int:
    """amount minus its fee, the fee rounded up. ref: BasePool.sol `_subtractSwapFeeAmount`."""
    return sub(amount, mul_up(amount, swap_fee))


def add_swap_fee_amount(amount: int, swap_fee: int) -> int:
    """amount / (1 - fee), rounded up. ref: BasePool.sol `_addSwapFeeAmount`."""
    return div_up(amount, complement(swap_fee))


def swap_given_in(
    *,
    balance_in: int,
    balance_out: int,
    factor_in: int,
    factor_out: int,
    weight_in: int,
    weight_out: int,
    swap_fee: int,
    amount_in: int,
    version: int = 1,
) -> int:
    """What the pool's `onSwap` returns for GIVEN_IN: raw units of token out for `amount_in` raw
    units of token in (fee included), given the raw Vault balances.

    Raises:
        InsufficientLiquidityError: `BAL#304 MAX_IN_RATIO`.
        FlasharbValueError: `BAL#003 MUL_OVERFLOW` and the other math reverts.
    """
    if version == 1:
        amount = upscale(subtract_swap_fee_amount(amount_in, swap_fee), factor_in)
        up_in, up_out = upscale(balance_in, factor_in), upscale(balance_out, factor_out)
    else:  # balances first, then the fee, then the amount
        up_in, up_out = _up(balance_in, factor_in, 3), _up(balance_out, factor_out, 3)
        amount = _up(subtract_swap_fee_amount(amount_in, swap_fee), factor_in, 3)
    out = calc_out_given_in(up_in, weight_in, up_out, weight_out, amount, version == 3)
    return _down_down(out, factor_out, version)


def swap_given_out(
    *,
    balance_in: int,
    balance_out: int,
    factor_in: int,
    factor_out: int,
    weight_in: int,
    weight_out: int,
    swap_fee: int,
    amount_out: int,
    version: int = 1,
) -> int:
    """What the pool's `onSwap` returns for GIVEN_OUT: raw units of token in (fee included) that
    buy `amount_out` raw units of token out, given the raw Vault balances.

    Raises:
        InsufficientLiquidityError: `BAL#305 MAX_OUT_RATIO`.
        FlasharbValueError: `BAL#003 MUL_OVERFLOW`, `BAL#005 DIV_INTERNAL` and the other math
            reverts.
    """
    if version == 1:
        amount = upscale(amount_out, factor_out)
        up_in, up_out = upscale(balance_in, factor_in), upscale(balance_out, factor_out)
    else:
        up_in, up_out = _up(balance_in, factor_in, 3), _up(balance_out, factor_out, 3)
        amount = _up(amount_out, factor_out, 3)
    amount_in = calc_in_given_out(up_in, weight_in, up_out, weight_out, amount, version == 3)
    return add_swap_fee_amount(_down_up(amount_in, factor_in, version), swap_fee)
