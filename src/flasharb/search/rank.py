"""Opportunities: sized cycles with their capital source and costs, in exact integers, and the
`OpportunityBook` that keeps every cycle's current opportunity across state changes.

    net = gross - flash fee - gas_estimate * gas_price (converted into the profit token)

An `Opportunity` carries everything the planner needs and nothing it has to look up: the route
(hops with kinds, fees and Balancer pool ids), the exact input and every hop's exact output,
the V3 ticks crossed, the one `FlashSource`, and the costs. Profits are in the borrowed token;
to compare them across tokens they are valued in ETH wei through each token's deepest WETH
pool of any venue (valuation.py: a mid price, as an exact ratio). Gas comes from the one
`GasModel` (gas.py) on the route's exact calldata.

The book is pure (no RPC): the market feeds it states, lenders and the gas price.
"""

from __future__ import annotations

import heapq
import math
from bisect import insort
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from time import perf_counter

import numpy as np
import numpy.typing as npt

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.errors import FlasharbValueError
from flasharb.search.capital import FlashSource, Funded, Lender, Lenders, fund
from flasharb.search.cycles import Cycle, CycleIndex
from flasharb.search.engine import SearchEngine
from flasharb.search.exact import gross_bound
from flasharb.search.gas import GasModel, GasShape
from flasharb.search.route import encode_amounts, encode_path, execute_arb_calldata
from flasharb.search.segments import forget_curves
from flasharb.search.select import rank_key
from flasharb.search.sizing import SizedCycle
from flasharb.search.valuation import EthPrice, PriceBook, eth_price
from flasharb.state.registry import normal_uid

__all__ = [
    "BookUpdate",
    "Opportunity",
    "OpportunityBook",
    "SelectStats",
    "SCREEN_GAS_FACTOR",
    "cost",
    "gross_floor",
    "rank",
]

# The screen's gas floor is the gas bill at this fraction of the current gas price: cycles that
# a gas price this much lower would make worth trading are sized and kept (their net is
# re-costed every block); below it the whole index is screened again.
SCREEN_GAS_FACTOR = 0.5
_DEADLINE_GUESS = 2  # blocks ahead, for the calldata bytes of the gas figure
_HEADROOM = 1e-9  # relative float headroom of the net bounds (`_net_bounds`, `_refine`)


@dataclass(frozen=True, slots=True, kw_only=True)
class Opportunity:
    """A cycle at its best input, funded, costed. Amounts are wei of `cycle.token` unless
    named `_eth`."""

    cycle: Cycle
    source: FlashSource
    amount_in: int  # borrowed (or taken from inventory; a batch swap borrows nothing)
    amounts: tuple[int, ...]  # each hop's exact output; amounts[-1] comes back
    ticks_crossed: int  # initialized V3 ticks the route crosses (in gas_estimate)
    flash_fee: int  # owed to the lender on top of amount_in
    gas_estimate: int  # gas units (GasModel on the exact calldata)
    gas_price_wei: int  # the gas price it was costed at (next block's base fee + tip)
    gas_cost: int  # gas_estimate * gas_price_wei, converted into cycle.token
    net_profit: int  # gross_profit - flash_fee - gas_cost
    net_profit_eth: int  # net_profit valued in ETH wei, for ranking across tokens
    price: EthPrice  # 1 token wei = price.num / price.den ETH wei
    block: int = 0  # the block whose states it was computed on
    v4_ticks_crossed: int = 0  # initialized V4 ticks the route crosses (priced apart)

    @property
    def amount_out(self) -> int:
        """What the last hop pays back, in the route token."""
        return self.amounts[-1]

    @property
    def gross_profit(self) -> int:
        """amount_out - amount_in, before the flash fee and gas."""
        return self.amount_out - self.amount_in

    @property
    def predicted_profit(self) -> int:
        """The diamond's gain in the route token if executed now: out - in - fee."""
        return self.gross_profit - self.flash_fee

    @property
    def flash_source(self) -> str:
        """The capital source's JSON label (`source.label`: "balancer_v2", "uniswap_v3", ...)."""
        return self.source.label

    def to_json(self) -> dict[str, object]:
        """The `flasharb scan --json` shape (DESIGN.md section 5) plus `lender`, `amount_out`,
        `amounts_out`, `gas_cost`, `gas_price_wei`, `net_profit_eth` and `ticks_crossed`;
        every amount is a decimal string."""
        return {
            "route": [
                {
                    "pool": hop.pool,
                    "kind": hop.kind.label,
                    "token_in": hop.token_in,
                    "token_out": hop.token_out,
                }
                for hop in self.cycle.hops
            ],
            "flash_source": self.source.label,
            "profit_token": self.cycle.token,
            "amount_in": str(self.amount_in),
            "gross_profit": str(self.gross_profit),
            "flash_fee": str(self.flash_fee),
            "gas_estimate": str(self.gas_estimate),
            "net_profit": str(self.net_profit),
            "lender": self.source.lender,
            "amount_out": str(self.amount_out),
            "amounts_out": [str(a) for a in self.amounts],
            "gas_cost": str(self.gas_cost),
            "gas_price_wei": str(self.gas_price_wei),
            "net_profit_eth": str(self.net_profit_eth),
            "ticks_crossed": self.ticks_crossed,
            "v4_ticks_crossed": self.v4_ticks_crossed,
            "block": self.block,
        }


