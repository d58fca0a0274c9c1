"""Capital sources (flasharb.search.capital): the Balancer loan by default, never for a route
through a Balancer pool (BAL#400), the cheapest other lender not in the route, no loan for
all-Balancer cycles; each lender's fee exactly as its own contract computes it; and `fund`,
which re-sizes a route for the fee of the source that can lend it."""

from __future__ import annotations

import random

import pytest

from flasharb.amm.uniswap_v2 import V2PairState, swap_satisfies_k
from flasharb.chain import addresses as A
from flasharb.errors import FlasharbValueError
from flasharb.kinds import HopKind, SourceKind
from flasharb.search.capital import ZERO_ADDRESS, FlashSource, Lender, Lenders, fund
from flasharb.search.cycles import Cycle, Hop
from flasharb.search.exact import size_cycle
from flasharb_testing.pool_builders import full_range, sqrt_price_x96_of, v3_pool

VAULT = A.BALANCER_VAULT
T = [A.WETH, A.USDC, A.DAI]
P = [f"0x{i:040x}" for i in range(1, 10)]  # digits only: already EIP-55


def _cycle(kinds: list[HopKind], pools: list[str] | None = None) -> Cycle:
    pools = pools or P[: len(kinds)]
    toks = [T[i % len(T)] for i in range(len(kinds))] + [T[0]]
    if len(kinds) == 2:
        toks = [T[0], T[1], T[0]]
    hops = tuple(
        Hop(pool=pools[i], token_in=toks[i], token_out=toks[i + 1], fee_pips=3000, kind=k)
        for i, k in enumerate(kinds)
    )
    return Cycle(token=T[0], hops=hops)


def _v3(pool: str, fee: int, capacity: int) -> Lender:
    source = FlashSource.uniswap_v3(pool, token0=False, fee_pips=fee)
    return Lender(source=source, capacity=capacity)


def _v2(pair: str, fee: int, capacity: int) -> Lender:
    source = FlashSource.uniswap_v2(pair, token0=False, fee_pips=fee)
    return Lender(source=source, capacity=capacity)


def _only(source: FlashSource, capacity: int = 10**20) -> Lenders:
    """`source` as the one USDC lender."""
    return Lenders(by_token={A.USDC: (Lender(source=source, capacity=capacity),)})


VAULT_LENDER = Lender(source=FlashSource.balancer(), capacity=10**22)
# WETH lenders in the order of preference Lenders.from_states gives: the Vault, V3 pools by fee
# tier then the most held, then V2 pairs
LENDERS = Lenders(
    by_token={
        A.WETH: (
            VAULT_LENDER,
            _v3(P[0], 100, 10**23),
            _v3(P[6], 100, 10**20),
            _v3(P[5], 500, 10**21),
            _v2(P[7], 3000, 10**22),
        )
    }
)
V2, V3, BAL = HopKind.UNISWAP_V2, HopKind.UNISWAP_V3, HopKind.BALANCER


