"""Event topics the state layer listens to: pool creation, and every event that moves a pool's
swap state (reserves, price, liquidity, ticks, balances, fee)."""

from __future__ import annotations

from eth_utils import keccak

__all__ = [
    "BALANCER_STATE_TOPICS",
    "CREATION_TOPICS",
    "FLASH_FEE_CHANGED",
    "PAIR_CREATED",
    "POOL_CREATED",
    "POOL_REGISTERED",
    "STATE_TOPICS",
    "SWAP_FEE_CHANGED",
    "V2_SYNC",
    "V3_STATE_TOPICS",
    "topic",
]


def topic(signature: str) -> bytes:
    return keccak(text=signature)


# Creation
PAIR_CREATED = topic("PairCreated(address,address,address,uint256)")  # V2-style factory
POOL_CREATED = topic("PoolCreated(address,address,uint24,int24,address)")  # Uniswap V3 factory
POOL_REGISTERED = topic("PoolRegistered(bytes32,address,uint8)")  # Balancer Vault

# State changes. V2: Sync follows every mint, burn, swap and sync.
V2_SYNC = topic("Sync(uint112,uint112)")
# V3: price, tick and in-range liquidity move on Initialize and Swap; liquidity and ticks on
# Mint and Burn. (Flash and Collect move fees and balances only.)
V3_STATE_TOPICS = (
    topic("Initialize(uint160,int24)"),
    topic("Swap(address,address,int256,int256,uint160,uint128,int24)"),
    topic("Mint(address,address,int24,int24,uint128,uint256,uint256)"),
    topic("Burn(address,int24,int24,uint128,uint256,uint256)"),
)
# Balancer: the Vault emits these with the pool id as topic 1.
BALANCER_STATE_TOPICS = (
    topic("Swap(bytes32,address,address,uint256,uint256)"),
    topic("PoolBalanceChanged(bytes32,address,address[],int256[],uint256[])"),
    topic("PoolBalanceManaged(bytes32,address,address,int256,int256)"),
)
SWAP_FEE_CHANGED = topic("SwapFeePercentageChanged(uint256)")  # emitted by the pool itself
# Not a pool's state: the Vault's flash-loan fee (a lender's price), set in its fees collector.
FLASH_FEE_CHANGED = topic("FlashLoanFeePercentageChanged(uint256)")

CREATION_TOPICS = (PAIR_CREATED, POOL_CREATED, POOL_REGISTERED)
STATE_TOPICS = (V2_SYNC, *V3_STATE_TOPICS, *BALANCER_STATE_TOPICS, SWAP_FEE_CHANGED)
