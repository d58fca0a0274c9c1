"""The one executeArb gas model: each figure counted where FlashArbFacet does that work, the
calldata computed (EIP-2028), the search's vectorised floor, and the exact least-squares fit on
receipts (`GasShape`s with their gas used)."""

from __future__ import annotations

import random
from dataclasses import replace
from itertools import pairwise

import numpy as np
import pytest

from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.chain import addresses as A
from flasharb.errors import FlasharbValueError
from flasharb.kinds import HopKind, SourceKind
from flasharb.search.cycles import Cycle, CycleIndex, Hop
from flasharb.search.gas import (
    TX_BASE,
    GasModel,
    GasShape,
    V4Flow,
    calldata_floor,
    calldata_gas,
    v4_flow,
)
from flasharb_testing.synthetic import generate

V2, V3, BAL, V4 = HopKind.UNISWAP_V2, HopKind.UNISWAP_V3, HopKind.BALANCER, HopKind.UNISWAP_V4
VAULT, V3_FLASH, V2_FLASH, INVENTORY, V4_LOAN = (
    SourceKind.BALANCER_V2,
    SourceKind.UNISWAP_V3,
    SourceKind.UNISWAP_V2,
    SourceKind.INVENTORY,
    SourceKind.UNISWAP_V4,
)


def address(n: int) -> str:
    return checksum_address("0x" + f"{n:040x}")


WETH = address(0xEEE1)
TRUE = GasModel(
    base={VAULT: 70_000, V3_FLASH: 96_000, V2_FLASH: 87_000, INVENTORY: 31_000, V4_LOAN: 55_000},
    per_hop={V2: 45_000, V3: 76_000, BAL: 52_000, V4: 61_000},
    per_batch_hop=49_000,
    per_tick_crossed=40_000,
    via_diamond=7_500,
    v2_to_pair=4_700,
    mixed_walk=8_300,
    vault_first_swap=17_500,
    first_balance_write=17_000,
    v4_unlock=24_000,
    v4_netted=-19_000,
    v4_loan_netted=-12_000,
    wrap=11_000,
    unwrap=-3_000,
    per_v4_tick_crossed=33_000,
)


def route(*kinds: HopKind) -> Cycle:
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
                pool_id=bytes(32) if kind is BAL else b"",
            )
            for i, kind in enumerate(kinds)
        ),
    )


def counts(s: GasShape) -> list[int]:
    """The test's own count of each figure in a receipt, straight from the module doc's
    formula (not through GasShape's properties): the design matrix's row."""
    k, walk = s.kinds, not s.batch
    return [
        *(int(s.source is src) for src in SourceKind),
        *((k.count(kind) if walk else 0) for kind in HopKind),
        0 if walk else len(k),
        s.ticks_crossed,
        sum(1 for x in k[1:] if x is not V2) if walk else 0,
        sum(1 for a, b in pairwise(k) if a is V2 and b is V2) if walk else 0,
        int(walk and any(x is not V2 for x in k)),
        int(walk and BAL in k),
        int(s.cold_balance),
        int(V4 in k and s.source is not V4_LOAN),
        s.v4_ticks_crossed,
        s.v4_netted,
        s.v4_loan_netted,
        s.wraps,
        s.unwraps,
    ]


def receipts(rng: random.Random, n: int, model: GasModel, noise: int = 0) -> list[GasShape]:
    """`n` random executable shapes (2-4 hops, a source the route allows, ticks on V3 hops,
    calldata of a plausible size, sometimes a cold balance) with `model`'s gas, +- noise."""
    out = []
    for _ in range(n):
        kinds = tuple(rng.choice(list(HopKind)) for _ in range(rng.randint(2, 4)))
        batch = all(k is BAL for k in kinds)
        sources = (
            [INVENTORY] if batch else [s for s in SourceKind if not (s is VAULT and BAL in kinds)]
        )
        source = rng.choice(sources)
        shape = GasShape(
            kinds=kinds,
            source=source,
            batch=batch,
            ticks_crossed=rng.randint(0, 2 * kinds.count(V3)),
            v4_ticks_crossed=rng.randint(0, 2 * kinds.count(V4)),
            calldata_gas=rng.randint(2_500, 5_000),
            cold_balance=rng.random() < 0.3,
            v4_netted=rng.randint(0, max(kinds.count(V4) - 1, 0)),
            v4_loan_netted=rng.randint(0, 2) if V4 in kinds and source is V4_LOAN else 0,
            wraps=rng.randint(0, 2) if V4 in kinds else 0,
            unwraps=rng.randint(0, 2) if V4 in kinds else 0,
        )
        out.append(replace(shape, gas_used=model.estimate(shape) + rng.randint(-noise, noise)))
    return out


