"""The gas model per hop kind and tick crossed, and its exact least-squares fit on receipts."""

from __future__ import annotations

import random

import numpy as np
import pytest

from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.errors import FlasharbValueError
from flasharb.search.cycles import Cycle, CycleIndex, Hop
from flasharb.search.gas import GasModel, GasSample
from flasharb_testing.synthetic import generate


def address(n: int) -> str:
    return checksum_address("0x" + f"{n:040x}")


WETH = address(0xEEE1)
TRUE = GasModel(
    base=120_000,
    per_v2_hop=41_000,
    per_v3_hop=77_000,
    per_tick_crossed=23_500,
    per_balancer_hop=88_000,
    via_diamond=0,  # the terms below are checked separately
    v3_flash=0,
    v2_flash=0,
)


def route(*kinds: str) -> Cycle:
    tokens = [WETH, *(address(0xF00 + i) for i in range(len(kinds) - 1)), WETH]
    return Cycle(
        token=WETH,
        hops=tuple(
            Hop(
                pool=address(i + 1),
                token_in=tokens[i],
                token_out=tokens[i + 1],
                fee_pips=3000,
                kind=kind,
            )
            for i, kind in enumerate(kinds)
        ),
    )


def receipts(rng: random.Random, n: int, model: GasModel, noise: int = 0) -> list[GasSample]:
    out = []
    for _ in range(n):
        v2, v3 = rng.randint(0, 3), rng.randint(0, 3)
        bal = rng.randint(0, 2) if v2 + v3 < 4 else 0
        v2 += 2 if v2 + v3 + bal < 2 else 0
        ticks = rng.randint(0, 2 * v3)
        gas = model.estimate_counts(v2, v3, bal, ticks) + rng.randint(-noise, noise)
        out.append(
            GasSample(
                uniswap_v2_hops=v2,
                uniswap_v3_hops=v3,
                ticks_crossed=ticks,
                balancer_hops=bal,
                gas_used=gas,
            )
        )
    return out


class TestEstimate:
    """base + per-kind hops + ticks crossed."""

    @pytest.mark.parametrize(
        ("kinds", "ticks"),
        [
            (("uniswap_v2", "uniswap_v2"), 0),
            (("uniswap_v3", "uniswap_v2", "balancer"), 3),
            (("balancer", "uniswap_v3", "uniswap_v3", "uniswap_v2"), 1),
        ],
        ids=["v2-v2", "v3-v2-bal-3ticks", "bal-v3-v3-v2-1tick"],
    )
    def test_sums_the_figures(self, kinds: tuple[str, ...], ticks: int) -> None:
        expected = (
            TRUE.base
            + ticks * TRUE.per_tick_crossed
            + sum(
                {
                    "uniswap_v2": TRUE.per_v2_hop,
                    "uniswap_v3": TRUE.per_v3_hop,
                    "balancer": TRUE.per_balancer_hop,
                }[k]
                for k in kinds
            )
        )
        assert TRUE.estimate(route(*kinds), ticks) == expected

    def test_floor_is_the_estimate_without_ticks_for_every_cycle(self) -> None:
        market = generate(200, seed=2)
        index = CycleIndex.build(market.pools, market.flash_tokens, max_hops=3)
        floor = TRUE.floor(index)
        for i in np.random.default_rng(0).choice(len(index), size=200, replace=False).tolist():
            assert floor[i] == TRUE.estimate(index.cycle(i))


