"""Cycle enumeration and the pool -> cycles index, on small hand-built token graphs."""

from __future__ import annotations

import random
from itertools import pairwise, permutations

import pytest

from flasharb.amm.uniswap_v2 import V2PairState, checksum_address
from flasharb.errors import FlasharbValueError
from flasharb.kinds import HopKind
from flasharb.search import cycles as cycles_module
from flasharb.search.cycles import Cycle, CycleIndex, Hop, enumerate_cycles


def address(n: int) -> str:
    return checksum_address("0x" + f"{n:040x}")


A, B, C, D, E = (address(0xA0 + i) for i in range(5))


def pair(n: int, token0: str, token1: str, venue: str = "uniswap_v2") -> V2PairState:
    return V2PairState(
        address=address(0x1000 + n),
        token0=token0,
        token1=token1,
        reserve0=10**21,
        reserve1=10**21,
        venue=venue,
    )


def triangle(venues: int) -> list[V2PairState]:
    """A-B, B-C, C-A on `venues` venues each."""
    return [
        pair(10 * v + i, t0, t1, venue=f"venue{v}")
        for v in range(venues)
        for i, (t0, t1) in enumerate([(A, B), (B, C), (C, A)])
    ]


def brute_force_keys(
    pools: list[V2PairState], starts: list[str], max_hops: int, min_hops: int = 2
) -> set[tuple[str, ...]]:
    """Every ordered sequence of distinct pools that walks start -> ... -> start through
    distinct intermediate tokens, by trying all permutations."""
    keys: set[tuple[str, ...]] = set()
    for start in starts:
        for length in range(min_hops, max_hops + 1):
            for route in permutations(pools, length):
                token, visited, ok = start, {start}, True
                for i, pool in enumerate(route):
                    if token not in (pool.token0, pool.token1):
                        ok = False
                        break
                    token = pool.other(token)
                    last = i == length - 1
                    if (token == start) != last or (not last and token in visited):
                        ok = False
                        break
                    visited.add(token)
                if ok:
                    keys.add((start, *(p.address for p in route)))
    return keys


class TestCounts:
    """Cycle counts on graphs small enough to count by hand."""

    @pytest.mark.parametrize(
        ("venues", "starts", "max_hops", "expected"),
        [
            (1, [A], 3, 2),  # one ring, two directions; no 2-hop (one pool per pair)
            (1, [A, B, C], 3, 6),  # the ring rooted at each token
            (2, [A], 2, 4),  # A-B and A-C, pool order (x, y) and (y, x)
            (2, [A], 3, 4 + 16),  # + 2 directions * 2^3 venue choices
            (2, [A, B, C], 3, 3 * 20),
            (3, [A], 3, 2 * 6 + 2 * 27),
        ],
        ids=["1venue-A", "1venue-ABC", "2venues-A-2hops", "2venues-A", "2venues-ABC", "3venues-A"],
    )
    def test_triangle_counts(
        self, venues: int, starts: list[str], max_hops: int, expected: int
    ) -> None:
        assert len(enumerate_cycles(triangle(venues), starts, max_hops=max_hops)) == expected

    def test_square_needs_four_hops(self) -> None:
        square = [pair(i, t0, t1) for i, (t0, t1) in enumerate([(A, B), (B, C), (C, D), (D, A)])]
        assert enumerate_cycles(square, [A], max_hops=3) == []
        cycles = enumerate_cycles(square, [A], max_hops=4)
        assert [c.tokens for c in cycles] == [(A, B, C, D, A), (A, D, C, B, A)]

    def test_min_hops_drops_short_cycles(self) -> None:
        cycles = enumerate_cycles(triangle(2), [A], max_hops=3, min_hops=3)
        assert len(cycles) == 16
        assert all(len(c.hops) == 3 for c in cycles)

    def test_token_not_in_any_pool_has_no_cycles(self) -> None:
        assert enumerate_cycles(triangle(2), [E]) == []

    @pytest.mark.parametrize("seed", range(4), ids=lambda s: f"seed{s}")
    @pytest.mark.parametrize("max_hops", [2, 3, 4], ids=lambda h: f"max{h}")
    def test_matches_brute_force_over_pool_permutations(self, seed: int, max_hops: int) -> None:
        rng = random.Random(seed)
        tokens = [A, B, C, D, E]
        pools = [pair(i, *rng.sample(tokens, 2)) for i in range(9)]
        starts = rng.sample(tokens, 2)
        cycles = enumerate_cycles(pools, starts, max_hops=max_hops)
        keys = [c.key for c in cycles]
        assert len(keys) == len(set(keys))
        assert set(keys) == brute_force_keys(pools, starts, max_hops)


