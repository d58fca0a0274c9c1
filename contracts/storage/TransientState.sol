// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The diamond's whole transient-storage layout (EIP-1153): locks and in-flight flags, wiped every transaction.
/// @dev Why `transient` state variables and not named tstore slots: solc 0.8.28 warns (2394) on every inline-assembly
///      `tstore`, and the build must be warning-free; the `transient` keyword compiles to the same TLOAD/TSTORE with
///      no warning. Transient layout starts at slot 0 for every contract, so two facets declaring their own
///      variables would share slots inside the diamond: every facet that needs transient state inherits this one
///      contract and nothing else declares `transient`. It cannot collide with LibDiamond or any ERC-7201 struct
///      (separate address space), and since it is empty at the start of every transaction, reordering it across
///      upgrades is harmless; append anyway, so facets live at the same time always agree.
///      This is the one deviation from "facets declare no state variables": no persistent state lives here.
abstract contract TransientState {
    bool internal transient _arbLocked; // FlashArbFacet.executeArb reentrancy lock
    bytes32 internal transient _arbInFlight; // keccak256(userData) of the loan executeArb requested; 0 = none
    uint256 internal transient _arbBalanceBefore; // diamond's balance of route.token before the loan
    uint256 internal transient _arbAmountOut; // last hop's output, for the ArbExecuted event
    uint256 internal transient _arbFlashFee; // Vault fee on the loan, for the ArbExecuted event
}
