"""A Uniswap V4 pool's identity on chain: its PoolKey and PoolId.

V4 pools have no address: every pool lives inside the PoolManager, named by
PoolId = keccak256(abi.encode(PoolKey)). The key is chain-level identity (like a V3 pool's CREATE2
address), so the replica that creates pools and the engine that reads them share it from here.

ref: https://github.com/Uniswap/v4-core/blob/main/src/types/PoolKey.sol
ref: https://github.com/Uniswap/v4-core/blob/main/src/types/PoolId.sol
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode
from eth_utils import keccak

__all__ = ["NATIVE", "PoolKey"]

NATIVE = "0x0000000000000000000000000000000000000000"  # currency0 of a native-ETH pool


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolKey:
    """v4-core's PoolKey: currencies sorted (address(0) is native ETH), fee, spacing, hooks."""

    currency0: str
    currency1: str
    fee: int  # pips, or DYNAMIC_FEE_FLAG
    tick_spacing: int
    hooks: str = NATIVE

    def encode(self) -> bytes:
        """abi.encode(key): five words."""
        return encode(
            ["address", "address", "uint24", "int24", "address"],
            [self.currency0, self.currency1, self.fee, self.tick_spacing, self.hooks],
        )

    def pool_id(self) -> bytes:
        """ref: PoolId.sol `toId`: keccak256 of the ABI-encoded key (5 words)."""
        return keccak(self.encode())

    def as_tuple(self) -> tuple[str, str, int, int, str]:
        """The key as the ABI's tuple (currency0, currency1, fee, tickSpacing, hooks)."""
        return (self.currency0, self.currency1, self.fee, self.tick_spacing, self.hooks)
