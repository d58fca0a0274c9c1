// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ZooERC20} from "./ZooERC20.sol";

/// @notice Models rebasing tokens (stETH, AMPL): balances are shares times a global index the owner moves.
/// @dev Balances change without any transfer (a pool's balance drifts away from its reserves), and
///      an amount is moved as whole shares, rounded down as stETH does: the recipient may get a
///      wei or two less than the amount sent, and a "send everything" leaves share dust.
contract RebasingToken is ZooERC20 {
    /// @notice The index moved from `oldIndex` to `newIndex`: every balance scaled by their ratio.
    event Rebased(uint256 oldIndex, uint256 newIndex);

    error ZeroIndex();

    /// @notice An index of 1.0 (18 decimals).
    uint256 public constant ONE = 1e18;

    /// @notice Tokens per share, 18 decimals; starts at ONE.
    uint256 public index = ONE;

    constructor(string memory _name, string memory _symbol, uint8 _decimals, address holder, uint256 supply)
        ZooERC20(_name, _symbol, _decimals, holder, supply)
    {}

    /// @notice Rebase: set tokens per share. Owner only.
    /// @param newIndex Tokens per share, 18 decimals (ONE = 1.0); not zero.
    function setIndex(uint256 newIndex) external onlyOwner {
        if (newIndex == 0) revert ZeroIndex();
        emit Rebased(index, newIndex);
        index = newIndex;
    }

    /// @notice Shares held by `account` (what a balance is made of).
    /// @param account The holder.
    /// @return The shares.
    function sharesOf(address account) external view returns (uint256) {
        return _stored[account];
    }

    /// @notice All shares in existence.
    /// @return The shares.
    function totalShares() external view returns (uint256) {
        return _totalStored;
    }

    function _toStored(uint256 amount) internal view override returns (uint256) {
        return amount * ONE / index; // rounds down, like stETH's getSharesByPooledEth
    }

    function _fromStored(uint256 units) internal view override returns (uint256) {
        return units * index / ONE; // rounds down, like stETH's getPooledEthByShares
    }
}
