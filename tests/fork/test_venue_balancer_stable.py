"""Balancer ComposableStable pools as a venue: found through their factory, read by the batched
reader (balances with the BPT's, fee, amplification, rate caches and the providers' rates now),
quoted as BalancerQueries quotes them at the next block's time, synced from the Vault's and their
own logs, re-read when only time moves them (a rate cache that expires), and never routed
through their BPT."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from web3 import Web3

from flasharb.amm.balancer_stable import AmpState, StablePoolState
from flasharb.chain import addresses as A
from flasharb.chain.artifacts import contract, npm_artifact
from flasharb.chain.cheats import impersonating, mine, set_next_block_timestamp
from flasharb.chain.rpc import contract_at, send
from flasharb.errors import FlasharbError
from flasharb.execute.shock import shock
from flasharb.replica import balancer
from flasharb.replica import balancer_2023 as B
from flasharb.replica.spec import StablePoolSpec, load_spec
from flasharb.search.cycles import CycleIndex
from flasharb.state.discovery import discover
from flasharb.state.reader import ReadConfig, read_states
from flasharb.state.registry import PoolRegistry
from flasharb.state.sync import StateSync
from flasharb.venues.balancer_stable import StableMeta
from tests.fork.test_balancer_2023_parity import _join_init, _tx, read_stable, stable_cases
from tests.fork.test_balancer_parity import GIVEN_IN, Case, query

VENUE = "balancer_stable"


@pytest.fixture(scope="module")
def registry(session_w3: Web3) -> PoolRegistry:
    return discover(session_w3)


def _quote(state: StablePoolState, kind: int, t_in: str, t_out: str, amount: int) -> int:
    if kind == GIVEN_IN:
        return state.quote_exact_in(t_in, t_out, amount)
    return state.quote_exact_out(t_in, t_out, amount)


class TestDiscovery:
    def test_every_stable_pool_with_its_bpt_and_rate_providers(
        self, session_w3: Web3, registry: PoolRegistry
    ) -> None:
        pools = registry.of_venue(VENUE)
        assert len(pools) == len(load_spec().pools_of(StablePoolSpec))
        for info in pools:
            meta = info.meta
            assert isinstance(meta, StableMeta)
            pool = contract_at(session_w3, info.address, npm_artifact(B.STABLE_POOL).abi)
            assert info.tokens[meta.bpt_index] == info.address  # the BPT, registered in the Vault
            assert meta.bpt_index == pool.functions.getBptIndex().call()
            assert list(meta.providers) == pool.functions.getRateProviders().call()
            assert info.decimals[meta.bpt_index] == 18
        assert any(p != B.ZERO for info in pools for p in info.meta.providers)  # type: ignore[union-attr]


class TestReads:
    """The batched read is what the pool's own views say, quoted at the next block's time."""

    def test_read_equals_the_pools_views(self, session_w3: Web3, registry: PoolRegistry) -> None:
        pools = registry.of_venue(VENUE)
        got = read_states(session_w3, pools, block=registry.block)
        assert got.failed == {}
        next_ts = got.timestamp + ReadConfig().slot_seconds
        for info in pools:
            state = got.states[info.uid]
            assert isinstance(state, StablePoolState)
            views = read_stable(session_w3, info.address, next_ts)
            assert replace(state, venue=views.venue) == views, info.address

    def test_quotes_equal_balancer_queries(self, session_w3: Web3, registry: PoolRegistry) -> None:
        rng = random.Random(5)
        pools = registry.of_venue(VENUE)
        states = read_states(session_w3, pools, block=registry.block).states
        checked = 0
        for info in pools:
            state = states[info.uid]
            assert isinstance(state, StablePoolState)
            cases = stable_cases(state, rng)
            cases = rng.sample(cases, min(len(cases), 40))
            for case, answer in zip(cases, query(session_w3, state, cases), strict=True):  # type: ignore[arg-type]
                if not answer.ok:
                    continue
                try:
                    mine = _quote(state, case.kind, case.token_in, case.token_out, case.amount)
                except FlasharbError:
                    continue  # a join or exit (BPT): refused, never routed
                assert mine == answer.amount, (info.address, case)
                checked += 1
        assert checked > 100


class TestSearchSeesNoBpt:
    def test_bpt_is_never_a_graph_token(self, session_w3: Web3, registry: PoolRegistry) -> None:
        pools = registry.of_venue(VENUE)
        states = read_states(session_w3, pools, block=registry.block).states
        index = CycleIndex.build(states.values(), [t for p in pools for t in p.tokens], max_hops=3)
        assert not {p.address for p in pools} & set(index.graph.tokens)
        assert len(index.graph.pools) == len(pools)  # every pool routed, through its tokens


class TestSync:
    def test_sync_after_vault_swaps_equals_a_fresh_read(self, w3: Web3) -> None:
        sync = StateSync.start(w3)
        rng = random.Random(13)
        picks = rng.sample(sync.registry.of_venue(VENUE), 3)
        before = {p.uid: sync.states[p.uid] for p in picks}
        for info in picks:
            state = sync.states[info.uid]
            assert isinstance(state, StablePoolState)
            t_in, t_out = rng.sample([t for t in info.tokens if t != info.address], 2)
            shock(w3, info.address, t_in, state.balances[info.tokens.index(t_in)] // 40, t_out)
        result = sync.sync()
        assert {p.uid for p in picks} <= result.changed
        fresh = read_states(w3, picks, block=result.block)
        for info in picks:
            assert sync.states[info.uid] == fresh.states[info.uid]
            assert sync.states[info.uid] != before[info.uid]

    def test_an_expiring_rate_cache_is_followed_without_a_pool_log(self, w3: Web3) -> None:
        """The wstETH rate moves (an oracle report, no pool log). While the pools' caches are
        fresh nothing changes; once the next block is past their expiry, the sync re-reads
        them (time alone moved their quotes) and the quote uses the provider's new rate."""
        sync = StateSync.start(w3)
        rated = [
            p
            for p in sync.registry.of_venue(VENUE)
            if any(c is not None for c in sync.states[p.uid].rate_caches)  # type: ignore[attr-defined]
        ]
        assert rated
        source = contract_at(w3, B.STETH_RATE_SOURCE, contract("ReplicaStEthRate").abi)
        owner = source.functions.owner().call()
        with impersonating(w3, owner, eth=10**18):
            send(
                w3,
                {
                    "from": owner,
                    "to": source.address,
                    "data": source.encode_abi("setStEthPerToken", [1_190_000_000_000_000_000]),
                },
                "report",
            )
        quiet = sync.sync()
        assert not {p.uid for p in rated} & quiet.changed  # caches fresh: quotes unchanged
        expires = max(
            c.expires
            for p in rated
            for c in sync.states[p.uid].rate_caches  # type: ignore[attr-defined]
            if c is not None
        )
        set_next_block_timestamp(w3, expires)  # the block after it quotes past the expiry
        mine(w3, 1)
        moved = sync.sync()
        assert {p.uid for p in rated} <= moved.changed
        for info in rated:
            state = sync.states[info.uid]
            assert isinstance(state, StablePoolState)
            assert 1_190_000_000_000_000_000 in state.rates()  # wstETH's new rate, at expiry
            t_in, t_out = (t for t in info.tokens if t != info.address)
            case_amount = state.balances[info.tokens.index(t_in)] // 100
            case = Case(kind=GIVEN_IN, token_in=t_in, token_out=t_out, amount=case_amount)
            set_next_block_timestamp(w3, state.timestamp)  # the query's block: the quote's time
            mine(w3, 1)
            (answer,) = query(w3, state, [case])  # type: ignore[arg-type]
            assert state.quote_exact_in(t_in, t_out, case_amount) == answer.amount


