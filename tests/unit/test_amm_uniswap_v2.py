"""Uniswap V2 math against the v2-core test tables and the 997/1000 Solidity formulas."""

from __future__ import annotations

import random

import pytest

from flasharb.amm.uniswap_v2 import (
    FEE_DENOMINATOR,
    V2PairState,
    get_amount_in,
    get_amount_out,
    swap_satisfies_k,
)
from flasharb.errors import FlasharbValueError, InsufficientLiquidityError

E18 = 10**18
TOKEN_A = "0x" + "a" * 40
TOKEN_B = "0x" + "b" * 40
POOL = "0x" + "1" * 40

# v2-core test/UniswapV2Pair.spec.ts `swapTestCases`:
# (swapAmount, token0Amount, token1Amount, expectedOutputAmount); token0 in, token1 out.
SWAP_TEST_CASES = [
    (1 * E18, 5 * E18, 10 * E18, 1662497915624478906),
    (1 * E18, 10 * E18, 5 * E18, 453305446940074565),
    (2 * E18, 5 * E18, 10 * E18, 2851015155847869602),
    (2 * E18, 10 * E18, 5 * E18, 831248957812239453),
    (1 * E18, 10 * E18, 10 * E18, 906610893880149131),
    (1 * E18, 100 * E18, 100 * E18, 987158034397061298),
    (1 * E18, 1000 * E18, 1000 * E18, 996006981039903216),
]
SWAP_IDS = [f"in{s // E18}-r{r0 // E18}-{r1 // E18}" for s, r0, r1, _ in SWAP_TEST_CASES]

# v2-core `optimisticTestCases`: (outputAmount, token0Amount, token1Amount, inputAmount), a
# flash swap that takes token0 out and pays token0 back.
OPTIMISTIC_TEST_CASES = [
    (997000000000000000, 5 * E18, 10 * E18, 1 * E18),
    (997000000000000000, 10 * E18, 5 * E18, 1 * E18),
    (997000000000000000, 5 * E18, 5 * E18, 1 * E18),
    (1 * E18, 5 * E18, 5 * E18, 1003009027081243732),
]


def solidity_get_amount_out(amount_in: int, reserve_in: int, reserve_out: int) -> int:
    """UniswapV2Library.getAmountOut, literally."""
    amount_in_with_fee = amount_in * 997
    return amount_in_with_fee * reserve_out // (reserve_in * 1000 + amount_in_with_fee)


def solidity_get_amount_in(amount_out: int, reserve_in: int, reserve_out: int) -> int:
    """UniswapV2Library.getAmountIn, literally."""
    return reserve_in * amount_out * 1000 // ((reserve_out - amount_out) * 997) + 1


class TestSwapTestCases:
    """The v2-core pair table: the expected output is paid, one wei more fails `K`."""

    @pytest.mark.parametrize(
        ("swap", "reserve0", "reserve1", "expected"), SWAP_TEST_CASES, ids=SWAP_IDS
    )
    def test_get_amount_out_matches_table(
        self, swap: int, reserve0: int, reserve1: int, expected: int
    ) -> None:
        assert get_amount_out(swap, reserve0, reserve1) == expected

    @pytest.mark.parametrize(
        ("swap", "reserve0", "reserve1", "expected"), SWAP_TEST_CASES, ids=SWAP_IDS
    )
    def test_pair_accepts_expected_and_rejects_one_more(
        self, swap: int, reserve0: int, reserve1: int, expected: int
    ) -> None:
        def k_holds(out: int) -> bool:
            return swap_satisfies_k(
                reserve0=reserve0,
                reserve1=reserve1,
                amount0_in=swap,
                amount1_in=0,
                amount0_out=0,
                amount1_out=out,
            )

        assert k_holds(expected)
        assert not k_holds(expected + 1)

    @pytest.mark.parametrize(
        ("output", "reserve0", "reserve1", "paid"),
        OPTIMISTIC_TEST_CASES,
        ids=["out.997-r5-10", "out.997-r10-5", "out.997-r5-5", "out1-r5-5"],
    )
    def test_optimistic_flash_swap_k_boundary(
        self, output: int, reserve0: int, reserve1: int, paid: int
    ) -> None:
        def k_holds(out: int) -> bool:
            return swap_satisfies_k(
                reserve0=reserve0,
                reserve1=reserve1,
                amount0_in=paid,
                amount1_in=0,
                amount0_out=out,
                amount1_out=0,
            )

        assert k_holds(output)
        assert not k_holds(output + 1)

    def test_token1_in_uses_swapped_reserves(self) -> None:
        """v2-core `swap:token1`: 1 token1 into (5, 10) pays 453305446940074565 token0."""
        state = V2PairState(
            address=POOL, token0=TOKEN_A, token1=TOKEN_B, reserve0=5 * E18, reserve1=10 * E18
        )
        assert state.amount_out(TOKEN_B, E18) == 453305446940074565
        assert state.amount_out(TOKEN_A, E18) == 1662497915624478906