class TestChoose:
    """Which source `Lenders.choose` gives each route: the cheapest allowed one that can lend
    the amount (ties: the order of preference)."""

    def test_plain_route_borrows_from_the_vault(self) -> None:
        source = LENDERS.choose(_cycle([V2, V3]), 10**18)
        assert source == FlashSource.balancer()
        assert source.lender == VAULT and source.fee(10**18) == 0

    @pytest.mark.parametrize("kinds", [[BAL, V2], [V3, BAL, V2]])
    def test_balancer_hop_never_borrows_from_the_vault(self, kinds: list[HopKind]) -> None:
        source = LENDERS.choose(_cycle(kinds), 10**18)
        assert source is not None and source.kind is SourceKind.UNISWAP_V3
        assert source.lender == P[6]  # lowest fee with enough balance, and not in the route
        assert source.fee(10**18) == 10**18 * 100 // 10**6

    def test_lender_in_the_route_is_never_used(self) -> None:
        cycle = _cycle([BAL, V2], pools=[P[1], P[6]])  # P[6] is in the route
        source = LENDERS.choose(cycle, 10**18)
        assert source is not None and source.lender not in cycle.pools
        assert source.lender == P[0]  # next cheapest: 100 pips, and it holds enough

    def test_too_big_for_v3_falls_to_v2_flash_swap(self) -> None:
        lenders = Lenders(by_token={A.WETH: (_v3(P[5], 500, 10**17), _v2(P[7], 3000, 10**22))})
        source = lenders.choose(_cycle([BAL, V2]), 10**18)
        assert source is not None and source.kind is SourceKind.UNISWAP_V2
        assert source.lender == P[7]

    def test_vault_short_of_the_amount_falls_back(self) -> None:
        route = _cycle([V2, V2], pools=[P[1], P[2]])
        source = LENDERS.choose(route, 10**23)
        assert source is not None and source.kind is SourceKind.UNISWAP_V3
        assert source.lender == P[0]

    def test_cheapest_beats_the_order_of_preference(self) -> None:
        """A Vault charging 0.1% loses to a 0.01% V3 pool."""
        dear = Lender(source=FlashSource.balancer(10**15), capacity=10**22)
        lenders = Lenders(by_token={A.WETH: (dear, _v3(P[6], 100, 10**20))})
        source = lenders.choose(_cycle([V2, V2], pools=[P[1], P[2]]), 10**18)
        assert source is not None and source.lender == P[6]

    def test_nothing_can_lend(self) -> None:
        assert LENDERS.choose(_cycle([V2, V2]), 10**30) is None
        assert Lenders().choose(_cycle([V2, V2]), 1) is None
        with pytest.raises(FlasharbValueError, match="positive"):
            LENDERS.choose(_cycle([V2, V2]), 0)

    def test_all_balancer_cycle_is_one_batch_swap(self) -> None:
        source = LENDERS.choose(_cycle([BAL] * 3), 10**18)
        assert source == FlashSource.batch_swap()
        assert source.kind is SourceKind.INVENTORY and source.fee(10**18) == 0
        assert source.word == FlashSource.inventory().word  # sent as inventory: no loan at all

    def test_inventory_is_never_chosen(self) -> None:
        """The search only borrows; the diamond's own balance is used only when asked for."""
        rng = random.Random(7)
        for _ in range(500):
            kinds = [rng.choice([V2, V3, BAL]) for _ in range(rng.randint(2, 4))]
            source = LENDERS.choose(_cycle(kinds), rng.randint(1, 10**23))
            assert source is None or source.kind is not SourceKind.INVENTORY or source.batch

    def test_capacity(self) -> None:
        assert LENDERS.capacity(_cycle([V2, V2], pools=[P[1], P[2]])) == 10**23
        assert LENDERS.capacity(_cycle([BAL, V2])) == 10**22  # P[0] on the route, no Vault
        assert LENDERS.capacity(_cycle([BAL, V2], pools=[P[1], P[7]])) == 10**23
        assert Lenders().capacity(_cycle([V2, V2])) == 0

    def test_random_routes_obey_bal_400(self) -> None:
        rng = random.Random(400)
        for _ in range(2_000):
            kinds = [rng.choice([V2, V3, BAL]) for _ in range(rng.randint(2, 4))]
            route = _cycle(kinds)
            source = LENDERS.choose(route, rng.randint(1, 10**23))
            if BAL in kinds:
                assert source is None or source.kind is not SourceKind.BALANCER_V2, kinds
            assert source is None or source.lender not in route.pools, kinds


