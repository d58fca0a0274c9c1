// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IChild} from "../interfaces/IChild.sol";
import {IERC20} from "../interfaces/IERC20.sol";
import {LibDiamond} from "../libraries/LibDiamond.sol";
import {LibSafeERC20} from "../libraries/LibSafeERC20.sol";
import {GuardStorage} from "../storage/GuardStorage.sol";
import {TreasuryStorage} from "../storage/TreasuryStorage.sol";
import {GuardFacet} from "./GuardFacet.sol";

/// @notice A child diamond's side of the capital structure (issue 17): capital returns to its master on the master's
///         call only; the risk guardian (the off-chain circuit breaker's key) may pause it, only the owner resumes
///         it (GuardFacet.setPaused); the owner sets the most one arb may lose per token.
/// @dev Cut into child diamonds only (flasharb.execute.deploy): a single diamond has no master and no loss allowance
///      (its maximum loss is 0 for every token: executeArb can then never lower its balance). The state lives in
///      GuardStorage (risk guardian, maximum losses) and TreasuryStorage (master), appended fields.
contract ChildFacet is IChild {
    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice What recallToMaster leaves behind of every token, in its smallest unit (TreasuryFacet.DUST: the
    ///         balance writes of the next arb stay non-zero to non-zero).
    uint256 internal constant DUST = 1;

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice recallToMaster of `amount` would leave less than DUST of `token` (balance `balance`), or is 0.
    error DustMustStay(address token, uint256 balance, uint256 amount);

    /*//////////////////////////////////////////////////////////////
                                  LOGIC
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IChild
    /// @dev Only the master (NotMaster): the owner or an allocator calls MasterFacet.recall, which calls this and
    ///      emits Recalled with what arrived. Reverts DustMustStay rather than take the last DUST, TokenTransferFailed
    ///      if the token refuses.
    function recallToMaster(address token, uint256 amount) external override {
        address master_ = TreasuryStorage.layout().master;
        if (msg.sender != master_ || master_ == address(0)) revert NotMaster(msg.sender, master_);
        uint256 balance = IERC20(token).balanceOf(address(this));
        if (amount == type(uint256).max) amount = balance > DUST ? balance - DUST : 0;
        if (amount == 0 || amount > balance || balance - amount < DUST) revert DustMustStay(token, balance, amount);
        LibSafeERC20.safeTransfer(IERC20(token), master_, amount);
    }

    /// @notice Make `master_` this child's master (zero: none).
    /// @dev Owner only (NotContractOwner). The master's registerChild checks this points back at it.
    /// @param master_ The master diamond.
    function setMaster(address master_) external {
        LibDiamond.enforceIsContractOwner();
        TreasuryStorage.layout().master = master_;
        emit MasterSet(master_);
    }

    /// @notice Pause executeArb now; only the owner resumes (GuardFacet.setPaused(false)).
    /// @dev The owner or the risk guardian (NotRiskGuardian): the circuit breaker's key can stop a child, never
    ///      restart it, move funds or change a limit. Emits GuardFacet's PausedSet(true) and PausedBy.
    function pause() external {
        address guardian = GuardStorage.layout().riskGuardian;
        if (msg.sender != LibDiamond.contractOwner() && (msg.sender != guardian || guardian == address(0))) {
            revert NotRiskGuardian(msg.sender);
        }
        GuardStorage.layout().paused = true;
        emit GuardFacet.PausedSet(true);
        emit PausedBy(msg.sender);
    }

    /// @notice Let `guardian` pause this child (zero: nobody but the owner).
    /// @dev Owner only (NotContractOwner).
    /// @param guardian The risk guardian's account.
    function setRiskGuardian(address guardian) external {
        LibDiamond.enforceIsContractOwner();
        GuardStorage.layout().riskGuardian = guardian;
        emit RiskGuardianSet(guardian);
    }

    /// @notice Let an arb in `token` lower this child's balance of it by at most `amount`; 0 allows no loss.
    /// @dev Owner only (NotContractOwner). An arb asks for its own allowance in executeArb's `terms` (bits
    ///      128..239); above this it reverts LossAboveCap before borrowing, and a route that loses more than its
    ///      allowance reverts LossAboveAllowance. Costs executeArb a storage read only when an arb asks to be
    ///      allowed a loss.
    /// @param token The route token.
    /// @param amount Most loss per arb, in the token's smallest unit (0: none).
    function setMaxLoss(address token, uint256 amount) external {
        LibDiamond.enforceIsContractOwner();
        GuardStorage.layout().maxLosses[token] = amount;
        emit MaxLossSet(token, amount);
    }

    /// @inheritdoc IChild
    function master() external view override returns (address) {
        return TreasuryStorage.layout().master;
    }

    /// @notice Who may pause this child besides the owner.
    /// @return The risk guardian (zero: none).
    function riskGuardian() external view returns (address) {
        return GuardStorage.layout().riskGuardian;
    }

    /// @notice The most an arb in `token` may lower this child's balance of it (0: no loss).
    /// @param token The token.
    /// @return The maximum loss, in the token's smallest unit.
    function maxLoss(address token) external view returns (uint256) {
        return GuardStorage.layout().maxLosses[token];
    }
}
