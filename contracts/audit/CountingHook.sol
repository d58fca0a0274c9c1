// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Audit-only Uniswap V4 hook: counts every beforeSwap call and changes nothing (a real hook could change a
///         swap's amounts, fee and deltas, which is why FlashArbFacet names hookless pools only).
/// @dev The PoolManager calls a hook only where the hook's address has the permission's flag bit: this code is set
///      (anvil_setCode) at an address whose low 14 bits are BEFORE_SWAP_FLAG (1 << 7) alone. `calls` > 0 after a
///      route means the route touched a hooked pool. Never deployed on a real chain.
contract CountingHook {
    /// @notice v4-core's PoolKey.
    struct PoolKey {
        address currency0;
        address currency1;
        uint24 fee;
        int24 tickSpacing;
        address hooks;
    }

    /// @notice v4-core's IPoolManager.SwapParams.
    struct SwapParams {
        bool zeroForOne;
        int256 amountSpecified;
        uint160 sqrtPriceLimitX96;
    }

    /// @notice beforeSwap calls so far.
    uint256 public calls;

    /// @notice IHooks.beforeSwap: counts the call, no delta, no fee override.
    /// @return The selector the PoolManager expects, a zero BeforeSwapDelta, no LP fee override.
    function beforeSwap(address, PoolKey calldata, SwapParams calldata, bytes calldata)
        external
        returns (bytes4, int256, uint24)
    {
        ++calls;
        return (this.beforeSwap.selector, 0, 0);
    }
}