def cost(
    funded: Funded,
    price: EthPrice,
    *,
    gas_price_wei: int,
    gas_model: GasModel,
    block: int = 0,
) -> Opportunity:
    """The opportunity of a funded cycle at `gas_price_wei`: flash fee, gas on the exact
    calldata (the guard `minProfit` guessed as the gross profit: a few bytes either way), net
    profit in the token and in ETH."""
    sized, source = funded.sized, funded.source
    cycle = sized.cycle
    fee = funded.fee
    calldata = execute_arb_calldata(
        source.word,
        encode_path(cycle),
        encode_amounts(sized.amount_in, sized.amounts),
        max(sized.profit, 0),
        block + _DEADLINE_GUESS,
    )
    gas = gas_model.estimate(
        GasShape.of(
            cycle,
            source=source.kind,
            native_loan=source.native,
            batch=source.batch,
            ticks_crossed=sized.ticks_crossed,
            v4_ticks_crossed=sized.v4_ticks_crossed,
            calldata=calldata,
        )
    )
    gas_cost = price.from_eth(gas * gas_price_wei)
    net = sized.profit - fee - gas_cost
    return Opportunity(
        cycle=cycle,
        source=source,
        amount_in=sized.amount_in,
        amounts=sized.amounts,
        ticks_crossed=sized.ticks_crossed,
        v4_ticks_crossed=sized.v4_ticks_crossed,
        flash_fee=fee,
        gas_estimate=gas,
        gas_price_wei=gas_price_wei,
        gas_cost=gas_cost,
        net_profit=net,
        net_profit_eth=price.to_eth(net),
        price=price,
        block=block,
    )


