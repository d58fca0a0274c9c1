// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "./IERC20.sol";
import {IFlashLoanRecipient} from "./IFlashLoanRecipient.sol";

/// @notice The one Balancer V2 Vault function flasharb uses: flash loans.
interface IBalancerVault {
    /// @notice Lend `amounts` of `tokens` to `recipient`, call its receiveFlashLoan, then require repayment plus fee.
    /// @param recipient The contract whose receiveFlashLoan is called.
    /// @param tokens The tokens to borrow, sorted ascending, no duplicates.
    /// @param amounts The amounts to borrow, one per token.
    /// @param userData Passed to the callback unchanged.
    function flashLoan(
        IFlashLoanRecipient recipient,
        IERC20[] memory tokens,
        uint256[] memory amounts,
        bytes memory userData
    ) external;
}
