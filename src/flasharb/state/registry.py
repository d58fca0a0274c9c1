"""The pool registry: every pool discovery found whose math flasharb has, keyed by its `uid`.

A pool's uid is the EIP-55 address of its contract, or, for a pool with no contract of its own
(a Uniswap V4 pool is an entry of the PoolManager), its 32-byte id as 0x-hex: no pool is given
an address it does not have. An entry holds what does not change between blocks (venue, hop
kind, tokens, decimals, fee, tick spacing, the Vault's or the PoolManager's pool id, and what
else its venue needs, in `meta`); the state at a block lives in the `flasharb.amm` state classes
that `flasharb.state.reader` fills. Pools that were found but cannot be used are kept aside with
the reason, so a user can see why a pool they expected is missing.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass

from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.errors import FlasharbValueError
from flasharb.kinds import HopKind

__all__ = ["BALANCER", "UNISWAP_V3", "PoolInfo", "PoolRegistry", "id_uid", "normal_uid"]

UNISWAP_V3 = "uniswap_v3"
BALANCER = "balancer"


def normal_uid(uid: str) -> str:
    """`uid` as registries key it: an address in EIP-55, a 32-byte id in lower-case hex."""
    return uid.lower() if len(uid) == 66 else checksum_address(uid)


def id_uid(pool_id: bytes) -> str:
    """The uid of a pool known only by a 32-byte id (a Uniswap V4 PoolId): its 0x-hex."""
    if len(pool_id) != 32:
        raise FlasharbValueError(f"a pool id is 32 bytes, not {len(pool_id)}")
    return "0x" + pool_id.hex()


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolInfo:
    """What a pool is, independent of the block: everything a state read needs besides state."""

    address: str  # EIP-55: the contract that holds the pool (V4: the PoolManager)
    venue: str  # the venue's name: uniswap_v2, sushiswap, uniswap_v3, balancer, ...
    kind: HopKind | None  # how the facet swaps through it (None: no facet hop, read only)
    tokens: tuple[str, ...]  # EIP-55, in the pool's own order (token0, token1 / the Vault's)
    decimals: tuple[int, ...]  # per token (`()` until discovery has read them)
    # V2, V3, V4: in pips (hundredths of a bip, 3000 = 0.3%). Balancer: 18-decimal fixed point
    # (3e15 = 0.3%) as last read; the pool owner may change it, the state's fee is live.
    fee: int
    source: str  # the factory, the Vault or the PoolManager the pool was found through
    tick_spacing: int = 0  # V3, V4
    pool_id: bytes = b""  # Balancer: the Vault's 32-byte id; V4: the PoolId
    # a pool with no contract of its own (V4): its 0x-hex id; empty for a contract pool
    hosted_id: str = ""
    meta: Hashable = None  # what else the venue keeps about the pool (frozen, hashable)

    @property
    def uid(self) -> str:
        """The registry key: the pool's address, or the 0x-hex id of a hosted pool."""
        return self.hosted_id or self.address

    def __post_init__(self) -> None:
        if len(self.tokens) < 2 or (self.decimals and len(self.decimals) != len(self.tokens)):
            raise FlasharbValueError(
                f"pool {self.uid}: {len(self.tokens)} tokens, {len(self.decimals)} decimals"
            )
        if self.pool_id and len(self.pool_id) != 32:
            raise FlasharbValueError(f"pool {self.uid}: pool id is not 32 bytes")


class PoolRegistry:
    """Pools by uid, plus the ones skipped (uid -> reason) and the block scanned to."""

    def __init__(self, block: int) -> None:
        self.block = block  # discovery has seen every creation up to and including this block
        self._pools: dict[str, PoolInfo] = {}
        self._by_pool_id: dict[bytes, str] = {}
        self.skipped: dict[str, str] = {}  # uid -> why the pool is not used
        self.absent: dict[str, str] = {}  # venue -> why it was not scanned (no code on this chain)
        self.decimals: dict[str, int | None] = {}  # token -> decimals (None: no decimals())

    # ------------------------------------------------------------------ mapping

    def __len__(self) -> int:
        return len(self._pools)

    def __iter__(self) -> Iterator[PoolInfo]:
        return iter(self._pools.values())

    def __contains__(self, uid: object) -> bool:
        return uid in self._pools

    def __getitem__(self, uid: str) -> PoolInfo:
        try:
            return self._pools[uid]
        except KeyError:
            pass
        normal = normal_uid(uid)
        if normal not in self._pools:
            raise FlasharbValueError(f"pool {uid} is not in the registry; is it a pool?")
        return self._pools[normal]

    def get(self, uid: str) -> PoolInfo | None:
        return self._pools.get(uid)

    def uids(self) -> list[str]:
        return list(self._pools)

    def by_pool_id(self, pool_id: bytes) -> PoolInfo | None:
        uid = self._by_pool_id.get(pool_id)
        return None if uid is None else self._pools[uid]

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
        new = info.uid not in self._pools
        self._pools[info.uid] = info
        if info.pool_id:
            self._by_pool_id[info.pool_id] = info.uid
        self.skipped.pop(info.uid, None)
        return new

    def add_all(self, infos: Iterable[PoolInfo]) -> None:
        for info in infos:
            self.add(info)

    def skip(self, uid: str, reason: str) -> None:
        if uid not in self._pools:
            self.skipped[uid] = reason
