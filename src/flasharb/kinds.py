"""One vocabulary for what the contracts execute: hop kinds and capital-source kinds.

Each value is the code the contracts use, so the enum member goes into calldata as it is and
comes back from events as it is:

- `HopKind`: `LibRoute.KIND_*` (contracts/libraries/LibRoute.sol), the byte that heads each hop
  of a packed path;
- `SourceKind`: `FlashArbFacet.SOURCE_*` (contracts/facets/FlashArbFacet.sol), the top byte of
  `executeArb`'s `source` word.

`label` is the lower-case name, the spelling of JSON output, the journal and the CLI
(`"uniswap_v2"`, `"balancer_v2"`); `parse` reads either spelling back.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Self

from flasharb.errors import FlasharbValueError

__all__ = ["HopKind", "SourceKind"]


class _Coded(IntEnum):
    @property
    def label(self) -> str:
        """The JSON / journal spelling: the lower-case name."""
        return self.name.lower()

    @classmethod
    def parse(cls, value: object) -> Self:
        """A member from its code, its label or itself; FlasharbValueError naming the choices."""
        if isinstance(value, cls):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return cls(value)
            except ValueError:
                pass
        elif isinstance(value, str):
            member = cls.__members__.get(value.upper())
            if member is not None:
                return member
        choices = ", ".join(m.label for m in cls)
        raise FlasharbValueError(f"{cls.__name__} {value!r} is not one of {choices}")

    def __str__(self) -> str:
        return self.label


class HopKind(_Coded):
    """How FlashArbFacet swaps through a pool (LibRoute.KIND_*)."""

    UNISWAP_V2 = 0  # a constant-product pair (Uniswap V2, SushiSwap, ...): paid before `swap`
    UNISWAP_V3 = 1  # a Uniswap V3 pool of the canonical factory: paid in its swap callback
    BALANCER = 2  # a Balancer V2 pool, through the Vault (one batchSwap for an all-Balancer cycle)
    UNISWAP_V4 = 3  # a hookless Uniswap V4 pool, inside the PoolManager's unlock (flash accounting)


class SourceKind(_Coded):
    """Where executeArb takes its capital (FlashArbFacet.SOURCE_*)."""

    BALANCER_V2 = 0  # Vault.flashLoan; never around a Balancer hop (the Vault reverts BAL#400)
    UNISWAP_V3 = 1  # a V3 pool's flash, fee = its tier rounded up
    UNISWAP_V2 = 2  # a V2 pair's flash swap, repaid ceil(amount * 1e6 / (1e6 - fee))
    INVENTORY = 3  # the diamond's own balance (an all-Balancer cycle needs none: one batchSwap)
    UNISWAP_V4 = 4  # the V4 PoolManager's unlock: take, settle before it returns; no fee
