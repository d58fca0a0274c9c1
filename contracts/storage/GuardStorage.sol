// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice GuardFacet's persistent state: pause switch, executor allowlist, per-token notional caps.
library GuardStorage {
    /// @dev keccak256(abi.encode(uint256(keccak256("flasharb.guard")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 internal constant SLOT = 0x8de6bffecf11402b770a82fa0d00899985bb12d5fb80e28def8457865d4f0b00;

    /// @custom:storage-location erc7201:flasharb.guard
    struct Layout {
        bool paused; // executeArb refuses everyone while set; withdrawals stay open
        uint64 capCount; // tokens with a non-zero cap; packed with `paused`: no cap set, no cap read
        mapping(address => bool) executors; // may call executeArb besides the owner; no other right
        mapping(address => uint256) notionalCaps; // token => most amountIn per arb in that token; 0 = no cap
    }

    /// @notice The guard's storage struct, at its ERC-7201 slot.
    /// @return l The storage pointer.
    function layout() internal pure returns (Layout storage l) {
        bytes32 slot = SLOT;
        assembly ("memory-safe") {
            l.slot := slot
        }
    }
}
