"""A Balancer V2 ComposableStablePool's swap state at one block, and its exact swaps.

The pool (20230206-composable-stable-pool-v3) registers its own BPT among its tokens, sorted by
address with the others, and holds almost all of the BPT supply pre-minted. A swap between two
of the other tokens is the one the search needs; a swap to or from the BPT is a join or an exit
in the form of a swap (it mints or burns BPT, pays protocol fees in BPT and moves the pool's
stored invariant), and `quote_*` refuse it with `BptSwapNotSupported` rather than guess.

What `onSwap` does for a token-token swap, in order:
1. `_beforeSwapJoinExit`: each token rate cache that has expired (block.timestamp > expires) is
   refreshed from its rate provider (rate = provider.getRate(), expires = now + duration).
2. Scaling factors: 10^(18 - decimals) * 1e18, times the token's cached rate (FixedPoint mulDown;
   1e18 for the BPT and tokens without a provider).
3. GIVEN_IN: fee off the raw amount (mulUp), balances and amount upscaled (mulDown), the BPT's
   balance dropped, the invariant computed at the current amplification, StableMath
   `_calcOutGivenIn`, downscaled down. GIVEN_OUT: upscale, `_calcInGivenOut`, downscaled up, fee
   added (divUp by the fee's complement).
Protocol fees are not taken on swaps (they are minted as BPT on the next join or exit from the
invariant's growth), so they do not change a token-token swap's amounts.

ref: balancer-v2-monorepo@5082b2869 pkg/pool-stable/contracts/ComposableStablePool.sol
`_swapGivenIn` / `_onRegularSwap`, ComposableStablePoolRates.sol `_scalingFactors` /
`_cacheTokenRateIfNecessary`, StablePoolAmplification.sol `_getAmplificationParameter`,
pkg/pool-utils/contracts/BaseGeneralPool.sol `_swapGivenIn` / `_swapGivenOut`,
pkg/pool-utils/contracts/rates/PriceRateCache.sol
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from flasharb.amm.balancer_stable.stable_math import (
    calc_in_given_out,
    calc_out_given_in,
    calculate_invariant,
)
from flasharb.amm.balancer_weighted.errors import (
    BALANCE_TOTAL_OVERFLOW,
    CANNOT_SWAP_SAME_TOKEN,
    SUB_OVERFLOW,
    TOKEN_NOT_REGISTERED,
    UNKNOWN_AMOUNT_IN_FIRST_SWAP,
    bal_error,
)
from flasharb.amm.balancer_weighted.fixed_point import (
    ONE,
    complement,
    div_down,
    div_up,
    mul_down,
    mul_up,
    sub,
)
from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.errors import FlasharbValueError, IncompleteStateError

__all__ = ["AmpState", "BptSwapNotSupported", "RateCache", "StablePoolState"]

MAX_BALANCE = 2**112 - 1  # the Vault's 112-bit cash balance
_WORD = 2**256
_RATE_BITS = 96  # PriceRateCache: rates are 96-bit
_TIME_BITS = 32  # durations and expiry timestamps are 32-bit


class BptSwapNotSupported(FlasharbValueError):
    """A swap to or from the pool's own BPT: a join or exit, which flasharb does not quote."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AmpState:
    """The amplification parameter and its update, as `_getAmplificationData` packs them; values
    carry AMP_PRECISION (1e3): an A of 200 is 200_000."""

    start_value: int
    end_value: int
    start_time: int
    end_time: int

    def value_at(self, timestamp: int) -> int:
        """ref: StablePoolAmplification.sol `_getAmplificationParameter` (integer division;
        the Solidity's unchecked subtractions cannot wrap while timestamp >= start_time)."""
        if timestamp < self.end_time:
            elapsed = timestamp - self.start_time
            span = self.end_time - self.start_time
            if self.end_value > self.start_value:
                return self.start_value + (self.end_value - self.start_value) * elapsed // span
            return self.start_value - (self.start_value - self.end_value) * elapsed // span
        return self.end_value

    @classmethod
    def fixed(cls, value: int) -> AmpState:
        """An amplification that is not being updated."""
        return cls(start_value=value, end_value=value, start_time=0, end_time=0)


@dataclass(frozen=True, slots=True, kw_only=True)
class RateCache:
    """One token's rate cache (`getTokenRateCache`), and what its provider says now.

    `provider_rate` is what `provider.getRate()` returns at the quote's block: the pool reads it
    only when the cache has expired. None means it was not read; a quote that needs it raises
    `IncompleteStateError`.
    """

    rate: int  # 18-decimal, 96 bits
    old_rate: int
    duration: int  # seconds
    expires: int  # timestamp
    provider_rate: int | None = None

    def effective(self, timestamp: int) -> int:
        """The rate `onSwap` scales with at `timestamp` (after `_cacheTokenRateIfNecessary`)."""
        if timestamp > self.expires:
            if self.provider_rate is None:
                raise IncompleteStateError(
                    f"the rate cache expired at {self.expires}; the quote at {timestamp} needs "
                    "the rate provider's getRate()"
                )
            return self.provider_rate
        return self.rate

    def refreshed(self, timestamp: int) -> RateCache:
        """The cache after a swap at `timestamp` (ref: PriceRateCache `updateRateAndDuration`)."""
        if timestamp <= self.expires or self.provider_rate is None:
            return self
        expires = (timestamp + self.duration) & ((1 << _TIME_BITS) - 1)
        return replace(self, rate=self.provider_rate, expires=expires)