class TestShape:
    """Every cycle is simple, closed, uses each pool once, and comes in both directions."""

    @pytest.fixture
    def cycles(self) -> list[Cycle]:
        pools = [*triangle(2), pair(90, A, D), pair(91, D, B), pair(92, C, D)]
        return enumerate_cycles(pools, [A, B], max_hops=4)

    def test_no_pool_reused(self, cycles: list[Cycle]) -> None:
        assert all(len(set(c.pools)) == len(c.pools) for c in cycles)

    def test_start_token_only_at_ends_and_no_token_revisited(self, cycles: list[Cycle]) -> None:
        for cycle in cycles:
            inner = cycle.tokens[1:-1]
            assert cycle.tokens[0] == cycle.tokens[-1] == cycle.token
            assert cycle.token not in inner
            assert len(set(inner)) == len(inner)

    def test_hops_chain_and_carry_pool_fee(self, cycles: list[Cycle]) -> None:
        for cycle in cycles:
            for hop in cycle.hops:
                assert hop.fee_pips == 3000
                assert hop.kind is HopKind.UNISWAP_V2
            assert all(a.token_out == b.token_in for a, b in pairwise(cycle.hops))

    def test_both_directions_present(self, cycles: list[Cycle]) -> None:
        keys = {c.key for c in cycles}
        for cycle in cycles:
            assert (cycle.token, *reversed(cycle.pools)) in keys

    def test_ring_appears_once_per_start_token(self, cycles: list[Cycle]) -> None:
        rooted_at = {
            c.token
            for c in cycles
            if set(c.pools) == {address(0x1000), address(0x1001), address(0x1002)}
        }
        assert rooted_at == {A, B}

    def test_order_is_deterministic(self) -> None:
        pools = [*triangle(2), pair(90, A, D), pair(91, D, B)]
        expected = enumerate_cycles(pools, [A, B], max_hops=4)
        for seed in range(5):
            shuffled = pools[:]
            random.Random(seed).shuffle(shuffled)
            assert enumerate_cycles(shuffled, [B, A.lower(), B], max_hops=4) == expected
        lengths = [len(c.hops) for c in expected if c.token == expected[0].token]
        assert lengths == sorted(lengths)


class TestIndex:
    """by_pool lists exactly the cycles through each pool; cycles_touching unions them."""

    @pytest.fixture
    def index(self) -> CycleIndex:
        return CycleIndex.build([*triangle(2), pair(90, A, D), pair(91, D, B)], [A, B], max_hops=4)

    def test_pool_csr_is_exact(self, index: CycleIndex) -> None:
        """For every pool of the graph, the CSR slice lists exactly the cycles through it."""
        through = {p for c in index.cycles for p in c.pools}
        for pool in index.graph.pools:
            indices = index.cycle_ids_of_pool(pool).tolist()
            assert indices == [i for i, c in enumerate(index.cycles) if pool in c.pools]
            assert bool(indices) == (pool in through)
        assert int(index.pool_ptr[-1]) == sum(len(c.hops) for c in index.cycles)

    def test_cycles_touching_unions_without_duplicates(self, index: CycleIndex) -> None:
        changed = [address(0x1000).lower(), address(0x1090)]
        touching = index.cycles_touching(changed)
        expected = [
            c for c in index.cycles if address(0x1000) in c.pools or address(0x1090) in c.pools
        ]
        assert touching == expected
        assert len({c.key for c in touching}) == len(touching)

    def test_untouched_pool_gives_nothing(self, index: CycleIndex) -> None:
        assert index.cycles_touching([address(0xDEAD)]) == []
        assert len(index) == len(index.cycles)

    def test_cycle_objects_kept_are_bounded_and_rebuilt_equal(
        self, index: CycleIndex, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A long run touches cycle after cycle: the index keeps only the last used, and a
        cycle built again after it was let go equals the first build."""
        monkeypatch.setattr(cycles_module, "CYCLE_CACHE", 3)
        first = [index.cycle(i) for i in range(len(index))]
        assert len(index) > 3 and len(index._cycles) == 3
        index.cycle(len(index) - 3)  # used again: kept over the two built after it
        index.cycle(0)
        assert list(index._cycles) == [len(index) - 1, len(index) - 3, 0]
        assert [index.cycle(i) for i in range(len(index))] == first


class TestBadInput:
    """Bad arguments fail with a FlasharbValueError that says what is wrong."""

    @pytest.mark.parametrize(
        ("min_hops", "max_hops"), [(1, 3), (2, 5), (3, 2)], ids=["min1", "max5", "min>max"]
    )
    def test_hop_bounds(self, min_hops: int, max_hops: int) -> None:
        with pytest.raises(FlasharbValueError, match="min_hops"):
            enumerate_cycles(triangle(1), [A], max_hops=max_hops, min_hops=min_hops)

    def test_same_pool_with_two_states_is_rejected(self) -> None:
        stale = V2PairState(address=address(0x1000), token0=A, token1=B, reserve0=1, reserve1=1)
        with pytest.raises(FlasharbValueError, match="given twice"):
            enumerate_cycles([*triangle(1), stale], [A])

    def test_identical_duplicate_pool_is_ignored(self) -> None:
        assert enumerate_cycles(triangle(1) * 2, [A]) == enumerate_cycles(triangle(1), [A])

    def test_broken_route_is_rejected(self) -> None:
        hops = (
            Hop(pool=address(1), token_in=A, token_out=B, fee_pips=3000),
            Hop(pool=address(2), token_in=C, token_out=A, fee_pips=3000),
        )
        with pytest.raises(FlasharbValueError, match="broken route"):
            Cycle(token=A, hops=hops)