class TestFit:
    """Least squares over receipts, exact in rationals, rounded to whole gas."""

    def test_recovers_the_figures_from_exact_receipts(self) -> None:
        samples = receipts(random.Random(1), 40, TRUE)
        assert GasModel.fit(samples, prior=GasModel(via_diamond=0, v3_flash=0, v2_flash=0)) == TRUE

    def test_noisy_receipts_land_close(self) -> None:
        prior = GasModel(via_diamond=0, v3_flash=0, v2_flash=0)  # not in these receipts
        fitted = GasModel.fit(receipts(random.Random(2), 400, TRUE, noise=300), prior=prior)
        for name, value in TRUE.as_dict().items():
            assert abs(fitted.as_dict()[name] - value) < 200, name

    def test_is_the_least_squares_solution(self) -> None:
        """Against numpy's float solver on the same noisy receipts."""
        samples = receipts(random.Random(3), 60, TRUE, noise=5_000)
        x = np.array(
            [
                [1, s.uniswap_v2_hops, s.uniswap_v3_hops, s.ticks_crossed, s.balancer_hops]
                for s in samples
            ],
            dtype=float,
        )
        y = np.array([s.gas_used for s in samples], dtype=float)
        solution, *_ = np.linalg.lstsq(x, y, rcond=None)
        fitted = GasModel.fit(samples)
        got = [
            fitted.base,
            fitted.per_v2_hop,
            fitted.per_v3_hop,
            fitted.per_tick_crossed,
            fitted.per_balancer_hop,
        ]
        assert got == [round(v) for v in solution]

    def test_figures_without_receipts_keep_the_prior(self) -> None:
        v2_only = [
            GasSample(uniswap_v2_hops=h, gas_used=TRUE.base + h * TRUE.per_v2_hop)
            for h in (2, 3, 4)
        ]
        prior = GasModel(per_v3_hop=1, per_tick_crossed=2, per_balancer_hop=3)
        fitted = GasModel.fit(v2_only, prior=prior)
        assert (fitted.base, fitted.per_v2_hop) == (TRUE.base, TRUE.per_v2_hop)
        assert (fitted.per_v3_hop, fitted.per_tick_crossed, fitted.per_balancer_hop) == (1, 2, 3)

    def test_receipts_that_cannot_separate_figures_are_refused(self) -> None:
        same_shape = [GasSample(uniswap_v2_hops=2, gas_used=g) for g in (215_000, 216_000)]
        with pytest.raises(FlasharbValueError, match="do not separate"):
            GasModel.fit(same_shape)
        with pytest.raises(FlasharbValueError, match="at least one"):
            GasModel.fit([])

    def test_sample_of_a_cycle_counts_its_hops(self) -> None:
        sample = GasSample.of(route("uniswap_v3", "balancer", "uniswap_v3"), 400_000, 2)
        assert (
            sample.uniswap_v2_hops,
            sample.uniswap_v3_hops,
            sample.balancer_hops,
            sample.ticks_crossed,
            sample.gas_used,
        ) == (0, 2, 1, 2, 400_000)


class TestDiamondAndLender:
    """Hops after the first that are not V2 pass through the diamond; a V3 or V2 lender costs
    more than the Vault's loan."""

    def test_via_diamond_and_flash_lender_terms(self) -> None:
        model = GasModel(via_diamond=7_000, v3_flash=30_000, v2_flash=15_000)
        plain = GasModel(via_diamond=0, v3_flash=0, v2_flash=0)
        cycle = route("uniswap_v2", "uniswap_v3", "balancer", "uniswap_v2")
        extra = model.estimate(cycle) - plain.estimate(cycle)
        assert extra == 2 * 7_000 + (model.per_v2_hop - plain.per_v2_hop)
        assert model.estimate(cycle, 0, "uniswap_v3_flash") - model.estimate(cycle) == 30_000
        assert model.estimate(cycle, 0, "uniswap_v2_flash") - model.estimate(cycle) == 15_000
        first_v3 = route("uniswap_v3", "uniswap_v2")
        assert model.estimate(first_v3) == plain.estimate(first_v3)

    def test_fit_separates_them(self) -> None:
        truth = GasModel(via_diamond=9_000, v3_flash=33_000, v2_flash=0)
        shapes = [
            ("uniswap_v2", "uniswap_v2"),
            ("uniswap_v3", "uniswap_v2"),
            ("uniswap_v2", "uniswap_v3"),
            ("uniswap_v3", "uniswap_v3", "uniswap_v2"),
            ("balancer", "uniswap_v2"),
            ("uniswap_v2", "balancer"),
            ("uniswap_v2", "uniswap_v2", "uniswap_v2"),
        ]
        samples = []
        for i, kinds in enumerate(shapes):
            for source in ("balancer_v2", "uniswap_v3_flash"):
                cycle, ticks = route(*kinds), i % 3 if "uniswap_v3" in kinds else 0
                gas = truth.estimate(cycle, ticks, source)
                samples.append(GasSample.of(cycle, gas, ticks, source))
        fitted = GasModel.fit(samples, prior=truth)
        assert fitted == truth
