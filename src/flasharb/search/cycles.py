"""Arbitrage cycles over the token graph, and an index from each pool to the cycles through it.

A cycle borrows `token` (the flash-loan token), swaps it through 2-4 pools and ends in
`token` again. When pool state changes, only the cycles in `CycleIndex.cycles_touching` need
re-evaluating (DESIGN.md section 4).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise

from flasharb.amm.uniswap_v2 import V2PairState, checksum_address
from flasharb.errors import FlasharbValueError

__all__ = ["MAX_HOPS", "Cycle", "CycleIndex", "Hop", "enumerate_cycles"]

MAX_HOPS = 4  # longest route FlashArbFacet executes; also bounds enumeration cost
MIN_HOPS = 2  # a 1-hop "cycle" would need token_in == token_out


@dataclass(frozen=True, slots=True, kw_only=True)
class Hop:
    """One swap of a route: sell `token_in` into `pool`, receive `token_out`."""

    pool: str
    token_in: str
    token_out: str
    fee_pips: int  # hundredths of a bip, copied from the pool state at enumeration
    kind: str = "uniswap_v2"  # hop encoding for FlashArbFacet (V2-style pair, any venue)


@dataclass(frozen=True, slots=True, kw_only=True)
class Cycle:
    """A closed route that starts and ends in `token`, the token borrowed and repaid."""

    token: str
    hops: tuple[Hop, ...]

    def __post_init__(self) -> None:
        if not self.hops:
            raise FlasharbValueError("a cycle needs at least one hop")
        if self.hops[0].token_in != self.token or self.hops[-1].token_out != self.token:
            raise FlasharbValueError(
                f"cycle must start and end in {self.token}: "
                f"{self.hops[0].token_in} ... {self.hops[-1].token_out}"
            )
        for prev, nxt in pairwise(self.hops):
            if prev.token_out != nxt.token_in:
                raise FlasharbValueError(
                    f"broken route: hop via {prev.pool} gives {prev.token_out}, "
                    f"next hop via {nxt.pool} takes {nxt.token_in}"
                )

    @property
    def pools(self) -> tuple[str, ...]:
        """Pool addresses in route order."""
        return tuple(hop.pool for hop in self.hops)

    @property
    def tokens(self) -> tuple[str, ...]:
        """Tokens visited, `token` at both ends."""
        return (self.token, *(hop.token_out for hop in self.hops))

    @property
    def key(self) -> tuple[str, ...]:
        """Identity for dedup: the start token and the pools in order fix every hop."""
        return (self.token, *self.pools)


def _unique_pools(pools: Iterable[V2PairState]) -> list[V2PairState]:
    by_address: dict[str, V2PairState] = {}
    for pool in pools:
        seen = by_address.get(pool.address)
        if seen is not None and seen != pool:
            raise FlasharbValueError(f"pool {pool.address} given twice with different state")
        by_address[pool.address] = pool
    return [by_address[address] for address in sorted(by_address, key=str.lower)]


def _check_hops(min_hops: int, max_hops: int) -> None:
    if not MIN_HOPS <= min_hops <= max_hops <= MAX_HOPS:
        raise FlasharbValueError(
            f"need {MIN_HOPS} <= min_hops <= max_hops <= {MAX_HOPS}, "
            f"got min_hops={min_hops}, max_hops={max_hops}"
        )


def enumerate_cycles(
    pools: Iterable[V2PairState],
    start_tokens: Iterable[str],
    max_hops: int = 3,
    min_hops: int = 2,
) -> list[Cycle]:
    """Every simple cycle of `min_hops..max_hops` hops rooted at one of `start_tokens`.

    A cycle never uses a pool twice and never revisits a token: its start token appears only
    at both ends. The two directions of a ring are distinct cycles, and a ring through several
    start tokens appears once per start token (the borrowed token differs).

    Order is deterministic whatever the input order: by start token, then hop count, then the
    pool addresses along the route.
    """
    _check_hops(min_hops, max_hops)
    unique = _unique_pools(pools)
    adjacency: dict[str, list[V2PairState]] = {}
    for pool in unique:  # sorted, so adjacency lists are sorted too
        adjacency.setdefault(pool.token0, []).append(pool)
        adjacency.setdefault(pool.token1, []).append(pool)
    starts = sorted({checksum_address(token) for token in start_tokens}, key=str.lower)

    cycles: list[Cycle] = []
    for start in starts:
        for hops in _walk(start, start, adjacency, (), set(), {start}, min_hops, max_hops):
            cycles.append(Cycle(token=start, hops=hops))
    cycles.sort(key=lambda c: (c.token.lower(), len(c.hops), [p.lower() for p in c.pools]))
    return cycles


def _walk(
    start: str,
    token: str,
    adjacency: dict[str, list[V2PairState]],
    path: tuple[Hop, ...],
    used_pools: set[str],
    visited: set[str],
    min_hops: int,
    max_hops: int,
) -> Iterator[tuple[Hop, ...]]:
    depth = len(path) + 1
    for pool in adjacency.get(token, ()):
        if pool.address in used_pools:
            continue
        nxt = pool.token1 if token == pool.token0 else pool.token0
        hop = Hop(pool=pool.address, token_in=token, token_out=nxt, fee_pips=pool.fee_pips)
        if nxt == start:
            if depth >= min_hops:
                yield (*path, hop)
        elif depth < max_hops and nxt not in visited:
            used_pools.add(pool.address)
            visited.add(nxt)
            yield from _walk(
                start, nxt, adjacency, (*path, hop), used_pools, visited, min_hops, max_hops
            )
            visited.discard(nxt)
            used_pools.discard(pool.address)


class CycleIndex:
    """Cycles plus, for every pool, the indices of the cycles that pass through it."""

    __slots__ = ("by_pool", "cycles")

    def __init__(self, cycles: Iterable[Cycle]) -> None:
        self.cycles: tuple[Cycle, ...] = tuple(cycles)
        self.by_pool: dict[str, list[int]] = {}
        for i, cycle in enumerate(self.cycles):
            for pool in cycle.pools:  # a cycle never repeats a pool, so no duplicate indices
                self.by_pool.setdefault(pool, []).append(i)

    @classmethod
    def build(
        cls,
        pools: Iterable[V2PairState],
        start_tokens: Iterable[str],
        max_hops: int = 3,
        min_hops: int = 2,
    ) -> CycleIndex:
        """Enumerate the cycles (see `enumerate_cycles`) and index them."""
        return cls(enumerate_cycles(pools, start_tokens, max_hops=max_hops, min_hops=min_hops))

    def __len__(self) -> int:
        return len(self.cycles)

    def cycles_touching(self, pools: Iterable[str]) -> list[Cycle]:
        """Cycles through any of `pools` (addresses in any case), each once, in index order."""
        indices: set[int] = set()
        for pool in pools:
            indices.update(self.by_pool.get(checksum_address(pool), ()))
        return [self.cycles[i] for i in sorted(indices)]
