"""The Uniswap V3 math ports, without a chain: v3-core's own test vectors, boundaries, reverts.

Vectors come from v3-core's test/*.spec.ts (FullMath, BitMath, LiquidityMath, TickMath,
SqrtPriceMath, SwapMath, TickBitmap); each class names its spec. Exact parity of whole swaps with
the deployed contracts is tests/fork/test_v3_parity.py.
"""

from __future__ import annotations

import math

import pytest

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v3 import V3PoolState, V3Revert, word_bounds
from flasharb.amm.uniswap_v3.bit_math import least_significant_bit, most_significant_bit
from flasharb.amm.uniswap_v3.full_math import mul_div, mul_div_rounding_up
from flasharb.amm.uniswap_v3.liquidity_math import add_delta
from flasharb.amm.uniswap_v3.sqrt_price_math import (
    get_amount0_delta,
    get_amount1_delta,
    get_next_sqrt_price_from_input,
    get_next_sqrt_price_from_output,
)
from flasharb.amm.uniswap_v3.swap_math import compute_swap_step
from flasharb.amm.uniswap_v3.tick_bitmap import (
    flip_tick,
    next_initialized_tick_within_one_word,
    position,
)
from flasharb.amm.uniswap_v3.tick_math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
)
from flasharb.amm.uniswap_v3.unsafe_math import div_rounding_up
from flasharb.errors import (
    FlasharbValueError,
    IncompleteStateError,
    InsufficientLiquidityError,
)

Q96 = 2**96
Q128 = 2**128
MAX_UINT256 = 2**256 - 1
E18 = 10**18


