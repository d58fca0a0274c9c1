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

/// @notice The checks every arb passes before it borrows: who, whether, how much.
library LibGuard {
    /// @notice Revert NotExecutor unless msg.sender is the owner or an allowed executor.
    /// @dev Owner first: one storage read on the usual path.
    function enforceCaller() internal view {
        if (msg.sender != LibDiamond.contractOwner() && !GuardStorage.layout().executors[msg.sender]) {
            revert NotExecutor(msg.sender);
        }
    }

    /// @notice Revert unless an arb of `amountIn` `token` may run now: not paused, within the token's cap.
    /// @dev One cold read (~2.1k gas) for the pause flag and the number of capped tokens, packed in one slot; the
    ///      token's cap is read (another ~2.1k) only when some token is capped.
    /// @param token The route token (borrowed, or taken from inventory).
    /// @param amountIn The notional put at risk.
    function enforceLimits(address token, uint256 amountIn) internal view {
        GuardStorage.Layout storage g = GuardStorage.layout();
        if (g.paused) revert ExecutionPaused();
        if (g.capCount == 0) return; // same slot as `paused`: already warm
        uint256 cap = g.notionalCaps[token];
        if (cap != 0 && amountIn > cap) revert NotionalCapExceeded(token, amountIn, cap);
    }
}
