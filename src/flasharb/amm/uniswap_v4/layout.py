"""Where a v4 pool lives: its PoolId and its state's storage slots in the PoolManager.

Every v4 pool is an entry of the PoolManager's `_pools` mapping (slot 6), keyed by its PoolId,
keccak256(abi.encode(PoolKey)). A batched reader fetches these slots with `extsload` (one call,
many slots), as v4-core's StateLibrary does. Pure functions: no chain access.

Pool.State (v4-core src/libraries/Pool.sol), from the pool's state slot:
  +0 slot0: sqrtPriceX96 (160 bits) | tick (int24) | protocolFee (24) | lpFee (24)
  +1 feeGrowthGlobal0X128, +2 feeGrowthGlobal1X128
  +3 liquidity (uint128)
  +4 ticks: mapping(int24 => TickInfo); TickInfo's first slot is liquidityGross (low 128 bits)
     | liquidityNet (int128, high 128 bits)
  +5 tickBitmap: mapping(int16 => uint256)
  +6 positions

ref: v4-core src/libraries/StateLibrary.sol (POOLS_SLOT, TICKS_OFFSET, TICK_BITMAP_OFFSET),
src/types/PoolId.sol, src/types/Slot0.sol
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode
from eth_utils import keccak

__all__ = [
    "POOLS_SLOT",
    "Slot0",
    "decode_slot0",
    "decode_tick_liquidity_net",
    "liquidity_slot",
    "pool_state_slot",
    "tick_bitmap_slot",
    "tick_info_slot",
]

POOLS_SLOT = 6  # StateLibrary.POOLS_SLOT: PoolManager._pools
LIQUIDITY_OFFSET = 3
TICKS_OFFSET = 4
TICK_BITMAP_OFFSET = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class Slot0:
    sqrt_price_x96: int
    tick: int
    protocol_fee: int
    lp_fee: int


def _slot_int(x: bytes | int) -> int:
    return x if isinstance(x, int) else int.from_bytes(x, "big")


def pool_state_slot(pool_id: bytes) -> int:
    """keccak256(abi.encodePacked(poolId, POOLS_SLOT))."""
    return int.from_bytes(keccak(pool_id + POOLS_SLOT.to_bytes(32, "big")), "big")


def liquidity_slot(pool_id: bytes) -> int:
    return pool_state_slot(pool_id) + LIQUIDITY_OFFSET


def tick_info_slot(pool_id: bytes, tick: int) -> int:
    """keccak256(abi.encode(int24 tick, ticksMappingSlot))."""
    base = pool_state_slot(pool_id) + TICKS_OFFSET
    return int.from_bytes(keccak(encode(["int24", "uint256"], [tick, base])), "big")


def tick_bitmap_slot(pool_id: bytes, word: int) -> int:
    """keccak256(abi.encode(int16 word, tickBitmapMappingSlot))."""
    base = pool_state_slot(pool_id) + TICK_BITMAP_OFFSET
    return int.from_bytes(keccak(encode(["int16", "uint256"], [word, base])), "big")


def decode_slot0(value: bytes | int) -> Slot0:
    """ref: Slot0.sol: sqrtPriceX96 in the low 160 bits, then tick (int24), protocolFee, lpFee."""
    v = _slot_int(value)
    tick = (v >> 160) & 0xFFFFFF
    if tick >= 1 << 23:
        tick -= 1 << 24
    return Slot0(
        sqrt_price_x96=v & ((1 << 160) - 1),
        tick=tick,
        protocol_fee=(v >> 184) & 0xFFFFFF,
        lp_fee=(v >> 208) & 0xFFFFFF,
    )


def decode_tick_liquidity_net(value: bytes | int) -> int:
    """liquidityNet: the high 128 bits of a TickInfo's first slot, as int128."""
    net = _slot_int(value) >> 128
    return net - (1 << 128) if net >= 1 << 127 else net
