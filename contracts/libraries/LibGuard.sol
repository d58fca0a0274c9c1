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
/// @notice The arb asked to be allowed to lose `loss` of `token`, above the owner's maximum loss `maxLoss` for it.
error LossAboveCap(address token, uint256 loss, uint256 maxLoss);

/// @notice The checks every arb passes before it borrows: who, whether, how much, and what it must keep.
library LibGuard {
    /// @notice Revert NotExecutor unless msg.sender is an allowed executor or the owner.
    /// @dev The executor key trades, the owner key only administers (issue 14), so the executor is checked first:
    ///      one cold read on the usual path (the `executors` flag; the owner's trades pay a second). A child diamond
    ///      (ChildDiamond) passes its built-in executor, an immutable whose `executors` flag its constructor set:
    ///      while no executor was ever revoked that flag cannot have changed, so it is not read; the only read is
    ///      slot 0 (`executorRevoked`), which enforceLimits reads next anyway, warm. Any revocation
    ///      (GuardFacet.setExecutor(_, false)) sets `executorRevoked` for good and the built-in executor is
    ///      checked against the mapping like any other.
    ///      Slot 0 is read once, as a word, and handed back for enforceLimits (issue 17: reading the struct's fields
    ///      one by one cost a warm read and the unpacking code each).
    /// @param builtIn The diamond's built-in executor; zero for none (a plain diamond).
    /// @return hot The guard's slot 0 (GuardStorage's *_SHIFT offsets), for enforceLimits.
    function enforceCaller(address builtIn) internal view returns (uint256 hot) {
        GuardStorage.Layout storage g = GuardStorage.layout();
        assembly ("memory-safe") {
            hot := sload(g.slot) // slot 0 of the struct
        }
        bool builtInAccepted; // the built-in executor, and no executor was ever revoked
        assembly ("memory-safe") {
            // both tests without a short-circuit jump (issue 17); 152 = GuardStorage.EXECUTOR_REVOKED_SHIFT
            builtInAccepted := and(eq(caller(), builtIn), iszero(and(shr(152, hot), 0xff)))
        }
        if (builtInAccepted) return hot; // builtIn is never 0 here: msg.sender is not
        if (!g.executors[msg.sender] && msg.sender != LibDiamond.contractOwner()) revert NotExecutor(msg.sender);
    }

    /// @notice Revert unless an arb of `amountIn` `token` paying `bribeBps` of its profit and allowed to lose `loss`
    ///         may run now: not paused, within the token's cap, the owner's bribe cap and the owner's maximum loss
    ///         for the token; return the least profit the owner lets it keep.
    /// @dev Slot 0 (pause flag, capped-token count, bribe cap, count of tokens with a minimum profit) comes from
    ///      enforceCaller, read once; the token's cap and its minimum profit are read (~2.1k each) only when some
    ///      token has one, its maximum loss only when the arb asks to be allowed one.
    /// @param hot The guard's slot 0, as enforceCaller read it.
    /// @param token The route token (borrowed, or taken from inventory).
    /// @param amountIn The notional put at risk.
    /// @param limits bribeBps << 112 | loss (executeArb's terms >> 128, one word: the caller's stack is full):
    ///        bribeBps, the share of the profit the arb will pay block.coinbase, in basis points; loss (112 bits),
    ///        the most the arb may lower the diamond's balance of `token` (0: it must not lose).
    /// @return minProfit The owner's minimum profit for `token` (0: none); executeArb keeps the larger of it and
    ///         its own argument when `loss` is 0.
    function enforceLimits(uint256 hot, address token, uint256 amountIn, uint256 limits)
        internal
        view
        returns (uint256 minProfit)
    {
        GuardStorage.Layout storage g = GuardStorage.layout();
        uint256 bribeBps = limits >> 112;
        uint256 loss = limits & ((1 << 112) - 1);
        if ((hot >> GuardStorage.PAUSED_SHIFT) & 0xff != 0) revert ExecutionPaused();
        uint256 maxBribeBps = (hot >> GuardStorage.MAX_BRIBE_SHIFT) & 0xffff;
        if (bribeBps > maxBribeBps) revert BribeAboveCap(bribeBps, maxBribeBps);
        if ((hot >> GuardStorage.CAP_COUNT_SHIFT) & type(uint64).max != 0) {
            uint256 cap = g.notionalCaps[token];
            if (cap != 0 && amountIn > cap) revert NotionalCapExceeded(token, amountIn, cap);
        }
        if ((hot >> GuardStorage.MIN_PROFIT_COUNT_SHIFT) & type(uint64).max != 0) minProfit = g.minProfits[token];
        if (loss != 0) {
            uint256 maxLoss = g.maxLosses[token];
            if (loss > maxLoss) revert LossAboveCap(token, loss, maxLoss);
        }
    }
}
