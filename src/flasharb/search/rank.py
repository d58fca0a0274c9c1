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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from time import perf_counter

import numpy as np
import numpy.typing as npt

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.errors import FlasharbValueError
from flasharb.search.capital import FlashSource, Funded, Lender, Lenders, fund
from flasharb.search.cycles import Cycle, CycleIndex
from flasharb.search.engine import SearchEngine
from flasharb.search.gas import GasModel, GasShape
from flasharb.search.route import encode_amounts, encode_path, execute_arb_calldata
from flasharb.search.sizing import SizedCycle
from flasharb.search.valuation import EthPrice, PriceBook, eth_price
from flasharb.state.registry import normal_uid

__all__ = [
    "BookUpdate",
    "Opportunity",
    "OpportunityBook",
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
    candidates: int  # of those, passed the screen and were sized exactly
    sized: int  # of those, profitable before costs
    refunded: int  # other cycles whose capital source was chosen again (lenders moved)
    screen_s: float
    size_s: float
    cost_s: float


class OpportunityBook:
    """Every cycle's current opportunity over one evolving set of states.

    Built once over a `CycleIndex`; `update(changed, ...)` re-screens and re-sizes only the
    cycles through the changed pools, re-chooses capital where the lenders moved, and re-costs
    every kept cycle at the new gas price (integer work on a few hundred entries).
    `evaluate(moved)` answers for hypothetical states (a pending swap) without touching the
    book. `opportunities()` is the ranked list; `select` (select.py) picks what to send.
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
        self._floor = self.gas_model.floor(index)  # per cycle, static: hop kinds only
        self._screened_at = gas_price_wei
        self.funded: dict[int, Funded] = {}
        self.opps: dict[int, Opportunity] = {}
        self.dropped: dict[str, str] = {}  # token -> why a profitable cycle of it is not ranked
        self.engine.set_floor(self._gross_floor)
        self.last = self._rescan()

    # ------------------------------------------------------------ floor and costs

    def _per_token(self) -> npt.NDArray[np.float64]:
        tokens = self.index.graph.tokens
        out = np.zeros(len(tokens))
        for tid, token in enumerate(tokens):
            price = self.prices.get(token)
            if price is not None:
                out[tid] = 1.0 / price.as_float
        return out

    def _gross_floor(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        gas = self._floor[ids].astype(np.float64) * (self.gas_price_wei * SCREEN_GAS_FACTOR)
        eth = np.maximum(gas + self.min_net_profit_eth, 0.0)
        floor: npt.NDArray[np.float64] = eth * self._per_token()[self.index.start[ids]]
        return floor

    def _cost(self, cycle_id: int, funded: Funded) -> None:
        token = funded.sized.cycle.token
        try:
            price = self.prices.price(token)
            self.opps[cycle_id] = cost(
                funded,
                price,
                gas_price_wei=self.gas_price_wei,
                gas_model=self.gas_model,
                block=self.block,
            )
        except FlasharbValueError as exc:  # no WETH pool prices the token, or the facet
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
        funded = fund(sized, self.engine.states, self.lenders)
        if funded is None:
            self.funded.pop(cycle_id, None)
            self.opps.pop(cycle_id, None)
            return
        self.funded[cycle_id] = funded
        self._cost(cycle_id, funded)

    # ------------------------------------------------------------ evaluation

    def _rescan(self) -> BookUpdate:
        t0 = perf_counter()
        ids, x_star = self.engine.candidates()
        t1 = perf_counter()
        self.engine.sized = {}
        found = self.engine._size_all(ids, x_star)
        t2 = perf_counter()
        self.funded, self.opps = {}, {}
        for cycle_id, sized in sorted(self.engine.sized.items()):
            self._fund(cycle_id, sized)
        self._screened_at = self.gas_price_wei
        return BookUpdate(
            pools=len(self.engine.states),
            affected=len(self.index),
            candidates=int(ids.size),
            sized=len(found),
            refunded=0,
            screen_s=t1 - t0,
            size_s=t2 - t1,
            cost_s=perf_counter() - t2,
        )

    def update(
        self,
        changed: Iterable[PoolState] | Mapping[str, PoolState] = (),
        *,
        lenders: Lenders | None = None,
        gas_price_wei: int | None = None,
        block: int | None = None,
    ) -> BookUpdate:
        """Take new states for some pools, new lenders and a new gas price: re-evaluate the
        cycles through the changed pools, re-fund the cycles whose token's lenders changed,
        re-cost everything kept.

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
        moved_tokens: set[str] = set()
        if lenders is not None and lenders is not self.lenders:
            tokens = set(lenders.by_token) | set(self.lenders.by_token)
            moved_tokens = {t for t in tokens if lenders.of(t) != self.lenders.of(t)}
            self.lenders = lenders
        self.prices.update(states)
        if self.gas_price_wei < self._screened_at * SCREEN_GAS_FACTOR:
            self.engine.apply(states)  # gas fell far below the last full screen: screen all
            self.last = self._rescan()
            return self.last
        t0 = perf_counter()
        ids = self.engine.apply(states)
        passing, x_star = self.engine.candidates(ids)
        t1 = perf_counter()
        affected = set(ids.tolist())
        for cycle_id in affected:
            self.funded.pop(cycle_id, None)
            self.opps.pop(cycle_id, None)
        found = self.engine._size_all(passing, x_star)
        t2 = perf_counter()
        for cycle_id, sized in sorted(self.engine.sized.items()):
            if cycle_id in affected:
                self._fund(cycle_id, sized)
        refunded: set[int] = set()
        if moved_tokens:
            for cycle_id, sized in sorted(self.engine.sized.items()):
                if cycle_id in affected or sized.cycle.token not in moved_tokens:
                    continue
                if self._lent_as_before(cycle_id, sized):
                    continue  # fund() would give the same funding: only its cost moves
                self._fund(cycle_id, sized)
                refunded.add(cycle_id)
        for cycle_id, funded in self.funded.items():  # new gas price and ETH prices
            if cycle_id not in affected and cycle_id not in refunded:
                self._cost(cycle_id, funded)
        self.last = BookUpdate(
            pools=len({s.uid for s in states}),
            affected=int(ids.size),
            candidates=int(passing.size),
            sized=len(found),
            refunded=len(refunded),
            screen_s=t1 - t0,
            size_s=t2 - t1,
            cost_s=perf_counter() - t2,
        )
        return self.last

    def opportunities(self) -> list[Opportunity]:
        """Every opportunity netting more than the minimum, best first (ties by route)."""
        found = [o for o in self.opps.values() if o.net_profit_eth > self.min_net_profit_eth]
        found.sort(key=lambda o: (-o.net_profit_eth, o.cycle.key))
        return found

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
