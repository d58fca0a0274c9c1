"""Balancer weighted math without a chain: LogExpMath's range checks and accuracy, FixedPoint's
rounding, WeightedMath's 30% limits, and the pool state's Vault-order checks.

Reference values come from mathematics, not from a second implementation: exact rationals
(`Fraction`) for the fixed-point roundings, 60-digit `Decimal` for e^x, ln and x^y. The on-chain
parity suite (test_balancer_parity.py) pins the exact integers against the deployed pools.
"""

from __future__ import annotations

import random
from contextlib import AbstractContextManager
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest

from flasharb.amm.balancer_weighted import WeightedPoolState
from flasharb.amm.balancer_weighted import fixed_point as fp
from flasharb.amm.balancer_weighted import log_exp_math as lem
from flasharb.amm.balancer_weighted.errors import bal_code
from flasharb.amm.balancer_weighted.weighted_math import (
    MAX_IN_RATIO,
    MAX_OUT_RATIO,
    calc_in_given_out,
    calc_out_given_in,
)
from flasharb.amm.pool import PoolState
from flasharb.errors import FlasharbError, FlasharbValueError, InsufficientLiquidityError

ONE = 10**18
WORD = 2**256
TOKEN_A = "0x" + "a" * 40  # lower case on purpose: the state checksums
TOKEN_B = "0x" + "b" * 40
TOKEN_C = "0x" + "c" * 40
POOL = "0x" + "e" * 40


def raises_bal(code: int) -> AbstractContextManager[pytest.ExceptionInfo[FlasharbError]]:
    return pytest.raises(FlasharbError, match=f"^BAL#{code:03d} ")


def dec(x: int) -> Decimal:
    """An 18-decimal fixed-point integer as an exact Decimal."""
    return Decimal(x) / Decimal(ONE)


def true_pow(x: int, y: int) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        return (dec(y) * dec(x).ln()).exp()


# ---------------------------------------------------------------- LogExpMath


