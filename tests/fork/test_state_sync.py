"""Incremental sync: after swaps made with the real contracts, the state moved forward from logs
equals a full re-read at the same block, and the changed set is exactly the pools touched."""

from __future__ import annotations

import random
from dataclasses import fields
from itertools import combinations

from eth_abi import encode
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.artifacts import npm_artifact
from flasharb.chain.cheats import deal, mine
from flasharb.chain.rpc import send
from flasharb.execute.shock import shock
from flasharb.kinds import HopKind
from flasharb.replica import balancer as B
from flasharb.replica import uniswap_v3 as V3
from flasharb.replica.uniswap_v2 import FACTORY as V2_FACTORY
from flasharb.replica.uniswap_v2 import PAIR
from flasharb.state.sync import StateSync

ZERO = "0x" + "00" * 20


def assert_same_as_full_reread(w3: Web3, sync: StateSync) -> None:
    """Field by field: the incremental registry and states equal a fresh start at its block."""
    fresh = StateSync.start(w3, block=sync.block)
    assert {p.uid: p for p in sync.registry} == {p.uid: p for p in fresh.registry}
    assert sync.failed == fresh.failed
    assert set(sync.states) == set(fresh.states)
    for address, state in fresh.states.items():
        mine_ = sync.states[address]
        assert type(mine_) is type(state), address
        for f in fields(state):
            if f.compare:
                assert getattr(mine_, f.name) == getattr(state, f.name), (address, f.name)


def _amount(sync: StateSync, address: str, token: str, rng: random.Random) -> int:
    """0.1% to 5% of what the pool holds of `token` (V3: of its in-range liquidity)."""
    state = sync.states[address]
    frac = rng.uniform(0.001, 0.05)
    info = sync.registry[address]
    if info.kind is HopKind.UNISWAP_V2:
        return max(1, int(state.reserves_for(token)[0] * frac))  # type: ignore[union-attr]
    if info.kind is HopKind.BALANCER:
        balances = state.balances  # type: ignore[union-attr]
        return max(1, int(balances[info.tokens.index(token)] * frac))
    return max(1, int(state.liquidity * frac) // 10**4)  # type: ignore[union-attr]


class TestIncrementalSync:
    """Random swaps on every venue, several blocks, one sync."""

    def test_burst_of_swaps_equals_a_full_reread(self, w3: Web3) -> None:
        rng = random.Random(20261121)
        sync = StateSync.start(w3)
        start = sync.block
        picks = {
            venue: rng.sample(sync.registry.of_venue(venue), n)
            for venue, n in (
                ("uniswap_v2", 4),
                ("sushiswap", 3),
                ("uniswap_v3", 4),
                ("balancer", 3),
            )
        }
        touched: set[str] = set()
        for infos in picks.values():
            for info in infos:
                for _ in range(rng.randint(1, 2)):  # some pools twice
                    token_in = rng.choice(info.tokens)
                    shock(w3, info.address, token_in, _amount(sync, info.address, token_in, rng))
                touched.add(info.address)
            mine(w3, rng.randint(0, 3))  # quiet blocks in between
        assert sum(len(v) for v in picks.values()) == len(touched) == 14
        result = sync.sync()
        assert result.block == w3.eth.block_number > start
        assert result.changed == touched
        assert result.added == frozenset() and result.failed == {}
        assert result.calls == 1
        assert_same_as_full_reread(w3, sync)

    def test_sync_without_new_blocks_changes_nothing(self, w3: Web3) -> None:
        sync = StateSync.start(w3)
        before = dict(sync.states)
        result = sync.sync()
        assert (result.changed, result.logs, result.calls) == (frozenset(), 0, 0)
        assert sync.states == before

    def test_quiet_blocks_change_nothing(self, w3: Web3) -> None:
        sync = StateSync.start(w3)
        mine(w3, 5)
        result = sync.sync()
        assert result.block == sync.block == w3.eth.block_number
        assert result.changed == frozenset()


class TestNewPools:
    """Pools created after the start are picked up from their factories' events."""

    def test_pools_created_mid_run_are_added_and_read(self, w3: Web3) -> None:
        sync = StateSync.start(w3)
        owner = w3.eth.accounts[0]
        v2_factory = w3.eth.contract(address=A.UNISWAP_V2_FACTORY, abi=npm_artifact(V2_FACTORY).abi)
        v3_factory = w3.eth.contract(address=A.UNISWAP_V3_FACTORY, abi=npm_artifact(V3.FACTORY).abi)
        a, b = next(  # two tokens with neither a Uniswap V2 pair nor a 0.05% V3 pool
            (x, y)
            for x, y in combinations(sorted(set(sync.registry.decimals) - {A.NATIVE_ETH}), 2)
            if v2_factory.functions.getPair(x, y).call() == ZERO
            and v3_factory.functions.getPool(x, y, 500).call() == ZERO
        )
        send(
            w3,
            {
                "from": owner,
                "to": v2_factory.address,
                "data": v2_factory.encode_abi("createPair", [a, b]),
            },
            "createPair",
        )
        pair = v2_factory.functions.getPair(a, b).call()
        mine(w3, 2)
        for token, amount in ((a, 10**21), (b, 10**10)):  # seed it: a Sync follows the mint
            deal(w3, token, owner, amount)
            data = "0xa9059cbb" + encode(["address", "uint256"], [pair, amount]).hex()
            send(w3, {"from": owner, "to": token, "data": data}, "transfer")
        p = w3.eth.contract(address=pair, abi=npm_artifact(PAIR).abi)
        send(w3, {"from": owner, "to": pair, "data": p.encode_abi("mint", [owner])}, "mint")

        t0, t1 = sorted([a, b], key=lambda x: int(x, 16))
        send(
            w3,
            {
                "from": owner,
                "to": v3_factory.address,
                "data": v3_factory.encode_abi("createPool", [t0, t1, 500]),
            },
            "createPool",
        )
        v3_pool = v3_factory.functions.getPool(t0, t1, 500).call()
        pool = w3.eth.contract(address=v3_pool, abi=npm_artifact(V3.POOL).abi)
        send(
            w3,
            {"from": owner, "to": v3_pool, "data": pool.encode_abi("initialize", [2**96 // 1000])},
            "initialize",
        )

        factory = w3.eth.contract(
            address=A.BALANCER_WEIGHTED_POOL_2TOKENS_FACTORY,
            abi=B.task_artifact(B.WEIGHTED_2TOKENS_FACTORY).abi,
        )
        args = [
            "Bench 50 50",
            "B-50-50",
            [t0, t1],
            [5 * 10**17] * 2,
            3 * 10**15,
            False,
            ZERO,
        ]
        receipt = send(
            w3,
            {"from": owner, "to": factory.address, "data": factory.encode_abi("create", args)},
            "create weighted pool",
        )
        created = [lg for lg in receipt["logs"] if lg["address"] == factory.address]
        balancer_pool = Web3.to_checksum_address(bytes(created[0]["topics"][1])[12:])

        result = sync.sync()
        assert result.added == {pair, v3_pool, balancer_pool}
        assert result.changed == result.added
        assert sync.registry[pair].venue == "uniswap_v2"
        assert sync.registry[v3_pool].tick_spacing == 10
        assert sync.registry[balancer_pool].kind is HopKind.BALANCER
        assert sync.states[pair].reserve0 > 0  # type: ignore[union-attr]
        assert_same_as_full_reread(w3, sync)
