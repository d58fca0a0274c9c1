// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IBalancerVault} from "../interfaces/IBalancerVault.sol";
import {IERC20} from "../interfaces/IERC20.sol";
import {IFlashLoanRecipient} from "../interfaces/IFlashLoanRecipient.sol";

/// @notice Test-only probe: a Balancer swap inside a Balancer flash loan, to show the Vault refuses it (BAL#400).
/// @dev Why FlashArbFacet never routes a Balancer hop inside a Balancer loan: the Vault's flashLoan and swap share
///      one reentrancy guard. Deployed by the test, holds nothing after the (reverting) call.
contract BalReentryProbe is IFlashLoanRecipient {
    IBalancerVault internal constant VAULT = IBalancerVault(0xBA12222222228d8Ba445958a75a0704d566BF2C8); // Balancer V2 Vault

    /// @notice receiveFlashLoan was called by `caller`, not the Vault.
    error NotVault(address caller);

    /// @notice Borrow `amount` of `token` from the Vault and, inside the loan, sell it in `poolId` for `tokenOut`.
    /// @param token Borrowed and sold.
    /// @param amount Borrowed and sold.
    /// @param poolId The Balancer pool to swap in.
    /// @param tokenOut Bought.
    function run(address token, uint256 amount, bytes32 poolId, address tokenOut) external {
        IERC20[] memory tokens = new IERC20[](1);
        tokens[0] = IERC20(token);
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = amount;
        VAULT.flashLoan(this, tokens, amounts, abi.encode(poolId, tokenOut));
    }

    /// @notice The Vault's callback: tries the swap (the Vault reverts BAL#400 before anything moves).
    /// @param tokens The borrowed token.
    /// @param amounts The borrowed amount.
    /// @param userData abi.encode(poolId, tokenOut).
    function receiveFlashLoan(
        IERC20[] memory tokens,
        uint256[] memory amounts,
        uint256[] memory,
        bytes memory userData
    ) external override {
        if (msg.sender != address(VAULT)) revert NotVault(msg.sender);
        (bytes32 poolId, address tokenOut) = abi.decode(userData, (bytes32, address));
        tokens[0].approve(address(VAULT), amounts[0]);
        VAULT.swap(
            IBalancerVault.SingleSwap(poolId, IBalancerVault.SwapKind.GIVEN_IN, address(tokens[0]), tokenOut, amounts[0], ""),
            IBalancerVault.FundManagement(address(this), false, payable(address(this)), false),
            0,
            block.timestamp
        );
    }
}