class TestFromStates:
    def test_order_of_preference_and_capacities(self) -> None:
        """The Vault, then V3 pools by fee tier (then the most held), then V2 pairs; a pair
        lends its reserve less the 1 wei a flash swap must leave; token0 as the pool says."""
        weth, usdc = A.WETH, A.USDC  # USDC < WETH: USDC is token0

        def pool(address: str, fee: int) -> object:
            spacing = {100: 1, 500: 10, 3000: 60}[fee]
            lo, hi = full_range(spacing)
            return v3_pool(
                address=address,
                token0=usdc,
                token1=weth,
                fee=fee,
                sqrt_price_x96=sqrt_price_x96_of(1e12 / 3000),
                positions=[(lo, hi, 10**18)],
            )

        states = [
            V2PairState(
                address=P[7], token0=usdc, token1=weth, reserve0=3 * 10**9, reserve1=10**21
            ),
            pool(P[5], 500),
            pool(P[6], 100),
            pool(P[0], 100),
        ]
        lenders = Lenders.from_states(
            states,  # type: ignore[arg-type]
            [weth],
            vault_balances={weth: 10**22},
            vault_fee_percentage=0,
            v3_balances={(P[5], weth): 10**21, (P[6], weth): 10**20, (P[0], weth): 10**23},
        )
        got = [(ln.source.kind, ln.source.lender, ln.capacity) for ln in lenders.of(weth)]
        assert got == [
            (SourceKind.BALANCER_V2, VAULT, 10**22),
            (SourceKind.UNISWAP_V3, P[0], 10**23),
            (SourceKind.UNISWAP_V3, P[6], 10**20),
            (SourceKind.UNISWAP_V3, P[5], 10**21),
            (SourceKind.UNISWAP_V2, P[7], 10**21 - 1),
        ]
        assert all(not ln.source.token0 for ln in lenders.of(weth))  # WETH is token1 here
        assert lenders.of(usdc) == ()  # not asked for


class TestFees:
    """Fees are what the lenders' own checks demand."""

    def test_v2_flash_fee_is_the_least_the_k_check_accepts(self) -> None:
        rng = random.Random(3)
        source = FlashSource.uniswap_v2(P[7], token0=True)
        for _ in range(2_000):
            reserve = rng.randrange(10**3, 10**30)
            a = rng.randrange(1, reserve)
            p = a + source.fee(a)
            other = rng.randrange(10**3, 10**30)
            ok = swap_satisfies_k(
                reserve0=reserve,
                reserve1=other,
                amount0_in=p,
                amount1_in=0,
                amount0_out=a,
                amount1_out=0,
            )
            short = swap_satisfies_k(
                reserve0=reserve,
                reserve1=other,
                amount0_in=p - 1,
                amount1_in=0,
                amount0_out=a,
                amount1_out=0,
            )
            assert ok and not short

    def test_v3_flash_fee_rounds_up(self) -> None:
        source = FlashSource.uniswap_v3(P[5], token0=True, fee_pips=500)
        assert source.fee(1) == 1
        assert source.fee(2_000) == 1
        assert source.fee(2_001) == 2
        assert source.fee(0) == 0

    def test_balancer_flash_fee_rounds_up(self) -> None:
        """Fees.sol `_calculateFlashLoanFeeAmount`: FixedPoint.mulUp(amount, percentage)."""
        assert FlashSource.balancer().fee(10**30) == 0  # mainnet's 0%
        tenth = FlashSource.balancer(10**15)  # 0.1%
        assert tenth.fee(1) == 1
        assert tenth.fee(1_000) == 1
        assert tenth.fee(1_001) == 2
        assert tenth.fee(0) == 0

    def test_inventory_and_batch_are_free(self) -> None:
        assert FlashSource.inventory().fee(10**30) == 0
        assert FlashSource.batch_swap().fee(10**30) == 0

    def test_bad_input(self) -> None:
        with pytest.raises(FlasharbValueError, match=">= 0"):
            FlashSource.balancer().fee(-1)
        with pytest.raises(FlasharbValueError, match="lender's address"):
            FlashSource.uniswap_v3(ZERO_ADDRESS, token0=True, fee_pips=100)
        with pytest.raises(FlasharbValueError, match="pips"):
            FlashSource.uniswap_v2(P[7], token0=True, fee_pips=10**6)
        with pytest.raises(FlasharbValueError, match="Vault flash fee"):
            FlashSource.balancer(10**18 + 1)

    def test_source_word(self) -> None:
        """executeArb's source: kind << 248 | V2 factory index << 192 | lender fee << 160 |
        the lender's other token (the facet derives the lender from it: issue 14); the Vault
        and inventory send the kind alone."""
        other = int(A.DAI, 16)
        assert FlashSource.balancer(10**15).word == 0
        assert FlashSource.inventory().word == 3 << 248
        assert FlashSource.uniswap_v3(P[7], token0=True, fee_pips=500, other=A.DAI).word == (
            1 << 248 | 500 << 160 | other
        )
        v2 = FlashSource.uniswap_v2(P[7], token0=False, fee_pips=2500, other=A.DAI, factory=1)
        assert v2.word == 2 << 248 | 1 << 192 | 2500 << 160 | other
        assert FlashSource.uniswap_v4().word == 4 << 248  # the PoolManager is a constant
        assert FlashSource.uniswap_v4(native=True).word == 4 << 248 | 1 << 160


