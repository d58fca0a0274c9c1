"""Pool discovery from the chain: the replica's pools, found through the factories and the Vault,
with the tokens, decimals, fees and ids their own contracts report."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from eth_abi import encode
from web3 import Web3
from web3.contract import Contract

from flasharb.chain import addresses as A
from flasharb.chain.artifacts import npm_artifact
from flasharb.chain.cheats import impersonating
from flasharb.chain.rpc import send
from flasharb.kinds import HopKind
from flasharb.replica import balancer as B
from flasharb.replica import uniswap_v3 as V3
from flasharb.replica.spec import (
    ReplicaSpec,
    StablePoolSpec,
    V2PoolSpec,
    V3PoolSpec,
    WeightedPoolSpec,
    WeightedV3PoolSpec,
    load_spec,
)
from flasharb.replica.uniswap_v2 import PAIR
from flasharb.state._rpc import RawLog
from flasharb.state.discovery import Venues, add_created, discover
from flasharb.state.events import PAIR_CREATED
from flasharb.state.registry import PoolRegistry

ERC20_DECIMALS_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "decimals",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "", "type": "uint8"}],
    }
]


def _at(w3: Web3, address: str, abi: list[dict[str, Any]]) -> Contract:
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)


@pytest.fixture(scope="module")
def spec() -> ReplicaSpec:
    return load_spec()


@pytest.fixture(scope="module")
def registry(session_w3: Web3) -> PoolRegistry:
    return discover(session_w3)


class TestReplicaPools:
    """Every pool of the data file is found, on the right venue, and nothing else."""

    def test_counts_per_venue_equal_the_data_file(
        self, registry: PoolRegistry, spec: ReplicaSpec
    ) -> None:
        expected = Counter(p.venue for p in spec.pools_of(V2PoolSpec))
        expected["uniswap_v3"] = len(spec.pools_of(V3PoolSpec))
        # Discovery does not tell the 20210418 and 20230206 weighted pools apart yet (both answer
        # getNormalizedWeights): see /work/notes/venues-integration.md. ComposableStable pools
        # answer no weights and are skipped with a reason; V4 pools are not looked for.
        expected["balancer"] = len(spec.pools_of(WeightedPoolSpec)) + len(
            spec.pools_of(WeightedV3PoolSpec)
        )
        assert registry.counts() == dict(expected)
        assert len(registry.skipped) == len(spec.pools_of(StablePoolSpec))
        assert all("not a weighted pool" in why for why in registry.skipped.values())
        assert registry.absent == {}

    def test_decimals_are_the_tokens_own(
        self, session_w3: Web3, registry: PoolRegistry, spec: ReplicaSpec
    ) -> None:
        by_address = {t.address: t.decimals for t in spec.tokens}
        by_address |= dict.fromkeys(registry.skipped, 18)  # the skipped stable pools' own BPT
        assert set(registry.decimals) == set(by_address)
        for token, decimals in registry.decimals.items():
            onchain = _at(session_w3, token, ERC20_DECIMALS_ABI).functions.decimals().call()
            assert decimals == onchain == by_address[token], token
        for info in registry:
            assert info.decimals == tuple(by_address[t] for t in info.tokens)

    def test_v2_pairs_are_the_factories_pairs(
        self, session_w3: Web3, registry: PoolRegistry
    ) -> None:
        pairs = registry.of_kind(HopKind.UNISWAP_V2)
        for venue, factory_address in A.V2_FACTORIES.items():
            factory = _at(
                session_w3,
                factory_address,
                npm_artifact("@uniswap/v2-core/build/UniswapV2Factory.json").abi,
            )
            mine = [p for p in pairs if p.venue == venue]
            assert len(mine) == factory.functions.allPairsLength().call()
            for i, info in enumerate(mine):  # in allPairs order
                assert info.address == factory.functions.allPairs(i).call()
                pair = _at(session_w3, info.address, npm_artifact(PAIR).abi)
                tokens = (pair.functions.token0().call(), pair.functions.token1().call())
                assert info.tokens == tokens
                assert factory.functions.getPair(*tokens).call() == info.address
                assert (info.fee, info.source) == (3000, factory_address)

    def test_v3_pools_carry_the_pools_fee_and_tick_spacing(
        self, session_w3: Web3, registry: PoolRegistry, spec: ReplicaSpec
    ) -> None:
        factory = _at(session_w3, A.UNISWAP_V3_FACTORY, npm_artifact(V3.FACTORY).abi)
        pools = registry.of_kind(HopKind.UNISWAP_V3)
        for info in pools:
            pool = _at(session_w3, info.address, npm_artifact(V3.POOL).abi)
            assert info.tokens == (pool.functions.token0().call(), pool.functions.token1().call())
            assert info.fee == pool.functions.fee().call()
            assert info.tick_spacing == pool.functions.tickSpacing().call()
            assert factory.functions.getPool(*info.tokens, info.fee).call() == info.address
        expected = {
            (
                *sorted(
                    (spec.token(p.token_a).address, spec.token(p.token_b).address),
                    key=lambda a: int(a, 16),
                ),
                p.fee,
            )
            for p in spec.pools_of(V3PoolSpec)
        }
        assert {(*p.tokens, p.fee) for p in pools} == expected

    def test_weighted_pools_carry_the_vaults_tokens_id_and_fee(
        self, session_w3: Web3, registry: PoolRegistry
    ) -> None:
        vault = _at(session_w3, A.BALANCER_VAULT, npm_artifact(B.VAULT).abi)
        for info in registry.of_kind(HopKind.BALANCER):
            pool = _at(session_w3, info.address, B.task_artifact(B.WEIGHTED_POOL).abi)
            assert info.pool_id == bytes(pool.functions.getPoolId().call())
            tokens, _balances, _block = vault.functions.getPoolTokens(info.pool_id).call()
            assert info.tokens == tuple(tokens)
            assert info.fee == pool.functions.getSwapFeePercentage().call()
            assert registry.by_pool_id(info.pool_id) == info


class TestSkippedAndIgnored:
    """What discovery leaves out, and says why."""

    def test_non_weighted_balancer_pool_is_skipped_with_a_reason(self, w3: Web3) -> None:
        impostor = Web3.to_checksum_address("0x00000000000000000000000000000000000B0B00")
        vault = _at(w3, A.BALANCER_VAULT, npm_artifact(B.VAULT).abi)
        with impersonating(w3, impostor, eth=10**18):  # anyone may register a pool: itself
            receipt = send(
                w3,
                {
                    "from": impostor,
                    "to": vault.address,
                    "data": vault.encode_abi("registerPool", [0]),
                },
                "registerPool",
            )
            pool_id = bytes(receipt["logs"][0]["topics"][1])
            tokens = sorted([A.WETH, A.DAI], key=lambda a: int(a, 16))
            data = vault.encode_abi("registerTokens", [pool_id, tokens, [impostor, impostor]])
            send(w3, {"from": impostor, "to": vault.address, "data": data}, "registerTokens")
        registry = discover(w3)
        assert impostor not in registry
        assert "not a weighted pool" in registry.skipped[impostor]
        spec = load_spec()
        assert len(registry.of_kind(HopKind.BALANCER)) == len(
            spec.pools_of(WeightedPoolSpec)
        ) + len(spec.pools_of(WeightedV3PoolSpec))

    def test_look_alike_creation_event_from_a_stranger_is_ignored(
        self, session_w3: Web3, registry: PoolRegistry
    ) -> None:
        fake_pair = "0x" + "00" * 12 + "11" * 20
        log = RawLog(
            address=A.WETH,  # not a factory
            topics=(PAIR_CREATED, encode(["address"], [A.WETH]), encode(["address"], [A.DAI])),
            data=bytes.fromhex(fake_pair[2:]) + encode(["uint256"], [1]),
            block=registry.block,
            index=0,
        )
        before = len(registry)
        assert add_created(session_w3, registry, [log], Venues(), registry.block) == []
        assert len(registry) == before

    def test_factory_without_code_marks_its_venue_absent(self, session_w3: Web3) -> None:
        nowhere = "0x000000000000000000000000000000000000dEaD"
        registry = discover(
            session_w3,
            venues=Venues(v2_factories={"nowhere": nowhere}, v3_factory=None, balancer=False),
        )
        assert len(registry) == 0
        assert "no code" in registry.absent["nowhere"]


class TestLogRanges:
    """Log queries cut into block ranges find the same pools; a start block limits the scan."""

    def test_small_log_chunks_find_the_same_pools(
        self, session_w3: Web3, registry: PoolRegistry
    ) -> None:
        chunked = discover(session_w3, block=registry.block, venues=Venues(log_chunk=37))
        assert list(chunked) == list(registry)

    def test_scan_from_the_head_finds_only_enumerated_pairs(
        self, session_w3: Web3, registry: PoolRegistry
    ) -> None:
        late = discover(session_w3, block=registry.block, venues=Venues(from_block=registry.block))
        assert list(late) == registry.of_kind(HopKind.UNISWAP_V2)  # allPairs needs no logs
