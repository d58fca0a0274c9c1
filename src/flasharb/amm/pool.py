"""The interface every pool state offers the engine, whatever its venue.

A pool state is an immutable snapshot of one pool at one block. Quotes are exact integers,
equal to what the pool pays on-chain; where the pool would revert, the quote raises a
`FlasharbError` subclass (`InsufficientLiquidityError` when it cannot pay).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["PoolState"]


@runtime_checkable
class PoolState(Protocol):
    """One pool at one block, whatever its venue."""

    @property
    def address(self) -> str:
        """EIP-55 address of the contract that holds the pool (the PoolManager for V4)."""
        ...

    @property
    def uid(self) -> str:
        """The pool's identity: the EIP-55 address of its contract, or, for a pool that has no
        contract of its own (a Uniswap V4 pool lives in the PoolManager), its 32-byte id as
        0x-hex. States, registries and routes are keyed by it."""
        ...

    @property
    def venue(self) -> str:
        """Deployment: uniswap_v2, sushiswap, uniswap_v3, balancer, balancer_weighted_v3,
        balancer_stable, uniswap_v4."""
        ...

    @property
    def tokens(self) -> tuple[str, ...]:
        """The pool's tokens (EIP-55), in the pool's own order."""
        ...

    def quote_exact_in(self, token_in: str, token_out: str, amount_in: int) -> int:
        """Exact output for selling `amount_in` of `token_in` for `token_out`."""
        ...

    def quote_exact_out(self, token_in: str, token_out: str, amount_out: int) -> int:
        """Exact input of `token_in` that buys `amount_out` of `token_out`."""
        ...