class TestPipsMatchSolidity:
    """Fees in pips (3000) give exactly the 997/1000 formulas, wei for wei."""

    def test_get_amount_out_equals_997_over_1000(self) -> None:
        rng = random.Random(0xA11CE)
        for _ in range(20_000):
            reserve_in = rng.randint(1, 2**112 - 1) >> rng.randint(0, 100)
            reserve_out = rng.randint(1, 2**112 - 1) >> rng.randint(0, 100)
            amount_in = rng.randint(1, 2**112) >> rng.randint(0, 110)
            if reserve_in == 0 or reserve_out == 0 or amount_in == 0:
                continue
            assert get_amount_out(amount_in, reserve_in, reserve_out, 3000) == (
                solidity_get_amount_out(amount_in, reserve_in, reserve_out)
            )

    def test_get_amount_in_equals_997_over_1000(self) -> None:
        rng = random.Random(0xB0B)
        for _ in range(20_000):
            reserve_in = max(rng.randint(1, 2**112 - 1) >> rng.randint(0, 100), 1)
            reserve_out = max(rng.randint(2, 2**112 - 1) >> rng.randint(0, 100), 2)
            amount_out = rng.randint(1, reserve_out - 1)
            assert get_amount_in(amount_out, reserve_in, reserve_out, 3000) == (
                solidity_get_amount_in(amount_out, reserve_in, reserve_out)
            )

    @pytest.mark.parametrize("fee_pips", [0, 500, 2500, 3000, 10_000], ids=lambda f: f"fee{f}")
    def test_k_accepts_get_amount_out_and_rejects_one_more(self, fee_pips: int) -> None:
        rng = random.Random(fee_pips)
        for _ in range(2_000):
            reserve0, reserve1 = rng.randint(10**3, 10**30), rng.randint(10**3, 10**30)
            amount_in = rng.randint(1, reserve0)
            out = get_amount_out(amount_in, reserve0, reserve1, fee_pips)
            kwargs = {"reserve0": reserve0, "reserve1": reserve1, "fee_pips": fee_pips}
            if out > 0:
                assert swap_satisfies_k(
                    amount0_in=amount_in, amount1_in=0, amount0_out=0, amount1_out=out, **kwargs
                )
            if out + 1 < reserve1:
                assert not swap_satisfies_k(
                    amount0_in=amount_in, amount1_in=0, amount0_out=0, amount1_out=out + 1, **kwargs
                )


class TestRoundTrip:
    """get_amount_in buys at least the output; one wei less does not (bar the library's +1)."""

    @pytest.mark.parametrize("fee_pips", [0, 3000, 10_000], ids=lambda f: f"fee{f}")
    def test_amount_in_buys_at_least_amount_out(self, fee_pips: int) -> None:
        rng = random.Random(1000 + fee_pips)
        for _ in range(5_000):
            reserve_in = rng.randint(10**3, 10**30)
            reserve_out = rng.randint(10**3, 10**30)
            want = max(rng.randint(1, reserve_out - 1) >> rng.randint(0, 60), 1)
            paid = get_amount_in(want, reserve_in, reserve_out, fee_pips)
            assert get_amount_out(paid, reserve_in, reserve_out, fee_pips) >= want

    @pytest.mark.parametrize("fee_pips", [0, 3000, 10_000], ids=lambda f: f"fee{f}")
    def test_one_wei_less_buys_less(self, fee_pips: int) -> None:
        rng = random.Random(2000 + fee_pips)
        for _ in range(5_000):
            reserve_in = rng.randint(10**3, 10**30)
            reserve_out = rng.randint(10**3, 10**30)
            want = max(rng.randint(1, reserve_out - 1) >> rng.randint(0, 60), 1)
            paid = get_amount_in(want, reserve_in, reserve_out, fee_pips)
            if paid == 1:
                continue
            numerator = reserve_in * want * FEE_DENOMINATOR
            denominator = (reserve_out - want) * (FEE_DENOMINATOR - fee_pips)
            if numerator % denominator:
                assert get_amount_out(paid - 1, reserve_in, reserve_out, fee_pips) < want
            else:  # exact division: the library's unconditional +1 overpays by one wei
                assert get_amount_out(paid - 1, reserve_in, reserve_out, fee_pips) == want

    def test_exact_division_case_overpays_by_one(self) -> None:
        """Reserves (997, 2), buy 1: 997 * 1 * 1000 / (1 * 997) = 1000 exactly; the library asks
        1001, and 1000 already buys it."""
        paid = get_amount_in(1, 997, 2)
        assert paid == 1001
        assert get_amount_out(1000, 997, 2) == 1

    def test_amount_out_never_reaches_reserve(self) -> None:
        assert get_amount_out(10**40, 10**18, 10**18) < 10**18


