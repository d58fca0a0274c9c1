"""What one executeArb is: a pure encoding of an `Opportunity` for FlashArbFacet (no RPC).

A plan is everything the contract needs and nothing it has to recompute: the packed path (the
route token, then per hop its kind, V2 factory index, V3 fee or Balancer pool id, and token
out: the contract derives every pool and pair from these), the exact output of every hop (the
search computed them with the pool math of `flasharb.amm`: the contract asks each V2 pair for
exactly that amount, so the pair's own k check guards it, and reverts when a V3 or Balancer
hop pays less), and the capital source word. What is chosen per send, not per plan: the guard
`minProfit`, the deadline and the bribe (`calldata`). ref: contracts/libraries/LibRoute.sol,
contracts/facets/FlashArbFacet.sol; the byte layout is in flasharb.search.route.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from eth_utils import keccak

from flasharb.amm.pool import PoolState
from flasharb.chain.addresses import WETH
from flasharb.errors import FlasharbValueError, InsufficientLiquidityError
from flasharb.kinds import HopKind, SourceKind
from flasharb.search.capital import ZERO_ADDRESS, FlashSource, locked_sources
from flasharb.search.cycles import Cycle
from flasharb.search.rank import Opportunity
from flasharb.search.route import (
    encode_amounts,
    encode_path,
    execute_arb_calldata,
    v3_pool_address,
)
from flasharb.search.sizing import state_for
from flasharb.search.venue import venue_of

__all__ = ["Plan", "plan", "plan_route"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """One executeArb: the route, its exact amounts, the capital source and their bytes."""

    cycle: Cycle
    source: FlashSource
    amount_in: int
    amounts: tuple[int, ...]  # each hop's exact output; amounts[-1] comes back
    flash_fee: int  # owed to the lender on top of amount_in
    path: bytes  # LibRoute packed path
    packed_amounts: bytes  # LibRoute packed amounts
    ticks_crossed: int = 0  # initialized V3 ticks the V3 hops cross (each costs gas)
    v4_ticks_crossed: int = 0  # initialized V4 ticks the V4 hops cross (plan_route counts them)

    @property
    def amount_out(self) -> int:
        """What the last hop pays back, in the route token."""
        return self.amounts[-1]

    @property
    def predicted_profit(self) -> int:
        """The diamond's gain in the route token: out - in - fee (may be negative)."""
        return self.amount_out - self.amount_in - self.flash_fee

    @property
    def loan_data(self) -> bytes:
        """What executeArb hands its lender: source | path length (words) | path | amounts."""
        return (
            self.source.word.to_bytes(32, "big")
            + len(self.path).to_bytes(32, "big")
            + self.path
            + self.packed_amounts
        )

    @property
    def route_hash(self) -> str:
        """keccak256(path): the route's id (pools and tokens, not amounts; LibRoute)."""
        return "0x" + keccak(self.path).hex()

    def calldata(
        self, min_profit: int, deadline_block: int, bribe_bps: int = 0, loss_allowance: int = 0
    ) -> bytes:
        """executeArb() with its arguments packed (source, minProfit, terms, the path's length,
        path, amounts: flasharb.search.route.pack_execute_arb); `terms` packs
        `deadline_block`, `bribe_bps` (the share of the realized profit, in basis points, the
        facet pays block.coinbase after the minProfit check, at most the owner's cap) and
        `loss_allowance` (the most the trade may lower the diamond's balance of the route token,
        within the owner's maximum loss; 0: it must not lose)."""
        return execute_arb_calldata(
            self.source.word,
            self.path,
            self.packed_amounts,
            min_profit,
            deadline_block,
            bribe_bps,
            loss_allowance,
        )

    def call(
        self,
        diamond: str,
        sender: str,
        min_profit: int,
        deadline_block: int,
        bribe_bps: int = 0,
        loss_allowance: int = 0,
    ) -> dict[str, str]:
        """An eth_call / eth_sendTransaction object for this plan from `sender`."""
        data = self.calldata(min_profit, deadline_block, bribe_bps, loss_allowance)
        return {"from": sender, "to": diamond, "data": "0x" + data.hex()}


