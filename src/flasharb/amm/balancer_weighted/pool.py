"""A Balancer V2 weighted pool's swap state at one block, and its exact swaps.

ref: balancer-v2-monorepo pkg/pool-weighted/contracts/WeightedPool.sol (20210418 deployment)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["WeightedPoolState"]


@dataclass(frozen=True, slots=True, kw_only=True)
class WeightedPoolState:
    """What a weighted pool's `onSwap` reads: Vault balances, weights, fee, token decimals."""

    address: str
    pool_id: bytes  # 32 bytes: the Vault's id for this pool
    tokens: tuple[str, ...]  # in the Vault's order (getPoolTokens)
    balances: tuple[int, ...]  # raw token units, as Vault.getPoolTokens returns them
    decimals: tuple[int, ...]  # per token; the pool scales every amount to 18 decimals
    normalized_weights: tuple[int, ...]  # 18-decimal fixed point, summing to 1e18
    swap_fee: int  # 18-decimal fixed point: 3e15 = 0.3%
    venue: str = "balancer"
