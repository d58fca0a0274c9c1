"""Flash-source planning: the Balancer loan by default, never for a route through a Balancer
pool (BAL#400), the cheapest other lender not in the route, no loan for all-Balancer cycles."""

from __future__ import annotations

import random

import pytest

from flasharb.amm.uniswap_v2 import swap_satisfies_k
from flasharb.chain import addresses as A
from flasharb.search.cycles import Cycle, Hop
from flasharb.search.flash_source import (
    BALANCER_BATCH,
    BALANCER_LOAN,
    INVENTORY,
    UNISWAP_V2_FLASH,
    UNISWAP_V3_FLASH,
    Lenders,
    plan_flash,
    v2_flash_fee,
    v3_flash_fee,
)

VAULT = A.BALANCER_VAULT
T = [A.WETH, A.USDC, A.DAI]
P = [f"0x{i:040x}" for i in range(1, 10)]


def _cycle(kinds: list[str], pools: list[str] | None = None) -> Cycle:
    pools = pools or P[: len(kinds)]
    toks = [T[i % len(T)] for i in range(len(kinds))] + [T[0]]
    if len(kinds) == 2:
        toks = [T[0], T[1], T[0]]
    hops = tuple(
        Hop(pool=pools[i], token_in=toks[i], token_out=toks[i + 1], fee_pips=3000, kind=k)
        for i, k in enumerate(kinds)
    )
    return Cycle(token=T[0], hops=hops)


LENDERS = Lenders(
    vault_balances={A.WETH: 10**22},
    v3_pools={A.WETH: [(P[5], 500, 10**21), (P[6], 100, 10**20), (P[0], 100, 10**23)]},
    v2_pairs={A.WETH: [(P[7], 3000, 10**22)]},
    inventory={A.WETH: 5 * 10**18},
)


class TestRules:
    """Which source each route gets."""

    def test_plain_route_borrows_from_the_vault(self) -> None:
        plan = plan_flash(_cycle(["uniswap_v2", "uniswap_v3"]), 10**18, LENDERS, vault=VAULT)
        assert plan is not None and (plan.source, plan.lender, plan.fee) == (
            BALANCER_LOAN,
            VAULT,
            0,
        )

    @pytest.mark.parametrize(
        "kinds", [["balancer", "uniswap_v2"], ["uniswap_v3", "balancer", "uniswap_v2"]]
    )
    def test_balancer_hop_never_borrows_from_the_vault(self, kinds: list[str]) -> None:
        plan = plan_flash(_cycle(kinds), 10**18, LENDERS, vault=VAULT)
        assert plan is not None and plan.source == UNISWAP_V3_FLASH
        assert plan.lender == P[6]  # lowest fee with enough balance, and not in the route
        assert plan.fee == v3_flash_fee(10**18, 100)

    def test_lender_in_the_route_is_never_used(self) -> None:
        cycle = _cycle(["balancer", "uniswap_v2"], pools=[P[1], P[6]])  # P[6] is in the route
        plan = plan_flash(cycle, 10**18, LENDERS, vault=VAULT)
        assert plan is not None and plan.lender not in cycle.pools
        assert plan.lender == P[0]  # next cheapest: 100 pips, balance 1e23

    def test_too_big_for_v3_falls_to_v2_flash_swap(self) -> None:
        lenders = Lenders(v3_pools={A.WETH: [(P[5], 500, 10**17)]}, v2_pairs=LENDERS.v2_pairs)
        plan = plan_flash(_cycle(["balancer", "uniswap_v2"]), 10**18, lenders, vault=VAULT)
        assert plan is not None and plan.source == UNISWAP_V2_FLASH and plan.lender == P[7]

    def test_vault_short_of_the_amount_falls_back(self) -> None:
        route = _cycle(["uniswap_v2", "uniswap_v2"], pools=[P[1], P[2]])
        plan = plan_flash(route, 10**23, LENDERS, vault=VAULT)
        assert plan is not None and plan.source == UNISWAP_V3_FLASH and plan.lender == P[0]

    def test_nothing_can_lend(self) -> None:
        assert plan_flash(_cycle(["uniswap_v2"] * 2), 10**30, LENDERS, vault=VAULT) is None

    def test_all_balancer_cycle_is_one_batch_swap(self) -> None:
        plan = plan_flash(_cycle(["balancer"] * 3), 10**18, LENDERS, vault=VAULT)
        assert plan is not None and (plan.source, plan.amount, plan.fee) == (BALANCER_BATCH, 0, 0)

    def test_inventory_only_when_asked_and_enough(self) -> None:
        c = _cycle(["uniswap_v2", "uniswap_v2"])
        assert plan_flash(c, 10**18, LENDERS, vault=VAULT, use_inventory=True).source == INVENTORY  # type: ignore[union-attr]
        assert (
            plan_flash(c, 10**19, LENDERS, vault=VAULT, use_inventory=True).source == BALANCER_LOAN
        )  # type: ignore[union-attr]

    def test_random_routes_obey_bal_400(self) -> None:
        rng = random.Random(400)
        for _ in range(2_000):
            kinds = [
                rng.choice(["uniswap_v2", "uniswap_v3", "balancer"])
                for _ in range(rng.randint(2, 4))
            ]
            plan = plan_flash(_cycle(kinds), rng.randint(1, 10**23), LENDERS, vault=VAULT)
            if "balancer" in kinds:
                assert plan is None or plan.source != BALANCER_LOAN, kinds


class TestFees:
    """Fees are what the lenders' own checks demand."""

    def test_v2_flash_fee_is_the_least_the_k_check_accepts(self) -> None:
        rng = random.Random(3)
        for _ in range(2_000):
            reserve = rng.randrange(10**3, 10**30)
            a = rng.randrange(1, reserve)
            p = a + v2_flash_fee(a)
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
        assert v3_flash_fee(1, 500) == 1
        assert v3_flash_fee(2_000, 500) == 1
        assert v3_flash_fee(2_001, 500) == 2
        assert v3_flash_fee(0, 500) == 0