class TestUniswapV4Source:
    """The V4 PoolManager lends what it holds at no fee, native ETH for WETH routes, and may
    lend to a route through its own pools (flash accounting nets them)."""

    def test_free_and_a_constant_lender(self) -> None:
        src = FlashSource.uniswap_v4()
        assert (src.kind, src.lender, src.fee(10**30), src.rate) == (
            SourceKind.UNISWAP_V4,
            A.UNISWAP_V4_POOL_MANAGER,
            0,
            0.0,
        )
        assert src.label == "uniswap_v4" and FlashSource.uniswap_v4(native=True).to_json()["native"]
        with pytest.raises(FlasharbValueError, match="native ETH"):
            FlashSource(kind=SourceKind.BALANCER_V2, native=True)

    def test_from_states_after_the_vault(self) -> None:
        """Its ERC-20 balance for each token, its ETH for WETH only, after the Vault."""
        lenders = Lenders.from_states(
            [],
            [A.WETH, A.USDC, A.DAI],
            vault_balances={A.WETH: 10**22},
            vault_fee_percentage=0,
            v3_balances={},
            v4_balances={A.WETH: 10**20, A.USDC: 5 * 10**12, ZERO_ADDRESS: 10**23},
        )
        got = [(ln.source.kind, ln.source.native, ln.capacity) for ln in lenders.of(A.WETH)]
        assert got == [
            (SourceKind.BALANCER_V2, False, 10**22),
            (SourceKind.UNISWAP_V4, False, 10**20),
            (SourceKind.UNISWAP_V4, True, 10**23),
        ]
        assert [(ln.source.native, ln.capacity) for ln in lenders.of(A.USDC)] == [
            (False, 5 * 10**12)
        ]
        assert lenders.of(A.DAI) == ()  # it holds none

    def test_lends_to_a_route_through_its_own_pools(self) -> None:
        """A V4 hop's pool is the PoolManager's entry, not a locked lender; the Vault is still
        preferred when it can lend, the PoolManager beyond the Vault's balance and around
        Balancer hops."""
        v4 = Lender(source=FlashSource.uniswap_v4(), capacity=10**23)
        lenders = Lenders(by_token={A.WETH: (VAULT_LENDER, v4)})
        hops = list(_cycle([V2, V2]).hops)
        hops[1] = Hop(
            pool=A.UNISWAP_V4_POOL_MANAGER,  # even keyed by the PoolManager's address
            token_in=hops[1].token_in,
            token_out=hops[1].token_out,
            fee_pips=500,
            kind=HopKind.UNISWAP_V4,
        )
        route = Cycle(token=A.WETH, hops=tuple(hops))
        assert lenders.allowed(route)[1] == v4
        assert lenders.choose(route, 10**21) == VAULT_LENDER.source
        assert lenders.choose(route, 10**22 + 1) == v4.source
        assert lenders.choose(_cycle([V2, BAL]), 10**21) == v4.source


# ---------------------------------------------------------------- fund

USDC, WETH = A.USDC, A.WETH  # USDC < WETH: USDC is each pair's token0
CHEAP, DEAR = P[1], P[2]  # WETH at 3,000 and 3,300 USDC


def _market() -> tuple[Cycle, dict[str, V2PairState]]:
    """A USDC cycle buying WETH where it is cheap and selling it where it is dear."""
    states = {
        CHEAP: V2PairState(
            address=CHEAP, token0=USDC, token1=WETH, reserve0=3 * 10**15, reserve1=10**24
        ),
        DEAR: V2PairState(
            address=DEAR, token0=USDC, token1=WETH, reserve0=33 * 10**14, reserve1=10**24
        ),
    }
    cycle = Cycle(
        token=USDC,
        hops=(
            Hop(pool=CHEAP, token_in=USDC, token_out=WETH, fee_pips=3000),
            Hop(pool=DEAR, token_in=WETH, token_out=USDC, fee_pips=3000),
        ),
    )
    return cycle, states


