"""The pool registry: every pool discovery found whose math flasharb has, keyed by EIP-55 address.

An entry holds what does not change between blocks (venue, kind, tokens, decimals, fee, tick
spacing, Balancer pool id); the state at a block lives in the `flasharb.amm` state classes that
`flasharb.state.reader` fills. Pools that were found but cannot be used are kept aside with the
reason, so a user can see why a pool they expected is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.errors import FlasharbValueError
from flasharb.kinds import HopKind

__all__ = ["BALANCER", "PoolInfo", "PoolRegistry", "UNISWAP_V3"]

UNISWAP_V3 = "uniswap_v3"
BALANCER = "balancer"


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolInfo:
    """What a pool is, independent of the block: everything a state read needs besides state."""

    address: str  # EIP-55
    venue: str  # uniswap_v2, sushiswap, uniswap_v3, balancer
    kind: HopKind  # how the facet swaps through it (and, for now, which math prices it)
    tokens: tuple[str, ...]  # EIP-55, in the pool's own order (token0, token1 / the Vault's)
    decimals: tuple[int, ...]  # per token
    # V2 and V3: in pips (hundredths of a bip, 3000 = 0.3%). Weighted: 18-decimal fixed point
    # (3e15 = 0.3%) as last read; the pool owner may change it, WeightedPoolState.swap_fee is live.
    fee: int
    source: str  # the factory, or the Balancer Vault, the pool was found through
    tick_spacing: int = 0  # V3 only
    pool_id: bytes = b""  # weighted only: the Vault's 32-byte id
    # weighted only: which WeightedPool's math: 1 = the 20210418 deployment, 3 = weighted-pool-v3
    # (20230206: a newer FixedPoint.pow and scaling), told by the factory that created the pool
    version: int = 1

    def __post_init__(self) -> None:
        if len(self.tokens) != len(self.decimals) or len(self.tokens) < 2:
            raise FlasharbValueError(
                f"pool {self.address}: {len(self.tokens)} tokens, {len(self.decimals)} decimals"
            )
        if self.kind is HopKind.UNISWAP_V3 and self.tick_spacing <= 0:
            raise FlasharbValueError(f"V3 pool {self.address}: tick spacing {self.tick_spacing}")
        if self.kind is HopKind.BALANCER and len(self.pool_id) != 32:
            raise FlasharbValueError(f"Balancer pool {self.address}: pool id is not 32 bytes")


class PoolRegistry:
    """Pools by address, plus the ones skipped (address -> reason) and the block scanned to."""

    def __init__(self, block: int) -> None:
        self.block = block  # discovery has seen every creation up to and including this block
        self._pools: dict[str, PoolInfo] = {}
        self._by_pool_id: dict[bytes, str] = {}
        self.skipped: dict[str, str] = {}  # address -> why the pool is not used
        self.absent: dict[str, str] = {}  # venue -> why it was not scanned (no code on this chain)
        self.decimals: dict[str, int | None] = {}  # token -> decimals (None: no decimals())

    # ------------------------------------------------------------------ mapping

    def __len__(self) -> int:
        return len(self._pools)

    def __iter__(self) -> Iterator[PoolInfo]:
        return iter(self._pools.values())

    def __contains__(self, address: object) -> bool:
        return address in self._pools

    def __getitem__(self, address: str) -> PoolInfo:
        try:
            return self._pools[address]
        except KeyError:
            pass
        normal = checksum_address(address)
        if normal not in self._pools:
            raise FlasharbValueError(f"pool {address} is not in the registry; is it a pool?")
        return self._pools[normal]

    def get(self, address: str) -> PoolInfo | None:
        return self._pools.get(address)

    def addresses(self) -> list[str]:
        return list(self._pools)

    def by_pool_id(self, pool_id: bytes) -> PoolInfo | None:
        address = self._by_pool_id.get(pool_id)
        return None if address is None else self._pools[address]

    def of_kind(self, kind: HopKind) -> list[PoolInfo]:
        return [p for p in self._pools.values() if p.kind is kind]

    def of_venue(self, venue: str) -> list[PoolInfo]:
        return [p for p in self._pools.values() if p.venue == venue]

    def counts(self) -> dict[str, int]:
        """Pools per venue."""
        out: dict[str, int] = {}
        for p in self._pools.values():
            out[p.venue] = out.get(p.venue, 0) + 1
        return out

    # ------------------------------------------------------------------ updates

    def add(self, info: PoolInfo) -> bool:
        """Add or replace `info`; True if the pool is new."""
        new = info.address not in self._pools
        self._pools[info.address] = info
        if info.pool_id:
            self._by_pool_id[info.pool_id] = info.address
        self.skipped.pop(info.address, None)
        return new

    def add_all(self, infos: Iterable[PoolInfo]) -> None:
        for info in infos:
            self.add(info)

    def skip(self, address: str, reason: str) -> None:
        if address not in self._pools:
            self.skipped[address] = reason
