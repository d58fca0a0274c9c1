// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {LibDiamond} from "../libraries/LibDiamond.sol";
import {GuardStorage} from "../storage/GuardStorage.sol";

/// @notice The owner's brakes on execution: a pause switch, an executor allowlist, per-token notional caps.
/// @dev An executor may call executeArb and nothing else: it cannot withdraw, cut facets, change these settings or
///      transfer ownership. FlashArbFacet enforces all three (LibGuard) before it borrows anything.
contract GuardFacet {
    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Execution was paused (true) or resumed (false).
    event PausedSet(bool paused);
    /// @notice `executor` may (true) or may no longer (false) call executeArb.
    event ExecutorSet(address indexed executor, bool allowed);
    /// @notice Arbs in `token` may borrow at most `cap` (0: no cap).
    event NotionalCapSet(address indexed token, uint256 cap);

    /// @notice setExecutor was given the zero address.
    error ZeroAddress();

    /*//////////////////////////////////////////////////////////////
                                  LOGIC
    //////////////////////////////////////////////////////////////*/

    /// @notice Pause (true) or resume (false) executeArb for everyone, the owner included.
    /// @dev Owner only (NotContractOwner). Withdrawals are never paused: the owner can always take funds out.
    /// @param paused_ The new state.
    function setPaused(bool paused_) external {
        LibDiamond.enforceIsContractOwner();
        GuardStorage.layout().paused = paused_;
        emit PausedSet(paused_);
    }

    /// @notice Allow (true) or disallow (false) `executor` to call executeArb.
    /// @dev Owner only (NotContractOwner). For a hot key that trades but never withdraws.
    /// @param executor The account.
    /// @param allowed Whether it may execute.
    function setExecutor(address executor, bool allowed) external {
        LibDiamond.enforceIsContractOwner();
        if (executor == address(0)) revert ZeroAddress();
        GuardStorage.layout().executors[executor] = allowed;
        emit ExecutorSet(executor, allowed);
    }

    /// @notice Cap the amount an arb may borrow (or take from inventory) in `token`; 0 removes the cap.
    /// @dev Owner only (NotContractOwner). Caps cost executeArb one storage read, and only while at least one
    ///      token is capped.
    /// @param token The route token.
    /// @param cap Most amountIn per arb, in the token's smallest unit (0: no cap).
    function setNotionalCap(address token, uint256 cap) external {
        LibDiamond.enforceIsContractOwner();
        GuardStorage.Layout storage g = GuardStorage.layout();
        uint256 old = g.notionalCaps[token];
        if (old == 0 && cap != 0) ++g.capCount; // executeArb reads caps only while some token has one
        else if (old != 0 && cap == 0) --g.capCount;
        g.notionalCaps[token] = cap;
        emit NotionalCapSet(token, cap);
    }

    /// @notice Whether executeArb is paused.
    /// @return Whether it is.
    function paused() external view returns (bool) {
        return GuardStorage.layout().paused;
    }

    /// @notice Whether `account` may call executeArb (the owner always may).
    /// @param account The account.
    /// @return Whether it may.
    function isExecutor(address account) external view returns (bool) {
        return account == LibDiamond.contractOwner() || GuardStorage.layout().executors[account];
    }

    /// @notice The cap on amountIn for arbs in `token` (0: none).
    /// @param token The token.
    /// @return The cap.
    function notionalCap(address token) external view returns (uint256) {
        return GuardStorage.layout().notionalCaps[token];
    }
}