def test_an_amplification_update_is_read_with_its_schedule(w3: Web3, owner: str) -> None:
    """A pool with an owner starts an amplification update: the sync takes the schedule from
    its AmpUpdateStarted log, and the read state's amplification follows it; while it moves the
    pool is priced, not routed (module doc of flasharb.venues.balancer_stable)."""
    sync = StateSync.start(w3)
    factory = contract_at(
        w3, A.BALANCER_COMPOSABLE_STABLE_POOL_V3_FACTORY, npm_artifact(B.STABLE_FACTORY).abi
    )
    tokens = sorted([A.DAI, A.USDC, A.USDT], key=lambda a: int(a, 16))
    args = ["amp", "AMP", tokens, 200, [B.ZERO] * 3, [0] * 3, [False] * 3, 4 * 10**14, owner]
    address = balancer._created_pool(
        send(w3, _tx(owner, factory, "create", args), "create"), factory.address
    )
    dec = {A.DAI: 18, A.USDC: 6, A.USDT: 6}
    _join_init(w3, owner, address, tokens, [5_000_000 * 10 ** dec[t] for t in tokens])
    pool = contract_at(w3, address, npm_artifact(B.STABLE_POOL).abi)
    end = w3.eth.get_block("latest")["timestamp"] + 3 * 86400
    receipt = send(w3, _tx(owner, pool, "startAmplificationParameterUpdate", [800, end]), "amp")
    (event,) = pool.events.AmpUpdateStarted().process_receipt(receipt)
    a = event["args"]
    schedule = AmpState(
        start_value=a["startValue"],
        end_value=a["endValue"],
        start_time=a["startTime"],
        end_time=a["endTime"],
    )
    mine(w3, 2)
    result = sync.sync()
    assert address in result.added
    state = sync.states[address]
    assert isinstance(state, StablePoolState)
    assert state.amp == schedule
    value, updating, _ = pool.functions.getAmplificationParameter().call()
    assert updating and schedule.value_at(state.timestamp - ReadConfig().slot_seconds) == value
    assert sync.registry[address].meta.amp_schedule == schedule  # type: ignore[union-attr]
    index = CycleIndex.build(sync.states.values(), [A.USDC], max_hops=3)
    assert address not in index.graph.pools  # priced, not routed, while it moves
    # a fresh discovery finds the schedule in the pool's log
    again = read_states(w3, [discover(w3).get(address)], block=sync.block)  # type: ignore[list-item]
    assert again.states[address] == state
