// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {LibDiamond} from "../libraries/LibDiamond.sol";
import {GuardStorage} from "../storage/GuardStorage.sol";

/// @notice The owner's brakes on execution: a pause switch, an executor allowlist, per-token notional caps, a cap on
///         the share of profit an arb may pay the block, and per-token minimum profits an executor cannot lower.
/// @dev An executor may call executeArb and nothing else: it cannot withdraw, cut facets, change these settings or
///      transfer ownership. FlashArbFacet enforces them all (LibGuard) before it borrows anything, except the minimum
///      profit, which it enforces after the route ran (with the bribe paid out of what is above it).
contract GuardFacet {
    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    uint256 internal constant BPS = 10_000; // basis points in a whole: the most a bribe may take

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Execution was paused (true) or resumed (false).
    event PausedSet(bool paused);
    /// @notice `executor` may (true) or may no longer (false) call executeArb.
    event ExecutorSet(address indexed executor, bool allowed);
    /// @notice Arbs in `token` may borrow at most `cap` (0: no cap).
    event NotionalCapSet(address indexed token, uint256 cap);
    /// @notice Arbs may pay block.coinbase at most `bps` basis points of their profit (0: no bribes).
    event MaxBribeSet(uint256 bps);
    /// @notice Arbs in `token` must keep at least `amount` of profit, whatever their executor asks (0: none).
    event MinProfitSet(address indexed token, uint256 amount);

    /// @notice setExecutor was given the zero address.
    error ZeroAddress();
    /// @notice A bribe cap above 10,000 basis points (the whole profit).
    error InvalidBps(uint256 bps);

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
    /// @dev Owner only (NotContractOwner). For a hot key that trades but never withdraws. A revocation also sets
    ///      `executorRevoked`, which turns off a child diamond's read-free check of its built-in executor for good
    ///      (LibGuard.enforceCaller): from then on every executor, that one included, is checked in the allowlist.
    /// @param executor The account.
    /// @param allowed Whether it may execute.
    function setExecutor(address executor, bool allowed) external {
        LibDiamond.enforceIsContractOwner();
        if (executor == address(0)) revert ZeroAddress();
        GuardStorage.Layout storage g = GuardStorage.layout();
        g.executors[executor] = allowed;
        if (!allowed) g.executorRevoked = true; // for good: a child's built-in executor is then read from the map
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

    /// @notice Let arbs pay block.coinbase up to `bps` basis points of their profit; 0 forbids bribes.
    /// @dev Owner only (NotContractOwner); InvalidBps above 10,000. The executor picks each arb's share (executeArb's
    ///      `terms`); above this cap the arb reverts BribeAboveCap before borrowing. Shares slot 0 with the pause
    ///      flag: no extra read per arb.
    /// @param bps The cap, in basis points of the profit.
    function setMaxBribeBps(uint16 bps) external {
        LibDiamond.enforceIsContractOwner();
        if (bps > BPS) revert InvalidBps(bps);
        GuardStorage.layout().maxBribeBps = bps;
        emit MaxBribeSet(bps);
    }

    /// @notice Arbs in `token` must keep at least `amount` of profit (net of loan fee and bribe); 0 removes it.
    /// @dev Owner only (NotContractOwner). executeArb enforces the larger of this and its own minProfit argument, so
    ///      an executor cannot lower it: it bounds what a route through pools the executor owns could divert (a V2
    ///      hop asked for less than it pays, a lender overpaid) to the profit above it. Costs executeArb one storage
    ///      read, and only while at least one token has a minimum.
    /// @param token The route token.
    /// @param amount Least profit per arb, in the token's smallest unit (0: none).
    function setMinProfit(address token, uint256 amount) external {
        LibDiamond.enforceIsContractOwner();
        GuardStorage.Layout storage g = GuardStorage.layout();
        uint256 old = g.minProfits[token];
        if (old == 0 && amount != 0) ++g.minProfitCount; // executeArb reads minimums only while some token has one
        else if (old != 0 && amount == 0) --g.minProfitCount;
        g.minProfits[token] = amount;
        emit MinProfitSet(token, amount);
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

    /// @notice The most of an arb's profit it may pay block.coinbase, in basis points (0: no bribes).
    /// @return The cap.
    function maxBribeBps() external view returns (uint256) {
        return GuardStorage.layout().maxBribeBps;
    }

    /// @notice The least profit an arb in `token` must keep (0: none but the arb's own minProfit).
    /// @param token The token.
    /// @return The minimum, in the token's smallest unit.
    function minProfit(address token) external view returns (uint256) {
        return GuardStorage.layout().minProfits[token];
    }
}
