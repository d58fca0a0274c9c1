"""Rank sized cycles by profit net of the flash-loan fee and gas, in exact integers.

Profits are in the borrowed token; to compare them across tokens they are valued in ETH wei
through each token's deepest direct WETH pair (a spot price, without slippage: good enough to
order opportunities and to convert a gas bill, not to quote a trade).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from flasharb.amm.uniswap_v2 import FEE_DENOMINATOR, V2PairState, checksum_address
from flasharb.errors import FlasharbValueError
from flasharb.search.cycles import Cycle, CycleIndex
from flasharb.search.sizing import optimize, screen

__all__ = [
    "FLASH_SOURCE",
    "GasModel",
    "Opportunity",
    "flash_fee",
    "rank",
    "select_disjoint",
    "token_value_in_eth",
]

FLASH_SOURCE = "balancer_v2"  # FlashArbFacet borrows from the Balancer V2 Vault


@dataclass(frozen=True, slots=True, kw_only=True)
class GasModel:
    """Gas of one `executeArb` transaction.

    Defaults fitted on the two `flasharb demo` receipts on the replica fork (12 s blocks):
    2-hop V2 215,283 gas (the diamond's first trade in USDC) and 3-hop V2 254,554 gas; on the
    full replica with canonical-weth's WETH9 the same trades use 215,881 and 254,950.
    tests/test_flash_arb.py checks receipts stay within 10%. A model per hop kind, cold/warm
    access and zero/non-zero balances, refitted from receipts, is the search engine's job.
    """

    base: int = 137_000  # 21k intrinsic + calldata + dispatch + Vault flashLoan + repay + checks
    per_v2_hop: int = 39_300  # one V2 pair swap: getReserves, swap, transfer to the next pair

    def estimate(self, cycle: Cycle) -> int:
        """Gas units for executing `cycle`."""
        total = self.base
        for hop in cycle.hops:
            if hop.kind != "uniswap_v2":
                raise FlasharbValueError(f"no gas figure for hop kind {hop.kind!r} ({hop.pool})")
            total += self.per_v2_hop
        return total


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

    def to_json(self) -> dict[str, object]:
        """The `flasharb scan --json` shape; every integer is a decimal string."""
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
            "flash_source": FLASH_SOURCE,
            "profit_token": self.cycle.token,
            "amount_in": str(self.amount_in),
            "gross_profit": str(self.gross_profit),
            "flash_fee": str(self.flash_fee),
            "gas_estimate": str(self.gas_estimate),
            "net_profit": str(self.net_profit),
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


def _weth_quotes(states: Mapping[str, V2PairState], weth: str) -> dict[str, tuple[int, int]]:
    """token -> (reserve_token, reserve_weth) of its deepest direct WETH pair (by WETH reserve,
    ties to the lower pool address)."""
    best: dict[str, tuple[int, str, int]] = {}  # token -> (reserve_weth, pool, reserve_token)
    for state in states.values():
        if weth not in (state.token0, state.token1):
            continue
        token = state.other(weth)
        reserve_weth, reserve_token = state.reserves_for(weth)
        if reserve_weth == 0 or reserve_token == 0:
            continue
        seen = best.get(token)
        if seen is None or (reserve_weth, seen[1]) > (seen[0], state.address.lower()):
            best[token] = (reserve_weth, state.address.lower(), reserve_token)
    return {token: (r_token, r_weth) for token, (r_weth, _, r_token) in best.items()}


def _quote(quotes: Mapping[str, tuple[int, int]], token: str, weth: str) -> tuple[int, int]:
    quote = quotes.get(token)
    if quote is None:
        raise FlasharbValueError(
            f"token {token} has no pool with WETH {weth} and reserves: cannot value it in ETH"
        )
    return quote


def token_value_in_eth(
    token: str, amount: int, states: Mapping[str, V2PairState], weth: str
) -> int:
    """`amount` of `token` in ETH wei at the spot price of its deepest direct WETH pair:
    `amount * reserve_weth // reserve_token` (floor). WETH is worth itself."""
    token, weth = checksum_address(token), checksum_address(weth)
    if token == weth:
        return amount
    reserve_token, reserve_weth = _quote(_weth_quotes(states, weth), token, weth)
    return amount * reserve_weth // reserve_token


def rank(
    index: CycleIndex,
    states: Mapping[str, V2PairState],
    *,
    weth: str,
    gas_price_wei: int,
    gas_model: GasModel,
    flash_fee_pips: int = 0,
    min_net_profit_eth: int = 0,
) -> list[Opportunity]:
    """Opportunities with `net_profit_eth > min_net_profit_eth`, best first.

    Float screen, then exact `optimize` of the survivors; flash fee rounded up (Balancer
    charges 0 today); gas `gas_model.estimate * gas_price_wei` converted from ETH into the
    profit token as `gas_wei * reserve_token // reserve_weth`. Sizing maximises gross
    profit: with a non-zero flash fee the net optimum is slightly smaller than `amount_in`.
    """
    if gas_price_wei < 0:
        raise FlasharbValueError(f"gas_price_wei must be >= 0, got {gas_price_wei}")
    weth = checksum_address(weth)
    quotes = _weth_quotes(states, weth)
    cycles = index.cycles
    opportunities: list[Opportunity] = []
    for i in np.flatnonzero(screen(cycles, states)):
        cycle = cycles[int(i)]
        sized = optimize(cycle, states)
        if sized.profit <= 0:
            continue
        fee = flash_fee(sized.amount_in, flash_fee_pips)
        gas_estimate = gas_model.estimate(cycle)
        gas_wei = gas_estimate * gas_price_wei
        if cycle.token == weth:
            gas_cost = gas_wei
            net = sized.profit - fee - gas_cost
            net_eth = net
        else:
            reserve_token, reserve_weth = _quote(quotes, cycle.token, weth)
            gas_cost = gas_wei * reserve_token // reserve_weth
            net = sized.profit - fee - gas_cost
            net_eth = net * reserve_weth // reserve_token
        if net_eth <= min_net_profit_eth:
            continue
        opportunities.append(
            Opportunity(
                cycle=cycle,
                amount_in=sized.amount_in,
                amount_out=sized.amount_out,
                gross_profit=sized.profit,
                flash_fee=fee,
                gas_estimate=gas_estimate,
                gas_cost=gas_cost,
                net_profit=net,
                net_profit_eth=net_eth,
            )
        )
    opportunities.sort(key=lambda o: (-o.net_profit_eth, o.cycle.key))
    return opportunities


def select_disjoint(opportunities: Iterable[Opportunity]) -> list[Opportunity]:
    """Greedy pick by `net_profit_eth`, skipping any that shares a pool with one already taken.

    Greedy, not the exact maximum-weight set packing: one big cycle can block two smaller
    ones worth more together. Trades in one block change each other's pools, which is why
    they must not overlap.
    """
    taken: list[Opportunity] = []
    used: set[str] = set()
    for opportunity in sorted(opportunities, key=lambda o: (-o.net_profit_eth, o.cycle.key)):
        pools = set(opportunity.cycle.pools)
        if pools.isdisjoint(used):
            taken.append(opportunity)
            used |= pools
    return taken
