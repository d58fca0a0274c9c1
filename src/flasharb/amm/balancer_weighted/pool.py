"""A Balancer V2 weighted pool's swap state at one block, and its exact swaps.

A quote is what `Vault.swap` / `BalancerQueries.querySwap` returns for one pool: the Vault's
own checks (same token, zero amount, registered tokens, 112-bit balances) around the pool's
`onSwap`. Where the Vault or the pool reverts, the quote raises an exception whose message
starts with the same `BAL#xyz` code (see `errors.bal_code`).

ref: balancer-v2-monorepo pkg/pool-weighted/contracts/WeightedPool.sol (20210418 deployment)
ref: balancer-v2-monorepo@5082b2869 pkg/pool-weighted/contracts/WeightedPool.sol (20230206,
weighted-pool-v3: `version=3`; its protocol fees are paid in BPT on joins and exits, so they do
not change a swap either)
ref: balancer-v2-monorepo pkg/vault/contracts/Swaps.sol `_swapWithPools` (amount and token
checks) and pkg/vault/contracts/balances/BalanceAllocation.sol `increaseCash` / `decreaseCash`
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from flasharb.amm.balancer_weighted.errors import (
    BALANCE_TOTAL_OVERFLOW,
    CANNOT_SWAP_SAME_TOKEN,
    SUB_OVERFLOW,
    TOKEN_NOT_REGISTERED,
    UNKNOWN_AMOUNT_IN_FIRST_SWAP,
    bal_error,
)
from flasharb.amm.balancer_weighted.fixed_point import ONE, mul_down, mul_up
from flasharb.amm.balancer_weighted.swap import (
    VERSIONS,
    scaling_factor,
    swap_given_in,
    swap_given_out,
)
from flasharb.amm.balancer_weighted.weighted_math import (
    MAX_IN_RATIO,
    MAX_OUT_RATIO,
    calculate_invariant,
)
from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.errors import FlasharbValueError

__all__ = ["MAX_BALANCE", "WeightedPoolState"]

MAX_BALANCE = 2**112 - 1  # the Vault packs cash and managed balances in 112 bits each
_WORD = 2**256


@dataclass(frozen=True, slots=True, kw_only=True)
class WeightedPoolState:
    """What a weighted pool's `onSwap` reads: Vault balances, weights, fee, token decimals.

    Addresses are normalised to EIP-55 on construction. `apply_swap` gives the state after a
    swap, for quoting sequences without re-reading the chain.
    """

    address: str
    pool_id: bytes  # 32 bytes: the Vault's id for this pool
    tokens: tuple[str, ...]  # in the Vault's order (getPoolTokens)
    balances: tuple[int, ...]  # raw token units, as Vault.getPoolTokens returns them
    decimals: tuple[int, ...]  # per token; the pool scales every amount to 18 decimals
    normalized_weights: tuple[int, ...]  # 18-decimal fixed point, summing to 1e18
    swap_fee: int  # 18-decimal fixed point: 3e15 = 0.3%
    venue: str = "balancer"
    # 1: WeightedPool / WeightedPool2Tokens of 20210418; 3: WeightedPool of 20230206
    # (weighted-pool-v3), whose FixedPoint powers are exact for exponents 1, 2 and 4
    version: int = 1
    # derived in __post_init__: token -> index, and each token's 10^(18 - decimals)
    _index: dict[str, int] = field(init=False, repr=False, compare=False)
    scaling_factors: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "address", checksum_address(self.address))
        tokens = tuple(checksum_address(t) for t in self.tokens)
        set_(self, "tokens", tokens)
        n = len(tokens)
        what = f"Balancer pool {self.address}"
        if n < 2:
            raise FlasharbValueError(f"{what}: a weighted pool has at least 2 tokens, not {n}")
        if len(set(tokens)) != n:
            raise FlasharbValueError(f"{what}: a token appears twice in {tokens}")
        for name in ("balances", "decimals", "normalized_weights"):
            values = tuple(getattr(self, name))
            if len(values) != n:
                raise FlasharbValueError(f"{what}: {len(values)} {name} for {n} tokens")
            set_(self, name, values)
        if any(not 0 <= b <= MAX_BALANCE for b in self.balances):
            raise FlasharbValueError(f"{what}: balances must fit 112 bits: {self.balances}")
        if any(w <= 0 for w in self.normalized_weights):
            raise FlasharbValueError(f"{what}: weights must be positive: {self.normalized_weights}")
        if not 0 <= self.swap_fee < ONE:
            raise FlasharbValueError(f"{what}: swap fee {self.swap_fee} is not in [0, 1e18)")
        if self.version not in VERSIONS:
            raise FlasharbValueError(f"{what}: version {self.version} is not one of {VERSIONS}")
        if len(self.pool_id) != 32:
            raise FlasharbValueError(f"{what}: pool id must be 32 bytes, got {len(self.pool_id)}")
        set_(self, "scaling_factors", tuple(scaling_factor(d) for d in self.decimals))
        set_(self, "_index", {t: i for i, t in enumerate(tokens)})

    # ------------------------------------------------------------ tokens

    @property
    def uid(self) -> str:
        """The pool's identity in flasharb: its address (the Vault knows it by `pool_id`)."""
        return self.address

    def index_of(self, token: str) -> int:
        """Position of `token` in `tokens`; raises `BAL#521 TOKEN_NOT_REGISTERED` if absent."""
        i = self._index.get(token)
        if i is None:
            i = self._index.get(checksum_address(token))
            if i is None:
                raise bal_error(
                    TOKEN_NOT_REGISTERED, f"token {token} is not in pool {self.address}"
                )
        return i

    def _pair(self, token_in: str, token_out: str, amount: int | None = None) -> tuple[int, int]:
        """Indexes of a swap's tokens, checked in the Vault's order: same token (`BAL#509`),
        then the amount (`BAL#510`, when one is given), then registration (`BAL#521`)."""
        index = self._index
        i, j = index.get(token_in), index.get(token_out)
        if i is None or j is None or i == j:  # slow path: not both registered and checksummed
            if checksum_address(token_in) == checksum_address(token_out):
                raise bal_error(CANNOT_SWAP_SAME_TOKEN, f"{token_in} -> {token_out}")
            if amount is not None:
                _check_amount(amount)
            i, j = self.index_of(token_in), self.index_of(token_out)
        return i, j

    # ------------------------------------------------------------ quotes

    def quote_exact_in(self, token_in: str, token_out: str, amount_in: int) -> int:
        """Raw units of `token_out` the Vault pays for exactly `amount_in` of `token_in`
        (GIVEN_IN; the swap fee is taken from `amount_in`).

        Raises:
            InsufficientLiquidityError: `BAL#304 MAX_IN_RATIO` (more than 30% of the balance).
            FlasharbValueError: `BAL#510` for a zero amount, `BAL#509` / `BAL#521` for bad tokens,
                `BAL#003` for amounts that overflow the fee or scaling arithmetic.
        """
        i, j = self._pair(token_in, token_out, amount_in)
        if not 0 < amount_in < _WORD:
            _check_amount(amount_in)
        balances = self.balances
        out = swap_given_in(
            balance_in=balances[i],
            balance_out=balances[j],
            factor_in=self.scaling_factors[i],
            factor_out=self.scaling_factors[j],
            weight_in=self.normalized_weights[i],
            weight_out=self.normalized_weights[j],
            swap_fee=self.swap_fee,
            amount_in=amount_in,
            version=self.version,
        )
        _check_new_balances(balances[i] + amount_in, balances[j], out)
        return out

    def quote_exact_out(self, token_in: str, token_out: str, amount_out: int) -> int:
        """Raw units of `token_in` (fee included) the Vault takes to pay exactly `amount_out` of
        `token_out` (GIVEN_OUT).

        Raises:
            InsufficientLiquidityError: `BAL#305 MAX_OUT_RATIO` (more than 30% of the balance).
            FlasharbValueError: as `quote_exact_in`, and `BAL#526` when the balance in would not
                fit the Vault's 112 bits.
        """
        i, j = self._pair(token_in, token_out, amount_out)
        if not 0 < amount_out < _WORD:
            _check_amount(amount_out)
        balances = self.balances
        amount_in = swap_given_out(
            balance_in=balances[i],
            balance_out=balances[j],
            factor_in=self.scaling_factors[i],
            factor_out=self.scaling_factors[j],
            weight_in=self.normalized_weights[i],
            weight_out=self.normalized_weights[j],
            swap_fee=self.swap_fee,
            amount_out=amount_out,
            version=self.version,
        )
        _check_new_balances(balances[i] + amount_in, balances[j], amount_out)
        return amount_in

    def apply_swap(
        self, token_in: str, token_out: str, amount_in: int, amount_out: int
    ) -> WeightedPoolState:
        """The state after a swap that put `amount_in` into the pool and took `amount_out` out.

        The whole amount in stays in the pool (the swap fee included: this release charges
        protocol fees on joins and exits, not on swaps), so the Vault balances move by exactly
        the two amounts.
        """
        i, j = self._pair(token_in, token_out)
        if amount_in < 0 or amount_out < 0:
            raise FlasharbValueError(
                f"swap amounts must be non-negative: {amount_in}, {amount_out}"
            )
        balances = list(self.balances)
        _check_new_balances(balances[i] + amount_in, balances[j], amount_out)
        balances[i] += amount_in
        balances[j] -= amount_out
        return replace(self, balances=tuple(balances))

    # ------------------------------------------------------------ limits and views

    def max_amount_in(self, token_in: str, token_out: str) -> int:
        """The largest `amount_in` (raw, fee included) that `quote_exact_in` accepts: one more
        raises `BAL#304 MAX_IN_RATIO`."""
        i, _ = self._pair(token_in, token_out)
        factor = self.scaling_factors[i]
        limit = mul_down(self.balances[i] * factor, MAX_IN_RATIO) // factor  # after the fee
        fee = self.swap_fee

        def net(a: int) -> int:  # nondecreasing, steps of 0 or 1
            return a - mul_up(a, fee)

        a = limit * ONE // (ONE - fee)
        while net(a + 1) <= limit:
            a += 1
        while a > 0 and net(a) > limit:
            a -= 1
        return a

    def max_amount_out(self, token_in: str, token_out: str) -> int:
        """The largest `amount_out` (raw) that `quote_exact_out` accepts: one more raises
        `BAL#305 MAX_OUT_RATIO`."""
        _, j = self._pair(token_in, token_out)
        factor = self.scaling_factors[j]
        return mul_down(self.balances[j] * factor, MAX_OUT_RATIO) // factor

    def invariant(self) -> int:
        """The pool's invariant at these balances, as `getInvariant()` returns it.

        ref: WeightedPool.sol `getInvariant` (balances upscaled, then
        WeightedMath._calculateInvariant)
        """
        upscaled = tuple(b * f for b, f in zip(self.balances, self.scaling_factors, strict=True))
        return calculate_invariant(self.normalized_weights, upscaled, self.version == 3)


def _check_amount(amount: int) -> None:
    """The Vault refuses a zero amount in a first (or single) swap; amounts are uint256."""
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
