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
///      Layout history: issue 6 replaced _arbBalanceBefore / _arbFlashFee (slots 2, 4) with the lender and the V3
///      swap in flight; FlashArbFacet, their only reader, was replaced in the same cut. Issue 17 stopped reading slot 3
///      (_arbAmountOut) on every route; only a route walked inside the V4 unlock still hands its output back in it.
///      Issue 17 (round 2) packed the lock (slot 0, was _arbLocked), the lender (slot 2) and the route's hop kinds
///      (slot 4) into _arbLoan, slot 0: a trade reads and writes one word where it read and wrote three.
///      Issue 17 (round 3) replaced _arbInFlight (slot 1, keccak256 of the loan data) with _arbLoan's ARB_IN_FLIGHT
///      bit (FlashArbFacet._acceptLoan says why the bit is as sound as the hash was); the slots after it moved up one.
abstract contract TransientState {
    uint256 internal constant ARB_LOCKED = 1 << 255; // _arbLoan: an executeArb is running
    uint256 internal constant ARB_IN_FLIGHT = 1 << 254; // _arbLoan: a loan (or unlock) was asked for, not yet called back
    uint256 internal constant ARB_KINDS_SHIFT = 160; // _arbLoan bits 160..167: LibRoute.validate's `kinds`
    uint256 internal constant ARB_LENDER_MASK = (1 << 160) - 1; // _arbLoan bits 0..159: the lender

    uint256 internal transient _arbLoan; // executeArb's run, one word (issue 17: one TLOAD/TSTORE where three were):
    //                                      ARB_LOCKED while it runs (the reentrancy lock), the hop-kind bits of the
    //                                      route in flight at ARB_KINDS_SHIFT, ARB_IN_FLIGHT from the call to the
    //                                      lender to its first callback, and in the low 160 bits the only address
    //                                      whose loan callback is accepted while ARB_IN_FLIGHT is set
    uint256 internal transient _arbAmountOut; // a route walked inside the V4 unlock: its last hop's output
    address internal transient _v3Pool; // the V3 pool being swapped right now: the only one uniswapV3SwapCallback pays
    address internal transient _v3TokenIn; // what that pool is paid in
    uint256 internal transient _v3MaxIn; // and at most how much (the hop's input)
}
