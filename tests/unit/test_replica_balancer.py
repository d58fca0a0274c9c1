"""Balancer V2 weighted pools of the replica without a chain: weights become the 18-decimal
integers WeightedPool demands, and every data file carries the pools the scenarios rely on. On
the replica fork: tests/fork/test_replica_balancer.py."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flasharb.replica import balancer
from flasharb.replica.spec import load_spec
from tests.balancer_data import REQUIRED, find_spec_pool


class TestWeightLayout:
    """Weights become 18-decimal integers that sum to exactly 1e18, as WeightedPool demands."""

    @pytest.mark.parametrize(
        ("weights", "expected"),
        [
            (("0.8", "0.2"), (8 * 10**17, 2 * 10**17)),
            (("0.3334", "0.3333", "0.3333"), (3334 * 10**14, 3333 * 10**14, 3333 * 10**14)),
            (
                ("0.33333333333333333335", "0.33333333333333333333", "0.33333333333333333332"),
                (333333333333333334, 333333333333333333, 333333333333333333),
            ),
            (
                ("0.3333333333333333333", "0.6666666666666666667"),
                (333333333333333333, 666666666666666667),
            ),
        ],
        ids=["exact-80/20", "exact-thirds", "remainder-to-largest", "floor-then-largest"],
    )
    def test_normalized_weights(self, weights: tuple[str, ...], expected: tuple[int, ...]) -> None:
        got = balancer.normalized_weights(tuple(Decimal(w) for w in weights))
        assert got == expected
        assert sum(got) == balancer.ONE


class TestDataFile:
    """The data file carries the pools the lab's scenarios rely on."""

    @pytest.mark.parametrize("name", list(REQUIRED))
    def test_required_pool_is_in_the_data_file(self, name: str) -> None:
        p = find_spec_pool(load_spec(), REQUIRED[name])
        assert p is not None, f"the data file has no Balancer pool {name}"
        assert sum(p.weights) == 1

    def test_bal_weth_80_20_charges_one_percent(self) -> None:
        p = find_spec_pool(load_spec(), REQUIRED["BAL/WETH 80/20"])
        assert p is not None and p.swap_fee == Decimal("0.01")