class TestLogExpMathRanges:
    """Each range check fires exactly at its bound, with the Balancer code."""

    def test_exp_accepts_both_natural_exponent_bounds(self) -> None:
        assert lem.exp(lem.MAX_NATURAL_EXPONENT) > 0
        assert lem.exp(lem.MIN_NATURAL_EXPONENT) > 0

    @pytest.mark.parametrize(
        "x", [lem.MAX_NATURAL_EXPONENT + 1, lem.MIN_NATURAL_EXPONENT - 1], ids=["max+1", "min-1"]
    )
    def test_exp_past_a_bound_is_invalid_exponent(self, x: int) -> None:
        with raises_bal(9):
            lem.exp(x)

    def test_pow_zero_exponent_is_one_even_for_zero_base(self) -> None:
        assert lem.pow(0, 0) == ONE
        assert lem.pow(12345, 0) == ONE

    def test_pow_zero_base_is_zero(self) -> None:
        assert lem.pow(0, 3 * ONE) == 0

    def test_pow_base_must_fit_int256(self) -> None:
        with raises_bal(6):
            lem.pow(2**255, ONE // 10)
        assert lem.pow(2**255 - 1, ONE // 10) > 0  # ln ~ 135.4, times 0.1: in range

    def test_pow_exponent_below_mild_bound(self) -> None:
        with raises_bal(7):
            lem.pow(ONE, lem.MILD_EXPONENT_BOUND)
        assert lem.pow(ONE, lem.MILD_EXPONENT_BOUND - 1) == ONE  # ln(1) = 0

    def test_pow_product_out_of_bounds(self) -> None:
        assert lem.pow(2 * ONE, 187 * ONE) > 0  # 187 ln 2 = 129.6
        with raises_bal(8):
            lem.pow(2 * ONE, 188 * ONE)  # 130.3 > 130
        with raises_bal(8):
            lem.pow(ONE // 2, 60 * ONE)  # -41.6 < -41

    @pytest.mark.parametrize("a", [0, -1, -(10**18)], ids=["zero", "minus-wei", "minus-one"])
    def test_ln_of_non_positive_is_out_of_bounds(self, a: int) -> None:
        with raises_bal(100):
            lem.ln(a)

    @pytest.mark.parametrize(
        ("arg", "base"), [(0, 2 * ONE), (2 * ONE, 0), (2 * ONE, ONE)], ids=["arg0", "base0", "b1"]
    )
    def test_log_rejects_what_never_returns_on_chain(self, arg: int, base: int) -> None:
        with pytest.raises(FlasharbValueError):
            lem.log(arg, base)


class TestLogExpMathAccuracy:
    """Against 60-digit Decimal: a few wei on ln/exp, powDown <= x^y <= powUp always."""

    @pytest.mark.parametrize(
        "a",
        [
            lem.LN_36_LOWER_BOUND,  # just outside the 36-digit branch
            lem.LN_36_LOWER_BOUND + 1,  # just inside
            ONE - 1,
            ONE + 1,
            lem.LN_36_UPPER_BOUND - 1,
            lem.LN_36_UPPER_BOUND,
            1,
            2**255 - 1,
            lem.A0 * ONE,  # the first decomposition step of _ln
        ],
        ids=["lo", "lo+1", "one-1", "one+1", "hi-1", "hi", "wei", "int256max", "a0"],
    )
    def test_ln_within_two_wei(self, a: int) -> None:
        with localcontext() as ctx:
            ctx.prec = 60
            expected = dec(a).ln() * ONE
        assert abs(lem.ln(a) - expected) <= 2

    @pytest.mark.parametrize(
        "x",
        [0, 1, -1, ONE, -ONE, lem.X1, lem.X0, lem.MAX_NATURAL_EXPONENT, lem.MIN_NATURAL_EXPONENT],
        ids=["0", "wei", "-wei", "1", "-1", "x1", "x0", "max", "min"],
    )
    def test_exp_within_relative_1e17(self, x: int) -> None:
        with localcontext() as ctx:
            ctx.prec = 60
            expected = dec(x).exp() * ONE
            got = Decimal(lem.exp(x))
            assert abs(got - expected) <= expected * Decimal("1e-17") + 1

    def test_log_of_powers_of_two(self) -> None:
        assert abs(lem.log(8 * ONE, 2 * ONE) - 3 * ONE) <= 2
        assert abs(lem.log(ONE // 8, 2 * ONE) + 3 * ONE) <= 2

    def test_pow_down_and_pow_up_bracket_the_true_power(self) -> None:
        """FixedPoint's contract: the relative error of LogExpMath.pow is below 1e-14."""
        rng = random.Random(20210418)
        checked = 0
        for _ in range(400):
            x = rng.randint(ONE // 2, 2 * ONE)  # weighted-math bases: 1/1.3 .. 1/0.7 and beyond
            y = rng.randint(ONE // 100, 99 * ONE)  # weight ratios 1/99 .. 99
            try:
                down, up = fp.pow_down(x, y), fp.pow_up(x, y)
            except FlasharbValueError as exc:
                assert bal_code(exc) == 8  # far bases with large exponents leave exp's range
                continue
            expected = true_pow(x, y) * ONE
            assert down <= expected <= up, (x, y)
            assert up - down <= expected * Decimal("4e-14") + 4
            checked += 1
        assert checked > 300


# ---------------------------------------------------------------- FixedPoint


class TestFixedPointRounding:
    """mulDown/divDown floor and mulUp/divUp ceil the exact rational; overflow checks fire at
    2^256 exactly."""

    SAMPLES = [
        (0, 5),
        (1, 1),
        (1, ONE),
        (ONE, ONE),
        (3, 333333333333333334),
        (10**30 + 7, 10**17 + 3),
        (2**128 - 1, 2**127 + 5),
        (123456789, 987654321),
    ]

    @pytest.mark.parametrize(("a", "b"), SAMPLES)
    def test_mul_floor_and_ceil(self, a: int, b: int) -> None:
        exact = Fraction(a * b, ONE)
        assert fp.mul_down(a, b) == exact.numerator // exact.denominator
        assert fp.mul_up(a, b) == -((-exact.numerator) // exact.denominator)

    @pytest.mark.parametrize(("a", "b"), [(a, b) for a, b in SAMPLES if b])
    def test_div_floor_and_ceil(self, a: int, b: int) -> None:
        exact = Fraction(a * ONE, b)
        assert fp.div_down(a, b) == exact.numerator // exact.denominator
        assert fp.div_up(a, b) == -((-exact.numerator) // exact.denominator)

    def test_mul_overflow_at_two_to_the_256(self) -> None:
        assert fp.mul_down(2**128, 2**128 - 1) == (2**256 - 2**128) // ONE
        with raises_bal(3):
            fp.mul_down(2**128, 2**128)
        with raises_bal(3):
            fp.mul_up(2**128, 2**128)

    def test_div_by_zero_and_inflation_overflow(self) -> None:
        with raises_bal(4):
            fp.div_down(1, 0)
        with raises_bal(4):
            fp.div_up(0, 0)  # the zero check comes first
        limit = (WORD - 1) // ONE  # largest a with a * ONE < 2^256
        assert fp.div_down(limit, ONE) == limit
        with raises_bal(5):
            fp.div_down(limit + 1, ONE)
        with raises_bal(5):
            fp.div_up(limit + 1, ONE)

    def test_div_up_of_zero_is_zero(self) -> None:
        assert fp.div_up(0, 7) == 0

    def test_add_and_sub_checked(self) -> None:
        assert fp.add(WORD - 2, 1) == WORD - 1
        with raises_bal(0):
            fp.add(WORD - 1, 1)
        assert fp.sub(5, 5) == 0
        with raises_bal(1):
            fp.sub(5, 6)

    @pytest.mark.parametrize(
        ("x", "expected"), [(0, ONE), (1, ONE - 1), (ONE, 0), (ONE + 1, 0), (WORD - 1, 0)]
    )
    def test_complement_floors_at_zero(self, x: int, expected: int) -> None:
        assert fp.complement(x) == expected

    def test_pow_has_no_shortcut_for_exponent_one(self) -> None:
        """The 20210418 FixedPoint widens even x^1 by the maximum error (later releases return
        x): 50/50 pools pay a little less than the shortcut would."""
        x = 769230769230769231  # 1/1.3
        assert fp.pow_up(x, ONE) > x > fp.pow_down(x, ONE)


# ---------------------------------------------------------------- WeightedMath


class TestWeightedMathLimits:
    """At most 30% of the balance in (GIVEN_IN) or out (GIVEN_OUT); one wei more is refused."""

    BALANCE_IN = 1_234_567 * ONE + 89
    BALANCE_OUT = 98_765 * ONE + 43
    W_IN, W_OUT = 8 * ONE // 10, 2 * ONE // 10

    def test_amount_in_at_the_limit_passes_one_more_raises_304(self) -> None:
        limit = fp.mul_down(self.BALANCE_IN, MAX_IN_RATIO)
        out = calc_out_given_in(self.BALANCE_IN, self.W_IN, self.BALANCE_OUT, self.W_OUT, limit)
        assert 0 < out < self.BALANCE_OUT
        with pytest.raises(InsufficientLiquidityError, match="^BAL#304 MAX_IN_RATIO"):
            calc_out_given_in(self.BALANCE_IN, self.W_IN, self.BALANCE_OUT, self.W_OUT, limit + 1)

    def test_amount_out_at_the_limit_passes_one_more_raises_305(self) -> None:
        limit = fp.mul_down(self.BALANCE_OUT, MAX_OUT_RATIO)
        amount_in = calc_in_given_out(
            self.BALANCE_IN, self.W_IN, self.BALANCE_OUT, self.W_OUT, limit
        )
        assert amount_in > 0
        with pytest.raises(InsufficientLiquidityError, match="^BAL#305 MAX_OUT_RATIO"):
            calc_in_given_out(self.BALANCE_IN, self.W_IN, self.BALANCE_OUT, self.W_OUT, limit + 1)

    def test_rounding_always_favours_the_pool(self) -> None:
        """Out is never above the exact curve, in never below it."""
        rng = random.Random(7)
        for _ in range(200):
            b_in, b_out = rng.randint(10**6, 10**30), rng.randint(10**6, 10**30)
            w_in = rng.randint(ONE // 100, 99 * ONE // 100)
            w_out = ONE - w_in
            a_in = rng.randint(1, fp.mul_down(b_in, MAX_IN_RATIO))
            a_out = rng.randint(1, fp.mul_down(b_out, MAX_OUT_RATIO))
            with localcontext() as ctx:
                ctx.prec = 60
                ratio_in = Decimal(b_in) / Decimal(b_in + a_in)
                exact_out = Decimal(b_out) * (1 - ratio_in ** (Decimal(w_in) / Decimal(w_out)))
                ratio_out = Decimal(b_out) / Decimal(b_out - a_out)
                exact_in = Decimal(b_in) * (ratio_out ** (Decimal(w_out) / Decimal(w_in)) - 1)
            assert calc_out_given_in(b_in, w_in, b_out, w_out, a_in) <= exact_out
            assert calc_in_given_out(b_in, w_in, b_out, w_out, a_out) >= exact_in


# ---------------------------------------------------------------- the pool state


def make_pool(
    *,
    decimals: tuple[int, ...] = (18, 6, 8),
    balances: tuple[int, ...] = (1_000 * ONE, 3_000_000 * 10**6, 50 * 10**8),
    weights: tuple[int, ...] = (5 * ONE // 10, 3 * ONE // 10, 2 * ONE // 10),
    swap_fee: int = 3 * 10**15,
    tokens: tuple[str, ...] = (TOKEN_A, TOKEN_B, TOKEN_C),
) -> WeightedPoolState:
    return WeightedPoolState(
        address=POOL,
        pool_id=b"\x01" * 32,
        tokens=tokens,
        balances=balances,
        decimals=decimals,
        normalized_weights=weights,
        swap_fee=swap_fee,
    )


class TestPoolState:
    """The quote interface: EIP-55 tokens, the Vault's checks in the Vault's order, limits."""

    def test_is_a_pool_state(self) -> None:
        assert isinstance(make_pool(), PoolState)

    def test_addresses_are_checksummed_and_lookups_accept_any_case(self) -> None:
        pool = make_pool()
        assert pool.address == "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE"
        assert pool.tokens[0] == "0xaAaAaAaaAaAaAaaAaAAAAAAAAaaaAaAaAaaAaaAa"
        assert pool.quote_exact_in(TOKEN_A, TOKEN_B, ONE) == pool.quote_exact_in(
            pool.tokens[0], pool.tokens[1], ONE
        )

    def test_same_token_is_checked_before_the_amount(self) -> None:
        with raises_bal(509):
            make_pool().quote_exact_in(TOKEN_A, TOKEN_A.upper().replace("0X", "0x"), 0)

    def test_zero_amount_is_checked_before_registration(self) -> None:
        with raises_bal(510):
            make_pool().quote_exact_in(TOKEN_A, "0x" + "d" * 40, 0)
        with raises_bal(510):
            make_pool().quote_exact_out(TOKEN_A, TOKEN_B, 0)

    def test_unregistered_token(self) -> None:
        with raises_bal(521):
            make_pool().quote_exact_out("0x" + "d" * 40, TOKEN_A, 5)

    @pytest.mark.parametrize("amount", [-1, WORD], ids=["negative", "2^256"])
    def test_amounts_must_be_uint256(self, amount: int) -> None:
        with pytest.raises(FlasharbValueError, match="amount"):
            make_pool().quote_exact_in(TOKEN_A, TOKEN_B, amount)

    def test_huge_amount_in_overflows_the_fee_multiplication(self) -> None:
        with raises_bal(3):
            make_pool().quote_exact_in(TOKEN_A, TOKEN_B, WORD - 1)

    def test_huge_amount_out_overflows_upscaling(self) -> None:
        with raises_bal(3):
            make_pool().quote_exact_out(TOKEN_A, TOKEN_B, WORD // 10**11)  # 6 decimals: * 1e12

    @pytest.mark.parametrize("seed", range(6))
    def test_max_amounts_are_the_exact_limits(self, seed: int) -> None:
        rng = random.Random(seed)
        pool = make_pool(
            balances=(rng.randint(1, 10**30), rng.randint(1, 10**15), rng.randint(1, 10**16)),
            swap_fee=rng.choice([10**12, 3 * 10**15, 10**17, 0]),
        )
        for t_in in pool.tokens:
            for t_out in pool.tokens:
                if t_in == t_out:
                    continue
                max_in, max_out = pool.max_amount_in(t_in, t_out), pool.max_amount_out(t_in, t_out)
                if max_in:
                    pool.quote_exact_in(t_in, t_out, max_in)
                with pytest.raises(InsufficientLiquidityError, match="^BAL#304"):
                    pool.quote_exact_in(t_in, t_out, max_in + 1)
                if max_out:
                    pool.quote_exact_out(t_in, t_out, max_out)
                with pytest.raises(InsufficientLiquidityError, match="^BAL#305"):
                    pool.quote_exact_out(t_in, t_out, max_out + 1)

    def test_six_decimal_output_is_the_eighteen_decimal_one_rounded_down(self) -> None:
        """Scaling is exact on the way in and floors on the way out."""
        six = make_pool(decimals=(18, 6, 8))
        eighteen = make_pool(
            decimals=(18, 18, 8), balances=(1_000 * ONE, 3_000_000 * ONE, 50 * 10**8)
        )
        rng = random.Random(3)
        for _ in range(50):
            amount = rng.randint(1, six.max_amount_in(TOKEN_A, TOKEN_B))
            out6 = six.quote_exact_in(TOKEN_A, TOKEN_B, amount)
            out18 = eighteen.quote_exact_in(TOKEN_A, TOKEN_B, amount)
            assert out6 == out18 // 10**12

    def test_apply_swap_moves_exactly_the_two_balances(self) -> None:
        pool = make_pool()
        out = pool.quote_exact_in(TOKEN_A, TOKEN_C, 10 * ONE)
        moved = pool.apply_swap(TOKEN_A, TOKEN_C, 10 * ONE, out)
        assert moved.balances == (
            pool.balances[0] + 10 * ONE,
            pool.balances[1],
            pool.balances[2] - out,
        )
        assert pool.balances == (1_000 * ONE, 3_000_000 * 10**6, 50 * 10**8)  # unchanged
        assert moved.tokens == pool.tokens and moved.scaling_factors == pool.scaling_factors
        assert moved.quote_exact_in(TOKEN_A, TOKEN_C, 10 * ONE) < out  # the price moved

    def test_apply_swap_cannot_pay_more_than_the_balance(self) -> None:
        pool = make_pool()
        with raises_bal(1):
            pool.apply_swap(TOKEN_A, TOKEN_B, 1, pool.balances[1] + 1)

    def test_balance_in_must_stay_within_112_bits(self) -> None:
        pool = make_pool(balances=(2**112 - 10, 10**12, 10**9))
        with raises_bal(526):
            pool.quote_exact_out(TOKEN_A, TOKEN_B, 10**11)

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"decimals": (18, 19, 8)}, "decimals"),
            ({"weights": (ONE, 0, 0)}, "weights"),
            ({"swap_fee": ONE}, "swap fee"),
            ({"balances": (1, 2)}, "balances"),
            ({"tokens": (TOKEN_A, TOKEN_B, TOKEN_A)}, "twice"),
        ],
        ids=["decimals", "weight", "fee", "lengths", "duplicate"],
    )
    def test_rejects_states_no_pool_can_have(self, kwargs: dict[str, object], match: str) -> None:
        with pytest.raises(FlasharbValueError, match=match):
            make_pool(**kwargs)  # type: ignore[arg-type]
