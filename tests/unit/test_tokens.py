"""Replica tokens without a chain: the full mainnet data file, parsed and accounted for, and the
USDT kind's fixed metadata. On the replica fork: tests/fork/test_tokens.py."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal, localcontext
from typing import Any

import pytest

from flasharb.errors import FlasharbValueError
from flasharb.paths import bundle
from flasharb.replica.context import BUILDER
from flasharb.replica.spec import (
    BALANCER_VENUE,
    NATIVE_SYMBOL,
    PRECISION,
    V2_VENUES,
    V3_FEES,
    V3_VENUE,
    ReplicaSpec,
    StablePoolSpec,
    TokenSpec,
    V2PoolSpec,
    V3PoolSpec,
    V4PoolSpec,
    WeightedPoolSpec,
    WeightedV3PoolSpec,
    load_spec,
    to_base_units,
)
from flasharb.replica.tokens import creation_code

MAINNET_JSON = bundle() / "data" / "replica" / "mainnet.json"


def test_usdt_kind_needs_mainnets_metadata() -> None:
    """ReplicaTetherToken hardcodes "Tether USD"/"USDT"/6: a data file cannot rename it."""
    wrong = TokenSpec(
        symbol="USDT", name="Tether", decimals=6, address=BUILDER, kind="usdt", supply=1
    )
    with pytest.raises(FlasharbValueError, match="Tether USD"):
        creation_code(wrong)


def _v3_bound(spec: ReplicaSpec, p: V3PoolSpec | V4PoolSpec) -> dict[str, int]:
    """The most a V3 or V4 pool can take of each token: every position's whole value in that
    token (native ETH comes from the builder's balance, not a token supply)."""
    out: Counter[str] = Counter()
    for sym in (p.token_a, p.token_b):
        if sym == NATIVE_SYMBOL:
            continue
        t = spec.token(sym)
        assert t.price_usd
        for pos in p.positions:
            with localcontext() as ctx:
                ctx.prec = PRECISION
                out[sym] += to_base_units(pos.usd / t.price_usd, t.decimals, sym, exact=False) + 1
    return dict(out)


def _demand(spec: ReplicaSpec) -> Counter[str]:
    """What the pools (V3: an upper bound) and the Vault take of each token, base units."""
    need: Counter[str] = Counter(spec.vault)
    for p in spec.pools:
        if isinstance(p, V2PoolSpec):
            need[p.token_a] += p.amount_a
            need[p.token_b] += p.amount_b
        elif isinstance(p, V3PoolSpec | V4PoolSpec):
            need.update(_v3_bound(spec, p))
        else:
            assert isinstance(p, WeightedPoolSpec | WeightedV3PoolSpec | StablePoolSpec)
            need.update(dict(zip(p.tokens, p.amounts, strict=True)))
    return need


def _pair(p: Any) -> frozenset[str]:
    return frozenset((p.token_a, p.token_b))


@pytest.fixture(scope="module")
def mainnet() -> ReplicaSpec:
    return load_spec(MAINNET_JSON)


class TestMainnetDataFile:
    """data/replica/mainnet.json: mainnet's shape, every required pool, and enough supply."""

    def test_parses_with_enough_tokens_and_pools(self, mainnet: ReplicaSpec) -> None:
        assert mainnet.chain_id == 1
        assert len(mainnet.tokens) >= 20
        assert len(mainnet.pools) >= 250  # issue 16: at least 250 pools over 7 kinds
        venues = Counter(p.venue for p in mainnet.pools)
        assert set(venues) == {
            *V2_VENUES,
            V3_VENUE,
            BALANCER_VENUE,
            "balancer_weighted_v3",
            "balancer_stable",
            "uniswap_v4",
        }
        assert venues["uniswap_v2"] >= 55 and venues["sushiswap"] >= 30
        assert venues[V3_VENUE] >= 45 and venues[BALANCER_VENUE] >= 8
        assert venues["balancer_weighted_v3"] >= 8 and venues["uniswap_v4"] >= 40
        stable = [set(p.tokens) for p in mainnet.pools_of(StablePoolSpec)]
        assert {"DAI", "USDC", "USDT"} in stable  # a 3-stable pool
        assert {"wstETH", "WETH"} in stable  # an ETH/LST pool
        v4 = mainnet.pools_of(V4PoolSpec)
        assert any(NATIVE_SYMBOL in (p.token_a, p.token_b) for p in v4)  # native-ETH pools
        assert len({(p.fee, p.tick_spacing) for p in v4}) >= 3  # several tiers and spacings
        assert {p.fee for p in mainnet.pools_of(V3PoolSpec)} == set(V3_FEES)

    def test_has_the_required_tokens_with_usdt_as_tether(self, mainnet: ReplicaSpec) -> None:
        required = "WETH USDC USDT DAI WBTC LINK UNI AAVE MKR CRV LDO SNX COMP wstETH rETH FRAX"
        required += " GRT BAL 1INCH SHIB"
        symbols = {t.symbol for t in mainnet.tokens}
        assert set(required.split()) <= symbols
        assert mainnet.token("USDT").kind == "usdt"
        assert mainnet.token("WETH").kind == "weth9"
        assert len({t.address for t in mainnet.tokens}) == len(mainnet.tokens)
        assert all(t.price_usd for t in mainnet.tokens)

    def test_contains_mainnet_v0_pools_unchanged(self, mainnet: ReplicaSpec) -> None:
        v0 = load_spec(bundle() / "data" / "replica" / "mainnet-v0.json")
        pools = set(mainnet.pools_of(V2PoolSpec))
        for p in v0.pools_of(V2PoolSpec):
            assert p in pools, p
        for t in v0.tokens:
            m = mainnet.token(t.symbol)
            assert (m.address, m.name, m.decimals) == (t.address, t.name, t.decimals)

    @pytest.mark.parametrize(
        ("a", "b", "fee"),
        [("WETH", "USDC", 500), ("WETH", "USDC", 3000), ("WBTC", "WETH", 3000),
         ("DAI", "USDC", 100), ("LINK", "WETH", 10000)],
        ids=["WETH/USDC-500", "WETH/USDC-3000", "WBTC/WETH-3000", "DAI/USDC-100", "LINK/WETH-1%"],
    )  # fmt: skip
    def test_required_v3_pools(self, mainnet: ReplicaSpec, a: str, b: str, fee: int) -> None:
        found = [p for p in mainnet.pools_of(V3PoolSpec) if _pair(p) == {a, b} and p.fee == fee]
        assert len(found) == 1
        assert 2 <= len(found[0].positions) <= 4

    def test_required_balancer_pools(self, mainnet: ReplicaSpec) -> None:
        pools = {
            frozenset(zip(p.tokens, p.weights, strict=True)): p
            for p in mainnet.pools_of(WeightedPoolSpec)
        }
        bal = pools[frozenset({("BAL", Decimal("0.8")), ("WETH", Decimal("0.2"))})]
        assert bal.swap_fee == Decimal("0.01")
        assert frozenset({("WETH", Decimal("0.5")), ("USDC", Decimal("0.5"))}) in pools
        three = [p for p in pools.values() if set(p.tokens) == {"WBTC", "WETH", "USDC"}]
        assert three and sum(three[0].weights) == 1

    def test_vault_lends_the_majors(self, mainnet: ReplicaSpec) -> None:
        assert {"WETH", "USDC", "USDT", "DAI", "WBTC"} <= set(mainnet.vault)
        assert all(amount > 0 for amount in mainnet.vault.values())

    def test_one_pool_per_pair_and_fee_on_each_factory(self, mainnet: ReplicaSpec) -> None:
        """Factories hold one pair per token pair (V3: per fee tier): no duplicates."""
        keys = [(p.venue, _pair(p), 0) for p in mainnet.pools_of(V2PoolSpec)]
        keys += [(p.venue, _pair(p), p.fee) for p in mainnet.pools_of(V3PoolSpec)]
        assert len(keys) == len(set(keys))

    def test_supply_covers_pools_and_vault(self, mainnet: ReplicaSpec) -> None:
        need = _demand(mainnet)
        for t in mainnet.tokens:
            assert need[t.symbol] <= t.supply, f"{t.symbol}: pools and vault take {need[t.symbol]}"

    def test_every_pool_of_a_pair_quotes_the_same_price(self, mainnet: ReplicaSpec) -> None:
        """No arbitrage at build time: V2 reserves sit at the ratio of the tokens' USD prices."""
        for p in mainnet.pools_of(V2PoolSpec):
            ta, tb = mainnet.token(p.token_a), mainnet.token(p.token_b)
            assert ta.price_usd and tb.price_usd
            with localcontext() as ctx:
                ctx.prec = PRECISION
                usd_a = Decimal(p.amount_a) / Decimal(10) ** ta.decimals * ta.price_usd
                usd_b = Decimal(p.amount_b) / Decimal(10) ** tb.decimals * tb.price_usd
                # flooring to base units is the only difference (1 satoshi in 3e8 at worst)
                assert abs(usd_a / usd_b - 1) < Decimal("1e-6"), (p.venue, p.token_a, p.token_b)
        for p in mainnet.pools_of(V3PoolSpec):
            ta, tb = mainnet.token(p.token_a), mainnet.token(p.token_b)
            assert ta.price_usd and tb.price_usd
            with localcontext() as ctx:
                ctx.prec = PRECISION
                assert p.price == ta.price_usd / tb.price_usd  # no pool overrides the price

    def test_depths_are_mainnet_sized(self, mainnet: ReplicaSpec) -> None:
        """Each pool holds USD 0.2M to 200M at build time."""
        for p in mainnet.pools:
            if isinstance(p, V3PoolSpec | V4PoolSpec):
                usd = sum((pos.usd for pos in p.positions), Decimal(0))
            elif isinstance(p, StablePoolSpec):  # the value split evenly at the tokens' prices
                t0 = mainnet.token(p.tokens[0])
                assert t0.price_usd
                usd = Decimal(p.amounts[0]) / Decimal(10) ** t0.decimals * t0.price_usd
                usd *= len(p.tokens)
            elif isinstance(p, V2PoolSpec):
                ta = mainnet.token(p.token_a)
                assert ta.price_usd
                usd = 2 * Decimal(p.amount_a) / Decimal(10) ** ta.decimals * ta.price_usd
            else:
                t0 = mainnet.token(p.tokens[0])
                assert t0.price_usd
                usd = Decimal(p.amounts[0]) / Decimal(10) ** t0.decimals * t0.price_usd
                usd /= p.weights[0]
            assert Decimal("1.9e5") <= usd <= Decimal("2.01e8"), (p, usd)
