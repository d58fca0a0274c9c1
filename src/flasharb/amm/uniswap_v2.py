"""Uniswap V2 constant-product math, exact integers, mirroring the Solidity 1:1.

ref: https://github.com/Uniswap/v2-periphery/blob/master/contracts/libraries/UniswapV2Library.sol
ref: https://github.com/Uniswap/v2-core/blob/master/contracts/UniswapV2Pair.sol

Fees are integer pips (hundredths of a bip, denominator 1_000_000) so that forks with other
fees (Sushi 3000 like Uniswap, others 2500 or 2000) share one formula. For 3000 pips every
function here returns exactly what the 997/1000 Solidity returns: scaling numerator and
denominator by 1000 leaves the floor division unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from eth_utils.address import to_checksum_address

from flasharb.errors import FlasharbValueError, InsufficientLiquidityError

__all__ = [
    "DEFAULT_FEE_PIPS",
    "FEE_DENOMINATOR",
    "V2PairState",
    "checksum_address",
    "get_amount_in",
    "get_amount_out",
    "min_amount_in",
    "swap_satisfies_k",
]

FEE_DENOMINATOR = 1_000_000  # pips: hundredths of a bip
DEFAULT_FEE_PIPS = 3000  # 0.3%, Uniswap V2 and SushiSwap


@lru_cache(maxsize=65_536)
def checksum_address(address: str) -> str:
    """EIP-55 checksum form of `address`; raises FlasharbValueError if it is not an address."""
    try:
        return to_checksum_address(address)
    except (ValueError, TypeError) as exc:
        raise FlasharbValueError(f"not an address: {address!r}") from exc


def _check_fee(fee_pips: int) -> None:
    if not 0 <= fee_pips < FEE_DENOMINATOR:
        raise FlasharbValueError(
            f"fee_pips must be in [0, {FEE_DENOMINATOR}) (hundredths of a bip), got {fee_pips}"
        )


def get_amount_out(
    amount_in: int, reserve_in: int, reserve_out: int, fee_pips: int = DEFAULT_FEE_PIPS
) -> int:
    """Maximum output for `amount_in`, as `UniswapV2Library.getAmountOut` computes it.

    ref: UniswapV2Library.sol `getAmountOut`
        amountInWithFee = amountIn * 997
        amountOut = amountInWithFee * reserveOut / (reserveIn * 1000 + amountInWithFee)

    Here with the fee in pips: `a = amount_in * (1e6 - fee_pips)`,
    `out = a * reserve_out // (reserve_in * 1e6 + a)`.

    Raises:
        FlasharbValueError: `amount_in <= 0` (`INSUFFICIENT_INPUT_AMOUNT`) or a bad fee.
        InsufficientLiquidityError: a reserve is zero (`INSUFFICIENT_LIQUIDITY`).
    """
    if amount_in <= 0:
        raise FlasharbValueError(
            f"UniswapV2Library: INSUFFICIENT_INPUT_AMOUNT (amount_in={amount_in})"
        )
    if reserve_in <= 0 or reserve_out <= 0:
        raise InsufficientLiquidityError(
            "UniswapV2Library: INSUFFICIENT_LIQUIDITY "
            f"(reserve_in={reserve_in}, reserve_out={reserve_out})"
        )
    _check_fee(fee_pips)
    amount_in_with_fee = amount_in * (FEE_DENOMINATOR - fee_pips)
    numerator = amount_in_with_fee * reserve_out
    denominator = reserve_in * FEE_DENOMINATOR + amount_in_with_fee
    return numerator // denominator


def get_amount_in(
    amount_out: int, reserve_in: int, reserve_out: int, fee_pips: int = DEFAULT_FEE_PIPS
) -> int:
    """Input that buys `amount_out`, as `UniswapV2Library.getAmountIn` computes it.

    ref: UniswapV2Library.sol `getAmountIn`
        numerator = reserveIn * amountOut * 1000
        denominator = (reserveOut - amountOut) * 997
        amountIn = numerator / denominator + 1

    The library always adds 1, so when the division is exact it asks for one wei more than the
    minimum; we keep that rounding for parity.

    Raises:
        FlasharbValueError: `amount_out <= 0` (`INSUFFICIENT_OUTPUT_AMOUNT`) or a bad fee.
        InsufficientLiquidityError: a reserve is zero (`INSUFFICIENT_LIQUIDITY`), or
            `amount_out >= reserve_out` (SafeMath `sub` underflow / division by zero in
            Solidity: the pool cannot pay that much).
    """
    if amount_out <= 0:
        raise FlasharbValueError(
            f"UniswapV2Library: INSUFFICIENT_OUTPUT_AMOUNT (amount_out={amount_out})"
        )
    if reserve_in <= 0 or reserve_out <= 0:
        raise InsufficientLiquidityError(
            "UniswapV2Library: INSUFFICIENT_LIQUIDITY "
            f"(reserve_in={reserve_in}, reserve_out={reserve_out})"
        )
    if amount_out >= reserve_out:
        raise InsufficientLiquidityError(
            f"amount_out {amount_out} >= reserve_out {reserve_out}: the pool cannot pay it"
        )
    _check_fee(fee_pips)
    numerator = reserve_in * amount_out * FEE_DENOMINATOR
    denominator = (reserve_out - amount_out) * (FEE_DENOMINATOR - fee_pips)
    return numerator // denominator + 1


def min_amount_in(
    amount_out: int, reserve_in: int, reserve_out: int, fee_pips: int = DEFAULT_FEE_PIPS
) -> int:
    """The least input the pair itself accepts for `amount_out` (its K check, not the library).

    ref: UniswapV2Pair.sol `swap` (the K check, see `swap_satisfies_k`)
        (reserve_in * 1e6 + x * (1e6 - fee)) * (reserve_out - amount_out) * 1e6
            >= reserve_in * reserve_out * 1e12
    so x = ceil((ceil(reserve_in * reserve_out * 1e6 / (reserve_out - amount_out))
                 - reserve_in * 1e6) / (1e6 - fee)).
    `get_amount_in` (the router's) is this or one more: the library always adds 1.

    Raises:
        FlasharbValueError: `amount_out <= 0` (`INSUFFICIENT_OUTPUT_AMOUNT`) or a bad fee.
        InsufficientLiquidityError: a reserve is zero or `amount_out >= reserve_out`
            (`UniswapV2: INSUFFICIENT_LIQUIDITY`).
    """
    if amount_out <= 0:
        raise FlasharbValueError(f"UniswapV2: INSUFFICIENT_OUTPUT_AMOUNT (amount_out={amount_out})")
    if reserve_in <= 0 or reserve_out <= 0 or amount_out >= reserve_out:
        raise InsufficientLiquidityError(
            f"UniswapV2: INSUFFICIENT_LIQUIDITY (amount_out {amount_out}, "
            f"reserves {reserve_in}/{reserve_out})"
        )
    _check_fee(fee_pips)
    target = -(-reserve_in * reserve_out * FEE_DENOMINATOR // (reserve_out - amount_out))
    return max(1, -(-(target - reserve_in * FEE_DENOMINATOR) // (FEE_DENOMINATOR - fee_pips)))


def swap_satisfies_k(
    *,
    reserve0: int,
    reserve1: int,
    amount0_in: int,
    amount1_in: int,
    amount0_out: int,
    amount1_out: int,
    fee_pips: int = DEFAULT_FEE_PIPS,
) -> bool:
    """Whether `UniswapV2Pair.swap` accepts this swap (False where it reverts with `K`).

    ref: UniswapV2Pair.sol `swap`
        balance0Adjusted = balance0 * 1000 - amount0In * 3
        require(balance0Adjusted * balance1Adjusted >= reserve0 * reserve1 * 1000**2, 'K')

    Amounts in are what was sent to the pair before the call, so the balances are
    `reserve + amount_in - amount_out`. With the fee in pips the adjusted balance is
    `balance * 1e6 - amount_in * fee_pips`, the Solidity one scaled by 1000.

    Raises:
        FlasharbValueError: where the pair reverts before the K check
            (`INSUFFICIENT_OUTPUT_AMOUNT`, `INSUFFICIENT_INPUT_AMOUNT`, negative amounts).
        InsufficientLiquidityError: an output not below its reserve (`INSUFFICIENT_LIQUIDITY`).
    """
    if min(reserve0, reserve1, amount0_in, amount1_in, amount0_out, amount1_out) < 0:
        raise FlasharbValueError("swap amounts and reserves must be non-negative")
    _check_fee(fee_pips)
    if amount0_out == 0 and amount1_out == 0:
        raise FlasharbValueError("UniswapV2: INSUFFICIENT_OUTPUT_AMOUNT")
    if amount0_out >= reserve0 or amount1_out >= reserve1:
        raise InsufficientLiquidityError(
            f"UniswapV2: INSUFFICIENT_LIQUIDITY (out {amount0_out}/{amount1_out}, "
            f"reserves {reserve0}/{reserve1})"
        )
    if amount0_in == 0 and amount1_in == 0:
        raise FlasharbValueError("UniswapV2: INSUFFICIENT_INPUT_AMOUNT")
    balance0 = reserve0 + amount0_in - amount0_out
    balance1 = reserve1 + amount1_in - amount1_out
    balance0_adjusted = balance0 * FEE_DENOMINATOR - amount0_in * fee_pips
    balance1_adjusted = balance1 * FEE_DENOMINATOR - amount1_in * fee_pips
    return balance0_adjusted * balance1_adjusted >= reserve0 * reserve1 * FEE_DENOMINATOR**2


@dataclass(frozen=True, slots=True, kw_only=True)
class V2PairState:
    """Reserves of one Uniswap-V2-style pair at one block.

    Addresses are normalised to their EIP-55 checksum form, so states can key dicts and be
    compared with addresses from any source.

    ref: UniswapV2Pair.sol `getReserves` (reserve0, reserve1 are uint112)
    """

    address: str
    token0: str
    token1: str
    reserve0: int
    reserve1: int
    fee_pips: int = DEFAULT_FEE_PIPS  # hundredths of a bip; 3000 = 0.3%
    venue: str = "uniswap_v2"  # which deployment (uniswap_v2, sushiswap, ...), not the math

    def __post_init__(self) -> None:
        for name in ("address", "token0", "token1"):
            object.__setattr__(self, name, checksum_address(getattr(self, name)))
        if self.token0 == self.token1:
            raise FlasharbValueError(f"pool {self.address}: token0 == token1 ({self.token0})")
        if self.reserve0 < 0 or self.reserve1 < 0:
            raise FlasharbValueError(
                f"pool {self.address}: negative reserves ({self.reserve0}, {self.reserve1})"
            )
        _check_fee(self.fee_pips)

    @property
    def uid(self) -> str:
        """The pool's identity in flasharb: its address."""
        return self.address

    def _normalise_member(self, token: str) -> str:
        if token == self.token0 or token == self.token1:  # fast path: already checksummed
            return token
        normalised = checksum_address(token)
        if normalised != self.token0 and normalised != self.token1:
            raise FlasharbValueError(
                f"token {token} is not in pool {self.address} ({self.token0}/{self.token1})"
            )
        return normalised

    def reserves_for(self, token_in: str) -> tuple[int, int]:
        """(reserve_in, reserve_out) for a swap that sells `token_in`."""
        if self._normalise_member(token_in) == self.token0:
            return self.reserve0, self.reserve1
        return self.reserve1, self.reserve0

    def amount_out(self, token_in: str, amount_in: int) -> int:
        """Exact output of selling `amount_in` of `token_in` into this pair."""
        reserve_in, reserve_out = self.reserves_for(token_in)
        return get_amount_out(amount_in, reserve_in, reserve_out, self.fee_pips)

    @property
    def tokens(self) -> tuple[str, ...]:
        """(token0, token1)."""
        return (self.token0, self.token1)

    def _pair_direction(self, token_in: str, token_out: str) -> tuple[int, int]:
        reserve_in, reserve_out = self.reserves_for(token_in)
        if self.other(token_in) != self._normalise_member(token_out):
            raise FlasharbValueError(f"pool {self.address}: token_in == token_out ({token_out})")
        return reserve_in, reserve_out

    def quote_exact_in(self, token_in: str, token_out: str, amount_in: int) -> int:
        """Exact output for `amount_in` of `token_in` (the largest output the K check accepts)."""
        reserve_in, reserve_out = self._pair_direction(token_in, token_out)
        return get_amount_out(amount_in, reserve_in, reserve_out, self.fee_pips)

    def quote_exact_out(self, token_in: str, token_out: str, amount_out: int) -> int:
        """The least input the pair accepts for `amount_out` (see `min_amount_in`)."""
        reserve_in, reserve_out = self._pair_direction(token_in, token_out)
        return min_amount_in(amount_out, reserve_in, reserve_out, self.fee_pips)

    def other(self, token: str) -> str:
        """The pair's other token."""
        if self._normalise_member(token) == self.token0:
            return self.token1
        return self.token0
