"""Balancer V2 weighted pool math, ported 1:1 from the Solidity mainnet runs; integers only."""

from flasharb.amm.balancer_weighted.pool import WeightedPoolState

__all__ = ["WeightedPoolState"]