def _check(cycle: Cycle, source: FlashSource) -> None:
    if source.kind in locked_sources(cycle):
        raise FlasharbValueError(
            f"a hop of this route cannot run inside a {source.kind.label} loan (a Balancer hop "
            "inside a Balancer flash loan: the Vault reverts BAL#400): pick another source"
        )
    if source.native and cycle.token != WETH:
        raise FlasharbValueError(
            f"a native-ETH V4 loan funds WETH routes only, not a route in {cycle.token}"
        )
    if source.kind in (SourceKind.UNISWAP_V3, SourceKind.UNISWAP_V2):
        if source.lender in set(cycle.pools):
            raise FlasharbValueError(
                f"lender {source.lender} is on the route: it is locked while it lends"
            )
        if source.other == ZERO_ADDRESS or source.other == cycle.token:
            raise FlasharbValueError(
                f"{source.kind.label} lender {source.lender}: the source names no other token "
                "(FlashSource.other): the facet derives the lender from it and the route token"
            )
        if source.kind is SourceKind.UNISWAP_V3:
            pool = v3_pool_address(cycle.token, source.other, source.fee_pips)
            if pool != source.lender:
                raise FlasharbValueError(
                    f"V3 lender {source.lender} is not the Uniswap V3 factory's pool of "
                    f"{cycle.token}/{source.other} at fee {source.fee_pips} ({pool})"
                )


def plan(opportunity: Opportunity) -> Plan:
    """The executeArb of `opportunity`, exactly as sized: no quote, no RPC.

    Raises:
        FlasharbValueError: a source the route cannot use (a Balancer loan around a Balancer
            hop, a lender on the route), or amounts out of the contract's range.
    """
    o = opportunity
    _check(o.cycle, o.source)
    return Plan(
        cycle=o.cycle,
        source=o.source,
        amount_in=o.amount_in,
        amounts=o.amounts,
        flash_fee=o.flash_fee,
        path=encode_path(o.cycle),
        packed_amounts=encode_amounts(o.amount_in, o.amounts),
        ticks_crossed=o.ticks_crossed,
        v4_ticks_crossed=o.v4_ticks_crossed,
    )


def plan_route(
    cycle: Cycle, amount_in: int, source: FlashSource, states: Mapping[str, PoolState]
) -> Plan:
    """The executeArb of `cycle` at `amount_in` funded by `source`, each hop's output quoted on
    `states` with the pool math (pure: a hand-built route, e.g. an attack in the audit suite).

    Raises:
        FlasharbValueError: as `plan`, a pool missing from `states`, or a V3 or V4 hop that
            runs out of liquidity first.
    """
    _check(cycle, source)
    amounts: list[int] = []
    ticks, v4_ticks, amount = 0, 0, amount_in
    for hop in cycle.hops:
        state = state_for(states, hop)
        try:
            amount, crossed = venue_of(state).swap(state, hop.token_in, hop.token_out, amount)
        except InsufficientLiquidityError as exc:
            raise FlasharbValueError(
                f"pool {hop.pool} cannot take {amount} of {hop.token_in}: {exc}"
            ) from exc
        if hop.kind is HopKind.UNISWAP_V4:
            v4_ticks += crossed
        else:
            ticks += crossed
        amounts.append(amount)
    return Plan(
        cycle=cycle,
        source=source,
        amount_in=amount_in,
        amounts=tuple(amounts),
        flash_fee=0 if source.batch else source.fee(amount_in),
        path=encode_path(cycle),
        packed_amounts=encode_amounts(amount_in, amounts),
        ticks_crossed=ticks,
        v4_ticks_crossed=v4_ticks,
    )