class TestEstimate:
    """21,000 + calldata + each figure where the facet does that work."""

    @pytest.mark.parametrize(
        ("shape", "expected"),
        [
            (  # _runV2: the first pair is paid, it pays the second, which pays the diamond
                GasShape(kinds=(V2, V2), calldata_gas=3_264),
                TX_BASE + 3_264 + 70_000 + 2 * 45_000 + 4_700,
            ),
            (  # _runMixed; the Balancer hop's input lands in the diamond; the Vault cold
                GasShape(kinds=(V3, V2, BAL), source=V3_FLASH, ticks_crossed=3, calldata_gas=4_000),
                TX_BASE
                + 4_000
                + 96_000
                + 76_000
                + 45_000
                + 52_000
                + 3 * 40_000
                + 7_500
                + 8_300
                + 17_500,
            ),
            (  # two Balancer hops: the Vault is cold once; two inputs through the diamond
                GasShape(
                    kinds=(BAL, BAL, V3, V2),
                    source=V2_FLASH,
                    ticks_crossed=1,
                    calldata_gas=5_000,
                    cold_balance=True,
                ),
                TX_BASE
                + 5_000
                + 87_000
                + 2 * 52_000
                + 76_000
                + 45_000
                + 40_000
                + 2 * 7_500
                + 8_300
                + 17_500
                + 17_000,
            ),
            (  # an all-Balancer cycle as one batchSwap: no loan, no walk
                GasShape(kinds=(BAL, BAL), source=INVENTORY, batch=True, calldata_gas=3_000),
                TX_BASE + 3_000 + 31_000 + 2 * 49_000,
            ),
            (  # V2 then two V4 hops in the route's own unlock: the second nets the first; an
                # unwrap (a native pool paid in ETH)
                GasShape(
                    kinds=(V2, V4, V4),
                    source=VAULT,
                    v4_ticks_crossed=1,
                    calldata_gas=4_200,
                    v4_netted=1,
                    unwraps=1,
                ),
                TX_BASE
                + 4_200
                + 70_000
                + 45_000
                + 2 * 61_000
                + 33_000
                + 2 * 7_500
                + 8_300
                + 24_000
                - 19_000
                - 3_000,
            ),
            (  # a V4 loan whose first and last hops are V4: both ends net against the loan
                GasShape(kinds=(V4, V3, V4), source=V4_LOAN, calldata_gas=4_000, v4_loan_netted=2),
                TX_BASE + 4_000 + 55_000 + 2 * 61_000 + 76_000 + 2 * 7_500 + 8_300 - 2 * 12_000,
            ),
        ],
        ids=["v2-v2", "v3-v2-bal-3ticks", "bal-bal-v3-v2-cold", "batch", "v2-v4-v4", "v4-loan"],
    )
    def test_sums_the_figures(self, shape: GasShape, expected: int) -> None:
        assert TRUE.estimate(shape) == expected

    def test_calldata_is_computed_not_fitted(self) -> None:
        data = bytes([0, 1, 0, 0, 255, 7])
        assert calldata_gas(data) == 4 * 3 + 16 * 3  # EIP-2028
        shape = GasShape.of(route(V2, V3), calldata=data)
        assert shape.calldata_gas == calldata_gas(data)
        encoded = TRUE.estimate(shape)
        bare = TRUE.estimate(replace(shape, calldata_gas=0))  # not encoded yet: the floor
        assert encoded - bare == calldata_gas(data) - calldata_floor((V2, V3))

    def test_a_figure_the_model_lacks_is_named(self) -> None:
        partial = GasModel(base={VAULT: 1})
        with pytest.raises(FlasharbValueError, match="no gas figure"):
            partial.estimate(GasShape(kinds=(V2, V2), source=V3_FLASH))

    def test_floor_is_the_cheapest_shape_of_every_cycle(self) -> None:
        """No ticks, the cheapest source, calldata at its floor, the batch price for an
        all-Balancer cycle: exactly `estimate` of that shape, for every cycle."""
        market = generate(200, seed=2)
        index = CycleIndex.build(market.pools, market.flash_tokens, max_hops=3)
        floor = TRUE.floor(index)
        cheapest = min(TRUE.base, key=lambda k: TRUE.base[k])
        kinds_seen = set()
        for i in range(len(index)):
            kinds = tuple(h.kind for h in index.cycle(i).hops)
            kinds_seen.add(kinds)
            batch = all(k is BAL for k in kinds)
            shape = GasShape(kinds=kinds, source=SourceKind(cheapest), batch=batch)
            assert floor[i] == TRUE.estimate(shape), kinds
        assert any(BAL in k and V2 in k for k in kinds_seen)  # every term was exercised
        assert any(all(k is BAL for k in ks) for ks in kinds_seen)


