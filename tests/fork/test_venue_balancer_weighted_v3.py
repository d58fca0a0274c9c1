"""The 20230206 weighted pools (weighted-pool-v3) as a venue of their own: found through their
factory, read by the batched reader with version 3's math, quoted as BalancerQueries quotes them,
synced from the Vault's logs, and never mistaken for 20210418 pools (whose views they share)."""

from __future__ import annotations

import random

import pytest
from web3 import Web3

from flasharb.amm.balancer_weighted import WeightedPoolState
from flasharb.chain.cheats import mine
from flasharb.execute.shock import shock
from flasharb.replica.spec import WeightedPoolSpec, WeightedV3PoolSpec, load_spec
from flasharb.state.discovery import discover
from flasharb.state.reader import read_states
from flasharb.state.registry import PoolRegistry
from flasharb.state.sync import StateSync
from tests.fork.test_balancer_2023_parity import read_weighted
from tests.fork.test_balancer_parity import plan_cases, python_quote, query

VENUE = "balancer_weighted_v3"


@pytest.fixture(scope="module")
def registry(session_w3: Web3) -> PoolRegistry:
    return discover(session_w3)


class TestDiscovery:
    """Each weighted pool is on the venue of the factory that created it."""

    def test_every_v3_pool_and_only_those(self, registry: PoolRegistry) -> None:
        spec = load_spec()
        assert len(registry.of_venue(VENUE)) == len(spec.pools_of(WeightedV3PoolSpec))
        assert len(registry.of_venue("balancer")) == len(spec.pools_of(WeightedPoolSpec))
        v1 = {p.address for p in registry.of_venue("balancer")}
        assert v1.isdisjoint(p.address for p in registry.of_venue(VENUE))


class TestReads:
    """The batched read is what the pool's own views say, with version 3 attached."""

    def test_read_equals_the_pools_views(self, session_w3: Web3, registry: PoolRegistry) -> None:
        pools = registry.of_venue(VENUE)
        got = read_states(session_w3, pools, block=registry.block)
        assert got.failed == {}
        for info in pools:
            state = got.states[info.uid]
            assert isinstance(state, WeightedPoolState)
            assert state.version == 3 and state.venue == VENUE
            views = read_weighted(session_w3, info.address, version=3)
            for name in ("pool_id", "tokens", "balances", "decimals", "normalized_weights"):
                assert getattr(state, name) == getattr(views, name), (info.address, name)
            assert state.swap_fee == views.swap_fee == info.fee

    def test_quotes_equal_balancer_queries(self, session_w3: Web3, registry: PoolRegistry) -> None:
        rng = random.Random(3)
        pools = registry.of_venue(VENUE)
        states = read_states(session_w3, pools, block=registry.block).states
        checked = differ = 0
        for info in pools:
            state = states[info.uid]
            assert isinstance(state, WeightedPoolState)
            cases = plan_cases(state, rng, 3)
            for case, answer in zip(cases, query(session_w3, state, cases), strict=True):
                if not answer.ok:
                    continue
                assert python_quote(state, case) == answer.amount, (info.address, case)
                v1 = WeightedPoolState(**{**_fields(state), "version": 1})
                try:
                    differ += python_quote(v1, case) != answer.amount
                except Exception:  # noqa: BLE001 - a v1 revert where v3 pays: a difference too
                    differ += 1
                checked += 1
        assert checked > 100
        assert differ > 0  # version 1's math would have been off: the venue split matters


def _fields(state: WeightedPoolState) -> dict[str, object]:
    return {
        name: getattr(state, name)
        for name in (
            "address",
            "pool_id",
            "tokens",
            "balances",
            "decimals",
            "normalized_weights",
            "swap_fee",
            "venue",
        )
    }


class TestSync:
    """A swap through the Vault moves the pool; the sync's state equals a fresh read."""

    def test_sync_after_vault_swaps_equals_a_fresh_read(self, w3: Web3) -> None:
        sync = StateSync.start(w3)
        rng = random.Random(11)
        picks = rng.sample(sync.registry.of_venue(VENUE), 3)
        before = {p.uid: sync.states[p.uid] for p in picks}
        for info in picks:
            state = sync.states[info.uid]
            assert isinstance(state, WeightedPoolState)
            token = rng.choice(info.tokens)
            shock(w3, info.address, token, state.balances[info.tokens.index(token)] // 50)
            mine(w3, 1)
        result = sync.sync()
        assert {p.uid for p in picks} <= result.changed
        fresh = read_states(w3, picks, block=result.block)
        for info in picks:
            assert sync.states[info.uid] == fresh.states[info.uid]
            assert sync.states[info.uid] != before[info.uid]  # the swap moved it
