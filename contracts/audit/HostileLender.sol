// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IUniswapV2Callee, IUniswapV3FlashCallback} from "../interfaces/IUniswapCallbacks.sol";

/// @notice Audit-only lender that lies: it answers UniswapV3Pool.flash and UniswapV2Pair.swap like a pool, lends
///         nothing, and calls the borrower back (once or twice) claiming a fee or a loan it never paid.
/// @dev What an allowed executor could name as `source.lender` to try to move the diamond's inventory into a
///      contract it controls. The diamond must refuse, or end the transaction with the profit check reverting.
contract HostileLender {
    /// @notice Fee (V3) or extra borrowed amount (V2) claimed in every callback.
    uint256 public claim;
    /// @notice How many times flash/swap calls the borrower back (0: never).
    uint256 public callbacks = 1;

    /// @notice Set what the next callbacks claim and how many there are.
    /// @param claim_ Fee or extra amount claimed.
    /// @param callbacks_ Callbacks per flash/swap.
    function configure(uint256 claim_, uint256 callbacks_) external {
        claim = claim_;
        callbacks = callbacks_;
    }

    /// @notice UniswapV3Pool.flash look-alike: calls uniswapV3FlashCallback(claim, 0, data) on the caller.
    /// @param data Passed through unchanged (the borrower's in-flight marker matches it).
    function flash(address, uint256, uint256, bytes calldata data) external {
        for (uint256 i; i < callbacks; ++i) IUniswapV3FlashCallback(msg.sender).uniswapV3FlashCallback(claim, 0, data);
    }

    /// @notice UniswapV2Pair.swap look-alike: calls uniswapV2Call claiming amount0Out + claim was lent.
    /// @param amount0Out Token0 "lent".
    /// @param amount1Out Token1 "lent".
    /// @param data Passed through unchanged.
    function swap(uint256 amount0Out, uint256 amount1Out, address, bytes calldata data) external {
        for (uint256 i; i < callbacks; ++i) {
            IUniswapV2Callee(msg.sender).uniswapV2Call(msg.sender, amount0Out + claim, amount1Out, data);
        }
    }
}
