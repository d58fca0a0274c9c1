"""Token graph and cycle index over every venue: edges per pool kind, enumeration against brute
force (with multi-token Balancer pools), the pool -> cycles CSR at synthetic-market scale."""

from __future__ import annotations

import random

import numpy as np
import pytest

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import V2PairState, checksum_address
from flasharb.errors import FlasharbValueError
from flasharb.kinds import HopKind
from flasharb.search.cycles import CycleIndex, enumerate_cycles
from flasharb.search.graph import TokenGraph
from flasharb_testing.pool_builders import sqrt_price_x96_of, v3_pool, weighted_pool
from flasharb_testing.synthetic import generate


def address(n: int) -> str:
    return checksum_address("0x" + f"{n:040x}")


A, B, C, D, E = (address(0xA0 + i) for i in range(5))


def v2(n: int, t0: str, t1: str) -> V2PairState:
    return V2PairState(
        address=address(0x1000 + n), token0=t0, token1=t1, reserve0=10**21, reserve1=10**21
    )


def v3(n: int, t0: str, t1: str) -> PoolState:
    t0, t1 = sorted((t0, t1), key=str.lower)
    return v3_pool(
        address=address(0x1000 + n),
        token0=t0,
        token1=t1,
        fee=500,
        sqrt_price_x96=sqrt_price_x96_of(1.0),
        positions=[(-100, 100, 10**20)],
    )


