"""Valuing tokens in ETH through the deepest WETH pool of any venue, as exact ratios."""

from __future__ import annotations

from fractions import Fraction

import pytest

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import V2PairState, checksum_address
from flasharb.amm.uniswap_v3 import V3PoolState
from flasharb.errors import FlasharbValueError
from flasharb.search.valuation import eth_price, token_value_in_eth, weth_prices
from flasharb_testing.pool_builders import sqrt_price_x96_of, v3_pool, weighted_pool


def address(n: int) -> str:
    return checksum_address("0x" + f"{n:040x}")


WETH, USDC, BAL = address(0xEEE1), address(0xA0B8), address(0xBA1)  # both sort before WETH
E18, E6 = 10**18, 10**6


def v2(n: int, token: str, reserve_token: int, reserve_weth: int) -> V2PairState:
    return V2PairState(
        address=address(0x1000 + n),
        token0=token,
        token1=WETH,
        reserve0=reserve_token,
        reserve1=reserve_weth,
    )


def v3(n: int, weth_per_usdc_unit: float, liquidity: int) -> V3PoolState:
    return v3_pool(
        address=address(0x1000 + n),
        token0=USDC,
        token1=WETH,
        fee=500,
        sqrt_price_x96=sqrt_price_x96_of(weth_per_usdc_unit),
        positions=[(-887_270, 887_270, liquidity)],
    )


class TestPrices:
    """The deepest WETH pool of any venue gives the price, as an exact ratio."""

    def test_v3_price_is_sqrt_price_squared(self) -> None:
        pool = v3(1, 1e18 / 3000e6, 10**20)
        price = weth_prices([pool], WETH)[USDC]
        exact = Fraction(pool.sqrt_price_x96**2, 2**192)  # WETH wei per USDC unit
        assert price.to_eth(3000 * E6) == int(3000 * E6 * exact)
        assert price.from_eth(E18) == int(E18 / exact)

    def test_v3_with_weth_as_token0_inverts(self) -> None:
        token = address(0xFFFF)  # sorts after WETH: WETH is token0
        pool = v3_pool(
            address=address(0x2000),
            token0=WETH,
            token1=token,
            fee=3000,
            sqrt_price_x96=sqrt_price_x96_of(250.0),
            positions=[(-887_220, 887_220, E18)],
        )
        price = weth_prices([pool], WETH)[token]
        expected = Fraction(250 * E18 * 2**192, pool.sqrt_price_x96**2)
        assert price.to_eth(250 * E18) == int(expected)

    def test_balancer_spot_price_uses_weights(self) -> None:
        """80/20 BAL/WETH: spot = (B_weth / w_weth) / (B_bal / w_bal) = 0.05 ETH per BAL."""
        pool = weighted_pool(
            address=address(0x3000),
            tokens=[BAL, WETH],
            balances=[8_000 * E18, 100 * E18],
            decimals=[18, 18],
            weights=[8 * 10**17, 2 * 10**17],
            swap_fee=3 * 10**15,
        )
        price = weth_prices([pool], WETH)[BAL]
        assert price.to_eth(E18) == 5 * 10**16

    def test_deepest_pool_of_any_venue_wins(self) -> None:
        shallow_v2 = v2(1, USDC, 3_090 * 1000 * E6, 1000 * E18)
        deep_v3 = v3(2, 1e18 / 3000e6, 10**24)
        prices = weth_prices([shallow_v2, deep_v3], WETH)
        assert prices[USDC].pool == deep_v3.address
        only_v2 = weth_prices([shallow_v2], WETH)
        assert only_v2[USDC].to_eth(3_090 * E6) == E18

    def test_ties_go_to_the_lower_address(self) -> None:
        a, b = v2(2, USDC, 3000 * E6, E18), v2(1, USDC, 3100 * E6, E18)
        assert weth_prices([a, b], WETH)[USDC].pool == b.address
        assert weth_prices([b, a], WETH)[USDC].pool == b.address

    def test_empty_pools_are_ignored(self) -> None:
        pools: list[PoolState] = [v2(1, USDC, 0, E18), v3(2, 1e18 / 3000e6, 0)]
        assert weth_prices(pools, WETH) == {}


class TestValue:
    """Conversions floor; WETH is worth itself; a token without a WETH pool is named."""

    def test_weth_is_identity(self) -> None:
        assert token_value_in_eth(WETH, 12345, {}, WETH) == 12345
        assert eth_price({}, WETH, WETH).from_eth(7) == 7

    def test_floors(self) -> None:
        pool = v2(1, USDC, 3000 * E6, E18)
        states: dict[str, PoolState] = {pool.address: pool}
        assert token_value_in_eth(USDC, 2999, states, WETH) == 2999 * E18 // (3000 * E6)

    def test_no_weth_pool_is_an_error(self) -> None:
        with pytest.raises(FlasharbValueError, match=f"{BAL}.*no pool with WETH"):
            token_value_in_eth(BAL, E18, {}, WETH)