class TestRevertsWhereSolidityReverts:
    """Each require in UniswapV2Library becomes a FlasharbError subclass."""

    @pytest.mark.parametrize("amount_in", [0, -1], ids=["zero", "negative"])
    def test_no_input_is_insufficient_input_amount(self, amount_in: int) -> None:
        with pytest.raises(FlasharbValueError, match="INSUFFICIENT_INPUT_AMOUNT"):
            get_amount_out(amount_in, E18, E18)

    @pytest.mark.parametrize(
        ("r_in", "r_out"), [(0, E18), (E18, 0), (0, 0)], ids=["in", "out", "both"]
    )
    def test_empty_reserve_is_insufficient_liquidity(self, r_in: int, r_out: int) -> None:
        with pytest.raises(InsufficientLiquidityError, match="INSUFFICIENT_LIQUIDITY"):
            get_amount_out(E18, r_in, r_out)
        with pytest.raises(InsufficientLiquidityError, match="INSUFFICIENT_LIQUIDITY"):
            get_amount_in(1, r_in, r_out)

    def test_zero_output_is_insufficient_output_amount(self) -> None:
        with pytest.raises(FlasharbValueError, match="INSUFFICIENT_OUTPUT_AMOUNT"):
            get_amount_in(0, E18, E18)

    @pytest.mark.parametrize("extra", [0, 1], ids=["all", "more"])
    def test_buying_the_whole_reserve_is_insufficient_liquidity(self, extra: int) -> None:
        with pytest.raises(InsufficientLiquidityError, match="cannot pay"):
            get_amount_in(E18 + extra, E18, E18)

    @pytest.mark.parametrize("fee_pips", [-1, FEE_DENOMINATOR], ids=["negative", "100pct"])
    def test_fee_out_of_range_is_rejected(self, fee_pips: int) -> None:
        with pytest.raises(FlasharbValueError, match="fee_pips"):
            get_amount_out(E18, E18, E18, fee_pips)

    def test_insufficient_liquidity_is_a_value_error(self) -> None:
        """Callers that only know ValueError still catch it."""
        with pytest.raises(ValueError):
            get_amount_out(E18, 0, E18)


class TestPairState:
    """V2PairState normalises addresses and orients reserves by the token sold."""

    def make(self, **overrides: object) -> V2PairState:
        fields: dict[str, object] = {
            "address": POOL,
            "token0": TOKEN_A,
            "token1": TOKEN_B,
            "reserve0": 5 * E18,
            "reserve1": 10 * E18,
        }
        fields.update(overrides)
        return V2PairState(**fields)  # type: ignore[arg-type]

    def test_addresses_are_checksummed(self) -> None:
        state = self.make()
        assert state.token0 == "0xaAaAaAaaAaAaAaaAaAAAAAAAAaaaAaAaAaaAaaAa"
        assert state.address == "0x1111111111111111111111111111111111111111"

    @pytest.mark.parametrize("spelling", [str.lower, str.upper], ids=["lower", "upper"])
    def test_reserves_for_any_spelling(self, spelling: object) -> None:
        state = self.make()
        token = "0x" + spelling("b" * 40)  # type: ignore[operator]
        assert state.reserves_for(token) == (10 * E18, 5 * E18)
        assert state.reserves_for(state.token0) == (5 * E18, 10 * E18)
        assert state.other(token) == state.token0

    def test_unknown_token_names_token_and_pool(self) -> None:
        stranger = "0x" + "c" * 40
        with pytest.raises(FlasharbValueError, match=f"(?i){stranger}.*not in pool.*{POOL}"):
            self.make().reserves_for(stranger)

    def test_amount_out_uses_pool_fee(self) -> None:
        state = self.make(fee_pips=10_000)
        assert state.amount_out(TOKEN_A, E18) == get_amount_out(E18, 5 * E18, 10 * E18, 10_000)

    @pytest.mark.parametrize(
        "overrides",
        [{"token1": TOKEN_A}, {"reserve0": -1}, {"fee_pips": FEE_DENOMINATOR}, {"address": "0x12"}],
        ids=["same-token", "negative-reserve", "fee-100pct", "bad-address"],
    )
    def test_invalid_state_is_rejected(self, overrides: dict[str, object]) -> None:
        with pytest.raises(FlasharbValueError):
            self.make(**overrides)
