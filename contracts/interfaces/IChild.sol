// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice A child diamond's capital and risk entry points (ChildFacet), as its master and the off-chain risk
///         guardian see them.
interface IChild {
    /// @notice The child's master is now `master` (zero: none; nothing can be recalled).
    event MasterSet(address indexed master);
    /// @notice `guardian` may pause the child (zero: nobody but the owner).
    event RiskGuardianSet(address indexed guardian);
    /// @notice `account` (the owner or the risk guardian) paused the child; only the owner resumes it.
    event PausedBy(address indexed account);
    /// @notice An arb in `token` may lower the child's balance of it by at most `amount` (0: no loss at all).
    event MaxLossSet(address indexed token, uint256 amount);

    /// @notice The caller is not the child's master (`master`; zero when it has none).
    error NotMaster(address caller, address master);
    /// @notice The caller is neither the owner nor the risk guardian.
    error NotRiskGuardian(address caller);

    /// @notice Send `amount` of `token` to the master; type(uint256).max sends all but DUST.
    /// @param token The ERC-20 token.
    /// @param amount The amount, in the token's smallest unit.
    function recallToMaster(address token, uint256 amount) external;

    /// @notice The child's master.
    /// @return The master diamond (zero: none).
    function master() external view returns (address);
}
