// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The Uniswap V2 factory enumeration functions flasharb uses (v2-core UniswapV2Factory).
interface IUniswapV2Factory {
    /// @notice Number of pairs the factory has created.
    /// @return The length of allPairs.
    function allPairsLength() external view returns (uint256);

    /// @notice The pair created `index`-th (0-based).
    /// @param index Position in creation order.
    /// @return pair The pair address.
    function allPairs(uint256 index) external view returns (address pair);
}
