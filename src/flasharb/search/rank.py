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
from bisect import insort
from collections.abc import Iterable, Mapping
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
from flasharb.search.select import select
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
_PARTNERS = 48  # largest values `OpportunityBook.select` keeps to bound a route's partners


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
    """What one `OpportunityBook.select` made current to pick, and the time each part took
    (seconds): the rest of `total_s` is bounds and the policy's search."""

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

    - `select(top, ...)` makes current only what can change the selection (select.py's policy):
      the stale and pending cycles in order of their upper bound in ETH (a stale one's gross
      profit, a pending one's gross bound less its least gas), until no bound plus the
      `top - 1` largest other values reaches the best total found. What it sends is what the
      policy picks over the whole book, every entry current, to the wei.
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
    at a bound under the old policy (the pool-disjoint set of any size, then its best `top`: a
    lighter route changes it through its conflicts, so nothing short of sizing every candidate
    was exact).
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
                per_token > 0, gross * (1.0 + 1e-9) / per_token, np.inf
            )
        if gas:
            out -= self._floor[ids].astype(np.float64) * self.gas_price_wei * (1.0 - 1e-9)
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
        fine = gross_bound(self.index.cycle(cycle_id), self.engine.states)
        if fine is None or fine >= coarse:
            return None
        self.pending[cycle_id] = (seed, fine)
        self._pbound[cycle_id] = fine
        ids = np.asarray([cycle_id], dtype=np.int64)
        return float(self._net_bounds(ids, np.asarray([fine]), gas=True)[0])

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
            self.opps.pop(cycle_id, None)
        self._held[ids] = False
        for cycle_id in ids[~np.isnan(self._pbound[ids])].tolist():
            self.pending.pop(cycle_id, None)
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
            refunded=sum(1 for f in self.funded.values() if f.sized.cycle.token in moved),
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

    def opportunities(self) -> list[Opportunity]:
        """Every opportunity netting more than the minimum, best first (ties by route), every
        one current (`settle`)."""
        self.settle()
        found = [o for o in self.opps.values() if o.net_profit_eth > self.min_net_profit_eth]
        found.sort(key=lambda o: (-o.net_profit_eth, o.cycle.key))
        return found

    def select(
        self, *, top: int, min_net_profit_eth: int | None = None, excluded: Iterable[str] = ()
    ) -> list[Opportunity]:
        """What the policy (select.py `select`) picks over the whole book, making current only
        what can change the pick (class doc): routes through `excluded` pools left out."""
        t0 = perf_counter()
        clock = {"size": 0.0, "cost": 0.0, "refine": 0.0}
        counts = {"size": 0, "cost": 0, "refine": 0}
        guard = self.min_net_profit_eth
        if min_net_profit_eth is not None:
            guard = max(guard, min_net_profit_eth)  # the book lists only what nets its own
        out = set(excluded)
        blocked: set[int] = set()
        if out:
            index = self.index.graph.pool_index
            pids = np.asarray([index[p] for p in out if p in index], dtype=np.int64)
            blocked = set(self.index.cycle_ids_of_pool_ids(pids).tolist())
        ids, bounds = self._waiting()
        floor = max(guard, -1)  # a selected route nets > 0 in its token
        keep = bounds > floor
        if blocked:
            keep &= ~np.isin(ids, np.fromiter(blocked, dtype=np.int64, count=len(blocked)))
        order = np.argsort(-bounds[keep], kind="stable")
        queue_ids = ids[keep][order].tolist()  # best bound first
        queue_bounds = bounds[keep][order].tolist()
        at = 0  # the next of the queue
        again: list[tuple[float, int]] = []  # (-bound, id): pending bounds refined on the way

        def peek() -> float | None:
            """The largest waiting bound."""
            head = queue_bounds[at] if at < len(queue_bounds) else None
            if again and (head is None or -again[0][0] > head):
                return -again[0][0]
            return head

        def pop() -> tuple[float, int]:
            nonlocal at
            if again and (at >= len(queue_bounds) or -again[0][0] > queue_bounds[at]):
                bound, cycle_id = heapq.heappop(again)
                return -bound, cycle_id
            at += 1
            return queue_bounds[at - 1], queue_ids[at - 1]

        def chosen() -> list[Opportunity]:
            ok = [
                self.opps[i]
                for i in self.current
                if i in self.opps
                and i not in blocked
                and self.opps[i].net_profit_eth > self.min_net_profit_eth
            ]
            return select(ok, top=top, min_net_profit_eth=guard)

        graph_pool = self.index.graph.edge_pool
        pool_sets: dict[int, frozenset[int]] = {}

        def pools_of(cycle_id: int) -> frozenset[int]:
            found = pool_sets.get(cycle_id)
            if found is None:
                row = self.index.edges[cycle_id]
                found = pool_sets[cycle_id] = frozenset(graph_pool[row[row >= 0]].tolist())
            return found

        def snapshot() -> tuple[list[tuple[float, frozenset[int], int]], float]:
            """The _PARTNERS largest values now (exact nets of current entries, bounds of the
            waiting), with their pools, and the largest value beyond them (0: none). Values
            only fall as bounds are refined and entries sized, so it stays an upper bound."""
            values: list[tuple[float, int]] = [
                (float(o.net_profit_eth), i)
                for i in self.current
                if (o := self.opps.get(i)) is not None and o.net_profit_eth > floor
            ]
            ahead = slice(at, at + _PARTNERS + 1)
            values += zip(queue_bounds[ahead], queue_ids[ahead], strict=True)
            values += [(-b, i) for b, i in again]
            best = heapq.nlargest(_PARTNERS + 1, values)
            rest = max(best[_PARTNERS][0], 0.0) if len(best) > _PARTNERS else 0.0
            return [(v, pools_of(i), i) for v, i in best[:_PARTNERS]], rest

        rows = self.index.edges[np.asarray(queue_ids, dtype=np.int64)]
        queue_pools = np.where(rows >= 0, graph_pool[np.maximum(rows, 0)], -1)
        apart: dict[int, float] = {}  # pool -> the largest value of a route not through it

        def without(pool: int) -> float:
            """The largest value (exact, or a waiting bound) of a route not through `pool`;
            kept for the call: values only fall, so it stays an upper bound."""
            found = apart.get(pool)
            if found is None:
                hit = np.flatnonzero(~(queue_pools[at:] == pool).any(axis=1))
                found = queue_bounds[at + int(hit[0])] if hit.size else 0.0
                found = max([found, *(-b for b, i in again if pool not in pools_of(i))])
                for other, i in contenders:
                    if pool not in pools_of(i):
                        found = max(found, float(-other))
                        break
                apart[pool] = found = max(found, 0.0)
            return found

        def partners(cycle_id: int) -> float:
            """At most what the `top - 1` best entries disjoint from `cycle_id` add to it: the
            largest disjoint values of the snapshot, then (past it) no more than the largest
            value of a route avoiding each of its pools."""
            mine, total, got = pools_of(cycle_id), 0.0, 0
            for v, pools, i in top_values:
                if got == top - 1:
                    return total
                if i != cycle_id and pools.isdisjoint(mine):
                    total, got = total + max(v, 0.0), got + 1
            rest = min([beyond, *(without(p) for p in mine)])
            return total + (top - 1 - got) * rest

        picked = chosen()
        value = sum(o.net_profit_eth for o in picked)
        top_values, beyond = snapshot()
        # (-net, id) of the current entries that may be picked, best first: what a newly made
        # current route could pair with
        contenders = sorted(
            (-o.net_profit_eth, i)
            for i in self.current
            if (o := self.opps.get(i)) is not None and i not in blocked and o.net_profit_eth > floor
        )

        def best_with(cycle_id: int, net: int) -> int:
            """At least what the best set holding `cycle_id` is worth among the contenders (the
            `top - 1` largest disjoint from it, their own conflicts ignored)."""
            mine, total, got = pools_of(cycle_id), net, 0
            for other, i in contenders:
                if got == top - 1:
                    break
                if i != cycle_id and pools_of(i).isdisjoint(mine):
                    total, got = total - other, got + 1
            return total

        made = 0
        while (head := peek()) is not None:
            others = sum(max(v, 0.0) for v, _, _ in top_values[: top - 1])
            if head + others < value:
                break  # no set with a waiting cycle can beat the pick
            bound, cycle_id = pop()
            if bound + partners(cycle_id) < value:
                continue  # every set it could join is worth less than the pick
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
            made += 1
            opp = self.opps.get(cycle_id)
            if opp is not None and cycle_id not in blocked and opp.net_profit_eth > floor:
                net = opp.net_profit_eth
                insort(contenders, (-net, cycle_id))
                if best_with(cycle_id, net) >= value:  # it may beat (or tie) the pick
                    picked = select(
                        [self.opps[i] for _, i in contenders], top=top, min_net_profit_eth=guard
                    )
                    if sum(o.net_profit_eth for o in picked) != value:
                        value = sum(o.net_profit_eth for o in picked)
                        top_values, beyond = snapshot()
                        continue
            if made % 16 == 0:  # the values it bounds partners with have fallen: refresh
                top_values, beyond = snapshot()
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
        return picked

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
        found.sort(key=lambda o: (-o.net_profit_eth, o.cycle.key))
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
