"""Funding a sized cycle (capital.fund, what the market ranks with): the input is cut to what an
allowed lender holds, and re-sized on profit net of the lender's fee, exactly."""

from __future__ import annotations

import pytest

from flasharb.amm.uniswap_v2 import V2PairState
from flasharb.chain import addresses as A
from flasharb.kinds import SourceKind
from flasharb.search.capital import FlashSource, Lender, Lenders, fund
from flasharb.search.cycles import CycleIndex
from flasharb.search.sizing import SizedCycle, optimize, simulate

E18 = 10**18
E6 = 10**6
VAULT = A.BALANCER_VAULT
V3_LENDER = "0x" + "3" * 40
V2_LENDER = "0x" + "4" * 40


def _states() -> dict[str, V2PairState]:
    """USDC/WETH on two venues, 10% apart: a large opportunity starting from USDC."""
    cheap = V2PairState(
        address="0x" + "1" * 40,
        token0=A.USDC,
        token1=A.WETH,
        reserve0=3_000_000 * E6,
        reserve1=1_100 * E18,
    )
    dear = V2PairState(
        address="0x" + "2" * 40,
        token0=A.USDC,
        token1=A.WETH,
        reserve0=3_300_000 * E6,
        reserve1=1_000 * E18,
        venue="sushiswap",
    )
    return {p.address: p for p in (cheap, dear)}


@pytest.fixture
def best() -> tuple[dict[str, V2PairState], SizedCycle]:
    states = _states()
    index = CycleIndex.build(states.values(), [A.USDC], max_hops=2)
    sized = [optimize(c, states) for c in index.cycles]
    top = max(sized, key=lambda s: s.profit)
    assert top.profit > 0
    return states, top


def v3_flash_fee(x: int, pips: int) -> int:
    """UniswapV3Pool.flash's fee, computed here independently: ceil(x * fee / 1e6)."""
    return (x * pips + 10**6 - 1) // 10**6


def _net(states: dict[str, V2PairState], sized: SizedCycle, x: int, pips: int) -> int:
    return simulate(sized.cycle, states, x)[-1] - x - v3_flash_fee(x, pips)


def vault(capacity: int) -> Lender:
    return Lender(source=FlashSource.balancer(), capacity=capacity)


def v3(pool: str, pips: int, capacity: int) -> Lender:
    return Lender(
        source=FlashSource.uniswap_v3(pool, token0=True, fee_pips=pips), capacity=capacity
    )


def v2(pair: str, pips: int, capacity: int) -> Lender:
    return Lender(
        source=FlashSource.uniswap_v2(pair, token0=True, fee_pips=pips), capacity=capacity
    )


def lenders(*of_usdc: Lender) -> Lenders:
    return Lenders(by_token={A.USDC: of_usdc})


class TestFund:
    """Source, cap and fee-aware size of one route."""

    def test_vault_that_holds_enough_lends_it_all_for_free(self, best: tuple) -> None:  # type: ignore[type-arg]
        states, sized = best
        funded = fund(sized, states, lenders(vault(10 * sized.amount_in)))
        assert funded is not None
        assert funded.source.kind is SourceKind.BALANCER_V2 and funded.fee == 0
        assert funded.source.lender == VAULT
        assert funded.sized.amount_in == sized.amount_in
        assert funded.sized.profit == sized.profit

    def test_input_is_cut_to_what_the_vault_holds(self, best: tuple) -> None:  # type: ignore[type-arg]
        states, sized = best
        lendable = sized.amount_in // 3
        funded = fund(sized, states, lenders(vault(lendable)))
        assert funded is not None
        x = funded.sized.amount_in
        assert lendable - 1_000 <= x <= lendable  # at the cap, or a tooth below it
        amounts = simulate(sized.cycle, states, x)
        assert funded.sized.amounts == tuple(amounts)
        assert funded.sized.profit == amounts[-1] - x
        at_cap = simulate(sized.cycle, states, lendable)[-1] - lendable
        assert at_cap <= funded.sized.profit < sized.profit  # the best the cap allows

    def test_a_fee_moves_the_input_below_the_gross_optimum(self, best: tuple) -> None:  # type: ignore[type-arg]
        states, sized = best
        pips = 500
        funded = fund(sized, states, lenders(v3(V3_LENDER, pips, 10 * sized.amount_in)))
        assert funded is not None
        assert funded.source.kind is SourceKind.UNISWAP_V3
        assert funded.source.lender.lower() == V3_LENDER
        x = funded.sized.amount_in
        assert funded.fee == v3_flash_fee(x, pips) > 0
        assert x < sized.amount_in
        net = funded.net_of_fee
        assert net == _net(states, sized, x, pips)
        assert net > _net(states, sized, sized.amount_in, pips)  # re-sizing paid
        for dx in (1, 7, 1_000, 10**6, x // 1000, x // 10):  # no better input nearby
            assert net >= _net(states, sized, x + dx, pips)
            assert net >= _net(states, sized, x - dx, pips)

    def test_cheapest_lender_not_on_the_route(self, best: tuple) -> None:  # type: ignore[type-arg]
        states, sized = best
        on_route = sized.cycle.pools[0]
        offer = lenders(v3(on_route, 100, 10**20), v2(V2_LENDER, 3000, 10**20))
        funded = fund(sized, states, offer)
        assert funded is not None
        assert funded.source.kind is SourceKind.UNISWAP_V2
        assert funded.source.lender.lower() == V2_LENDER

    def test_nothing_can_lend(self, best: tuple) -> None:  # type: ignore[type-arg]
        states, sized = best
        assert fund(sized, states, Lenders()) is None

    def test_fee_larger_than_the_profit_drops_the_route(self, best: tuple) -> None:  # type: ignore[type-arg]
        states, sized = best
        offer = lenders(v3(V3_LENDER, 900_000, 10 * sized.amount_in))
        assert fund(sized, states, offer) is None
