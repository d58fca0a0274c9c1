// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "./IERC20.sol";

/// @notice Balancer V2 flash-loan callback, as the Vault calls it (balancer-v2-monorepo IFlashLoanRecipient).
interface IFlashLoanRecipient {
    /// @notice Called by the Vault after it sent `amounts` of `tokens`; must repay amounts + feeAmounts before returning.
    /// @param tokens The borrowed tokens, sorted and unique.
    /// @param amounts The borrowed amounts, one per token.
    /// @param feeAmounts The flash-loan fee owed on top of each amount.
    /// @param userData The bytes the initiator passed to `flashLoan`, unchanged.
    function receiveFlashLoan(
        IERC20[] memory tokens,
        uint256[] memory amounts,
        uint256[] memory feeAmounts,
        bytes memory userData
    ) external;
}
