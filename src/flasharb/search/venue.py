"""What the search asks of a venue: how to trade, price, route, fund and pay gas for its pools.

A venue (`flasharb.venues`, one module each) is a `flasharb.state.venue.PoolSource` for the
state layer and a `Venue` for the search. The search knows no venue: it finds the one for a pool
state with `venue_of` (by the state's class; two venues of one kind, such as Uniswap V2 and
SushiSwap, share their pools' class and these methods) and the one for a hop with
`venue_for_hop` (by its hop kind). What each method answers:

- the graph: the tokens a route may trade through the pool (`graph_tokens`: never a Balancer
  pool's own BPT; native ETH as WETH), its fee in pips, its hop kind (None: the facet has no
  hop for it: the pool is read, synced and priced, never routed), the route hop
  (`hop`, `encode_hop`: LibRoute's packed bytes);
- exact and float models: `swap` (the pool's own math, with the ticks it crosses), the float
  stand-ins that screen and seed (`edge_params`, `curve`), `pow_slack` (how far the exact
  output may sit above the curve), `weth_quotes` (its prices against WETH, for valuation),
  `reserves` (what it holds, for the minimum-liquidity rule);
- execution rules: the capital sources a hop of it cannot run inside (`locks`: a Balancer hop in
  a Vault flash loan reverts BAL#400), whether a cycle of its hops alone is one batch swap
  (`batch`), its gas figures and packed length (`gas_per_hop` for its hop kind, `hop_gas`
  for its own pools beyond it, `hop_bytes`);
- lending: the view calls its lenders need (`lender_reads`), the lenders its pools (or its
  singleton) offer from their answers (`lenders`), and the logs that move what they lend
  (`lender_logs`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Protocol, cast, runtime_checkable

from flasharb.amm.pool import PoolState
from flasharb.errors import FlasharbValueError
from flasharb.kinds import HopKind, SourceKind
from flasharb.state.venue import PoolSource, builtin_venues

if TYPE_CHECKING:
    from flasharb.search.capital import Lender
    from flasharb.search.cycles import Hop
    from flasharb.search.segments import Curve

__all__ = ["Venue", "builtin", "venue_for_hop", "venue_of", "venues_of_kind"]


@runtime_checkable
class Venue(PoolSource, Protocol):
    """A venue, as the search sees it (module doc)."""

    @property
    def state_types(self) -> tuple[type, ...]:
        """The `flasharb.amm` state classes of its pools."""
        ...

    @property
    def hop_kind(self) -> HopKind | None:
        """How FlashArbFacet swaps through its pools (None: it cannot, yet)."""
        ...

    @property
    def gas_per_hop(self) -> int:
        """The GasModel's default figure for one of its hops (fitted on receipts)."""
        ...

    @property
    def hop_gas(self) -> int:
        """What a swap through its pools costs beyond its hop kind's `gas_per_hop` (two venues
        of one kind, e.g. Balancer weighted and stable pools, differ)."""
        ...

    @property
    def hop_bytes(self) -> int:
        """The length of its packed hop in LibRoute's path."""
        ...

    @property
    def locks(self) -> frozenset[SourceKind]:
        """Capital sources a route with one of its hops cannot borrow from."""
        ...

    @property
    def batch(self) -> bool:
        """A cycle of its hops alone runs as one batch swap, with no capital at all."""
        ...

    def graph_tokens(self, state: PoolState) -> tuple[str, ...]:
        """The tokens routes trade through the pool."""
        ...

    def fee_pips(self, state: PoolState) -> int:
        """Its swap fee, in pips (floored)."""
        ...

    def hop(self, state: PoolState, token_in: str, token_out: str) -> Hop:
        """The route hop selling `token_in` for `token_out` through the pool."""
        ...

    def encode_hop(self, hop: Hop) -> bytes:
        """LibRoute's packed hop (kind byte first)."""
        ...

    def swap(
        self, state: PoolState, token_in: str, token_out: str, amount_in: int
    ) -> tuple[int, int]:
        """The exact output of `amount_in` and the initialized ticks the swap crosses.

        Raises:
            FlasharbError: where the pool reverts or cannot fill the amount.
        """
        ...

    def edge_params(self, state: PoolState, token_in: str, token_out: str) -> tuple[float, float]:
        """(r, c) of its constant-product stand-in `r*x/(1 + c*x)` (search/rates.py); (0, 0)
        when it cannot trade that way."""
        ...

    def curve(self, state: PoolState, token_in: str, token_out: str) -> Curve:
        """Its smooth curve in one direction (search/segments.py)."""
        ...

    def pow_slack(self, state: PoolState, token_out: str) -> float:
        """How far its exact output may sit above `curve`, in `token_out` units (0 for math
        the curve bounds)."""
        ...

    def weth_quotes(self, state: PoolState, weth: str) -> Iterable[tuple[str, int, int, int]]:
        """(token, num, den, depth in WETH wei): 1 token wei = num/den WETH wei, for each
        token it prices against WETH."""
        ...

    def reserves(self, state: PoolState) -> tuple[tuple[str, int], ...]:
        """(token, amount) it can pay out near its price, per graph token."""
        ...

    def lender_reads(
        self, states: Sequence[PoolState], tokens: frozenset[str]
    ) -> Iterable[tuple[str, bytes]]:
        """(contract, calldata) view calls its lenders need, for its pools among `states` and
        the borrowable `tokens` (a V3 pool's balances; the Balancer Vault's and its flash
        fee). The market reads them all in one eth_call."""
        ...

    def lenders(
        self,
        states: Sequence[PoolState],
        tokens: frozenset[str],
        reads: Mapping[tuple[str, bytes], bytes],
    ) -> Iterable[tuple[str, tuple[object, ...], Lender]]:
        """(token, preference key, lender) for each of `tokens` its pools or its singleton
        can lend, from the answers to `lender_reads` (keys sort lenders of one token, lowest
        first: the Vault, then V3 pools by fee tier, then V2 pairs)."""
        ...

    def lender_logs(self) -> tuple[tuple[str, ...], tuple[bytes, ...]]:
        """Contracts and topics of logs that change what its lenders lend or charge besides
        its pools' own (the Vault's flash fee, set in its fees collector)."""
        ...


@cache
def builtin() -> tuple[Venue, ...]:
    """The built-in venues, as the search sees them."""
    return tuple(cast(Venue, v) for v in builtin_venues())


@cache
def _by_type() -> dict[type, Venue]:
    out: dict[type, Venue] = {}
    for v in builtin_venues():
        venue = cast(Venue, v)
        for t in venue.state_types:
            out.setdefault(t, venue)
    return out


def venue_of(state: PoolState) -> Venue:
    """The venue that knows pools of `state`'s class."""
    try:
        return _by_type()[type(state)]
    except KeyError:
        raise FlasharbValueError(
            f"pool {getattr(state, 'uid', state)!r}: no venue for {type(state).__name__}"
        ) from None


@cache
def venue_for_hop(kind: HopKind) -> Venue:
    """The venue whose packed hop is of `kind` (one venue encodes each kind)."""
    for venue in _by_type().values():
        if venue.hop_kind is kind:
            return venue
    raise FlasharbValueError(f"no venue swaps through hops of kind {kind.label}")


@cache
def venues_of_kind() -> dict[HopKind, Venue]:
    """Hop kind -> the venue that encodes it, for every kind some venue routes."""
    out: dict[HopKind, Venue] = {}
    for venue in _by_type().values():
        if venue.hop_kind is not None:
            out.setdefault(venue.hop_kind, venue)
    return out