class TestShape:
    def test_of_a_cycle_counts_what_the_facet_does(self) -> None:
        shape = GasShape.of(route(V2, V2, V3, BAL), source=V3_FLASH, ticks_crossed=2)
        assert shape.kinds == (V2, V2, V3, BAL)
        assert (shape.via_diamond, shape.v2_to_pair, shape.mixed, shape.vault_swap) == (
            2,
            1,
            True,
            True,
        )
        plain = GasShape.of(route(V2, V2, V2))
        assert (plain.via_diamond, plain.v2_to_pair, plain.mixed, plain.vault_swap) == (
            0,
            2,
            False,
            False,
        )
        batch = GasShape.of(route(BAL, BAL), source=INVENTORY, batch=True)
        assert (batch.via_diamond, batch.v2_to_pair, batch.mixed, batch.vault_swap) == (
            0,
            0,
            False,
            False,
        )


class TestFit:
    """Least squares over receipts, exact in rationals, rounded to whole gas."""

    def test_recovers_the_figures_from_exact_receipts(self) -> None:
        assert GasModel.fit(receipts(random.Random(1), 80, TRUE)) == TRUE

    def test_noisy_receipts_land_close(self) -> None:
        fitted = GasModel.fit(receipts(random.Random(2), 600, TRUE, noise=300))
        for name, value in TRUE.as_dict().items():
            got = fitted.as_dict()[name]
            if isinstance(value, dict):
                assert isinstance(got, dict)
                for k, v in value.items():
                    assert abs(got[k] - v) < 300, (name, k)
            else:
                assert isinstance(got, int) and isinstance(value, int)
                assert abs(got - value) < 300, name

    def test_is_the_least_squares_solution(self) -> None:
        """Against numpy's float solver on the same noisy receipts, design matrix built here."""
        samples = receipts(random.Random(3), 120, TRUE, noise=5_000)
        x = np.array([counts(s) for s in samples], dtype=float)
        y = np.array([s.gas_used - TX_BASE - s.calldata_gas for s in samples], dtype=float)
        solution, *_ = np.linalg.lstsq(x, y, rcond=None)
        fitted = GasModel.fit(samples).as_dict()
        base, per_hop = fitted["base"], fitted["per_hop"]
        assert isinstance(base, dict) and isinstance(per_hop, dict)
        got = [
            *(base[s.label] for s in SourceKind),
            *(per_hop[k.label] for k in HopKind),
            *(
                fitted[name]
                for name in (
                    "per_batch_hop",
                    "per_tick_crossed",
                    "via_diamond",
                    "v2_to_pair",
                    "mixed_walk",
                    "vault_first_swap",
                    "first_balance_write",
                    "v4_unlock",
                    "per_v4_tick_crossed",
                    "v4_netted",
                    "v4_loan_netted",
                    "wrap",
                    "unwrap",
                )
            ),
        ]
        assert got == [round(v) for v in solution]

    def test_figures_without_receipts_keep_the_prior(self) -> None:
        v2_only = [GasShape(kinds=(V2,) * h, calldata_gas=3_000, gas_used=0) for h in (2, 3, 4)]
        v2_only = [replace(s, gas_used=TRUE.estimate(s)) for s in v2_only]
        prior = replace(
            GasModel(), per_tick_crossed=2, v2_to_pair=TRUE.v2_to_pair, vault_first_swap=3
        )
        fitted = GasModel.fit(v2_only, prior=prior, hold=("v2_to_pair",))
        assert (fitted.base[VAULT], fitted.per_hop[V2]) == (TRUE.base[VAULT], TRUE.per_hop[V2])
        assert (fitted.per_tick_crossed, fitted.vault_first_swap) == (2, 3)  # no V3, no Vault
        assert fitted.per_hop[V3] == prior.per_hop[V3]

    def test_held_figures_keep_the_prior_and_the_rest_is_solved(self) -> None:
        samples = receipts(random.Random(4), 80, TRUE)
        off = replace(TRUE, per_tick_crossed=1)  # a wrong prior for the held figure only
        fitted = GasModel.fit(samples, prior=off, hold=("per_tick_crossed",))
        assert fitted.per_tick_crossed == 1
        assert fitted.per_hop[V3] != TRUE.per_hop[V3]  # V3 hops carry the ticks: they absorb it
        exact = GasModel.fit(samples, prior=TRUE, hold=("per_tick_crossed", "base:inventory"))
        assert exact == TRUE
        with pytest.raises(FlasharbValueError, match="no gas figure per_tick"):
            GasModel.fit(samples, hold=("per_tick",))
        assert "vault_first_swap" in GasModel.figure_names()

    def test_receipts_that_cannot_separate_figures_are_refused(self) -> None:
        same_shape = [
            GasShape(kinds=(V2, V2), calldata_gas=3_000, gas_used=g) for g in (215_000, 216_000)
        ]
        with pytest.raises(FlasharbValueError, match="do not separate"):
            GasModel.fit(same_shape)
        with pytest.raises(FlasharbValueError, match="at least one"):
            GasModel.fit([])


