// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice WETH9's wrap and unwrap (mainnet 0xC02a...6Cc2); its ERC-20 half is IERC20.
interface IWETH {
    /// @notice Wrap the ETH sent: mint as much WETH to the caller.
    function deposit() external payable;

    /// @notice Burn `wad` of the caller's WETH and send it as much ETH (`msg.sender.transfer`: a 2,300 gas stipend).
    /// @param wad The amount, in wei.
    function withdraw(uint256 wad) external;
}
