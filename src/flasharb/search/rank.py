"""Rank sized cycles by profit net of the flash-loan fee and gas, in exact integers.

    net = gross - flash fee - gas_estimate * gas_price (converted into the profit token)

Profits are in the borrowed token; to compare them across tokens they are valued in ETH wei
through each token's deepest WETH pool of any venue (valuation.py: a mid price, as an exact
ratio). The flash fee is the route's own capital source's (flash_source.py: Vault loan, V3
flash, V2 flash swap or none for a Balancer batch). Gas per hop kind and per V3 tick crossed
comes from `GasModel` (gas.py); the pick of
pool-disjoint trades from `select_disjoint` (select.py). Both are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import FEE_DENOMINATOR, checksum_address
from flasharb.errors import FlasharbValueError
from flasharb.search.cycles import Cycle, CycleIndex
from flasharb.search.engine import SearchEngine
from flasharb.search.flash_source import BALANCER_LOAN, FlashPlan, Funded
from flasharb.search.gas import GasModel, GasSample
from flasharb.search.select import select_disjoint
from flasharb.search.sizing import SizedCycle
from flasharb.search.valuation import EthPrice, eth_price, token_value_in_eth, weth_prices

__all__ = [
    "FLASH_SOURCE",
    "Funding",
    "GasModel",
    "GasSample",
    "Opportunity",
    "flash_fee",
    "gross_floor",
    "opportunities",
    "rank",
    "select_disjoint",
    "token_value_in_eth",
]

FLASH_SOURCE = BALANCER_LOAN  # without a flash plan: FlashArbFacet borrows from the Vault

# A sized cycle -> its capital source and the input best net of that source's fee (None: no
# source can lend a profitable input). flash_source.fund with the chain's lenders is one.
Funding = Callable[[SizedCycle], Funded | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Opportunity:
    """A sized cycle with its costs. Amounts are wei of `cycle.token` unless named `_eth`."""

    cycle: Cycle
    amount_in: int  # borrowed from the flash source
    amount_out: int  # back after the last hop
    gross_profit: int  # amount_out - amount_in
    flash_fee: int  # owed to the flash source on top of amount_in
    gas_estimate: int  # gas units
    gas_cost: int  # gas_estimate * gas price, converted into cycle.token
    net_profit: int  # gross_profit - flash_fee - gas_cost
    net_profit_eth: int  # net_profit valued in ETH wei, for ranking across tokens
    ticks_crossed: int = 0  # initialized V3 ticks the route crosses (in gas_estimate)
    flash: FlashPlan | None = None  # the capital source; None: a Vault loan at flash_fee_pips

    @property
    def flash_source(self) -> str:
        return self.flash.source if self.flash is not None else FLASH_SOURCE

    def to_json(self) -> dict[str, object]:
        """The `flasharb scan --json` shape (DESIGN.md section 5) plus `lender`, `amount_out`,
        `gas_cost`, `net_profit_eth` and `ticks_crossed`; every integer is a decimal string."""
        return {
            "route": [
                {
                    "pool": hop.pool,
                    "kind": hop.kind,
                    "token_in": hop.token_in,
                    "token_out": hop.token_out,
                }
                for hop in self.cycle.hops
            ],
            "flash_source": self.flash_source,
            "profit_token": self.cycle.token,
            "amount_in": str(self.amount_in),
            "gross_profit": str(self.gross_profit),
            "flash_fee": str(self.flash_fee),
            "gas_estimate": str(self.gas_estimate),
            "net_profit": str(self.net_profit),
            "lender": self.flash.lender if self.flash is not None else "",
            "amount_out": str(self.amount_out),
            "gas_cost": str(self.gas_cost),
            "net_profit_eth": str(self.net_profit_eth),
            "ticks_crossed": self.ticks_crossed,
        }


def flash_fee(amount: int, fee_pips: int) -> int:
    """Flash-loan fee, rounded up as the Vault does.

    ref: balancer-v2-monorepo pkg/vault/contracts/Fees.sol `_calculateFlashLoanFeeAmount`
    (`FixedPoint.mulUp(amount, getFlashLoanFeePercentage())`), FixedPoint.sol `mulUp`:
    `product == 0 ? 0 : (product - 1) / ONE + 1`. Here the percentage is in pips (ONE = 1e6),
    not 1e18.
    """
    if not 0 <= fee_pips <= FEE_DENOMINATOR:
        raise FlasharbValueError(f"flash fee must be in [0, {FEE_DENOMINATOR}] pips: {fee_pips}")
    product = amount * fee_pips
    return 0 if product == 0 else (product - 1) // FEE_DENOMINATOR + 1


def gross_floor(
    index: CycleIndex,
    prices: Mapping[str, EthPrice],
    *,
    weth: str,
    gas_price_wei: int,
    gas_model: GasModel,
    min_net_profit_eth: int = 0,
) -> npt.NDArray[np.float64]:
    """Per cycle, the gross profit (start-token wei, float) below which it cannot net more
    than `min_net_profit_eth`: its gas with no tick crossed, plus the minimum, converted at
    the token's ETH price. 0 for start tokens without a WETH pool (sized anyway; `rank` then
    names the token)."""
    eth = gas_model.floor(index).astype(np.float64) * gas_price_wei + min_net_profit_eth
    per_token = np.zeros(len(index.graph.tokens))
    for tid in np.unique(index.start).tolist():
        token = index.graph.tokens[tid]
        price = prices.get(token) if token != weth else eth_price(prices, token, weth)
        if price is not None:
            per_token[tid] = 1.0 / price.as_float
    floor: npt.NDArray[np.float64] = np.maximum(eth, 0.0) * per_token[index.start]
    return floor


def opportunities(
    sized: Iterable[SizedCycle],
    prices: Mapping[str, EthPrice],
    *,
    weth: str,
    gas_price_wei: int,
    gas_model: GasModel,
    flash_fee_pips: int = 0,
    min_net_profit_eth: int = 0,
    funding: Funding | None = None,
) -> list[Opportunity]:
    """Costs and ETH value of sized cycles; those with `net_profit_eth > min_net_profit_eth`,
    best first (ties by cycle key).

    With `funding`, each cycle gets its own capital source (`Opportunity.flash`), possibly a
    smaller input, and that source's fee; cycles no source can fund are dropped. Without it,
    every cycle borrows from the Vault at `flash_fee_pips`.

    Raises:
        FlasharbValueError: a profitable cycle's token has no WETH pool to value it.
    """
    if gas_price_wei < 0:
        raise FlasharbValueError(f"gas_price_wei must be >= 0, got {gas_price_wei}")
    weth = checksum_address(weth)
    found: list[Opportunity] = []
    for s in sized:
        if s.profit <= 0:
            continue
        plan: FlashPlan | None = None
        if funding is not None:
            funded = funding(s)
            if funded is None:
                continue
            s, plan = funded.sized, funded.plan
            fee = plan.fee
        else:
            fee = flash_fee(s.amount_in, flash_fee_pips)
        cycle = s.cycle
        price = eth_price(prices, cycle.token, weth)
        source = plan.source if plan is not None else FLASH_SOURCE
        gas_estimate = gas_model.estimate(cycle, s.ticks_crossed, source)
        gas_cost = price.from_eth(gas_estimate * gas_price_wei)
        net = s.profit - fee - gas_cost
        net_eth = price.to_eth(net)
        if net_eth <= min_net_profit_eth:
            continue
        found.append(
            Opportunity(
                cycle=cycle,
                amount_in=s.amount_in,
                amount_out=s.amount_out,
                gross_profit=s.profit,
                flash_fee=fee,
                gas_estimate=gas_estimate,
                gas_cost=gas_cost,
                net_profit=net,
                net_profit_eth=net_eth,
                ticks_crossed=s.ticks_crossed,
                flash=plan,
            )
        )
    found.sort(key=lambda o: (-o.net_profit_eth, o.cycle.key))
    return found


def rank(
    index: CycleIndex,
    states: Mapping[str, PoolState],
    *,
    weth: str,
    gas_price_wei: int,
    gas_model: GasModel,
    flash_fee_pips: int = 0,
    min_net_profit_eth: int = 0,
    funding: Funding | None = None,
) -> list[Opportunity]:
    """Opportunities with `net_profit_eth > min_net_profit_eth`, best first.

    A `SearchEngine` screens every cycle (marginal rates, and a smooth-profit floor of the
    cycle's own gas: `gross_floor`), sizes the candidates exactly, and `opportunities` costs
    them. Flash fee rounded up (Balancer charges 0 today); gas converted from ETH into the
    profit token at its deepest WETH pool's mid price. Sizing maximises gross profit; with
    `funding` (flash_source.fund) each route gets its own source, and a source with a fee
    re-sizes the input on profit net of that fee. Without it, a uniform `flash_fee_pips`:
    the net optimum is then slightly smaller than `amount_in`.
    """
    if gas_price_wei < 0:
        raise FlasharbValueError(f"gas_price_wei must be >= 0, got {gas_price_wei}")
    weth = checksum_address(weth)
    engine = SearchEngine(index, states)
    prices = weth_prices(engine.states.values(), weth)
    engine.set_min_gross(
        gross_floor(
            index,
            prices,
            weth=weth,
            gas_price_wei=gas_price_wei,
            gas_model=gas_model,
            min_net_profit_eth=min_net_profit_eth,
        )
    )
    return opportunities(
        engine.scan(),
        prices,
        weth=weth,
        gas_price_wei=gas_price_wei,
        gas_model=gas_model,
        flash_fee_pips=flash_fee_pips,
        min_net_profit_eth=min_net_profit_eth,
        funding=funding,
    )
