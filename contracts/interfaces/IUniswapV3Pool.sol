// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The Uniswap V3 pool functions flasharb calls (v3-core IUniswapV3PoolActions).
interface IUniswapV3Pool {
    /// @notice Swap token0 for token1 or back; pays the output to `recipient`, then calls
    ///         uniswapV3SwapCallback on msg.sender for the input.
    /// @param recipient Receives the output.
    /// @param zeroForOne True to sell token0.
    /// @param amountSpecified Positive: exact input; negative: exact output.
    /// @param sqrtPriceLimitX96 Q64.96 price the swap may not cross.
    /// @param data Passed to the callback.
    /// @return amount0 The pool's token0 balance change (positive: it received).
    /// @return amount1 The pool's token1 balance change.
    function swap(
        address recipient,
        bool zeroForOne,
        int256 amountSpecified,
        uint160 sqrtPriceLimitX96,
        bytes calldata data
    ) external returns (int256 amount0, int256 amount1);

    /// @notice Lend `amount0` / `amount1` to `recipient`, call uniswapV3FlashCallback on msg.sender, then require
    ///         the amounts back plus fee (fee = amount * pool fee / 1e6, rounded up).
    /// @param recipient Receives the loan.
    /// @param amount0 Token0 lent.
    /// @param amount1 Token1 lent.
    /// @param data Passed to the callback.
    function flash(address recipient, uint256 amount0, uint256 amount1, bytes calldata data) external;
}