def _nonzero_bytes(value: int) -> int:
    return sum(1 for b in value.to_bytes((value.bit_length() + 7) // 8, "big") if b)


def recost(
    opp: Opportunity, price: EthPrice, *, gas_price_wei: int, block: int
) -> Opportunity | None:
    """`opp` (the same funded cycle: route, amounts, source) costed again at a new gas price,
    ETH price and block, as `cost` would, without encoding it again: its gas units stand when
    the deadline it would be encoded with has as many non-zero bytes as before (the deadline is
    the only part of the calldata a new block changes, and calldata gas counts zero and
    non-zero bytes). None when they differ: cost it afresh."""
    if opp.block != block and _nonzero_bytes(opp.block + _DEADLINE_GUESS) != _nonzero_bytes(
        block + _DEADLINE_GUESS
    ):
        return None
    gas_cost = price.from_eth(opp.gas_estimate * gas_price_wei)
    net = opp.gross_profit - opp.flash_fee - gas_cost
    return replace(
        opp,
        gas_price_wei=gas_price_wei,
        gas_cost=gas_cost,
        net_profit=net,
        net_profit_eth=price.to_eth(net),
        price=price,
        block=block,
    )


def gross_floor(
    index: CycleIndex,
    prices: Mapping[str, EthPrice],
    *,
    weth: str,
    gas_price_wei: int,
    gas_model: GasModel,
    min_net_profit_eth: int = 0,
    ids: npt.NDArray[np.int64] | None = None,
) -> npt.NDArray[np.float64]:
    """Per cycle (all, or `ids`), the gross profit (start-token wei, float) below which it
    cannot net more than `min_net_profit_eth`: its least gas (gas.py `floor`), plus the
    minimum, converted at the token's ETH price. 0 for start tokens without a WETH pool (sized
    anyway; costing then names the token)."""
    gas = gas_model.floor(index) if ids is None else gas_model.floor(index)[ids]
    eth = gas.astype(np.float64) * gas_price_wei + min_net_profit_eth
    per_token = np.zeros(len(index.graph.tokens))
    starts = index.start if ids is None else index.start[ids]
    for tid in np.unique(starts).tolist():
        token = index.graph.tokens[tid]
        price = prices.get(token) if token != weth else eth_price(prices, token, weth)
        if price is not None:
            per_token[tid] = 1.0 / price.as_float
    floor: npt.NDArray[np.float64] = np.maximum(eth, 0.0) * per_token[starts]
    return floor


@dataclass(frozen=True, slots=True, kw_only=True)
class BookUpdate:
    """What one book update re-evaluated, and how long each stage took (seconds)."""

    pools: int  # pools whose state changed
    affected: int  # cycles through them, re-screened
    candidates: int  # of those, passed the screen: sized when asked for (`OpportunityBook`)
    sized: int  # candidates sized during the update itself (a token no WETH pool prices)
    refunded: int  # kept cycles whose lenders moved: re-funded when next made current
    screen_s: float
    size_s: float
    cost_s: float
    deferred: int = 0  # candidates of the whole book waiting to be sized


@dataclass(frozen=True, slots=True, kw_only=True)
class SelectStats:
    """What one `OpportunityBook.best` made current to pick, and the time each part took
    (seconds): the rest of `total_s` is the bounds and the queue."""

    sized: int  # pending candidates sized exactly (with their funding and costs)
    recosted: int  # stale opportunities re-funded or re-costed
    refined: int  # pending bounds tightened by the smooth model
    waiting: int  # pending and stale entries left as they were
    size_s: float
    cost_s: float
    refine_s: float
    total_s: float


class OpportunityBook:
    """Every cycle's current opportunity over one evolving set of states, worked out lazily.

    Built once over a `CycleIndex`; `update(changed, ...)` takes new states, lenders and a gas
    price: it re-screens the cycles through the changed pools (a vectorised float pass) and
    makes the ones that pass *pending* (seed and gross-profit bound, `SearchEngine.screen`);
    every kept opportunity becomes *stale* (costed at an older gas price, ETH price or
    lenders). Nothing is sized or costed yet. Then:

    - `best(...)` makes current only what could beat the best route: the stale and pending
      cycles in order of their upper bound in ETH (a stale one's gross profit, a pending one's
      gross bound less its least gas; a pending bound is first tightened by the route's smooth
      model), until no bound reaches the best exact value found. `picks(top)` / `select(top)`
      repeat it with the pools of the picks before left out: what they send is what the policy
      (select.py) picks over the whole book, every entry current, to the wei.
    - `opportunities()` makes everything current (sizes every pending candidate that could net
      the guard, re-costs every stale one) and ranks; the run loop reads it after its sends.
    - `evaluate(moved)` answers for hypothetical states (a pending swap) without touching the
      book.

    Making an entry current: a pending cycle is sized exactly (`exact.size_cycle`), funded by
    the cheapest allowed lender (`capital.fund`) and costed (`cost`); a stale one is funded
    again if its token's lenders moved since (unless `fund` would give the same funding), and
    re-costed (`recost`: its gas units stand unless the deadline's bytes changed).

    Measured on the replica, 3 hops, blocks of 2 background swaps (bench/latency.py): a block
    touches 300-4,600 cycles, half pass the screen, and the book holds ~5,000 profitable ones at
    0.1 gwei; sizing and re-costing them all took 0.3-3 s a block. Measured and rejected:
    deferring only the candidates that cannot net the guard (at 0.1 gwei almost none); stopping
    at a bound under the older policies (the pool-disjoint set of any size, then its best `top`;
    the disjoint set of at most `top` with the largest total): a lighter route changes either
    through its conflicts, so each needed every route that could pair with the best sized.
    """

    def __init__(
        self,
        index: CycleIndex,
        states: Mapping[str, PoolState],
        *,
        weth: str,
        lenders: Lenders,
        gas_price_wei: int,
        gas_model: GasModel | None = None,
        min_net_profit_eth: int = 0,
        block: int = 0,
    ) -> None:
        if gas_price_wei < 0:
            raise FlasharbValueError(f"gas_price_wei must be >= 0, got {gas_price_wei}")
        self.index = index
        self.weth = checksum_address(weth)
        self.engine = SearchEngine(index, states)
        self.gas_model = gas_model or GasModel()
        self.lenders = lenders
        self.gas_price_wei = gas_price_wei
        self.min_net_profit_eth = min_net_profit_eth
        self.block = block
        self.prices = PriceBook(self.engine.states.values(), self.weth)
        self._per_token_at = np.zeros(len(index.graph.tokens))  # `_per_token`
        self._reprice(index.graph.tokens)
        self._floor = self.gas_model.floor(index)  # per cycle, static: hop kinds only
        self._screened_at = gas_price_wei
        self.funded: dict[int, Funded] = {}
        self.opps: dict[int, Opportunity] = {}
        # candidates not sized yet: cycle id -> (seed, gross-profit bound in start-token wei)
        self.pending: dict[int, tuple[int, float]] = {}
        self.current: set[int] = set()  # ids of `opps` costed at this block, price and lenders
        self._refined: set[int] = set()  # pending ids whose bound is their smooth model's
        # per cycle id, for select's vectorised bounds: an opportunity's gross profit (nan: none),
        # a pending candidate's gross bound (nan: not pending), whether it is current
        self._gross = np.full(len(index), np.nan)
        self._pbound = np.full(len(index), np.nan)
        self._is_current = np.zeros(len(index), dtype=np.bool_)
        self._held = np.zeros(len(index), dtype=np.bool_)  # in `funded`
        self._lender_version: dict[str, int] = {}  # token -> changes of its lenders
        self._funded_version: dict[int, int] = {}  # cycle id -> its token's version when funded
        self.dropped: dict[str, str] = {}  # token -> why a profitable cycle of it is not ranked
        self.last_select: SelectStats | None = None
        self.engine.set_floor(self._gross_floor)
        self.last = self._rescan()

    # ------------------------------------------------------------ floor and costs

    def _per_token(self) -> npt.NDArray[np.float64]:
        """Token wei per ETH wei of every token of the graph (0: no WETH pool prices it), at
        the current prices (kept, and moved only for the tokens an update re-priced)."""
        return self._per_token_at

    def _reprice(self, tokens: Iterable[str]) -> None:
        index = self.index.graph.token_index
        for token in tokens:
            tid = index.get(token)
            if tid is not None:
                price = self.prices.get(token)
                self._per_token_at[tid] = 0.0 if price is None else 1.0 / price.as_float

    def _gross_floor(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        gas = self._floor[ids].astype(np.float64) * (self.gas_price_wei * SCREEN_GAS_FACTOR)
        eth = np.maximum(gas + self.min_net_profit_eth, 0.0)
        floor: npt.NDArray[np.float64] = eth * self._per_token()[self.index.start[ids]]
        return floor

    def _cost(self, cycle_id: int, funded: Funded) -> None:
        token = funded.sized.cycle.token
        try:
            price = self.prices.price(token)
            old = self.opps.get(cycle_id)
            opp = None
            same = old is not None and old.amounts is funded.sized.amounts
            if old is not None and same and old.source == funded.source:
                opp = recost(old, price, gas_price_wei=self.gas_price_wei, block=self.block)
            self.opps[cycle_id] = opp or cost(
                funded,
                price,
                gas_price_wei=self.gas_price_wei,
                gas_model=self.gas_model,
                block=self.block,
            )
            self._gross[cycle_id] = float(self.opps[cycle_id].gross_profit)
        except FlasharbValueError as exc:  # no WETH pool prices the token, or the facet
            self._gross[cycle_id] = np.nan
            self.opps.pop(cycle_id, None)  # cannot execute the route (a V3 pool off the
            self.dropped[token] = str(exc)  # canonical factory): it cannot be ranked

    def _lent_as_before(self, cycle_id: int, sized: SizedCycle) -> bool:
        """Whether `fund()` on the new lenders gives this cycle's funding unchanged, told without
        re-sizing: it was lent for free at its gross optimum (or is a batch swap, which borrows
        nothing), and the cheapest allowed lender of that input is still that free source (the
        first branch of `fund`)."""
        old = self.funded.get(cycle_id)
        if old is None or old.sized is not sized:
            return False
        if old.source.batch:
            return True
        amount = sized.amount_in
        if old.source.fee(amount) != 0:
            return False
        return self.lenders.choose(sized.cycle, amount) == old.source

    def _fund(self, cycle_id: int, sized: SizedCycle) -> None:
        self._funded_version[cycle_id] = self._lender_version.get(sized.cycle.token, 0)
        funded = fund(sized, self.engine.states, self.lenders)
        if funded is None:
            self.funded.pop(cycle_id, None)
            self._funded_version.pop(cycle_id, None)
            self.opps.pop(cycle_id, None)
            self._gross[cycle_id] = np.nan
            self._held[cycle_id] = False
            return
        self.funded[cycle_id] = funded
        self._held[cycle_id] = True
        self._cost(cycle_id, funded)

    def _make_current(self, cycle_id: int) -> None:
        """Size a pending cycle, or bring a stale one to this block's lenders and prices."""
        self.current.add(cycle_id)
        self._is_current[cycle_id] = True
        self._pbound[cycle_id] = np.nan
        pending = self.pending.pop(cycle_id, None)
        if pending is not None:
            self._refined.discard(cycle_id)
            sized = self.engine.size(cycle_id, pending[0])
            if sized.profit > 0:
                self.engine.sized[cycle_id] = sized
                self._fund(cycle_id, sized)
            return
        funded = self.funded.get(cycle_id)
        if funded is None:
            return
        token = funded.sized.cycle.token
        version = self._lender_version.get(token, 0)
        if self._funded_version.get(cycle_id, 0) != version and not self._lent_as_before(
            cycle_id, funded.sized
        ):
            self._fund(cycle_id, funded.sized)
            return
        self._funded_version[cycle_id] = version
        self._cost(cycle_id, funded)

    # ------------------------------------------------------------ upper bounds

    def _net_bounds(
        self, ids: npt.NDArray[np.int64], gross: npt.NDArray[np.float64], *, gas: bool
    ) -> npt.NDArray[np.float64]:
        """The most each of `ids` could net in ETH wei now, from a gross bound in its token
        (with float headroom), less its least gas at the current gas price when `gas`; +inf
        for a token no WETH pool prices."""
        per_token = self._per_token()[self.index.start[ids]]  # token wei per ETH wei
        with np.errstate(divide="ignore", invalid="ignore"):
            out: npt.NDArray[np.float64] = np.where(
                per_token > 0, gross * (1.0 + _HEADROOM) / per_token, np.inf
            )
        if gas:
            out -= self._floor[ids].astype(np.float64) * self.gas_price_wei * (1.0 - _HEADROOM)
        return out

    def _waiting(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Every entry not current, with its bound (ETH wei): pending candidates (their gross
        bound less their least gas) and stale opportunities (their gross profit: a fee and a
        gas bill are never negative)."""
        pending = np.flatnonzero(~np.isnan(self._pbound))
        stale = np.flatnonzero(~np.isnan(self._gross) & ~self._is_current)
        p = self._net_bounds(pending, self._pbound[pending], gas=True)
        st = self._net_bounds(stale, self._gross[stale], gas=False)
        st[np.isinf(st)] = -np.inf  # a stale route without a price now cannot be ranked
        return np.concatenate([pending, stale]), np.concatenate([p, st])

    def _refine(self, cycle_id: int) -> float | None:
        """A pending cycle's bound tightened by its smooth model (`exact.gross_bound`), as the
        most it could net in ETH wei now; kept for later blocks. None: the model gives no
        bound (or none tighter) and the cycle must be sized."""
        seed, coarse = self.pending[cycle_id]
        self._refined.add(cycle_id)
        if self.engine.constant_product[cycle_id]:
            return None  # the screen's bound is already the proven closed form
        fine = gross_bound(self.index.hops_of(cycle_id), self.engine.states, seed=float(seed))
        if fine is None or fine >= coarse:
            return None
        self.pending[cycle_id] = (seed, fine)
        self._pbound[cycle_id] = fine
        per_token = float(self._per_token()[self.index.start[cycle_id]])
        if per_token <= 0.0:
            return math.inf  # no price (`_settle_unpriced` sizes those first): as `_net_bounds`
        gas = float(self._floor[cycle_id]) * self.gas_price_wei * (1.0 - _HEADROOM)
        return fine * (1.0 + _HEADROOM) / per_token - gas  # `_net_bounds` for one entry

    def _settle_unpriced(self) -> int:
        """Size the pending cycles of tokens no WETH pool prices now: costing names the token
        (`dropped`); no bound can rank them."""
        per_token = self._per_token()
        start = self.index.start
        unpriced = [i for i in self.pending if per_token[start[i]] <= 0]
        for cycle_id in unpriced:
            self._make_current(cycle_id)
        return len(unpriced)

    # ------------------------------------------------------------ evaluation

    def _screen(self, ids: npt.NDArray[np.int64] | None = None) -> int:
        """Screen `ids` (all: None) and make the passing ones pending; how many passed."""
        passing, x_star, bound = self.engine.screen(ids)
        seeds = [max(int(x), 1) for x in x_star.tolist()]
        entries = zip(seeds, bound.tolist(), strict=True)
        self.pending.update(zip(passing.tolist(), entries, strict=True))
        self._pbound[passing] = bound
        self._refined.difference_update(passing.tolist())
        return int(passing.size)

    def _rescan(self) -> BookUpdate:
        t0 = perf_counter()
        self.engine.sized = {}
        self.funded, self.opps, self.pending, self.current = {}, {}, {}, set()
        self._funded_version = {}
        self._gross.fill(np.nan)
        self._pbound.fill(np.nan)
        self._is_current.fill(False)
        self._held.fill(False)
        self._refined = set()
        candidates = self._screen()
        t1 = perf_counter()
        sized = self._settle_unpriced()
        self._screened_at = self.gas_price_wei
        return BookUpdate(
            pools=len(self.engine.states),
            affected=len(self.index),
            candidates=candidates,
            sized=sized,
            refunded=0,
            screen_s=t1 - t0,
            size_s=perf_counter() - t1,
            cost_s=0.0,
            deferred=len(self.pending),
        )

    def update(
        self,
        changed: Iterable[PoolState] | Mapping[str, PoolState] = (),
        *,
        lenders: Lenders | None = None,
        gas_price_wei: int | None = None,
        block: int | None = None,
    ) -> BookUpdate:
        """Take new states for some pools, new lenders and a new gas price: re-screen the
        cycles through the changed pools (pending), and let every kept opportunity go stale;
        `select` and `opportunities` make current what they need.

        Raises:
            FlasharbValueError: a pool not in the index, or a state whose tokens, type or fee
                differ from the indexed pool's (see SearchEngine.apply).
        """
        states = list(changed.values()) if isinstance(changed, Mapping) else list(changed)
        forget_curves()  # the smooth curves kept for the old states (segments.hop_curve)
        if block is not None:
            self.block = block
        if gas_price_wei is not None:
            if gas_price_wei < 0:
                raise FlasharbValueError(f"gas_price_wei must be >= 0, got {gas_price_wei}")
            self.gas_price_wei = gas_price_wei
        moved: set[str] = set()
        if lenders is not None and lenders is not self.lenders:
            tokens = set(lenders.by_token) | set(self.lenders.by_token)
            moved = {t for t in tokens if lenders.of(t) != self.lenders.of(t)}
            for token in moved:
                self._lender_version[token] = self._lender_version.get(token, 0) + 1
            self.lenders = lenders
        self._reprice(self.prices.update(states))
        if self.gas_price_wei < self._screened_at * SCREEN_GAS_FACTOR:
            self.engine.apply(states)  # gas fell far below the last full screen: screen all
            self.last = self._rescan()
            return self.last
        t0 = perf_counter()
        ids = self.engine.apply(states)
        for cycle_id in ids[self._held[ids]].tolist():  # only those held
            self.funded.pop(cycle_id, None)
            self._funded_version.pop(cycle_id, None)
            self.opps.pop(cycle_id, None)
        self._held[ids] = False
        for cycle_id in ids[~np.isnan(self._pbound[ids])].tolist():
            self.pending.pop(cycle_id, None)
            self._refined.discard(cycle_id)  # a bound of the old states
        self._gross[ids] = np.nan
        self._pbound[ids] = np.nan
        self.current = set()
        self._is_current.fill(False)
        candidates = self._screen(ids)
        t1 = perf_counter()
        sized = self._settle_unpriced()
        self.last = BookUpdate(
            pools=len({s.uid for s in states}),
            affected=int(ids.size),
            candidates=candidates,
            sized=sized,
            refunded=sum(1 for f in self.funded.values() if f.sized.cycle.token in moved)
            if moved
            else 0,  # a pass over the book only on blocks whose lenders moved
            screen_s=t1 - t0,
            size_s=perf_counter() - t1,
            cost_s=0.0,
            deferred=len(self.pending),
        )
        return self.last

    def settle(self) -> None:
        """Make the whole book current: size every pending candidate that could net more than
        the guard now, bring every stale opportunity to this block."""
        ids = np.flatnonzero(~np.isnan(self._pbound))
        bounds = self._net_bounds(ids, self._pbound[ids], gas=True)
        guard = max(self.min_net_profit_eth, -1)  # a selected route nets > 0 in its token
        for cycle_id in ids[bounds > guard].tolist():
            self._make_current(cycle_id)
        for cycle_id in sorted(i for i in self.opps if i not in self.current):
            self._make_current(cycle_id)

    def opportunities(
        self, limit: int | None = None, *, excluded: Iterable[str] = ()
    ) -> list[Opportunity]:
        """Every opportunity netting more than the minimum, best first (ties by route), every
        one current (`settle`); with `limit`, only the best `limit` of the routes through none
        of the `excluded` pools, making current only what could be among them (as `best`)."""
        if limit is not None:
            if limit < 1:
                raise FlasharbValueError(f"limit must be at least 1, got {limit}")
            return self._best(limit, None, excluded)
        self.settle()
        found = [o for o in self.opps.values() if o.net_profit_eth > self.min_net_profit_eth]
        found.sort(key=rank_key)
        return found

    def best(
        self, *, min_net_profit_eth: int | None = None, excluded: Iterable[str] = ()
    ) -> Opportunity | None:
        """The best opportunity of the whole book (select.py's order: the largest net profit in
        ETH, ties by route) that nets more than the guard and goes through none of the
        `excluded` pools, making current only what could beat it (class doc); None if nothing
        does. `last_select` says what it made current."""
        found = self._best(1, min_net_profit_eth, excluded)
        return found[0] if found else None

    def _best(
        self, n: int, min_net_profit_eth: int | None, excluded: Iterable[str]
    ) -> list[Opportunity]:
        """The `n` best opportunities netting more than the guard, through none of `excluded`,
        best first, making current only the entries whose upper bound reaches the n-th."""
        t0 = perf_counter()
        clock = {"size": 0.0, "cost": 0.0, "refine": 0.0}
        counts = {"size": 0, "cost": 0, "refine": 0}
        guard = self.min_net_profit_eth
        if min_net_profit_eth is not None:
            guard = max(guard, min_net_profit_eth)  # the book lists only what nets its own
        floor = max(guard, -1)  # a listed route nets > 0 in its token
        blocked = np.zeros(len(self.index), dtype=np.bool_)
        out = set(excluded)
        if out:
            index = self.index.graph.pool_index
            pids = np.asarray([index[p] for p in out if p in index], dtype=np.int64)
            blocked[self.index.cycle_ids_of_pool_ids(pids)] = True
        # the n best found so far, best first (by rank key: no two routes share one)
        kept: list[tuple[tuple[int, tuple[str, ...]], Opportunity]] = []

        def consider(cycle_id: int) -> None:
            o = self.opps.get(cycle_id)
            if o is None or blocked[cycle_id] or o.net_profit <= 0 or o.net_profit_eth <= floor:
                return
            insort(kept, (rank_key(o), o), key=lambda item: item[0])
            del kept[n:]

        def worst() -> float:
            """The value a waiting entry's bound must reach to enter (-inf: room left)."""
            return kept[-1][1].net_profit_eth if len(kept) == n else -math.inf

        for cycle_id in self.current:
            consider(cycle_id)
        ids, bounds = self._waiting()
        keep = (bounds > floor) & (bounds >= worst()) & ~blocked[ids]
        order = np.argsort(-bounds[keep], kind="stable")
        queue_ids = ids[keep][order].tolist()  # best bound first
        queue_bounds = bounds[keep][order].tolist()
        at = 0  # the next of the queue
        again: list[tuple[float, int]] = []  # (-bound, id): pending bounds refined on the way
        while True:
            if again and (at >= len(queue_bounds) or -again[0][0] > queue_bounds[at]):
                bound, cycle_id = heapq.heappop(again)
                bound = -bound
            elif at < len(queue_bounds):
                bound, cycle_id = queue_bounds[at], queue_ids[at]
                at += 1
            else:
                break
            if bound < worst():
                break  # an upper bound below the n-th: nothing waiting can enter (or tie)
            pending = cycle_id in self.pending
            if pending and cycle_id not in self._refined:
                t = perf_counter()
                fine = self._refine(cycle_id)
                clock["refine"] += perf_counter() - t
                counts["refine"] += 1
                if fine is not None:
                    if fine > floor:
                        heapq.heappush(again, (-fine, cycle_id))
                    continue
            t = perf_counter()
            self._make_current(cycle_id)
            part = "size" if pending else "cost"
            clock[part] += perf_counter() - t
            counts[part] += 1
            consider(cycle_id)
        self.last_select = SelectStats(
            sized=counts["size"],
            recosted=counts["cost"],
            refined=counts["refine"],
            waiting=len(queue_ids) - at + len(again),
            size_s=clock["size"],
            cost_s=clock["cost"],
            refine_s=clock["refine"],
            total_s=perf_counter() - t0,
        )
        return [o for _, o in kept]

    def picks(
        self, *, top: int, min_net_profit_eth: int | None = None, excluded: Iterable[str] = ()
    ) -> Iterator[Opportunity]:
        """The policy's picks (select.py `select`) over the whole book, one at a time: each the
        `best` route through none of the pools of `excluded` or of the picks before it, until
        `top` or none is left. Lazy: a caller may send a pick before it asks for the next."""
        if top < 1:
            raise FlasharbValueError(f"top must be at least 1, got {top}")
        out = set(excluded)
        for _ in range(top):
            o = self.best(min_net_profit_eth=min_net_profit_eth, excluded=out)
            if o is None:
                return
            yield o
            out.update(o.cycle.pools)

    def select(
        self, *, top: int, min_net_profit_eth: int | None = None, excluded: Iterable[str] = ()
    ) -> list[Opportunity]:
        """Every pick of `picks`: what the policy (select.py `select`) sends from the whole
        book, every entry current, to the wei, with only what can change a pick made current."""
        return list(self.picks(top=top, min_net_profit_eth=min_net_profit_eth, excluded=excluded))

    def evaluate(
        self,
        moved: Mapping[str, PoolState],
        *,
        gas_price_wei: int | None = None,
        lenders: Lenders | None = None,
    ) -> list[Opportunity]:
        """Opportunities through the pools of `moved` (hypothetical states: a pending swap
        applied), funded and costed at `gas_price_wei`, best first; the book is untouched."""
        _, sized = self.engine.evaluate(moved)
        states = {**self.engine.states, **{normal_uid(a): s for a, s in moved.items()}}
        lent = lenders or self.lenders.replace_pools(moved.values())
        prices = PriceBook(states.values(), self.weth)
        gas_price = self.gas_price_wei if gas_price_wei is None else gas_price_wei
        found = []
        for s in sized:
            funded = fund(s, states, lent)
            price = prices.get(s.cycle.token)
            if funded is None or price is None:
                continue
            try:
                opp = cost(
                    funded,
                    price,
                    gas_price_wei=gas_price,
                    gas_model=self.gas_model,
                    block=self.block,
                )
            except FlasharbValueError:
                continue  # not executable by the facet (see `_cost`)
            if opp.net_profit_eth > self.min_net_profit_eth:
                found.append(opp)
        found.sort(key=rank_key)
        return found


def rank(
    index: CycleIndex,
    states: Mapping[str, PoolState],
    *,
    weth: str,
    gas_price_wei: int,
    gas_model: GasModel | None = None,
    lenders: Lenders | None = None,
    flash_fee_percentage: int = 0,
    min_net_profit_eth: int = 0,
) -> list[Opportunity]:
    """Opportunities with `net_profit_eth > min_net_profit_eth` over `states`, best first: one
    `OpportunityBook`, built and read once. Without `lenders`, every route may borrow any
    amount from the Balancer Vault at `flash_fee_percentage` (routes with a Balancer hop then
    find no lender, and all-Balancer cycles run as a batch swap)."""
    if lenders is None:
        lenders = unlimited_vault(index, flash_fee_percentage)
    book = OpportunityBook(
        index,
        states,
        weth=weth,
        lenders=lenders,
        gas_price_wei=gas_price_wei,
        gas_model=gas_model,
        min_net_profit_eth=min_net_profit_eth,
    )
    return book.opportunities()


def unlimited_vault(index: CycleIndex, fee_percentage: int = 0) -> Lenders:
    """Lenders where the Balancer Vault lends any amount of every token of `index` (for
    synthetic markets with no chain behind them)."""
    src = FlashSource.balancer(fee_percentage)
    return Lenders(
        by_token={t: (Lender(source=src, capacity=2**112 - 1),) for t in index.graph.tokens}
    )
