"""What to send: the one selection policy (`select`): the pool-disjoint set of at most `top`
opportunities with the largest total net profit; and `select_disjoint`, the pool-disjoint set
of any size with the largest total (what a scan shows as compatible).

Trades in one block change each other's pools, so two picks must not share a pool.
`select` is a branch and bound over the opportunities best first: a set is extended only by
later (smaller) ones, and a branch stops when its value plus the next ones it could still take
cannot beat the best set found; the first set it meets is the greedy one, so a search cut
short by `NODE_BUDGET` is never worse than greedy. Because the best set of `top` only ever
needs an opportunity whose value plus the `top - 1` largest others reaches the best total
found, a caller can leave most candidates unsized (`OpportunityBook.select`).
`select_disjoint` is maximum-weight independent set on the conflict graph (an edge between two
opportunities that share a pool): solved exactly per connected component by branch and bound,
and greedily for components larger than `EXACT_LIMIT` candidates or when a component exhausts
`NODE_BUDGET` search nodes (the best set found so far is kept; it is never worse than greedy).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

from flasharb.errors import FlasharbValueError

__all__ = ["EXACT_LIMIT", "NODE_BUDGET", "select", "select_disjoint"]

EXACT_LIMIT = 48  # candidates per conflict component solved exactly
NODE_BUDGET = 100_000  # branch-and-bound nodes per component before settling for the best seen


class _Selectable(Protocol):
    @property
    def net_profit(self) -> int: ...
    @property
    def net_profit_eth(self) -> int: ...
    @property
    def cycle(self) -> _HasPools: ...


class _HasPools(Protocol):
    @property
    def pools(self) -> tuple[str, ...]: ...
    @property
    def key(self) -> tuple[str, ...]: ...


def _components(opps: Sequence[_Selectable]) -> list[list[int]]:
    """Indices of opportunities grouped by shared pools (union-find over pools)."""
    parent = list(range(len(opps)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, opp in enumerate(opps):
        for pool in opp.cycle.pools:
            j = owner.setdefault(pool, i)
            ri, rj = find(i), find(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    groups: dict[int, list[int]] = {}
    for i in range(len(opps)):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def _greedy(weights: Sequence[int], conflicts: Sequence[int]) -> int:
    taken, blocked = 0, 0
    for i in range(len(weights)):
        if not blocked >> i & 1:
            taken |= 1 << i
            blocked |= conflicts[i] | 1 << i
    return taken


def _exact(weights: Sequence[int], conflicts: Sequence[int]) -> int:
    """Bitmask of the maximum-weight independent set; weights sorted descending."""
    best_mask = _greedy(weights, conflicts)
    best = sum(w for i, w in enumerate(weights) if best_mask >> i & 1)
    nodes = 0

    def bound(mask: int) -> int:
        total = 0
        while mask:
            low = mask & -mask
            total += weights[low.bit_length() - 1]
            mask ^= low
        return total

    def search(candidates: int, chosen: int, value: int) -> None:
        nonlocal best, best_mask, nodes
        nodes += 1
        if candidates == 0:
            if value > best:
                best, best_mask = value, chosen
            return
        if nodes > NODE_BUDGET or value + bound(candidates) <= best:
            return
        low = candidates & -candidates  # heaviest remaining candidate
        i = low.bit_length() - 1
        search(candidates & ~conflicts[i] & ~low, chosen | low, value + weights[i])
        if candidates & conflicts[i]:  # without conflicts, taking it dominates leaving it
            search(candidates & ~low, chosen, value)

    search((1 << len(weights)) - 1, 0, 0)
    return best_mask


T = TypeVar("T", bound=_Selectable)


def select_disjoint(opportunities: Iterable[T]) -> list[T]:
    """The pool-disjoint subset with the largest total `net_profit_eth`, best first.

    Only opportunities with positive `net_profit_eth` are considered (others never add).
    Ties in total go to the set the search meets first, which prefers higher-ranked picks.
    """
    ranked = sorted(
        (o for o in opportunities if o.net_profit_eth > 0),
        key=lambda o: (-o.net_profit_eth, o.cycle.key),
    )
    taken: list[T] = []
    for group in _components(ranked):
        members = [ranked[i] for i in group]  # ascending index: still best first
        holders: dict[str, int] = {}  # pool -> bitmask of members through it
        for i, o in enumerate(members):
            for pool in o.cycle.pools:
                holders[pool] = holders.get(pool, 0) | 1 << i
        conflicts = [0] * len(members)
        for i, o in enumerate(members):
            for pool in o.cycle.pools:
                conflicts[i] |= holders[pool]
            conflicts[i] &= ~(1 << i)
        weights = [o.net_profit_eth for o in members]
        if len(members) <= EXACT_LIMIT:
            mask = _exact(weights, conflicts)
        else:
            mask = _greedy(weights, conflicts)
        taken.extend(o for i, o in enumerate(members) if mask >> i & 1)
    taken.sort(key=lambda o: (-o.net_profit_eth, o.cycle.key))
    return taken


def select(opportunities: Iterable[T], *, top: int, min_net_profit_eth: int = 0) -> list[T]:
    """The one selection policy every command uses (`execute`, `demo`, `run`, experiments, the
    backrunner): of the opportunities that net a profit in their own token and more than
    `min_net_profit_eth` in ETH, the pool-disjoint set of at most `top` with the largest total
    `net_profit_eth`; best first. Ties go to the set met first, best first (the greedy pick
    wins a tie)."""
    if top < 1:
        raise FlasharbValueError(f"top must be at least 1, got {top}")
    ranked = sorted(
        (o for o in opportunities if o.net_profit > 0 and o.net_profit_eth > min_net_profit_eth),
        key=lambda o: (-o.net_profit_eth, o.cycle.key),
    )
    values = [o.net_profit_eth for o in ranked]
    holders: dict[str, int] = {}  # pool -> bitmask of the opportunities through it
    for i, o in enumerate(ranked):
        for pool in o.cycle.pools:
            holders[pool] = holders.get(pool, 0) | 1 << i
    conflicts = [0] * len(ranked)  # i -> bitmask of those sharing a pool with i (i included)
    for i, o in enumerate(ranked):
        for pool in o.cycle.pools:
            conflicts[i] |= holders[pool]
    greedy: tuple[int, ...] = ()
    free = (1 << len(ranked)) - 1
    while free and len(greedy) < top:  # the greedy pick first: what a cut search keeps at least
        j = (free & -free).bit_length() - 1
        greedy, free = (*greedy, j), free & ~conflicts[j]
    best: tuple[int, tuple[int, ...]] = (sum(values[j] for j in greedy), greedy)
    nodes = 0

    def search(candidates: int, chosen: tuple[int, ...], value: int) -> None:
        """Extend `chosen` by the `candidates` (a bitmask; lowest bit = best value)."""
        nonlocal best, nodes
        nodes += 1
        if value > best[0]:
            best = (value, chosen)
        room = top - len(chosen)
        while room and candidates:
            low = candidates & -candidates
            j = low.bit_length() - 1
            if nodes > NODE_BUDGET or value + sum(values[j : j + room]) <= best[0]:
                return  # nothing from j on can beat the best (values descend)
            search((candidates ^ low) & ~conflicts[j], (*chosen, j), value + values[j])
            candidates ^= low

    search((1 << len(ranked)) - 1, (), 0)
    return [ranked[i] for i in best[1]]
