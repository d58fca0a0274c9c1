"""A Uniswap V3 pool's swap state at one block, and its exact multi-tick swap.

ref: https://github.com/Uniswap/v3-core/blob/main/contracts/UniswapV3Pool.sol
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.amm.uniswap_v3.fixed_point import MAX_INT256, MAX_UINT128, MAX_UINT160, MIN_INT256
from flasharb.amm.uniswap_v3.liquidity_math import add_delta
from flasharb.amm.uniswap_v3.revert import V3Revert
from flasharb.amm.uniswap_v3.swap_math import compute_swap_step
from flasharb.amm.uniswap_v3.tick_bitmap import next_initialized_tick_within_one_word
from flasharb.amm.uniswap_v3.tick_math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
)
from flasharb.errors import FlasharbValueError, IncompleteStateError, InsufficientLiquidityError

__all__ = ["V3PoolState", "V3SwapResult"]

_PIPS = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class V3SwapResult:
    """What `UniswapV3Pool.swap` returns and leaves behind in slot0 and `liquidity`.

    Amounts are signed from the pool's point of view, as the Solidity returns them: positive
    is paid into the pool, negative is paid out of it.
    """

    pool: str  # address of the state the swap ran on
    zero_for_one: bool  # token0 in, token1 out
    amount_specified: int  # > 0 exact input, < 0 exact output
    sqrt_price_limit_x96: int  # the limit the swap ran with
    amount0: int  # int256, pool's view
    amount1: int  # int256, pool's view
    sqrt_price_x96: int  # slot0.sqrtPriceX96 after the swap
    tick: int  # slot0.tick after the swap
    liquidity: int  # in-range liquidity after the swap
    ticks_crossed: int  # initialized ticks crossed (liquidity changes applied)
    sqrt_price_x96_before: int  # slot0.sqrtPriceX96 before: `apply` checks it

    @property
    def amount_in(self) -> int:
        """What the swapper pays (of token0 if `zero_for_one`, else token1)."""
        return self.amount0 if self.zero_for_one else self.amount1

    @property
    def amount_out(self) -> int:
        """What the swapper receives (of token1 if `zero_for_one`, else token0)."""
        return -(self.amount1 if self.zero_for_one else self.amount0)

    @property
    def filled(self) -> bool:
        """Whether the whole `amount_specified` was swapped (False: stopped at the limit)."""
        exact_in = self.amount_specified > 0
        specified = self.amount0 if self.zero_for_one == exact_in else self.amount1
        return specified == self.amount_specified


@dataclass(frozen=True, slots=True, kw_only=True)
class V3PoolState:
    """What `UniswapV3Pool.swap` reads: slot0, liquidity and the ticks around the price.

    Only the tick-bitmap words in `word_range` are known; a swap that needs a word outside
    it raises `IncompleteStateError` rather than guess.
    """

    address: str
    token0: str
    token1: str
    fee: int  # in hundredths of a bip (pips), 500 = 0.05%
    tick_spacing: int
    sqrt_price_x96: int  # slot0.sqrtPriceX96, Q64.96
    tick: int  # slot0.tick
    liquidity: int  # in-range liquidity, uint128
    tick_bitmap: Mapping[int, int] = field(default_factory=dict)  # word position -> 256-bit word
    ticks: Mapping[int, int] = field(default_factory=dict)  # initialized tick -> liquidityNet
    word_range: tuple[int, int] = (0, -1)  # inclusive word positions read; (0, -1) = none
    venue: str = "uniswap_v3"

    def __post_init__(self) -> None:
        for name in ("address", "token0", "token1"):
            object.__setattr__(self, name, checksum_address(getattr(self, name)))
        where = f"uniswap_v3 pool {self.address}"
        if self.token0 == self.token1:
            raise FlasharbValueError(f"{where}: token0 == token1 ({self.token0})")
        if not 0 <= self.fee < _PIPS:
            raise FlasharbValueError(f"{where}: fee {self.fee} is not in [0, 1e6) pips")
        if self.tick_spacing <= 0:
            raise FlasharbValueError(f"{where}: tick spacing {self.tick_spacing} must be > 0")
        if not 0 <= self.liquidity <= MAX_UINT128:
            raise FlasharbValueError(f"{where}: liquidity {self.liquidity} is not a uint128")
        if not 0 <= self.sqrt_price_x96 <= MAX_UINT160:
            raise FlasharbValueError(f"{where}: sqrtPriceX96 {self.sqrt_price_x96} not a uint160")

    # ------------------------------------------------------------ PoolState interface

    @property
    def uid(self) -> str:
        """The pool's identity in flasharb: its address."""
        return self.address

    @property
    def tokens(self) -> tuple[str, ...]:
        """(token0, token1), the pool's own order."""
        return (self.token0, self.token1)

    def _normalise_member(self, token: str) -> str:
        if token == self.token0 or token == self.token1:  # fast path: already checksummed
            return token
        normalised = checksum_address(token)
        if normalised != self.token0 and normalised != self.token1:
            raise FlasharbValueError(
                f"token {token} is not in pool {self.address} ({self.token0}/{self.token1})"
            )
        return normalised

    def other(self, token: str) -> str:
        """The pool's other token."""
        return self.token1 if self._normalise_member(token) == self.token0 else self.token0

    def _zero_for_one(self, token_in: str, token_out: str) -> bool:
        zero_for_one = self._normalise_member(token_in) == self.token0
        if self._normalise_member(token_out) == (self.token0 if zero_for_one else self.token1):
            raise FlasharbValueError(f"token_in == token_out ({token_in}) in {self.address}")
        return zero_for_one

    def _full_swap(self, zero_for_one: bool, amount_specified: int, what: str) -> V3SwapResult:
        if self.sqrt_price_x96 == 0:
            raise InsufficientLiquidityError(f"uniswap_v3 pool {self.address} is not initialized")
        result = self.swap(zero_for_one, amount_specified)
        if not result.filled:
            raise InsufficientLiquidityError(
                f"uniswap_v3 pool {self.address} cannot fill {what}: the price reaches its limit "
                f"after {result.amount_in} in / {result.amount_out} out"
            )
        return result

    def quote_exact_in(self, token_in: str, token_out: str, amount_in: int) -> int:
        """Exact output for selling `amount_in` of `token_in`, as QuoterV2's
        `quoteExactInputSingle` with no price limit (and as SwapRouter pays).

        Raises:
            FlasharbValueError: `amount_in <= 0` or not an int256, a token not in the pool.
            InsufficientLiquidityError: the pool cannot take all of `amount_in` before its
                price reaches the limit (QuoterV2 would quote a partial fill).
            IncompleteStateError: the swap needs tick-bitmap words that were not read.
        """
        if amount_in <= 0:
            raise FlasharbValueError(f"amount_in must be positive, got {amount_in}")
        zero_for_one = self._zero_for_one(token_in, token_out)
        return self._full_swap(zero_for_one, amount_in, f"{amount_in} in").amount_out

    def quote_exact_out(self, token_in: str, token_out: str, amount_out: int) -> int:
        """Exact input of `token_in` that buys `amount_out` of `token_out`, as QuoterV2's
        `quoteExactOutputSingle` with no price limit.

        Raises:
            FlasharbValueError: `amount_out <= 0` or too large, a token not in the pool.
            InsufficientLiquidityError: the pool cannot pay `amount_out` before its price
                reaches the limit.
            IncompleteStateError: the swap needs tick-bitmap words that were not read.
        """
        if amount_out <= 0:
            raise FlasharbValueError(f"amount_out must be positive, got {amount_out}")
        zero_for_one = self._zero_for_one(token_in, token_out)
        return self._full_swap(zero_for_one, -amount_out, f"{amount_out} out").amount_in

    def amount_out(self, token_in: str, amount_in: int) -> int:
        """Exact output of selling `amount_in` of `token_in` into this pool."""
        return self.quote_exact_in(token_in, self.other(token_in), amount_in)

    # ------------------------------------------------------------ the swap

    def swap(
        self, zero_for_one: bool, amount_specified: int, sqrt_price_limit_x96: int | None = None
    ) -> V3SwapResult:
        """`UniswapV3Pool.swap`'s loop: exact input if `amount_specified > 0`, exact output
        if `< 0`, stopping when the amount is used up or the price reaches the limit (default:
        MIN_SQRT_RATIO + 1 or MAX_SQRT_RATIO - 1, as QuoterV2 and SwapRouter use).

        ref: UniswapV3Pool.sol `swap` (SwapState / StepComputations; fee growth, protocol fees
        and oracle writes do not change the amounts and are left out).

        Raises:
            V3Revert: `amount_specified == 0` ("AS"), an uninitialized pool ("LOK"), a price
                limit on the wrong side of the price or out of range ("SPL"), or a revert of
                the libraries ("LS"/"LA" on a corrupt liquidityNet, SafeMath on an overflow).
            FlasharbValueError: `amount_specified` is not an int256.
            IncompleteStateError: a tick-bitmap word or tick the swap needs was not read.
        """
        if amount_specified == 0:
            raise V3Revert("UniswapV3Pool.swap", "AS", "amountSpecified is 0")
        if not MIN_INT256 <= amount_specified <= MAX_INT256:
            raise FlasharbValueError(f"amount_specified {amount_specified} is not an int256")
        sqrt_price = self.sqrt_price_x96
        if sqrt_price == 0:  # slot0.unlocked is false until initialize()
            raise V3Revert("UniswapV3Pool.swap", "LOK", f"pool {self.address} not initialized")
        if sqrt_price_limit_x96 is None:
            limit = MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1
        else:
            limit = sqrt_price_limit_x96
        if (
            not (MIN_SQRT_RATIO < limit < sqrt_price)
            if zero_for_one
            else not (sqrt_price < limit < MAX_SQRT_RATIO)
        ):
            raise V3Revert(
                "UniswapV3Pool.swap",
                "SPL",
                f"limit {limit} is not {'below' if zero_for_one else 'above'} the price "
                f"{sqrt_price} within the sqrt ratio range",
            )
        try:
            return self._swap_loop(zero_for_one, amount_specified, limit)
        except IncompleteStateError as exc:
            raise IncompleteStateError(f"uniswap_v3 pool {self.address}: {exc}") from exc

    def _swap_loop(self, zero_for_one: bool, amount_specified: int, limit: int) -> V3SwapResult:
        # SwapState, as locals: the loop runs once per initialized tick or bitmap word
        remaining = amount_specified  # amountSpecifiedRemaining
        calculated = 0  # amountCalculated
        sqrt_price = self.sqrt_price_x96
        tick = self.tick
        liquidity = self.liquidity
        crossed = 0
        exact_input = amount_specified > 0
        fee, spacing, bitmap, ticks = self.fee, self.tick_spacing, self.tick_bitmap, self.ticks
        word_range = self.word_range

        while remaining != 0 and sqrt_price != limit:
            # StepComputations
            sqrt_price_start = sqrt_price
            tick_next, initialized = next_initialized_tick_within_one_word(
                bitmap, tick, spacing, zero_for_one, word_range
            )
            # the bitmap is not aware of the MIN/MAX tick bounds
            if tick_next < MIN_TICK:
                tick_next = MIN_TICK
            elif tick_next > MAX_TICK:
                tick_next = MAX_TICK
            sqrt_price_next = get_sqrt_ratio_at_tick(tick_next)

            target = (
                limit
                if (sqrt_price_next < limit if zero_for_one else sqrt_price_next > limit)
                else sqrt_price_next
            )
            sqrt_price, amount_in, amount_out, fee_amount = compute_swap_step(
                sqrt_price, target, liquidity, remaining, fee
            )
            # unchecked int256 in 0.7.6, and SwapMath keeps them in range: amountIn + fee never
            # exceeds what remains; amountOut is capped at what remains
            if exact_input:
                remaining -= amount_in + fee_amount
                calculated -= amount_out
            else:
                remaining += amount_out
                calculated += amount_in + fee_amount

            if sqrt_price == sqrt_price_next:  # reached the next tick
                if initialized:
                    try:
                        liquidity_net = ticks[tick_next]
                    except KeyError:
                        raise IncompleteStateError(
                            f"tick {tick_next} is set in the bitmap but its liquidityNet was "
                            "not read"
                        ) from None
                    # moving leftward, liquidityNet counts the other way
                    liquidity = add_delta(
                        liquidity, -liquidity_net if zero_for_one else liquidity_net
                    )
                    crossed += 1
                tick = tick_next - 1 if zero_for_one else tick_next
            elif sqrt_price != sqrt_price_start:
                # recompute unless we're on a lower tick boundary (already transitioned ticks)
                tick = get_tick_at_sqrt_ratio(sqrt_price)

        # LowGasSafeMath add/sub on amountCalculated: it moves one way only, so checking the
        # final value is checking every step
        if not MIN_INT256 <= calculated <= MAX_INT256:
            raise V3Revert("UniswapV3Pool.swap", "", f"amountCalculated {calculated} overflows")
        used = amount_specified - remaining
        amount0, amount1 = (used, calculated) if zero_for_one == exact_input else (calculated, used)
        return V3SwapResult(
            pool=self.address,
            zero_for_one=zero_for_one,
            amount_specified=amount_specified,
            sqrt_price_limit_x96=limit,
            amount0=amount0,
            amount1=amount1,
            sqrt_price_x96=sqrt_price,
            tick=tick,
            liquidity=liquidity,
            ticks_crossed=crossed,
            sqrt_price_x96_before=self.sqrt_price_x96,
        )

    def apply(self, result: V3SwapResult) -> V3PoolState:
        """This pool after `result`'s swap: new price, tick and in-range liquidity (ticks and
        bitmap are unchanged by a swap).

        Raises:
            FlasharbValueError: `result` was computed on another pool or another price.
        """
        if result.pool != self.address or result.sqrt_price_x96_before != self.sqrt_price_x96:
            raise FlasharbValueError(
                f"swap result of pool {result.pool} at sqrtPriceX96 "
                f"{result.sqrt_price_x96_before} does not apply to pool {self.address} at "
                f"{self.sqrt_price_x96}"
            )
        return replace(
            self,
            sqrt_price_x96=result.sqrt_price_x96,
            tick=result.tick,
            liquidity=result.liquidity,
        )
