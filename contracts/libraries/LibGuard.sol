// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {LibDiamond} from "./LibDiamond.sol";
import {GuardStorage} from "../storage/GuardStorage.sol";

/// @notice `caller` is neither the diamond's owner nor an allowed executor.
error NotExecutor(address caller);
/// @notice The owner paused execution (GuardFacet.setPaused).
error ExecutionPaused();
/// @notice `amountIn` of `token` is above the owner's notional cap for that token.
error NotionalCapExceeded(address token, uint256 amountIn, uint256 cap);
/// @notice The arb asked to pay `bribeBps` of its profit to block.coinbase, above the owner's cap `maxBribeBps`.
error BribeAboveCap(uint256 bribeBps, uint256 maxBribeBps);

/// @notice The checks every arb passes before it borrows: who, whether, how much, and what it must keep.
library LibGuard {
    /// @notice Revert NotExecutor unless msg.sender is the owner or an allowed executor.
    /// @dev Owner first: one storage read on the usual path.
    function enforceCaller() internal view {
        if (msg.sender != LibDiamond.contractOwner() && !GuardStorage.layout().executors[msg.sender]) {
            revert NotExecutor(msg.sender);
        }
    }

    /// @notice Revert unless an arb of `amountIn` `token` paying `bribeBps` of its profit may run now: not paused,
    ///         within the token's cap and the owner's bribe cap; return the least profit the owner lets it keep.
    /// @dev One cold read (~2.1k gas) of slot 0 (pause flag, capped-token count, bribe cap, count of tokens with a
    ///      minimum profit); the token's cap and its minimum profit are read (~2.1k each) only when some token
    ///      has one. The bribe cap is checked only when a bribe is asked for.
    /// @param token The route token (borrowed, or taken from inventory).
    /// @param amountIn The notional put at risk.
    /// @param bribeBps Share of the profit the arb will pay block.coinbase, in basis points.
    /// @return minProfit The owner's minimum profit for `token` (0: none); executeArb keeps the larger of it and
    ///         its own argument.
    function enforceLimits(address token, uint256 amountIn, uint256 bribeBps)
        internal
        view
        returns (uint256 minProfit)
    {
        GuardStorage.Layout storage g = GuardStorage.layout();
        (bool paused, uint64 capCount, uint16 maxBribeBps, uint64 minProfitCount) =
            (g.paused, g.capCount, g.maxBribeBps, g.minProfitCount); // one slot
        if (paused) revert ExecutionPaused();
        if (bribeBps > maxBribeBps) revert BribeAboveCap(bribeBps, maxBribeBps);
        if (capCount != 0) {
            uint256 cap = g.notionalCaps[token];
            if (cap != 0 && amountIn > cap) revert NotionalCapExceeded(token, amountIn, cap);
        }
        if (minProfitCount != 0) minProfit = g.minProfits[token];
    }
}