class TestV4Flow:
    """What moves at each V4 boundary, as FlashArbFacet walks the route: netted boundaries and
    ETH wraps (the facet's behaviour itself is checked on the fork: tests/test_exec_v4.py)."""

    @staticmethod
    def _cycle(token: str, *legs: tuple[HopKind, str, bool]) -> Cycle:
        hops, t_in = [], token
        for i, (kind, t_out, native) in enumerate(legs):
            hops.append(
                Hop(
                    pool=address(0x100 + i),
                    token_in=t_in,
                    token_out=t_out,
                    fee_pips=500,
                    kind=kind,
                    native=native,
                )
            )
            t_in = t_out
        return Cycle(token=token, hops=tuple(hops))

    @pytest.mark.parametrize(
        ("legs", "token", "source", "native_loan", "expected"),
        [
            ([(V2, A.WETH, False), (V4, A.USDC, False)], A.USDC, VAULT, False, (0, 0, 0, 0)),
            ([(V2, A.WETH, False), (V4, A.USDC, True)], A.USDC, VAULT, False, (0, 0, 0, 1)),
            ([(V4, A.WETH, True), (V2, A.USDC, False)], A.USDC, VAULT, False, (0, 0, 1, 0)),
            ([(V4, A.USDC, False), (V2, A.WETH, False)], A.WETH, V4_LOAN, False, (0, 1, 0, 0)),
            ([(V4, A.USDC, False), (V2, A.WETH, False)], A.WETH, V4_LOAN, True, (0, 0, 1, 1)),
            ([(V4, A.USDC, True), (V2, A.WETH, False)], A.WETH, V4_LOAN, True, (0, 1, 0, 1)),
            (
                [(V4, A.USDC, False), (V2, A.WETH, False), (V4, A.DAI, True)],
                A.DAI,
                V4_LOAN,
                False,
                (0, 2, 0, 1),
            ),
            (
                [(V2, A.WETH, False), (V4, A.DAI, True), (V4, A.USDC, False)],
                A.USDC,
                VAULT,
                False,
                (1, 0, 0, 1),
            ),
            (
                [(V2, A.USDC, False), (V4, A.WETH, True), (V4, A.DAI, False), (V2, A.USDT, False)],
                A.USDT,
                VAULT,
                False,
                (0, 0, 1, 0),
            ),
            ([(V2, A.WETH, False), (V2, A.USDC, False)], A.USDC, V4_LOAN, False, (0, 0, 0, 0)),
        ],
        ids=[
            "erc20-pool",
            "native-pool-paid",
            "native-pool-taken",
            "loan-nets-the-first-hop",
            "native-loan-wrapped-for-an-erc20-hop",
            "native-loan-nets-a-native-hop",
            "loan-nets-both-ends",
            "two-v4-hops-net",
            "eth-out-then-weth-in-do-not-net",
            "loan-without-v4-hops",
        ],
    )
    def test_netted_and_wraps(
        self,
        legs: list[tuple[HopKind, str, bool]],
        token: str,
        source: SourceKind,
        native_loan: bool,
        expected: tuple[int, int, int, int],
    ) -> None:
        route = self._cycle(token, *legs)
        assert v4_flow(route, source, native_loan=native_loan) == V4Flow(*expected)
        shape = GasShape.of(route, source=source, native_loan=native_loan)
        got = (shape.v4_netted, shape.v4_loan_netted, shape.wraps, shape.unwraps)
        assert got == expected