def balancer(n: int, *tokens: str) -> PoolState:
    k = len(tokens)
    weights = [10**18 // k] * k
    weights[0] += 10**18 - sum(weights)
    return weighted_pool(
        address=address(0x1000 + n),
        tokens=tokens,
        balances=[10**21] * k,
        decimals=[18] * k,
        weights=weights,
        swap_fee=25 * 10**14,
    )


def mixed_pools(rng: random.Random, n: int) -> list[PoolState]:
    tokens = [A, B, C, D, E]
    pools: list[PoolState] = []
    for i in range(n):
        kind = rng.choice(["v2", "v3", "bal2", "bal3"])
        if kind == "bal3":
            pools.append(balancer(i, *rng.sample(tokens, 3)))
        elif kind == "bal2":
            pools.append(balancer(i, *rng.sample(tokens, 2)))
        else:
            pools.append((v2 if kind == "v2" else v3)(i, *rng.sample(tokens, 2)))
    return pools


def brute_force_keys(
    pools: list[PoolState], starts: list[str], max_hops: int
) -> set[tuple[str, ...]]:
    """Every sequence of distinct pools and, through each, a token it holds, that walks
    start -> ... -> start through distinct intermediate tokens (start, pools, tokens)."""
    keys: set[tuple[str, ...]] = set()

    def walk(start: str, token: str, route: tuple[PoolState, ...], path: tuple[str, ...]) -> None:
        for pool in pools:
            if pool in route or token not in pool.tokens:
                continue
            for nxt in pool.tokens:
                if nxt == token:
                    continue
                if nxt == start and len(route) + 1 >= 2:
                    keys.add((start, *(p.address for p in (*route, pool)), *path))
                elif nxt != start and nxt not in path and len(route) + 1 < max_hops:
                    walk(start, nxt, (*route, pool), (*path, nxt))

    for start in starts:
        walk(start, start, (), ())
    return keys


class TestTokenGraph:
    """One edge per ordered token pair of every pool, in a deterministic order."""

    def test_edges_per_pool_kind(self) -> None:
        pools = [v2(1, A, B), v3(2, B, C), balancer(3, A, C, D)]
        graph = TokenGraph.build(pools)
        counts = np.diff(graph.pool_edge_ptr).tolist()
        assert counts == [2, 2, 6]
        kinds = [graph.edge_kind[graph.pool_edge_ptr[p]] for p in range(3)]
        assert kinds == [0, 1, 2]  # HopKind codes: LibRoute.KIND_UNISWAP_V2, _V3, _BALANCER
        assert graph.edge_fee.tolist() == [3000] * 2 + [500] * 2 + [2500] * 6
        for e in range(graph.n_edges):
            pool = pools[graph.edge_pool[e]]
            assert graph.tokens[graph.edge_in[e]] in pool.tokens
            assert graph.tokens[graph.edge_out[e]] in pool.tokens
            assert graph.edge_in[e] != graph.edge_out[e]

    def test_order_does_not_depend_on_input_order(self) -> None:
        pools = mixed_pools(random.Random(1), 12)
        graph = TokenGraph.build(pools)
        shuffled = pools[:]
        random.Random(2).shuffle(shuffled)
        again = TokenGraph.build(shuffled)
        assert graph.pools == again.pools and graph.tokens == again.tokens
        for name in ("edge_pool", "edge_in", "edge_out", "edge_kind", "edge_fee"):
            assert np.array_equal(getattr(graph, name), getattr(again, name))
        assert list(graph.pools) == sorted(graph.pools, key=str.lower)

    def test_unknown_state_type_is_refused(self) -> None:
        class Curve:
            address = address(9)
            tokens = (A, B)

        with pytest.raises(FlasharbValueError, match="Curve"):
            TokenGraph.build([Curve()])  # type: ignore[list-item]

    def test_unknown_pool_is_named(self) -> None:
        graph = TokenGraph.build([v2(1, A, B)])
        with pytest.raises(FlasharbValueError, match="rebuild"):
            graph.pool_id(address(0xDEAD))


class TestMixedEnumeration:
    """Cycles over V2, V3 and Balancer pools are exactly the brute-force walks."""

    @pytest.mark.parametrize("seed", range(6), ids=lambda s: f"seed{s}")
    @pytest.mark.parametrize("max_hops", [2, 3, 4], ids=lambda h: f"max{h}")
    def test_matches_brute_force(self, seed: int, max_hops: int) -> None:
        rng = random.Random(seed)
        pools = mixed_pools(rng, 8)
        starts = rng.sample([A, B, C, D, E], 2)
        cycles = enumerate_cycles(pools, starts, max_hops=max_hops)
        keys = [(c.token, *c.pools, *c.tokens[1:-1]) for c in cycles]
        assert len(keys) == len(set(keys))
        assert set(keys) == brute_force_keys(pools, starts, max_hops)

    def test_hop_kinds_and_fees_come_from_the_pool(self) -> None:
        pools = [v2(1, A, B), v3(2, A, B), balancer(3, A, B, C)]
        kind_of = {
            p.address: k
            for p, k in zip(
                pools, [HopKind.UNISWAP_V2, HopKind.UNISWAP_V3, HopKind.BALANCER], strict=True
            )
        }
        fee_of = {pools[0].address: 3000, pools[1].address: 500, pools[2].address: 2500}
        for cycle in enumerate_cycles(pools, [A], max_hops=3):
            for hop in cycle.hops:
                assert hop.kind == kind_of[hop.pool]
                assert hop.fee_pips == fee_of[hop.pool]

    def test_a_multi_token_pool_is_used_once_per_cycle(self) -> None:
        """A-B-C in one Balancer pool: no cycle runs two legs through it, so A -> B -> C -> A
        needs the B/C and C/A pairs for the other legs."""
        pools = [balancer(1, A, B, C), v2(2, B, C), v2(3, A, C)]
        cycles = enumerate_cycles(pools, [A], max_hops=3)
        assert all(len(set(c.pools)) == len(c.pools) for c in cycles)
        assert sorted(c.tokens for c in cycles) == sorted(
            [(A, C, A), (A, C, A), (A, B, C, A), (A, C, B, A)]
        )

    def test_keys_tell_apart_routes_through_one_balancer_pool_pair(self) -> None:
        """Two three-token pools with the same tokens: same pools in the same order, two
        different middle tokens."""
        pools = [balancer(1, A, B, C), balancer(2, A, B, C)]
        cycles = enumerate_cycles(pools, [A], max_hops=2)
        assert len(cycles) == 4  # (pool 1, pool 2) and (2, 1), each via B or C
        assert len({c.key for c in cycles}) == 4


class TestIndexAtScale:
    """The CSR pool -> cycles index agrees with a direct numpy scan of the cycle rows."""

    @pytest.fixture(scope="class")
    def index(self) -> CycleIndex:
        market = generate(1000, seed=11)
        return CycleIndex.build(market.pools, market.flash_tokens, max_hops=4)

    def test_counts_by_hop(self, index: CycleIndex) -> None:
        counts = np.bincount(index.hops, minlength=5).tolist()
        assert counts[0] == counts[1] == 0
        assert all(c > 0 for c in counts[2:])
        assert len(index) == sum(counts)

    def test_csr_matches_row_scan(self, index: CycleIndex) -> None:
        graph = index.graph
        valid = index.edges >= 0
        pools = np.where(valid, graph.edge_pool[np.where(valid, index.edges, 0)], -1)
        rng = np.random.default_rng(0)
        for pid in rng.choice(len(graph.pools), size=40, replace=False).tolist():
            expected = np.flatnonzero((pools == pid).any(axis=1))
            assert np.array_equal(index.cycle_ids_of_pool(graph.pools[pid]), expected)

    def test_union_is_sorted_and_unique(self, index: CycleIndex) -> None:
        some = list(index.graph.pools[:30])
        union = index.cycle_ids_touching([p.lower() for p in some])
        parts = np.concatenate([index.cycle_ids_of_pool(p) for p in some])
        assert np.array_equal(union, np.unique(parts))

    def test_rows_are_simple_cycles_in_order(self, index: CycleIndex) -> None:
        graph = index.graph
        sample = np.random.default_rng(1).choice(len(index), size=300, replace=False)
        for i in sorted(sample.tolist()):
            cycle = index.cycle(i)
            assert len(set(cycle.pools)) == len(cycle.pools)
            inner = cycle.tokens[1:-1]
            assert len(set(inner)) == len(inner) and cycle.token not in inner
            assert graph.tokens[index.start[i]] == cycle.token
        keys = [
            (
                int(index.start[i]),
                int(index.hops[i]),
                [graph.pools[graph.edge_pool[e]].lower() for e in index.edges[i, : index.hops[i]]],
            )
            for i in range(0, len(index), 97)
        ]
        assert keys == sorted(keys)
