// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "../interfaces/IERC20.sol";
import {LibDiamond} from "../libraries/LibDiamond.sol";
import {LibSafeERC20} from "../libraries/LibSafeERC20.sol";

/// @notice The way profits leave the diamond: owner-only token withdrawals.
contract TreasuryFacet {
    /// @notice `amount` of `token` left the diamond for `to`.
    event Withdrawn(address indexed token, address indexed to, uint256 amount);

    /// @notice withdraw was given the zero address as recipient.
    error ZeroAddress();

    /// @notice Send `amount` of `token` held by the diamond to `to`.
    /// @dev Owner only (NotContractOwner); the only path by which funds leave outside an arb's own repayment.
    ///      Reverts TokenTransferFailed if the token reverts or returns false (USDT-style no-return is accepted).
    /// @param token The ERC-20 token.
    /// @param to The recipient; not the zero address.
    /// @param amount The amount, in the token's smallest unit.
    function withdraw(address token, address to, uint256 amount) external {
        LibDiamond.enforceIsContractOwner();
        if (to == address(0)) revert ZeroAddress();
        LibSafeERC20.safeTransfer(IERC20(token), to, amount);
        emit Withdrawn(token, to, amount);
    }
}