def encode_price_sqrt(reserve1: int, reserve0: int) -> int:
    """v3-core's test helper: floor(sqrt(reserve1 / reserve0) * 2**96), exactly."""
    return math.isqrt(reserve1 * 2**192 // reserve0)


def _reason(fn: object, *args: object) -> str:
    with pytest.raises(V3Revert) as info:
        fn(*args)  # type: ignore[operator]
    return info.value.reason


class TestFullMath:
    """test/FullMath.spec.ts: floor and ceiling of a*b/d through 512 bits, reverting where the
    result does not fit or d is 0."""

    @pytest.mark.parametrize(
        ("a", "b", "d"),
        [
            (Q128, 5, 0),
            (Q128, Q128, 0),
            (Q128, Q128, 1),
            (MAX_UINT256, MAX_UINT256, MAX_UINT256 - 1),
        ],
        ids=["denominator-0", "denominator-0-overflowing-product", "overflow", "all-max-less-1"],
    )
    def test_reverts(self, a: int, b: int, d: int) -> None:
        for fn in (mul_div, mul_div_rounding_up):
            with pytest.raises(V3Revert):
                fn(a, b, d)

    @pytest.mark.parametrize(
        ("a", "b", "d", "floor", "ceil"),
        [
            (MAX_UINT256, MAX_UINT256, MAX_UINT256, MAX_UINT256, MAX_UINT256),
            (Q128, 50 * Q128 // 100, 150 * Q128 // 100, Q128 // 3, Q128 // 3 + 1),
            (Q128, 35 * Q128, 8 * Q128, 4375 * Q128 // 1000, 4375 * Q128 // 1000),
            (Q128, 1000 * Q128, 3000 * Q128, Q128 // 3, Q128 // 3 + 1),
        ],
        ids=["all-max", "no-phantom-overflow", "phantom-overflow", "phantom-overflow-repeating"],
    )
    def test_results(self, a: int, b: int, d: int, floor: int, ceil: int) -> None:
        assert mul_div(a, b, d) == floor
        assert mul_div_rounding_up(a, b, d) == ceil

    @pytest.mark.parametrize(
        ("a", "b", "d"),
        [
            (535006138814359, 432862656469423142931042426214547535783388063929571229938474969, 2),
            (
                115792089237316195423570985008687907853269984659341747863450311749907997002549,
                115792089237316195423570985008687907853269984659341747863450311749907997002550,
                115792089237316195423570985008687907853269984653042931687443039491902864365164,
            ),
        ],
        ids=["case-1", "case-2"],
    )
    def test_rounding_up_past_max_uint256_reverts(self, a: int, b: int, d: int) -> None:
        assert mul_div(a, b, d) == MAX_UINT256  # the floor still fits
        with pytest.raises(V3Revert):
            mul_div_rounding_up(a, b, d)


class TestBitMathAndUnsafeMath:
    """test/BitMath.spec.ts; UnsafeMath.divRoundingUp divides by zero without reverting."""

    def test_every_power_of_two(self) -> None:
        for i in range(256):
            assert most_significant_bit(2**i) == i
            assert least_significant_bit(2**i) == i

    def test_max_uint256(self) -> None:
        assert most_significant_bit(MAX_UINT256) == 255
        assert least_significant_bit(MAX_UINT256) == 0

    @pytest.mark.parametrize("fn", [most_significant_bit, least_significant_bit])
    def test_zero_reverts(self, fn: object) -> None:
        assert _reason(fn, 0) == ""

    def test_div_rounding_up(self) -> None:
        assert (div_rounding_up(7, 2), div_rounding_up(8, 2), div_rounding_up(0, 3)) == (4, 4, 0)
        assert div_rounding_up(5, 0) == 0  # EVM div/mod by zero give 0


class TestLiquidityMath:
    """test/LiquidityMath.spec.ts: addDelta reverts LS on underflow and LA on overflow."""

    @pytest.mark.parametrize(("x", "y", "z"), [(1, 0, 1), (1, -1, 0), (1, 1, 2)])
    def test_add_delta(self, x: int, y: int, z: int) -> None:
        assert add_delta(x, y) == z

    @pytest.mark.parametrize(
        ("x", "y", "reason"), [(2**128 - 15, 15, "LA"), (0, -1, "LS"), (3, -4, "LS")]
    )
    def test_add_delta_reverts(self, x: int, y: int, reason: str) -> None:
        assert _reason(add_delta, x, y) == reason


# TickMath.spec.ts snapshot: sqrt ratios at +-50 ... +-738203 (v3-core 1.0.x)
SQRT_RATIO_VECTORS = [
    (-887271, 4295343490),
    (887271, 1461373636630004318706518188784493106690254656249),
    (-50, 79030349367926598376800521322),
    (50, 79426470787362580746886972461),
    (-1000, 75364347830767020784054125655),
    (1000, 83290069058676223003182343270),
    (-50000, 6504256538020985011912221507),
    (50000, 965075977353221155028623082916),
    (-250000, 295440463448801648376846),
    (250000, 21246587762933397357449903968194344),
    (-500000, 1101692437043807371),
    (500000, 5697689776495288729098254600827762987878),
    (-738203, 7409801140451),
    (738203, 847134979253254120489401328389043031315994541),
]


class TestTickMath:
    """test/TickMath.spec.ts: the range ends, known ratios, reverts T and R, and the defining
    property of getTickAtSqrtRatio (the greatest tick whose ratio is <= the price)."""

    def test_range_ends(self) -> None:
        assert get_sqrt_ratio_at_tick(MIN_TICK) == MIN_SQRT_RATIO == 4295128739
        assert get_sqrt_ratio_at_tick(MAX_TICK) == MAX_SQRT_RATIO
        assert get_sqrt_ratio_at_tick(0) == Q96
        assert get_tick_at_sqrt_ratio(MIN_SQRT_RATIO) == MIN_TICK
        assert get_tick_at_sqrt_ratio(MAX_SQRT_RATIO - 1) == MAX_TICK - 1

    @pytest.mark.parametrize(("tick", "ratio"), SQRT_RATIO_VECTORS, ids=lambda v: str(v)[:12])
    def test_known_ratios(self, tick: int, ratio: int) -> None:
        assert get_sqrt_ratio_at_tick(tick) == ratio
        assert get_tick_at_sqrt_ratio(ratio) == tick
        assert get_tick_at_sqrt_ratio(ratio - 1) == tick - 1

    @pytest.mark.parametrize("tick", [MIN_TICK - 1, MAX_TICK + 1])
    def test_tick_out_of_range_reverts_t(self, tick: int) -> None:
        assert _reason(get_sqrt_ratio_at_tick, tick) == "T"

    @pytest.mark.parametrize("ratio", [0, MIN_SQRT_RATIO - 1, MAX_SQRT_RATIO])
    def test_ratio_out_of_range_reverts_r(self, ratio: int) -> None:
        assert _reason(get_tick_at_sqrt_ratio, ratio) == "R"

    def test_tick_is_the_greatest_with_ratio_at_or_below_price(self) -> None:
        for tick in range(MIN_TICK, MAX_TICK, 7919):  # a prime stride through the range
            ratio = get_sqrt_ratio_at_tick(tick)
            assert get_sqrt_ratio_at_tick(tick + 1) > ratio
            assert get_tick_at_sqrt_ratio(ratio) == tick
            assert get_tick_at_sqrt_ratio(ratio - 1 if ratio > MIN_SQRT_RATIO else ratio) in (
                tick - 1,
                tick,
            )
            middle = (ratio + get_sqrt_ratio_at_tick(tick + 1)) // 2
            assert get_tick_at_sqrt_ratio(middle) == tick


class TestSqrtPriceMath:
    """test/SqrtPriceMath.spec.ts."""

    def test_next_price_from_input(self) -> None:
        one = encode_price_sqrt(1, 1)
        assert get_next_sqrt_price_from_input(one, E18, E18 // 10, False) == (
            87150978765690771352898345369
        )
        assert get_next_sqrt_price_from_input(one, E18, E18 // 10, True) == (
            72025602285694852357767227579
        )
        assert get_next_sqrt_price_from_input(one, 10 * E18, 2**100, True) == 624999999995069620
        assert get_next_sqrt_price_from_input(one, 1, MAX_UINT256 // 2, True) == 1
        assert get_next_sqrt_price_from_input(1, 1, 2**255, True) == 1  # cannot underflow
        assert get_next_sqrt_price_from_input(one, E18 // 10, 0, True) == one
        assert get_next_sqrt_price_from_input(one, E18 // 10, 0, False) == one

    def test_next_price_from_output(self) -> None:
        one = encode_price_sqrt(1, 1)
        assert get_next_sqrt_price_from_output(one, E18, E18 // 10, False) == (
            88031291682515930659493278152
        )
        assert get_next_sqrt_price_from_output(one, E18, E18 // 10, True) == (
            71305346262837903834189555302
        )
        price = 20282409603651670423947251286016  # virtual reserves: 4 token0, 262144 token1
        # price = 262144 * 2**96 / 1024: taking out all but one token1 leaves one 1024th of 2**96
        assert get_next_sqrt_price_from_output(price, 1024, 262143, True) == Q96 // 1024
        assert get_next_sqrt_price_from_output(one, E18 // 10, 0, True) == one

    @pytest.mark.parametrize(
        ("fn", "args"),
        [
            (get_next_sqrt_price_from_input, (0, 0, E18 // 10, False)),
            (get_next_sqrt_price_from_input, (1, 0, E18 // 10, True)),
            (get_next_sqrt_price_from_input, (2**160 - 1, 1024, 1024, False)),
            (get_next_sqrt_price_from_output, (0, 0, E18 // 10, False)),
            (get_next_sqrt_price_from_output, (1, 0, E18 // 10, True)),
            (get_next_sqrt_price_from_output, (20282409603651670423947251286016, 1024, 4, False)),
            (get_next_sqrt_price_from_output, (20282409603651670423947251286016, 1024, 5, False)),
            (
                get_next_sqrt_price_from_output,
                (20282409603651670423947251286016, 1024, 262144, True),
            ),
            (
                get_next_sqrt_price_from_output,
                (20282409603651670423947251286016, 1024, 262145, True),
            ),
            (get_next_sqrt_price_from_output, (Q96, 1, MAX_UINT256, True)),
            (get_next_sqrt_price_from_output, (Q96, 1, MAX_UINT256, False)),
        ],
        ids=[
            "input-price-0",
            "input-liquidity-0",
            "input-overflows-price",
            "output-price-0",
            "output-liquidity-0",
            "output-exactly-token0-reserves",
            "output-above-token0-reserves",
            "output-exactly-token1-reserves",
            "output-above-token1-reserves",
            "output-impossible-zero-for-one",
            "output-impossible-one-for-zero",
        ],
    )
    def test_reverts(self, fn: object, args: tuple[int, int, int, bool]) -> None:
        assert _reason(fn, *args) == ""

    def test_amount_deltas(self) -> None:
        p1, p121 = encode_price_sqrt(1, 1), encode_price_sqrt(121, 100)
        assert get_amount0_delta(p121, p1, E18, True) == 90909090909090910
        assert get_amount0_delta(p121, p1, E18, False) == 90909090909090909
        assert get_amount1_delta(p1, p121, E18, True) == 100000000000000000
        assert get_amount1_delta(p1, p121, E18, False) == 99999999999999999
        assert get_amount0_delta(encode_price_sqrt(2, 1), p1, 0, True) == 0
        assert get_amount1_delta(p1, p1, E18, True) == 0
        high, low = encode_price_sqrt(2**96, 1), encode_price_sqrt(2**90, 1)
        assert (
            get_amount0_delta(high, low, E18, True) == get_amount0_delta(high, low, E18, False) + 1
        )

    def test_sqrt_p_times_sqrt_q_overflows(self) -> None:
        sqrt_p = 1025574284609383690408304870162715216695788925244
        liquidity = 50015962439936049619261659728067971248
        sqrt_q = get_next_sqrt_price_from_input(sqrt_p, liquidity, 406, True)
        assert sqrt_q == 1025574284609383582644711336373707553698163132913
        assert get_amount0_delta(sqrt_p, sqrt_q, liquidity, True) == 406


class TestSwapMath:
    """test/SwapMath.spec.ts: computeSwapStep -> (sqrtQ, amountIn, amountOut, feeAmount)."""

    @pytest.mark.parametrize(
        ("args", "expected"),
        [
            (
                (encode_price_sqrt(1, 1), encode_price_sqrt(101, 100), 2 * E18, E18, 600),
                (encode_price_sqrt(101, 100), 9975124224178055, 9925619580021728, 5988667735148),
            ),
            (
                (encode_price_sqrt(1, 1), encode_price_sqrt(101, 100), 2 * E18, -E18, 600),
                (encode_price_sqrt(101, 100), 9975124224178055, 9925619580021728, 5988667735148),
            ),
            (
                (
                    417332158212080721273783715441582,
                    1452870262520218020823638996,
                    159344665391607089467575320103,
                    -1,
                    1,
                ),  # noqa: E501
                (417332158212080721273783715441581, 1, 1, 1),
            ),
            (
                (2, 1, 1, 3915081100057732413702495386755767, 1),
                (1, 39614081257132168796771975168, 0, 39614120871253040049813),
            ),
            (
                (2413, 79887613182836312, 1985041575832132834610021537970, 10, 1872),
                (2413, 0, 0, 10),
            ),
            (
                (
                    20282409603651670423947251286016,
                    20282409603651670423947251286016 * 11 // 10,
                    1024,
                    -4,
                    3000,
                ),  # noqa: E501
                (20282409603651670423947251286016 * 11 // 10, 26215, 0, 79),
            ),
            (
                (
                    20282409603651670423947251286016,
                    20282409603651670423947251286016 * 9 // 10,
                    1024,
                    -263000,
                    3000,
                ),  # noqa: E501
                (20282409603651670423947251286016 * 9 // 10, 1, 26214, 1),
            ),
        ],
        ids=[
            "exact-in-capped-at-target",
            "exact-out-capped-at-target",
            "amount-out-capped-at-desired",
            "target-price-1-partial-input",
            "entire-input-taken-as-fee",
            "insufficient-liquidity-zero-for-one-exact-out",
            "insufficient-liquidity-one-for-zero-exact-out",
        ],
    )
    def test_step(
        self, args: tuple[int, int, int, int, int], expected: tuple[int, int, int, int]
    ) -> None:
        assert compute_swap_step(*args) == expected

    def test_exact_in_fully_spent(self) -> None:
        price, target = encode_price_sqrt(1, 1), encode_price_sqrt(1000, 100)
        sqrt_q, amount_in, amount_out, fee = compute_swap_step(price, target, 2 * E18, E18, 600)
        assert (amount_in, fee, amount_out) == (
            999400000000000000,
            600000000000000,
            666399946655997866,
        )
        assert sqrt_q < target
        assert sqrt_q == get_next_sqrt_price_from_input(price, 2 * E18, E18 - fee, False)

    def test_exact_out_fully_received(self) -> None:
        price, target = encode_price_sqrt(1, 1), encode_price_sqrt(10000, 100)
        sqrt_q, amount_in, amount_out, fee = compute_swap_step(price, target, 2 * E18, -E18, 600)
        assert (amount_in, fee, amount_out) == (2 * E18, 1200720432259356, E18)
        assert sqrt_q == get_next_sqrt_price_from_output(price, 2 * E18, E18, False) < target


class TestTickBitmap:
    """test/TickBitmap.spec.ts (tick spacing 1, ticks 70, 78, 84, 139, 240, 535), the word
    layout, and the window of words a state knows."""

    @staticmethod
    def _bitmap(*ticks: int, spacing: int = 1) -> dict[int, int]:
        bitmap: dict[int, int] = {}
        for t in ticks:
            word, value = flip_tick(bitmap.get(position(t // spacing)[0], 0), t, spacing)
            bitmap[word] = value
        return bitmap

    @pytest.mark.parametrize(
        ("tick", "lte", "extra", "expected"),
        [
            (78, False, (), (84, True)),
            (77, False, (), (78, True)),
            (255, False, (), (511, False)),
            (328, False, (340,), (340, True)),
            (508, False, (), (511, False)),
            (383, False, (), (511, False)),
            (78, True, (), (78, True)),
            (79, True, (), (78, True)),
            (258, True, (), (256, False)),
            (256, True, (), (256, False)),
            (72, True, (), (70, True)),
            (-1, True, (), (-256, False)),
            (1023, True, (), (768, False)),
            (900, True, (), (768, False)),
            (456, True, (329,), (329, True)),
        ],
    )
    def test_next_initialized_tick(
        self, tick: int, lte: bool, extra: tuple[int, ...], expected: tuple[int, bool]
    ) -> None:
        bitmap = self._bitmap(70, 78, 84, 139, 240, 535, *extra)
        assert next_initialized_tick_within_one_word(bitmap, tick, 1, lte) == expected

    def test_flip_tick_flips_only_itself(self) -> None:
        bitmap = self._bitmap(-230, -259, -229, 500, -259, -229, -259)
        set_ticks = {(w * 256 + b) for w, v in bitmap.items() for b in range(256) if v >> b & 1}
        assert set_ticks == {-230, -259, 500}
        assert _reason(flip_tick, 0, 61, 60) == ""

    def test_negative_ticks_round_towards_minus_infinity(self) -> None:
        assert position(-1) == (-1, 255)
        assert position(-256) == (-1, 0)
        assert position(-257) == (-2, 255)
        bitmap = self._bitmap(-120, spacing=60)
        assert next_initialized_tick_within_one_word(bitmap, -61, 60, True) == (-120, True)
        assert next_initialized_tick_within_one_word(bitmap, -180, 60, False) == (-120, True)

    def test_word_bounds_cover_the_tick_range(self) -> None:
        assert word_bounds(1) == (-3466, 3465)
        assert word_bounds(60) == (-58, 57)
        assert word_bounds(200) == (-18, 17)

    def test_word_outside_the_window_raises(self) -> None:
        bitmap = self._bitmap(70)
        assert next_initialized_tick_within_one_word(bitmap, 100, 1, True, (0, 0)) == (70, True)
        with pytest.raises(IncompleteStateError, match="outside the words read"):
            next_initialized_tick_within_one_word(bitmap, 255, 1, False, (0, 0))


# ---------------------------------------------------------------- the pool state

USDC = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
POOL = "0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640"


def _pool(**changes: object) -> V3PoolState:
    """One position of 1e18 liquidity on [-600, 600] around price 1 (spacing 60, 0.3%)."""
    bitmap = TestTickBitmap._bitmap(-600, 600, spacing=60)
    fields: dict[str, object] = {
        "address": POOL,
        "token0": USDC,
        "token1": WETH,
        "fee": 3000,
        "tick_spacing": 60,
        "sqrt_price_x96": Q96,
        "tick": 0,
        "liquidity": E18,
        "tick_bitmap": bitmap,
        "ticks": {-600: E18, 600: -E18},
        "word_range": word_bounds(60),
    }
    fields.update(changes)
    return V3PoolState(**fields)  # type: ignore[arg-type]


class TestPoolState:
    """V3PoolState as the engine sees it: the PoolState interface, reverts where the pool
    reverts, partial fills refused by the quotes, and states that know too few words."""

    def test_is_a_pool_state_with_checksummed_addresses(self) -> None:
        pool = _pool()
        assert isinstance(pool, PoolState)
        assert pool.address == "0x88e6A0c2dDD26FEEb64F039a2c41296FcB3f5640"
        assert pool.tokens == ("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", WETH)
        assert pool.other(USDC) == WETH
        assert pool.amount_out(USDC, 10**6) == pool.quote_exact_in(USDC, WETH, 10**6)

    @pytest.mark.parametrize(
        ("zero_for_one", "amount", "limit", "reason"),
        [
            (True, 0, None, "AS"),
            (True, 10, Q96, "SPL"),
            (True, 10, MIN_SQRT_RATIO, "SPL"),
            (False, 10, Q96, "SPL"),
            (False, 10, MAX_SQRT_RATIO, "SPL"),
        ],
        ids=["zero-amount", "limit-at-price", "limit-at-min", "limit-at-price-up", "limit-at-max"],
    )
    def test_swap_reverts_like_the_pool(
        self, zero_for_one: bool, amount: int, limit: int | None, reason: str
    ) -> None:
        assert _reason(_pool().swap, zero_for_one, amount, limit) == reason

    def test_uninitialized_pool(self) -> None:
        pool = _pool(sqrt_price_x96=0)
        assert _reason(pool.swap, True, 10) == "LOK"
        with pytest.raises(InsufficientLiquidityError):
            pool.quote_exact_in(USDC, WETH, 10)

    def test_amounts_beyond_the_liquidity_raise_in_quotes(self) -> None:
        pool = _pool()
        result = pool.swap(True, 10**30)
        assert not result.filled and result.sqrt_price_x96 == MIN_SQRT_RATIO + 1
        assert result.ticks_crossed == 1 and result.liquidity == 0
        fill = result.amount_in
        assert pool.swap(True, fill).filled
        with pytest.raises(InsufficientLiquidityError):
            pool.quote_exact_in(USDC, WETH, fill + 1)
        assert pool.quote_exact_out(USDC, WETH, result.amount_out) > 0
        with pytest.raises(InsufficientLiquidityError):
            pool.quote_exact_out(USDC, WETH, result.amount_out + 1)

    def test_exact_out_of_an_exact_in_quote_needs_no_more_input(self) -> None:
        pool = _pool()
        for amount in (10**6, 10**15, 3 * 10**16):
            out = pool.quote_exact_in(WETH, USDC, amount)
            assert pool.quote_exact_out(WETH, USDC, out) <= amount

    def test_apply_moves_price_tick_and_liquidity_only(self) -> None:
        pool = _pool()
        result = pool.swap(False, 10**17)
        moved = pool.apply(result)
        assert (moved.sqrt_price_x96, moved.tick, moved.liquidity) == (
            result.sqrt_price_x96,
            result.tick,
            result.liquidity,
        )
        assert (moved.tick_bitmap, moved.ticks, moved.word_range) == (
            pool.tick_bitmap,
            pool.ticks,
            pool.word_range,
        )
        with pytest.raises(FlasharbValueError, match="does not apply"):
            moved.apply(result)

    def test_a_swap_past_the_known_words_raises(self) -> None:
        pool = _pool(word_range=(-1, 0))
        assert pool.quote_exact_in(USDC, WETH, 10**6) > 0
        with pytest.raises(IncompleteStateError, match=pool.address):
            pool.quote_exact_in(USDC, WETH, 10**30)

    def test_a_set_bit_without_its_tick_raises(self) -> None:
        pool = _pool(ticks={600: -E18})
        with pytest.raises(IncompleteStateError, match="liquidityNet"):
            pool.swap(True, 10**30)

    @pytest.mark.parametrize(
        ("token_in", "token_out"),
        [(USDC, USDC), ("0x6B175474E89094C44Da98b954EedeAC495271d0F", WETH), ("nope", WETH)],
        ids=["same-token", "foreign-token", "not-an-address"],
    )
    def test_bad_tokens(self, token_in: str, token_out: str) -> None:
        with pytest.raises(FlasharbValueError):
            _pool().quote_exact_in(token_in, token_out, 10)

    @pytest.mark.parametrize(
        "changes",
        [{"fee": 10**6}, {"tick_spacing": 0}, {"liquidity": 2**128}, {"token1": USDC}],
        ids=["fee", "spacing", "liquidity", "same-tokens"],
    )
    def test_bad_state_is_refused(self, changes: dict[str, object]) -> None:
        with pytest.raises(FlasharbValueError):
            _pool(**changes)
