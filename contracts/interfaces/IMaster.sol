// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice A master diamond's capital moves and registry (MasterFacet).
interface IMaster {
    /// @notice What the registry says about one child.
    struct ChildInfo {
        address child; // the child diamond
        address executor; // the key it trades with
        string label; // the strategy it runs
    }

    /// @notice The master sent `amount` of `token` to `child`.
    event Allocated(address indexed child, address indexed token, uint256 amount);
    /// @notice `child` returned `amount` of `token` to the master (what the master's balance rose by).
    event Recalled(address indexed child, address indexed token, uint256 amount);
    /// @notice `child` is registered (or its record updated): it trades with `executor` and runs `label`.
    event ChildRegistered(address indexed child, address indexed executor, string label);
    /// @notice `child` is no longer registered: it gets no allocation and cannot be recalled through the master.
    event ChildRemoved(address indexed child);
    /// @notice `account` may (true) or may no longer (false) allocate and recall.
    event AllocatorSet(address indexed account, bool allowed);
}
