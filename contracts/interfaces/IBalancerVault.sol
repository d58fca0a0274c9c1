// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "./IERC20.sol";
import {IFlashLoanRecipient} from "./IFlashLoanRecipient.sol";

/// @notice The Balancer V2 Vault functions flasharb uses: flash loans, single swaps and batch swaps
///         (balancer-v2-monorepo pkg/interfaces/contracts/vault/IVault.sol).
interface IBalancerVault {
    /// @notice GIVEN_IN: `amount` is what goes in; GIVEN_OUT: `amount` is what comes out.
    enum SwapKind {
        GIVEN_IN,
        GIVEN_OUT
    }

    /// @notice One swap against one pool.
    struct SingleSwap {
        bytes32 poolId; // pool address (20 bytes) | specialization (2) | nonce (10)
        SwapKind kind;
        address assetIn; // IAsset: a token, or address(0) for ETH
        address assetOut;
        uint256 amount; // in for GIVEN_IN, out for GIVEN_OUT
        bytes userData; // pool-specific; empty for weighted pools
    }

    /// @notice One step of a batch; amount 0 means "the previous step's output" (GIVEN_IN).
    struct BatchSwapStep {
        bytes32 poolId;
        uint256 assetInIndex; // index into the batch's assets
        uint256 assetOutIndex;
        uint256 amount;
        bytes userData;
    }

    /// @notice Where a swap's tokens come from and go to.
    struct FundManagement {
        address sender; // pays the input (must be msg.sender or have approved it as relayer)
        bool fromInternalBalance;
        address payable recipient; // receives the output
        bool toInternalBalance;
    }

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

    /// @notice Swap through one pool; pulls `assetIn` from `funds.sender` (an ERC-20 allowance to the Vault).
    /// @param singleSwap The pool, direction and amount.
    /// @param funds Who pays and who receives.
    /// @param limit GIVEN_IN: least output accepted; GIVEN_OUT: most input paid (BAL#507 otherwise).
    /// @param deadline Latest block timestamp (BAL#508 after it).
    /// @return amountCalculated The output (GIVEN_IN) or input (GIVEN_OUT) the pool computed.
    function swap(SingleSwap memory singleSwap, FundManagement memory funds, uint256 limit, uint256 deadline)
        external
        payable
        returns (uint256 amountCalculated);

    /// @notice Run `swaps` in order and settle only the net amount of each asset.
    /// @param kind GIVEN_IN or GIVEN_OUT, for every step.
    /// @param swaps The steps.
    /// @param assets The assets the steps index into.
    /// @param funds Who pays and who receives.
    /// @param limits Per asset, the most the Vault may take (positive) or the least it must pay (negative).
    /// @param deadline Latest block timestamp.
    /// @return assetDeltas Per asset, what the Vault received (positive) or paid (negative).
    function batchSwap(
        SwapKind kind,
        BatchSwapStep[] memory swaps,
        address[] memory assets,
        FundManagement memory funds,
        int256[] memory limits,
        uint256 deadline
    ) external payable returns (int256[] memory assetDeltas);
}