@dataclass(frozen=True, slots=True, kw_only=True)
class StablePoolState:
    """What a ComposableStablePool's `onSwap` reads, and the block time it reads it at.

    `tokens`, `balances`, `decimals` and `rate_caches` follow the Vault's registration order,
    the BPT (the pool's own address) included at `bpt_index`.
    """

    address: str
    pool_id: bytes
    tokens: tuple[str, ...]  # Vault order, the BPT included
    balances: tuple[int, ...]  # raw units, as getPoolTokens returns them
    decimals: tuple[int, ...]  # 18 for the BPT
    swap_fee: int  # 18-decimal fixed point
    amp: AmpState
    rate_caches: tuple[RateCache | None, ...]  # None: no rate provider (rate 1e18)
    # block.timestamp the quote assumes (the next block's). Not compared: two reads of a pool
    # whose quote does not move with time (no rate provider, no amplification update) are the
    # same state at any time; a pool whose quote moves with time is re-read every block and
    # judged by its quotes (the venue's `moved`), not by this equality
    timestamp: int = field(compare=False)
    venue: str = "balancer_stable"
    bpt_index: int = field(init=False, compare=False)
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "address", checksum_address(self.address))
        tokens = tuple(checksum_address(t) for t in self.tokens)
        set_(self, "tokens", tokens)
        n = len(tokens)
        what = f"Balancer stable pool {self.address}"
        if self.address not in tokens:
            raise FlasharbValueError(f"{what}: its own BPT is not among its tokens {tokens}")
        if not 3 <= n <= 6 or len(set(tokens)) != n:
            raise FlasharbValueError(f"{what}: 2 to 5 distinct tokens plus the BPT, not {tokens}")
        for name in ("balances", "decimals", "rate_caches"):
            values = tuple(getattr(self, name))
            if len(values) != n:
                raise FlasharbValueError(f"{what}: {len(values)} {name} for {n} tokens")
            set_(self, name, values)
        if any(not 0 <= b <= MAX_BALANCE for b in self.balances):
            raise FlasharbValueError(f"{what}: balances must fit 112 bits: {self.balances}")
        if any(not 0 <= d <= 18 for d in self.decimals):
            raise FlasharbValueError(f"{what}: decimals must be 0..18: {self.decimals}")
        if not 0 <= self.swap_fee < ONE:
            raise FlasharbValueError(f"{what}: swap fee {self.swap_fee} is not in [0, 1e18)")
        if len(self.pool_id) != 32:
            raise FlasharbValueError(f"{what}: pool id must be 32 bytes")
        for c in self.rate_caches:
            if c is not None and not 0 <= c.rate < 1 << _RATE_BITS:
                raise FlasharbValueError(f"{what}: a cached rate must fit 96 bits: {c.rate}")
        set_(self, "bpt_index", tokens.index(self.address))
        set_(self, "_index", {t: i for i, t in enumerate(tokens)})

    # ------------------------------------------------------------ derived figures

    def rates(self) -> tuple[int, ...]:
        """Each registered token's rate as `onSwap` uses it at `timestamp` (1e18 for the BPT)."""
        return tuple(ONE if c is None else c.effective(self.timestamp) for c in self.rate_caches)

    def scaling_factors(self) -> tuple[int, ...]:
        """ref: ComposableStablePoolRates.sol `_scalingFactors`: `_getScalingFactor(i)` (10^(18 -
        decimals) * 1e18) mulDown the token's rate."""
        return tuple(
            mul_down(10 ** (18 - d) * ONE, r)
            for d, r in zip(self.decimals, self.rates(), strict=True)
        )

    def amplification(self) -> int:
        """The amplification parameter at `timestamp`, with AMP_PRECISION."""
        return self.amp.value_at(self.timestamp)

    def invariant(self) -> int:
        """The invariant `_onRegularSwap` computes: upscaled balances without the BPT."""
        factors = self.scaling_factors()
        up = [mul_down(b, f) for b, f in zip(self.balances, factors, strict=True)]
        del up[self.bpt_index]
        return calculate_invariant(self.amplification(), up)

    # ------------------------------------------------------------ tokens

    @property
    def uid(self) -> str:
        """The pool's identity in flasharb: its address (the Vault knows it by `pool_id`)."""
        return self.address

    def _pair(self, token_in: str, token_out: str, amount: int | None) -> tuple[int, int]:
        """Indexes, checked in the Vault's order (`BAL#509`, `BAL#510`, `BAL#521`), then the BPT."""
        i, j = self._index.get(token_in), self._index.get(token_out)
        if i is None or j is None or i == j:
            if checksum_address(token_in) == checksum_address(token_out):
                raise bal_error(CANNOT_SWAP_SAME_TOKEN, f"{token_in} -> {token_out}")
            if amount is not None:
                _check_amount(amount)
            i = self._index.get(checksum_address(token_in))
            j = self._index.get(checksum_address(token_out))
            if i is None or j is None:
                raise bal_error(TOKEN_NOT_REGISTERED, f"{token_in} / {token_out}")
        elif amount is not None:
            _check_amount(amount)
        if self.bpt_index in (i, j):
            raise BptSwapNotSupported(
                f"Balancer stable pool {self.address}: a swap to or from its BPT is a join or "
                "exit; flasharb quotes swaps between the pool's other tokens only"
            )
        return i, j

    def _upscaled(self) -> tuple[tuple[int, ...], list[int]]:
        factors = self.scaling_factors()
        balances = [mul_down(b, f) for b, f in zip(self.balances, factors, strict=True)]
        return factors, balances

    def _skip(self, i: int) -> int:
        return i - 1 if i > self.bpt_index else i

    # ------------------------------------------------------------ quotes

    def quote_exact_in(self, token_in: str, token_out: str, amount_in: int) -> int:
        """Raw units of `token_out` the Vault pays for exactly `amount_in` (GIVEN_IN).

        Raises:
            BptSwapNotSupported: a swap to or from the BPT.
            FlasharbValueError: the Vault's and the pool's reverts, as `BAL#xyz`.
            IncompleteStateError: an expired rate cache whose provider rate was not read.
        """
        i, j = self._pair(token_in, token_out, amount_in)
        amount = sub(amount_in, mul_up(amount_in, self.swap_fee))  # _subtractSwapFeeAmount
        factors, balances = self._upscaled()
        amount = mul_down(amount, factors[i])
        del balances[self.bpt_index]
        amp = self.amplification()
        invariant = calculate_invariant(amp, balances)
        out = calc_out_given_in(
            amp, tuple(balances), self._skip(i), self._skip(j), amount, invariant
        )
        out = div_down(out, factors[j])
        _check_new_balances(self.balances[i] + amount_in, self.balances[j], out)
        return out

    def quote_exact_out(self, token_in: str, token_out: str, amount_out: int) -> int:
        """Raw units of `token_in` (fee included) that buy exactly `amount_out` (GIVEN_OUT).

        Raises:
            As `quote_exact_in`; `BAL#001` when `amount_out` is more than the pool holds.
        """
        i, j = self._pair(token_in, token_out, amount_out)
        factors, balances = self._upscaled()
        amount = mul_down(amount_out, factors[j])
        del balances[self.bpt_index]
        amp = self.amplification()
        invariant = calculate_invariant(amp, balances)
        amount_in = calc_in_given_out(
            amp, tuple(balances), self._skip(i), self._skip(j), amount, invariant
        )
        amount_in = div_up(div_up(amount_in, factors[i]), complement(self.swap_fee))
        _check_new_balances(self.balances[i] + amount_in, self.balances[j], amount_out)
        return amount_in

    def apply_swap(
        self, token_in: str, token_out: str, amount_in: int, amount_out: int
    ) -> StablePoolState:
        """The state after a swap of these amounts at `timestamp`: balances moved, expired rate
        caches refreshed from their providers (as the swap's `_beforeSwapJoinExit` does)."""
        i, j = self._pair(token_in, token_out, None)
        if amount_in < 0 or amount_out < 0:
            raise FlasharbValueError(
                f"swap amounts must be non-negative: {amount_in}, {amount_out}"
            )
        _check_new_balances(self.balances[i] + amount_in, self.balances[j], amount_out)
        balances = list(self.balances)
        balances[i] += amount_in
        balances[j] -= amount_out
        caches = tuple(None if c is None else c.refreshed(self.timestamp) for c in self.rate_caches)
        return replace(self, balances=tuple(balances), rate_caches=caches)

    def at(self, timestamp: int) -> StablePoolState:
        """The same pool quoted at another block time (amplification and rate caches move)."""
        return replace(self, timestamp=timestamp)


def _check_amount(amount: int) -> None:
    if amount <= 0:
        if amount == 0:
            raise bal_error(UNKNOWN_AMOUNT_IN_FIRST_SWAP, "a swap amount of 0")
        raise FlasharbValueError(f"swap amount must be positive, got {amount}")
    if amount >= _WORD:
        raise FlasharbValueError(f"swap amount {amount} does not fit uint256")


def _check_new_balances(new_in: int, balance_out: int, amount_out: int) -> None:
    """BalanceAllocation `increaseCash` (112-bit total) and `decreaseCash` (Math.sub)."""
    if new_in > MAX_BALANCE:
        raise bal_error(BALANCE_TOTAL_OVERFLOW, f"pool balance would be {new_in}")
    if amount_out > balance_out:
        raise bal_error(SUB_OVERFLOW, f"pool pays {amount_out} of a balance of {balance_out}")
