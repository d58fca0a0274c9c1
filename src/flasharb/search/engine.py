"""The search engine: edge rates in arrays, a vectorised screen over every cycle, exact sizing
of the candidates, and incremental re-evaluation of only the cycles a state change touches.

    engine = SearchEngine(CycleIndex.build(pools, flash_tokens, max_hops=4), states)
    found = engine.scan()                     # screen all cycles, size the candidates exactly
    delta = engine.update([new_state, ...])   # re-evaluate only the cycles through those pools
    moved = engine.evaluate({pool: state})    # the same on hypothetical states, engine untouched

Screen: `sum(log r) > -SCREEN_MARGIN` over a cycle's edges (rates.py), optionally with a floor
on the smooth profit estimate (e.g. the gas bill: see `set_floor`, `set_min_gross`). Sizing:
`exact.size_cycle`, seeded by the vectorised closed form. Only exact results are kept.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from flasharb.amm.pool import PoolState
from flasharb.errors import FlasharbValueError
from flasharb.kinds import HopKind
from flasharb.search.cycles import CycleIndex
from flasharb.search.exact import size_cycle
from flasharb.search.graph import hop_fee_pips, routable
from flasharb.search.rates import EdgeRates, closed_form, compose
from flasharb.search.sizing import SizedCycle
from flasharb.search.venue import venue_of
from flasharb.state.registry import normal_uid

__all__ = ["MIXED_SLACK", "SCREEN_MARGIN", "EngineUpdate", "SearchEngine"]

SCREEN_MARGIN = 1e-9  # the screen lets through cycles this close to break-even (in log rate)
# With a floor, a route with V3 or Balancer hops is kept if MIXED_SLACK times its stand-in
# estimate reaches the floor: the stand-in is not a bound there (liquidity beyond the current
# tick range may be deeper). For pure constant-product routes the smooth profit is a proven
# upper bound of the exact one, so the floor is applied as is. Measured and rejected: the
# closed form as a proven bound for mixed routes whose stand-in optimum keeps every V3 / V4 hop
# before its next initialized tick (there the stand-in is the smooth curve): it matched
# exact.gross_bound to 1e-11 on synthetic markets, but after the 500 WETH shock the first pick
# still refined 518 routes of 522 (the arbitrage is large, its hops cross ticks), and at 4 hops
# the thousands refined a block went through Balancer pools or crossed ticks too.
MIXED_SLACK = 4.0

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Floor = Callable[[IntArray], FloatArray]  # cycle ids -> least smooth gross profit worth sizing


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineUpdate:
    """What one `update` re-evaluated and found."""

    pools: int  # pools whose state changed
    affected: int  # cycles through them, re-screened
    candidates: int  # of those, passed the screen and were sized exactly
    sized: tuple[SizedCycle, ...]  # of those, profitable, in cycle order


class SearchEngine:
    """Rates, screen and exact sizing over a `CycleIndex`, for one evolving set of states."""

    __slots__ = (
        "_affected",
        "constant_product",
        "floor",
        "graph",
        "index",
        "padded",
        "rates",
        "sized",
        "states",
    )

    def __init__(self, index: CycleIndex, states: Mapping[str, PoolState]) -> None:
        """`states` must hold a state for every pool of the index (keyed by uid)."""
        self.index = index
        self.graph = index.graph
        self.states: dict[str, PoolState] = {}
        for address in self.graph.pools:
            state = states.get(address)
            if state is None:
                raise FlasharbValueError(f"no state for pool {address}; read it first")
            self.states[address] = state
        self.rates = EdgeRates(self.graph, self.states)
        n_edges = self.graph.n_edges
        valid = index.edges >= 0
        self.padded = np.where(valid, index.edges, n_edges).astype(np.int32)
        v2 = int(HopKind.UNISWAP_V2)
        kinds = np.append(self.graph.edge_kind, np.int8(v2))[self.padded]
        self.constant_product: npt.NDArray[np.bool_] = np.all(kinds == v2, axis=1)
        self.floor: Floor | None = None
        self.sized: dict[int, SizedCycle] = {}  # profitable cycles, by cycle id
        self._affected = np.zeros(len(index), dtype=np.bool_)

    def __len__(self) -> int:
        return len(self.index)

    # ------------------------------------------------------------ vectorised float stages

    def _ids(self, ids: IntArray | None) -> IntArray:
        return np.arange(len(self.index), dtype=np.int64) if ids is None else ids

    def log_rates(self, ids: IntArray | None = None, rates: EdgeRates | None = None) -> FloatArray:
        """Sum of the log marginal rates after fee of each cycle (> 0: profitable at the
        margin)."""
        rows = self.padded if ids is None else np.take(self.padded, ids, axis=0)
        values = np.take((rates or self.rates).log_rate, rows)
        total: FloatArray = values[:, 0] + values[:, 1]  # faster than sum(axis=1) on 4 columns
        for j in range(2, values.shape[1]):
            total += values[:, j]
        return total

    def closed_form(
        self, ids: IntArray | None = None, rates: EdgeRates | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """(x*, smooth profit) of each cycle's constant-product stand-in, in start-token wei."""
        rows = self.padded if ids is None else np.take(self.padded, ids, axis=0)
        edge = rates or self.rates
        r, c = compose(edge.rate, edge.curv, rows)
        return closed_form(r, c)

    def set_min_gross(self, floor: FloatArray | None) -> None:
        """Per-cycle floor on the smooth gross profit estimate (start-token wei), or None.

        `rank` sets it to the gas bill at the cheapest gas (no V3 tick crossed) plus the
        minimum net profit, converted into each cycle's token: a cycle that cannot pay its own
        gas is not sized.
        """
        if floor is not None and floor.shape != (len(self.index),):
            raise FlasharbValueError(
                f"min_gross needs one value per cycle ({len(self.index)}), got {floor.shape}"
            )
        self.floor = None if floor is None else floor.__getitem__

    def set_floor(self, floor: Floor | None) -> None:
        """Like `set_min_gross`, as a function computed only for the cycles being screened
        (the market's: the gas bill at the current gas price and ETH prices)."""
        self.floor = floor

    def candidates(
        self, ids: IntArray | None = None, rates: EdgeRates | None = None
    ) -> tuple[IntArray, FloatArray]:
        """(ids passing the screen, their closed-form x*), ids ascending."""
        passing, x_star, _ = self.screen(ids, rates)
        return passing, x_star

    def screen(
        self, ids: IntArray | None = None, rates: EdgeRates | None = None
    ) -> tuple[IntArray, FloatArray, FloatArray]:
        """(ids passing the screen, their closed-form x*, their gross-profit bound), ids
        ascending. The bound (start-token wei, float) is the one the floor is applied to: the
        smooth profit of a constant-product route (proven at least its exact optimum), and
        `MIXED_SLACK` times its stand-in's for a route with V3, Balancer or V4 hops (trusted,
        not proven; tests/fork/test_scan_shock.py holds every sized candidate under it)."""
        ids = self._ids(ids)
        passing = ids[self.log_rates(ids, rates) > -SCREEN_MARGIN]
        x_star, profit = self.closed_form(passing, rates)
        bound: FloatArray = profit * np.where(self.constant_product[passing], 1.0, MIXED_SLACK)
        if self.floor is not None and passing.size:
            keep = bound >= self.floor(passing) * (1.0 - SCREEN_MARGIN)
            passing, x_star, bound = passing[keep], x_star[keep], bound[keep]
        return passing, x_star, bound

    # ------------------------------------------------------------ exact stages

    def size(
        self, cycle_id: int, seed: int | None = None, states: Mapping[str, PoolState] | None = None
    ) -> SizedCycle:
        """Exact sizing of one cycle on the current states (or `states`)."""
        return size_cycle(
            self.index.cycle(cycle_id), self.states if states is None else states, seed
        )

    def _size_all(self, ids: IntArray, x_star: FloatArray) -> list[SizedCycle]:
        found = []
        for i, x in zip(ids.tolist(), x_star.tolist(), strict=True):
            sized = self.size(i, max(int(x), 1))
            if sized.profit > 0:
                self.sized[i] = sized
                found.append(sized)
        return found

    def scan(self) -> list[SizedCycle]:
        """Screen every cycle, size the candidates exactly; the profitable ones, in cycle order
        (also kept in `sized` for later updates)."""
        self.sized = {}
        ids, x_star = self.candidates()
        return self._size_all(ids, x_star)

    def results(self) -> list[SizedCycle]:
        """Every profitable cycle as of the last scan and updates, in cycle order."""
        return [self.sized[i] for i in sorted(self.sized)]

    def _pool_ids(self, states: Iterable[PoolState]) -> list[int]:
        """Ids of the pools of `states`, checked against the indexed ones.

        Raises:
            FlasharbValueError: a pool not in the index, or a state whose tokens, type or
                (V2/V3) fee differ from the indexed pool's (the graph changed: rebuild).
        """
        pids = []
        for state in states:
            if state.uid not in self.graph.pool_index and not routable(state):
                continue  # read and priced, never routed (not in the graph)
            pid = self.graph.pool_id(state.uid)
            old = self.states[self.graph.pools[pid]]
            if (
                type(state) is not type(old)
                or tuple(state.tokens) != tuple(old.tokens)
                or venue_of(state).hop_kind is not venue_of(old).hop_kind
                or (not venue_of(state).batch and hop_fee_pips(state) != hop_fee_pips(old))
            ):  # a Balancer fee may change (governance): the math reads it from the state
                raise FlasharbValueError(
                    f"pool {state.uid}: new state has other tokens, type or fee than the indexed "
                    "one; rebuild the index"
                )
            pids.append(pid)
        return sorted(set(pids))

    def evaluate(self, moved: Mapping[str, PoolState]) -> tuple[IntArray, list[SizedCycle]]:
        """The cycles through the pools of `moved` (address -> hypothetical state: a pending
        swap applied), screened and sized on those states; the engine's own rates, states and
        results are untouched. Returns (their ids, the profitable ones sized, in id order).

        Raises:
            FlasharbValueError: as `apply`.
        """
        pids = self._pool_ids(moved.values())
        rates = self.rates.copy()
        rates.update({**self.states, **{normal_uid(a): s for a, s in moved.items()}}, pids)
        ids = self.index.cycle_ids_of_pool_ids(np.asarray(pids, dtype=np.int64))
        passing, x_star = self.candidates(ids, rates)
        states = ChainMap({normal_uid(a): s for a, s in moved.items()}, self.states)
        found = []
        for i, x in zip(passing.tolist(), x_star.tolist(), strict=True):
            sized = self.size(i, max(int(x), 1), states)
            if sized.profit > 0:
                found.append(sized)
        return ids, found

    def apply(self, changed: Iterable[PoolState] | Mapping[str, PoolState]) -> IntArray:
        """Take new states for some pools: update their edges' rates and forget the sized
        results of the cycles through them. Returns those cycles' ids (ascending), which
        `candidates` and sizing must re-evaluate; `update` does all of it.

        Raises:
            FlasharbValueError: a pool not in the index, or a state whose tokens, type or
                (V2/V3) fee differ from the indexed pool's (the graph changed: rebuild).
        """
        states = list(changed.values()) if isinstance(changed, Mapping) else list(changed)
        pids = self._pool_ids(states)
        for state in states:
            if state.uid in self.graph.pool_index:
                self.states[state.uid] = state
        self.rates.update(self.states, pids)
        ids = self.index.cycle_ids_of_pool_ids(np.asarray(pids, dtype=np.int64))
        if self.sized:
            self._affected[ids] = True
            for stale in [i for i in self.sized if self._affected[i]]:
                del self.sized[stale]
            self._affected[ids] = False
        return ids

    def update(self, changed: Iterable[PoolState] | Mapping[str, PoolState]) -> EngineUpdate:
        """Take new states for some pools and re-evaluate only the cycles through them:
        `apply`, then screen those cycles and size their candidates exactly.

        Raises:
            FlasharbValueError: as `apply`.
        """
        states = list(changed.values()) if isinstance(changed, Mapping) else list(changed)
        ids = self.apply(states)
        passing, x_star = self.candidates(ids)
        found = self._size_all(passing, x_star)
        return EngineUpdate(
            pools=len({s.uid for s in states}),
            affected=int(ids.size),
            candidates=int(passing.size),
            sized=tuple(found),
        )
