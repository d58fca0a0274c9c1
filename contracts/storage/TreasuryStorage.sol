// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice TreasuryFacet's persistent state: the optional profit split.
library TreasuryStorage {
    /// @dev keccak256(abi.encode(uint256(keccak256("flasharb.treasury")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 internal constant SLOT = 0xc9ccd12c12c218b0fdd4cdee161dae1a6ea5ea9975b77c927b8180f86facb600;

    /// @notice One recipient of `distribute`.
    struct Beneficiary {
        address account; // receives its share
        uint16 bps; // share in basis points; all shares sum to 10_000
    }

    /// @custom:storage-location erc7201:flasharb.treasury
    struct Layout {
        Beneficiary[] beneficiaries; // empty: no split configured, distribute refuses
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