def _net(cycle: Cycle, states: dict[str, V2PairState], source: FlashSource, x: int) -> int:
    amount = x
    for hop in cycle.hops:
        amount = states[hop.pool].quote_exact_in(hop.token_in, hop.token_out, amount)
    return amount - x - source.fee(x)


class TestFund:
    def test_free_loan_keeps_the_gross_optimum(self) -> None:
        cycle, states = _market()
        sized = size_cycle(cycle, states)
        funded = fund(sized, states, _only(FlashSource.balancer()))
        assert funded is not None and funded.source == FlashSource.balancer()
        assert funded.sized == sized and funded.fee == 0 and funded.net_of_fee == sized.profit > 0

    def test_a_fee_moves_the_input_down_to_the_exact_net_optimum(self) -> None:
        cycle, states = _market()
        sized = size_cycle(cycle, states)
        v3 = FlashSource.uniswap_v3(P[6], token0=True, fee_pips=3000)
        funded = fund(sized, states, _only(v3))
        assert funded is not None and funded.source == v3
        x = funded.sized.amount_in
        assert x < sized.amount_in
        assert funded.fee == v3.fee(x)
        assert funded.net_of_fee == _net(cycle, states, v3, x)
        assert funded.net_of_fee > sized.profit - v3.fee(sized.amount_in)
        # no input nets more, within the 1e-7 relative bracket fund() stops at (worth ~1e-14
        # of the profit); checked to 1e-12, near x and across [x/2, 2x]
        slack = funded.net_of_fee // 10**12
        near = [x + d for d in (*range(-40, 41), -(10**7), -(10**5), 10**5, 10**7)]
        wide = [x // 2 + i * x // 64 for i in range(97)]
        assert max(_net(cycle, states, v3, y) for y in near + wide) <= funded.net_of_fee + slack

    def test_capacity_caps_the_input(self) -> None:
        cycle, states = _market()
        sized = size_cycle(cycle, states)
        cap = sized.amount_in // 3
        funded = fund(sized, states, _only(FlashSource.balancer(), cap))
        assert funded is not None and funded.sized.amount_in <= cap
        assert funded.net_of_fee >= _net(cycle, states, FlashSource.balancer(), cap)

    def test_the_cheapest_lender_at_each_size(self) -> None:
        """A free Vault that holds too little, and a V3 pool that holds enough: the best net is
        either all the Vault can lend, free, or more from the pool, paying its fee."""
        cycle, states = _market()
        sized = size_cycle(cycle, states)
        cap = sized.amount_in // 3
        v3 = FlashSource.uniswap_v3(P[6], token0=True, fee_pips=100)
        lenders = Lenders(
            by_token={
                USDC: (
                    Lender(source=FlashSource.balancer(), capacity=cap),
                    Lender(source=v3, capacity=10**20),
                )
            }
        )
        funded = fund(sized, states, lenders)
        assert funded is not None
        vault_best = _net(cycle, states, FlashSource.balancer(), cap)
        assert funded.net_of_fee >= vault_best
        assert funded.source == (v3 if funded.sized.amount_in > cap else FlashSource.balancer())

    def test_nobody_can_lend(self) -> None:
        cycle, states = _market()
        assert fund(size_cycle(cycle, states), states, Lenders()) is None

    def test_a_fee_that_eats_the_profit(self) -> None:
        cycle, states = _market()
        sized = size_cycle(cycle, states)
        greedy = FlashSource.uniswap_v2(P[7], token0=True, fee_pips=100_000)  # 10%
        lenders = _only(greedy)
        assert fund(sized, states, lenders) is None
        kept = fund(sized, states, lenders, keep_loss=True)
        assert kept is not None and kept.net_of_fee <= 0

    def test_a_forced_source(self) -> None:
        """The diamond's inventory, asked for: no fee, no cap, the gross optimum."""
        cycle, states = _market()
        sized = size_cycle(cycle, states)
        funded = fund(sized, states, Lenders(), source=FlashSource.inventory())
        assert funded is not None and funded.source == FlashSource.inventory()
        assert funded.sized.amount_in == sized.amount_in and funded.fee == 0
