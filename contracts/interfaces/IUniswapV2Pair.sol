// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The Uniswap V2 pair functions flasharb uses (v2-core UniswapV2Pair); SushiSwap pairs share them.
interface IUniswapV2Pair {
    /// @notice The lower-sorted token of the pair.
    /// @return The token0 address.
    function token0() external view returns (address);

    /// @notice The higher-sorted token of the pair.
    /// @return The token1 address.
    function token1() external view returns (address);

    /// @notice Reserves as of the pair's last update, and the block timestamp (mod 2^32) of that update.
    /// @return reserve0 Reserve of token0.
    /// @return reserve1 Reserve of token1.
    /// @return blockTimestampLast Timestamp of the last reserve update, mod 2^32.
    function getReserves() external view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast);

    /// @notice Send the requested outputs to `to`; the input must already sit in the pair (k is checked after).
    /// @param amount0Out Token0 to send out.
    /// @param amount1Out Token1 to send out.
    /// @param to The recipient of the outputs.
    /// @param data Empty for a plain swap; non-empty triggers the uniswapV2Call flash-swap callback.
    function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes calldata data) external;
}
