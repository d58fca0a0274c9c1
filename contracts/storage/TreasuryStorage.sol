// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Where a diamond's capital comes from and goes: TreasuryFacet's optional profit split, and (issue 17) the
///         capital structure: a child's master (ChildFacet), a master's children and allocators (MasterFacet).
library TreasuryStorage {
    /// @dev keccak256(abi.encode(uint256(keccak256("flasharb.treasury")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 internal constant SLOT = 0xc9ccd12c12c218b0fdd4cdee161dae1a6ea5ea9975b77c927b8180f86facb600;

    /// @notice One recipient of `distribute`.
    struct Beneficiary {
        address account; // receives its share
        uint16 bps; // share in basis points; all shares sum to 10_000
    }

    /// @notice A child diamond as its master records it.
    struct Child {
        address executor; // the key the child was registered with (its GuardFacet executor)
        uint96 position; // 1 + index in Layout.children; 0: not a child
        string label; // the strategy it runs ("cycles", "backrun", ...)
    }

    /// @custom:storage-location erc7201:flasharb.treasury
    /// @dev Append-only. Issue 17 appended the capital structure after `beneficiaries`: a child uses `master`, a
    ///      master the rest; a single diamond leaves them all zero.
    struct Layout {
        Beneficiary[] beneficiaries; // empty: no split configured, distribute refuses
        address master; // a child's master: the only caller of ChildFacet.recallToMaster (slot 1); 0 = none
        mapping(address => bool) allocators; // may allocate and recall besides the owner (slot 2)
        address[] children; // a master's registered children, in registration order (slot 3)
        mapping(address => Child) childRecords; // child => its record (slot 4)
    }

    /// @notice The treasury's storage struct, at its ERC-7201 slot.
    /// @return l The storage pointer.
    function layout() internal pure returns (Layout storage l) {
        bytes32 slot = SLOT;
        assembly ("memory-safe") {
            l.slot := slot
        }
    }
}
