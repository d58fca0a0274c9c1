"""A Uniswap V4 pool's swap state at one block, and its exact multi-tick swap.

A v4 pool has no contract of its own: it is an entry of the PoolManager, named by its PoolId.
`V4PoolState.swap` is `Pool.swap` for a pool without hooks (a hook can change the amounts, the
fee and the deltas: flasharb prices hookless pools only). What differs from v3:
- amountSpecified < 0 is exact input, > 0 exact output (v3: the other way round), and the
  result is a BalanceDelta from the swapper's side (negative: the swapper pays);
- the fee is `calculate_swap_fee(protocolFee, lpFee)` in pips, and exact output is refused when
  it reaches 100%;
- price limits are checked with named errors; a swap of 0 reverts `SwapAmountCannotBeZero`;
- SwapMath's exact-input step books all of the remaining input (less the fee) as amountIn.
SqrtPriceMath, TickMath, TickBitmap and LiquidityMath are v3-core's and reused from
`flasharb.amm.uniswap_v3`.

ref: v4-core src/libraries/Pool.sol `swap`, src/PoolManager.sol `swap`
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.amm.uniswap_v3.liquidity_math import add_delta
from flasharb.amm.uniswap_v3.revert import V3Revert
from flasharb.amm.uniswap_v3.tick_bitmap import next_initialized_tick_within_one_word
from flasharb.amm.uniswap_v3.tick_math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
)
from flasharb.amm.uniswap_v4.fees import calculate_swap_fee, directional_protocol_fee
from flasharb.amm.uniswap_v4.revert import V4Revert
from flasharb.amm.uniswap_v4.swap_math import (
    MAX_SWAP_FEE,
    compute_swap_step,
    get_sqrt_price_target,
)
from flasharb.chain.uniswap_v4 import NATIVE, PoolKey
from flasharb.errors import FlasharbValueError, IncompleteStateError, InsufficientLiquidityError

__all__ = ["POOL_MANAGER", "V4PoolState", "V4SwapResult"]

# The PoolManager on mainnet (and on the replica): every v4 pool's tokens sit here.
POOL_MANAGER = "0x000000000004444c5dc75cB358380D2e3dE08A90"
# WETH9: a route names a native pool's ETH side by it (FlashArbFacet wraps and unwraps 1:1).
WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
_INT128 = 2**127
_INT256 = 2**255


@dataclass(frozen=True, slots=True, kw_only=True)
class V4SwapResult:
    """What `Pool.swap` returns (the BalanceDelta, from the swapper's side: negative is paid in)
    and leaves in slot0 and liquidity."""

    pool_id: bytes
    zero_for_one: bool
    amount_specified: int  # < 0 exact input, > 0 exact output
    sqrt_price_limit_x96: int
    amount0: int  # int128, swapper's view
    amount1: int
    sqrt_price_x96: int
    tick: int
    liquidity: int
    swap_fee: int  # pips, LP and protocol fee composed
    ticks_crossed: int
    sqrt_price_x96_before: int

    @property
    def amount_in(self) -> int:
        return -(self.amount0 if self.zero_for_one else self.amount1)

    @property
    def amount_out(self) -> int:
        return self.amount1 if self.zero_for_one else self.amount0

    @property
    def filled(self) -> bool:
        """Whether all of `amount_specified` was swapped (False: stopped at the price limit)."""
        exact_in = self.amount_specified < 0
        specified = self.amount0 if self.zero_for_one == exact_in else self.amount1
        return specified == self.amount_specified


@dataclass(frozen=True, slots=True, kw_only=True)
class V4PoolState:
    """What `Pool.swap` reads: the key, slot0, liquidity, and the ticks around the price.

    `tick_bitmap` and `ticks` have v3's shape (word -> word, tick -> liquidityNet); only the
    words in `word_range` are known, a swap that needs another raises `IncompleteStateError`.
    """

    key: PoolKey
    sqrt_price_x96: int
    tick: int
    liquidity: int
    lp_fee: int  # slot0.lpFee, pips (the key's fee for a static-fee pool)
    protocol_fee: int = 0  # slot0.protocolFee: 12 bits per direction, pips
    tick_bitmap: Mapping[int, int] = field(default_factory=dict)
    ticks: Mapping[int, int] = field(default_factory=dict)
    word_range: tuple[int, int] = (0, -1)
    venue: str = "uniswap_v4"
    pool_id: bytes = field(init=False, compare=False)

    def __post_init__(self) -> None:
        k = self.key
        key = replace(
            k,
            currency0=checksum_address(k.currency0),
            currency1=checksum_address(k.currency1),
            hooks=checksum_address(k.hooks),
        )
        object.__setattr__(self, "key", key)
        where = f"uniswap_v4 pool {key.currency0}/{key.currency1} fee {key.fee}"
        if int(key.currency0, 16) >= int(key.currency1, 16):
            raise FlasharbValueError(f"{where}: currency0 must sort below currency1")
        if key.hooks != NATIVE:
            raise FlasharbValueError(
                f"{where}: hooks {key.hooks} can change a swap's amounts; flasharb prices "
                "hookless pools only"
            )
        if not 1 <= key.tick_spacing <= 32767:
            raise FlasharbValueError(f"{where}: tick spacing {key.tick_spacing} not in 1..32767")
        if not 0 <= self.lp_fee <= MAX_SWAP_FEE:
            raise FlasharbValueError(f"{where}: LP fee {self.lp_fee} not in [0, 1e6] pips")
        object.__setattr__(self, "pool_id", key.pool_id())

    # ------------------------------------------------------------ PoolState interface

    @property
    def address(self) -> str:
        """The PoolManager: v4 pools have no address of their own (see `pool_id`)."""
        return checksum_address(POOL_MANAGER)

    @property
    def tokens(self) -> tuple[str, ...]:
        """(currency0, currency1); address(0) is native ETH."""
        return (self.key.currency0, self.key.currency1)

    def _zero_for_one(self, token_in: str, token_out: str) -> bool:
        c0, c1 = self.tokens
        t_in, t_out = checksum_address(token_in), checksum_address(token_out)
        if c0 == NATIVE and c1 != WETH:  # WETH names native ETH (a route's view of the pool)
            t_in, t_out = (NATIVE if t == WETH else t for t in (t_in, t_out))
        if {t_in, t_out} != {c0, c1}:
            raise FlasharbValueError(f"{token_in} -> {token_out} is not a swap of pool {c0}/{c1}")
        return t_in == c0

    def _full(self, zero_for_one: bool, amount_specified: int, what: str) -> V4SwapResult:
        result = self.swap(zero_for_one, amount_specified)
        if not result.filled:
            raise InsufficientLiquidityError(
                f"uniswap_v4 pool 0x{self.pool_id.hex()} cannot fill {what}: the price reaches "
                f"its limit after {result.amount_in} in / {result.amount_out} out"
            )
        return result

    def quote_exact_in(self, token_in: str, token_out: str, amount_in: int) -> int:
        """What `PoolManager.swap` credits for exactly `amount_in` of `token_in`, no price limit.
        In a native-ETH pool, WETH names the ETH side (a route trades it wrapped).

        Raises:
            FlasharbValueError: a non-positive amount or a token not in the pool.
            InsufficientLiquidityError: the price reaches its limit before all of it is sold.
            IncompleteStateError: the swap needs tick-bitmap words that were not read.
        """
        if amount_in <= 0:
            raise FlasharbValueError(f"amount_in must be positive, got {amount_in}")
        zfo = self._zero_for_one(token_in, token_out)
        return self._full(zfo, -amount_in, f"{amount_in} in").amount_out

    def quote_exact_out(self, token_in: str, token_out: str, amount_out: int) -> int:
        """What `PoolManager.swap` debits in `token_in` to pay exactly `amount_out`.

        Raises:
            As `quote_exact_in`; `V4Revert` InvalidFeeForExactOut at a 100% fee.
        """
        if amount_out <= 0:
            raise FlasharbValueError(f"amount_out must be positive, got {amount_out}")
        zfo = self._zero_for_one(token_in, token_out)
        return self._full(zfo, amount_out, f"{amount_out} out").amount_in

    # ------------------------------------------------------------ the swap

    def swap_fee(self, zero_for_one: bool) -> int:
        """The fee on the input, pips: LP and protocol fee composed (ref: Pool.sol `swap`)."""
        return calculate_swap_fee(
            directional_protocol_fee(self.protocol_fee, zero_for_one), self.lp_fee
        )

    def swap(
        self, zero_for_one: bool, amount_specified: int, sqrt_price_limit_x96: int | None = None
    ) -> V4SwapResult:
        """`PoolManager.swap` then `Pool.swap` for a hookless pool: exact input if
        `amount_specified < 0`, exact output if `> 0`; the limit defaults to MIN_SQRT_PRICE + 1
        / MAX_SQRT_PRICE - 1.

        Raises:
            V4Revert: SwapAmountCannotBeZero, InvalidFeeForExactOut, PriceLimitAlreadyExceeded,
                PriceLimitOutOfBounds, PoolNotInitialized, or an arithmetic revert.
            IncompleteStateError: a tick-bitmap word or a tick the swap needs was not read.
        """
        if amount_specified == 0:
            raise V4Revert("SwapAmountCannotBeZero", "amountSpecified is 0")
        if not -_INT256 <= amount_specified < _INT256:
            raise FlasharbValueError(f"amount_specified {amount_specified} is not an int256")
        if self.sqrt_price_x96 == 0:
            raise V4Revert("PoolNotInitialized", f"pool 0x{self.pool_id.hex()}")
        swap_fee = self.swap_fee(zero_for_one)
        if swap_fee >= MAX_SWAP_FEE and amount_specified > 0:
            raise V4Revert("InvalidFeeForExactOut", f"swap fee {swap_fee} pips")
        price = self.sqrt_price_x96
        if sqrt_price_limit_x96 is None:
            limit = MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1
        else:
            limit = sqrt_price_limit_x96
        if zero_for_one:
            if limit >= price:
                raise V4Revert("PriceLimitAlreadyExceeded", f"limit {limit} >= price {price}")
            if limit <= MIN_SQRT_RATIO:
                raise V4Revert("PriceLimitOutOfBounds", f"limit {limit}")
        else:
            if limit <= price:
                raise V4Revert("PriceLimitAlreadyExceeded", f"limit {limit} <= price {price}")
            if limit >= MAX_SQRT_RATIO:
                raise V4Revert("PriceLimitOutOfBounds", f"limit {limit}")
        try:
            return self._loop(zero_for_one, amount_specified, limit, swap_fee)
        except V3Revert as exc:  # SqrtPriceMath / LiquidityMath / SafeCast, in v3's words
            raise V4Revert("", str(exc)) from exc
        except IncompleteStateError as exc:
            raise IncompleteStateError(f"uniswap_v4 pool 0x{self.pool_id.hex()}: {exc}") from exc

    def _loop(
        self, zero_for_one: bool, amount_specified: int, limit: int, swap_fee: int
    ) -> V4SwapResult:
        remaining = amount_specified  # amountSpecifiedRemaining
        calculated = 0  # amountCalculated
        price, tick, liquidity = self.sqrt_price_x96, self.tick, self.liquidity
        spacing, bitmap, ticks = self.key.tick_spacing, self.tick_bitmap, self.ticks
        crossed = 0
        exact_out = amount_specified > 0
        while not (remaining == 0 or price == limit):
            start = price
            tick_next, initialized = next_initialized_tick_within_one_word(
                bitmap, tick, spacing, zero_for_one, self.word_range
            )
            tick_next = min(max(tick_next, MIN_TICK), MAX_TICK)
            price_next = get_sqrt_ratio_at_tick(tick_next)
            price, amount_in, amount_out, fee_amount = compute_swap_step(
                price,
                get_sqrt_price_target(zero_for_one, price_next, limit),
                liquidity,
                remaining,
                swap_fee,
            )
            if exact_out:
                remaining -= amount_out  # unchecked: never past zero
                calculated -= amount_in + fee_amount
            else:
                remaining += amount_in + fee_amount
                calculated += amount_out
            if not -_INT256 <= calculated < _INT256:
                raise V4Revert("", f"amountCalculated {calculated} overflows int256")
            if price == price_next:
                if initialized:
                    try:
                        net = ticks[tick_next]
                    except KeyError:
                        raise IncompleteStateError(
                            f"tick {tick_next} is set in the bitmap but its liquidityNet was "
                            "not read"
                        ) from None
                    liquidity = add_delta(liquidity, -net if zero_for_one else net)
                    crossed += 1
                tick = tick_next - 1 if zero_for_one else tick_next
            elif price != start:
                tick = get_tick_at_sqrt_ratio(price)

        used = amount_specified - remaining
        if zero_for_one != (amount_specified < 0):
            amount0, amount1 = calculated, used
        else:
            amount0, amount1 = used, calculated
        for a in (amount0, amount1):
            if not -_INT128 <= a < _INT128:
                raise V4Revert("SafeCastOverflow", f"delta {a} does not fit int128")
        return V4SwapResult(
            pool_id=self.pool_id,
            zero_for_one=zero_for_one,
            amount_specified=amount_specified,
            sqrt_price_limit_x96=limit,
            amount0=amount0,
            amount1=amount1,
            sqrt_price_x96=price,
            tick=tick,
            liquidity=liquidity,
            swap_fee=swap_fee,
            ticks_crossed=crossed,
            sqrt_price_x96_before=self.sqrt_price_x96,
        )

    def apply(self, result: V4SwapResult) -> V4PoolState:
        """This pool after `result`'s swap (ticks and bitmap do not change in a swap)."""
        if result.pool_id != self.pool_id or result.sqrt_price_x96_before != self.sqrt_price_x96:
            raise FlasharbValueError("swap result does not apply to this pool state")
        return replace(
            self, sqrt_price_x96=result.sqrt_price_x96, tick=result.tick, liquidity=result.liquidity
        )
