"""What every venue module shares: defaults for the parts of the venue interface most venues
answer the same way, and small codecs.

The interface itself is two protocols, one per layer that uses it:
`flasharb.state.venue.PoolSource` (discovery, the batched read, the sync) and
`flasharb.search.venue.Venue` (hop, gas, exact quote and float models, lending). A venue module
subclasses `BaseVenue`, sets its class-level facts and implements the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector as selector

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.errors import FlasharbValueError
from flasharb.kinds import HopKind, SourceKind
from flasharb.search.cycles import Hop
from flasharb.state._rpc import RawLog
from flasharb.state.registry import PoolInfo, PoolRegistry
from flasharb.state.venue import ReadConfig, Scan, Watch

if TYPE_CHECKING:
    from flasharb.search.capital import Lender

__all__ = ["BALANCE_OF", "BaseVenue", "address_word", "balance_read", "uint_of", "word_address"]

BALANCE_OF = selector("balanceOf(address)")


def balance_read(token: str, holder: str) -> tuple[str, bytes]:
    """The (contract, calldata) that reads `holder`'s balance of `token`."""
    return token, BALANCE_OF + encode(["address"], [holder])


def uint_of(raw: bytes | None) -> int:
    """The first word of a call's return data as a uint (0 where the call failed)."""
    return int.from_bytes(raw[:32], "big") if raw is not None and len(raw) >= 32 else 0


def word_address(word: bytes) -> str:
    """The address in the low 20 bytes of a 32-byte word."""
    return checksum_address("0x" + word[-20:].hex())


def address_word(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


def with_packed(venue: BaseVenue, hop: Hop) -> Hop:
    """`hop` with its packed bytes (`Hop.packed`), encoded once when the hop is made: a route is
    re-costed on its exact calldata every block, and packing a hop checks it against the
    protocol (a V3 pool's CREATE2 address, a V4 pool's id: keccaks). A hop the facet cannot
    take is left unpacked: encoding the route raises, with the reason, where it is costed."""
    try:
        return replace(hop, packed=venue.encode_hop(hop))
    except FlasharbValueError:
        return hop


@dataclass(frozen=True, slots=True, kw_only=True)
class BaseVenue:
    """One venue: a configured deployment of one kind of pool (`name` is its label)."""

    name: str
    # what a swap through its pools costs beyond its hop kind's GasModel figure (measured)
    hop_gas: int = 0

    hop_kind: ClassVar[HopKind | None] = None
    gas_per_hop: ClassVar[int] = 0
    hop_bytes: ClassVar[int] = 0
    locks: ClassVar[frozenset[SourceKind]] = frozenset()
    batch: ClassVar[bool] = False
    state_types: ClassVar[tuple[type, ...]] = ()
    reader: ClassVar[str] = ""

    # ------------------------------------------------------------ discovery

    def enumerate(self, scan: Scan, registry: PoolRegistry) -> list[PoolInfo]:
        return []

    def identify(self, scan: Scan, uid: str) -> RawLog | None:
        """The creation log its contracts emitted (or would have) for pool `uid`, confirmed on
        chain; None if `uid` is not one of its pools."""
        return None

    # ------------------------------------------------------------ read

    def read_overrides(self, info: PoolInfo, config: ReadConfig) -> Mapping[str, str]:
        return {}

    # ------------------------------------------------------------ sync

    def on_log(self, info: PoolInfo, log: RawLog) -> PoolInfo | None:
        return None

    def refreshed(self, info: PoolInfo, state: PoolState) -> PoolInfo | None:
        return None

    def volatile(self, state: PoolState) -> bool:
        return False

    def moved(self, old: PoolState, new: PoolState) -> bool:
        return old != new

    def watches(self) -> tuple[Watch, ...]:
        return ()

    # ------------------------------------------------------------ search

    def graph_tokens(self, state: PoolState) -> tuple[str, ...]:
        return tuple(state.tokens)

    def swap(
        self, state: PoolState, token_in: str, token_out: str, amount_in: int
    ) -> tuple[int, int]:
        return state.quote_exact_in(token_in, token_out, amount_in), 0

    def pow_slack(self, state: PoolState, token_out: str) -> float:
        return 0.0

    def encode_hop(self, hop: Hop) -> bytes:
        """LibRoute's packed hop (kind byte first); a venue with a facet hop overrides it."""
        raise FlasharbValueError(f"{self.name}: the diamond has no hop for this venue yet")

    def hop(self, state: PoolState, token_in: str, token_out: str) -> Hop:
        """The hop through `state`'s pool, with its packed bytes."""
        kind = self.hop_kind
        if kind is None:
            raise FlasharbValueError(
                f"{self.name} pool {state.uid}: the diamond has no hop for this venue yet"
            )
        pool_id, factory = self._hop_fields(state)
        return with_packed(
            self,
            Hop(
                pool=state.uid,
                token_in=token_in,
                token_out=token_out,
                fee_pips=self.fee_pips(state),
                kind=kind,
                pool_id=pool_id,
                factory=factory,
                wide=len(self.graph_tokens(state)) > 2,
                gas=self.hop_gas_of(state),
            ),
        )

    def hop_gas_of(self, state: PoolState) -> int:
        """What a swap through this pool costs beyond its kind's figure (default: the venue's
        `hop_gas`, its least)."""
        return self.hop_gas

    def _hop_fields(self, state: PoolState) -> tuple[bytes, int]:
        """The hop's pool id (Balancer) and V2 factory index, where its venue has them."""
        return b"", 0

    def fee_pips(self, state: PoolState) -> int:
        raise NotImplementedError

    # ------------------------------------------------------------ lending

    def lender_reads(
        self, states: Sequence[PoolState], tokens: frozenset[str]
    ) -> Iterable[tuple[str, bytes]]:
        return ()

    def lenders(
        self,
        states: Sequence[PoolState],
        tokens: frozenset[str],
        reads: Mapping[tuple[str, bytes], bytes],
    ) -> Iterable[tuple[str, tuple[object, ...], Lender]]:
        return ()

    def lender_logs(self) -> tuple[tuple[str, ...], tuple[bytes, ...]]:
        return (), ()
