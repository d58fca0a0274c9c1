// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Uniswap V3 swap callback (v3-core IUniswapV3SwapCallback).
interface IUniswapV3SwapCallback {
    /// @notice Called by a pool during swap: pay it the positive delta before returning.
    /// @param amount0Delta Token0 owed to the pool (positive) or sent by it (negative).
    /// @param amount1Delta Token1 owed to the pool (positive) or sent by it (negative).
    /// @param data The bytes the swap caller passed.
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata data) external;
}

/// @notice Uniswap V3 flash callback (v3-core IUniswapV3FlashCallback).
interface IUniswapV3FlashCallback {
    /// @notice Called by a pool during flash: repay the loan plus `fee0` / `fee1` before returning.
    /// @param fee0 Token0 fee owed.
    /// @param fee1 Token1 fee owed.
    /// @param data The bytes the flash caller passed.
    function uniswapV3FlashCallback(uint256 fee0, uint256 fee1, bytes calldata data) external;
}

/// @notice Uniswap V2 flash-swap callback (v2-core IUniswapV2Callee).
interface IUniswapV2Callee {
    /// @notice Called by a pair during swap when `data` is non-empty, after it sent the outputs.
    /// @param sender The swap's msg.sender.
    /// @param amount0 Token0 sent out.
    /// @param amount1 Token1 sent out.
    /// @param data The bytes the swap caller passed.
    function uniswapV2Call(address sender, uint256 amount0, uint256 amount1, bytes calldata data) external;
}

/// @notice Uniswap V4 PoolManager unlock callback (v4-core IUnlockCallback).
interface IUnlockCallback {
    /// @notice Called by the PoolManager during unlock: every delta must be settled before returning.
    /// @param data The bytes the unlock caller passed.
    /// @return What unlock returns to its caller.
    function unlockCallback(bytes calldata data) external returns (bytes memory);
}
