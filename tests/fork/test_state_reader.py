"""The batched reader: every field it returns equals what the pools answer to plain calls; a
pool that fails is flagged without failing the batch; chunking changes nothing but the count
of calls. All of it for both ways of reading a Uniswap V3 pool: its storage slots (the default)
and its getters."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from web3 import Web3
from web3.contract import Contract

from flasharb.amm.balancer_weighted import WeightedPoolState
from flasharb.amm.uniswap_v2 import V2PairState
from flasharb.amm.uniswap_v3 import V3PoolState
from flasharb.chain import addresses as A
from flasharb.chain.artifacts import npm_artifact
from flasharb.chain.rpc import send
from flasharb.kinds import HopKind
from flasharb.replica import balancer as B
from flasharb.replica import uniswap_v3 as V3
from flasharb.replica.uniswap_v2 import PAIR
from flasharb.state._rpc import block_param
from flasharb.state.discovery import discover
from flasharb.state.reader import (
    SLOT_READER_CODE,
    ReadConfig,
    ReadCost,
    ReadResult,
    read_states,
    words_per_side,
)
from flasharb.state.registry import PoolInfo, PoolRegistry

PATHS = {"slots": ReadConfig(), "getters": ReadConfig(v3_slots=False)}
INVALID = "0xfe"  # as a contract's whole code: every call to it burns all the gas it is given


def _at(w3: Web3, address: str, abi: list[dict[str, Any]]) -> Contract:
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)


def _v3(registry: PoolRegistry, spacing: int) -> PoolInfo:
    return next(p for p in registry.of_kind(HopKind.UNISWAP_V3) if p.tick_spacing == spacing)


@pytest.fixture(scope="module")
def registry(session_w3: Web3) -> PoolRegistry:
    return discover(session_w3)


@pytest.fixture(scope="module", params=list(PATHS))
def config(request: pytest.FixtureRequest) -> ReadConfig:
    """The default config, reading V3 pools through their storage slots or their getters."""
    return PATHS[request.param]


@pytest.fixture(scope="module")
def full(session_w3: Web3, registry: PoolRegistry, config: ReadConfig) -> ReadResult:
    """Every replica pool in the fewest calls the default budget allows."""
    return read_states(session_w3, list(registry), block=registry.block, config=config)


class TestWindow:
    """The default V3 window: the fewest bitmap words that hold 512 ticks on each side."""

    @pytest.mark.parametrize(
        ("spacing", "words"), [(1, 2), (10, 1), (60, 1), (200, 1)], ids=lambda v: str(v)
    )
    def test_default_words_per_side_by_tick_spacing(
        self, registry: PoolRegistry, spacing: int, words: int
    ) -> None:
        assert words_per_side(_v3(registry, spacing), ReadConfig()) == words

    def test_explicit_words_per_side_wins(self, registry: PoolRegistry) -> None:
        for spacing in (1, 200):
            assert words_per_side(_v3(registry, spacing), ReadConfig(words_per_side=0)) == 0
            assert words_per_side(_v3(registry, spacing), ReadConfig(words_per_side=5)) == 5

    def test_a_wider_window_in_ticks_takes_more_words(self, registry: PoolRegistry) -> None:
        wide = ReadConfig(window_ticks=256 * 60 * 3 + 1)
        assert words_per_side(_v3(registry, 60), wide) == 4
        assert words_per_side(_v3(registry, 60), ReadConfig(window_ticks=0)) == 1


class TestEveryFieldEqualsPlainCalls:
    """One batched call returns what one view call per field returns."""

    def test_reads_every_pool_in_one_call(self, full: ReadResult, registry: PoolRegistry) -> None:
        assert (full.calls, full.failed) == (1, {})
        assert list(full.states) == registry.addresses()

    def test_v2_reserves(self, session_w3: Web3, full: ReadResult, registry: PoolRegistry) -> None:
        for info in registry.of_kind(HopKind.UNISWAP_V2):
            state = full.states[info.address]
            assert isinstance(state, V2PairState)
            pair = _at(session_w3, info.address, npm_artifact(PAIR).abi)
            r0, r1, _ = pair.functions.getReserves().call(block_identifier=registry.block)
            assert (state.reserve0, state.reserve1) == (r0, r1)
            assert (state.token0, state.token1, state.fee_pips, state.venue) == (
                *info.tokens,
                info.fee,
                info.venue,
            )

    def test_v3_price_liquidity_bitmap_words_and_ticks(
        self, session_w3: Web3, full: ReadResult, registry: PoolRegistry, config: ReadConfig
    ) -> None:
        ticks_seen = 0
        for info in registry.of_kind(HopKind.UNISWAP_V3):
            wps = words_per_side(info, config)
            state = full.states[info.address]
            assert isinstance(state, V3PoolState)
            pool = _at(session_w3, info.address, npm_artifact(V3.POOL).abi)
            slot0 = pool.functions.slot0().call()
            assert (state.sqrt_price_x96, state.tick) == (slot0[0], slot0[1])
            assert state.liquidity == pool.functions.liquidity().call()
            assert (state.fee, state.tick_spacing) == (info.fee, info.tick_spacing)
            center = (state.tick // state.tick_spacing) >> 8  # floor division, as TickBitmap
            assert state.word_range == (center - wps, center + wps)
            assert sorted(state.tick_bitmap) == list(range(center - wps, center + wps + 1))
            initialized = 0
            for word, bits in state.tick_bitmap.items():
                assert bits == pool.functions.tickBitmap(word).call(), (info.address, word)
                initialized += bin(bits).count("1")
            assert len(state.ticks) == initialized  # no tick missing, none invented
            for tick, liquidity_net in state.ticks.items():
                assert tick % state.tick_spacing == 0
                assert center - wps <= (tick // state.tick_spacing) >> 8 <= center + wps
                onchain = pool.functions.ticks(tick).call()
                assert (liquidity_net, onchain[7]) == (onchain[1], True), (info.address, tick)
            ticks_seen += initialized
        assert ticks_seen > 0

    def test_weighted_balances_weights_and_fee(
        self, session_w3: Web3, full: ReadResult, registry: PoolRegistry
    ) -> None:
        vault = _at(session_w3, A.BALANCER_VAULT, npm_artifact(B.VAULT).abi)
        for info in registry.of_kind(HopKind.BALANCER):
            state = full.states[info.address]
            assert isinstance(state, WeightedPoolState)
            pool = _at(session_w3, info.address, B.task_artifact(B.WEIGHTED_POOL).abi)
            tokens, balances, _ = vault.functions.getPoolTokens(info.pool_id).call()
            assert (state.tokens, state.balances) == (tuple(tokens), tuple(balances))
            assert state.normalized_weights == tuple(pool.functions.getNormalizedWeights().call())
            assert state.swap_fee == pool.functions.getSwapFeePercentage().call()
            assert (state.pool_id, state.decimals) == (info.pool_id, info.decimals)


class TestFailingPools:
    """A pool that reverts, has no code or burns its gas fails alone, with the reason."""

    def test_failures_are_flagged_and_the_batch_returns(
        self, w3: Web3, registry: PoolRegistry, full: ReadResult, config: ReadConfig
    ) -> None:
        v2, v3, weighted = (registry.of_kind(k)[0] for k in HopKind)
        eoa = Web3.to_checksum_address("0x000000000000000000000000000000000000bEEF")
        empty = Web3.to_checksum_address("0x000000000000000000000000000000000000bEE5")
        not_a_pair = replace(v2, address=A.USDC)  # a token: getReserves() reverts
        no_code = replace(v3, address=empty)  # getters: success with no return data
        wrong_id = replace(weighted, address=eoa, pool_id=b"\x07" * 32)  # the Vault reverts
        gas_burner = registry.of_kind(HopKind.UNISWAP_V2)[1]
        w3.provider.make_request("anvil_setCode", [gas_burner.address, INVALID])  # type: ignore[arg-type]
        good = [p for p in registry if p.address != gas_burner.address]
        bad = [not_a_pair, no_code, wrong_id, gas_burner]
        result = read_states(w3, [*bad[:2], *good, *bad[2:]], config=config)
        assert result.calls == 1
        assert set(result.failed) == {p.address for p in bad}
        assert "getReserves()" in result.failed[A.USDC]
        assert "getPoolTokens" in result.failed[eoa]
        # its storage is empty: no price
        assert ("not initialized" if config.v3_slots else "slot0()") in result.failed[empty]
        assert "getReserves()" in result.failed[gas_burner.address]
        assert result.states == {p.address: full.states[p.address] for p in good}

    def test_uninitialized_v3_pool_is_flagged(
        self, w3: Web3, registry: PoolRegistry, config: ReadConfig
    ) -> None:
        factory = _at(w3, A.UNISWAP_V3_FACTORY, npm_artifact(V3.FACTORY).abi)
        t0, t1 = sorted([A.LINK, A.USDT], key=lambda a: int(a, 16))
        assert factory.functions.getPool(t0, t1, 500).call() == "0x" + "00" * 20
        owner = w3.eth.accounts[0]
        send(
            w3,
            {
                "from": owner,
                "to": factory.address,
                "data": factory.encode_abi("createPool", [t0, t1, 500]),
            },
            "createPool",
        )
        pool = factory.functions.getPool(t0, t1, 500).call()
        info = PoolInfo(
            address=pool,
            venue="uniswap_v3",
            kind=HopKind.UNISWAP_V3,
            tokens=(t0, t1),
            decimals=(18, 6),
            fee=500,
            tick_spacing=10,
            source=factory.address,
        )
        result = read_states(w3, [info], config=config)
        assert "not initialized" in result.failed[pool]

    def test_pool_needing_more_than_the_budget_is_flagged(
        self, session_w3: Web3, registry: PoolRegistry, config: ReadConfig
    ) -> None:
        narrow = min(registry.of_kind(HopKind.UNISWAP_V3), key=lambda p: p.tick_spacing)
        cfg = replace(config, words_per_side=300, gas_budget=1_000_000)  # 601 words
        result = read_states(
            session_w3, [narrow, registry.of_kind(HopKind.UNISWAP_V2)[0]], config=cfg
        )
        assert "more than the gas budget" in result.failed[narrow.address]
        assert list(result.states) == [registry.of_kind(HopKind.UNISWAP_V2)[0].address]


class TestChunking:
    """However the request is cut, the states are the ones a pool-by-pool read gives."""

    @pytest.fixture(scope="class")
    def one_by_one(
        self, session_w3: Web3, registry: PoolRegistry, config: ReadConfig
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for info in registry:
            result = read_states(session_w3, [info], block=registry.block, config=config)
            assert result.calls == 1 and not result.failed
            out.update(result.states)
        return out

    def test_one_call_equals_one_by_one(self, full: ReadResult, one_by_one: dict[str, Any]) -> None:
        assert full.states == one_by_one

    def test_small_budget_splits_the_request(
        self,
        session_w3: Web3,
        registry: PoolRegistry,
        config: ReadConfig,
        one_by_one: dict[str, Any],
    ) -> None:
        cfg = replace(config, gas_budget=600_000)
        result = read_states(session_w3, list(registry), block=registry.block, config=cfg)
        assert result.calls >= 5
        assert (result.states, result.failed) == (one_by_one, {})

    def test_contract_stops_early_on_an_optimistic_estimate_and_the_rest_is_resent(
        self,
        session_w3: Web3,
        registry: PoolRegistry,
        config: ReadConfig,
        one_by_one: dict[str, Any],
    ) -> None:
        tiny = ReadCost(
            v2=1,
            v3_base=1,
            v3_word=0,
            v3_tick=0,
            weighted_base=1,
            weighted_token=0,
            v3_slots_base=1,
            v3_slots_word=0,
            v3_slots_tick=0,
        )
        cfg = replace(config, gas_budget=1_000_000, read_cost=tiny)  # planned as one call
        result = read_states(session_w3, list(registry), block=registry.block, config=cfg)
        assert result.calls >= 3
        assert (result.states, result.failed) == (one_by_one, {})

    def test_a_small_read_stays_one_call(
        self, session_w3: Web3, registry: PoolRegistry, config: ReadConfig
    ) -> None:
        few = list(registry)[:10]  # what a sync re-reads after a block
        assert read_states(session_w3, few, block=registry.block, config=config).calls == 1

    def test_parallel_calls_give_the_same_states(
        self,
        session_w3: Web3,
        registry: PoolRegistry,
        config: ReadConfig,
        one_by_one: dict[str, Any],
    ) -> None:
        cfg = replace(config, parallel_calls=3, parallel_min_gas=0)
        result = read_states(session_w3, list(registry), block=registry.block, config=cfg)
        assert result.calls == 3
        assert (result.states, result.failed) == (one_by_one, {})


class TestStorageSlots:
    """Canonical V3 pools are read from their storage through the slot reader, others through
    their getters; both ways give the same states, whatever the window."""

    def test_slot_reader_returns_the_slots_named_in_its_calldata(
        self, session_w3: Web3, registry: PoolRegistry
    ) -> None:
        pool = Web3.to_checksum_address(registry.of_kind(HopKind.UNISWAP_V3)[0].address)
        keys = [0, 4, 6, 2**256 - 1]  # slot0, liquidity, a mapping's slot, nothing there
        tx = {"to": pool, "data": "0x" + b"".join(k.to_bytes(32, "big") for k in keys).hex()}
        block = block_param(registry.block)
        override = {pool: {"code": "0x" + SLOT_READER_CODE.hex()}}
        raw = session_w3.provider.make_request("eth_call", [tx, block, override])  # type: ignore[arg-type]
        words = bytes.fromhex(raw["result"][2:])
        expected = b"".join(session_w3.eth.get_storage_at(pool, k, registry.block) for k in keys)
        assert (words, len(words)) == (expected, 32 * len(keys))

    @pytest.mark.parametrize("words", [0, 3, 40])
    def test_both_paths_give_the_same_states(
        self, session_w3: Web3, registry: PoolRegistry, words: int
    ) -> None:
        v3 = registry.of_kind(HopKind.UNISWAP_V3)
        got = {
            name: read_states(
                session_w3, v3, block=registry.block, config=replace(cfg, words_per_side=words)
            )
            for name, cfg in PATHS.items()
        }
        assert got["slots"].failed == got["getters"].failed == {}
        assert got["slots"].states == got["getters"].states
        ticks = sum(
            len(s.ticks) for s in got["slots"].states.values() if isinstance(s, V3PoolState)
        )
        assert ticks > 0

    def test_canonical_pools_are_read_from_storage_not_through_their_code(
        self, w3: Web3, registry: PoolRegistry
    ) -> None:
        info = registry.of_kind(HopKind.UNISWAP_V3)[0]
        before = read_states(w3, [info]).states[info.address]
        w3.provider.make_request("anvil_setCode", [info.address, INVALID])  # type: ignore[arg-type]
        assert read_states(w3, [info]).states == {info.address: before}  # storage is intact
        getters = read_states(w3, [info], config=PATHS["getters"])
        assert "slot0()" in getters.failed[info.address]

    def test_pools_of_another_factory_are_read_through_their_getters(
        self, w3: Web3, registry: PoolRegistry
    ) -> None:
        info = replace(registry.of_kind(HopKind.UNISWAP_V3)[0], source=A.UNISWAP_V2_FACTORY)
        w3.provider.make_request("anvil_setCode", [info.address, INVALID])  # type: ignore[arg-type]
        assert "slot0()" in read_states(w3, [info]).failed[info.address]
