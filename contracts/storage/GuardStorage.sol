// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice GuardFacet's persistent state: pause switch, executor allowlist, per-token notional caps, the bribe cap,
///         per-token minimum profits and maximum losses, and the risk guardian who may pause.
library GuardStorage {
    /// @dev keccak256(abi.encode(uint256(keccak256("flasharb.guard")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 internal constant SLOT = 0x8de6bffecf11402b770a82fa0d00899985bb12d5fb80e28def8457865d4f0b00;

    // Slot 0 as one word, for the hot path that reads it once (LibGuard): the bit offset of each field of Layout's
    // slot 0, in declaration order (Solidity packs from the low-order end). tests/audit/test_diamond_cuts.py
    // decodes the raw slot at these same offsets and compares with the compiler's own reads (StorageProbeFacet).
    uint256 internal constant PAUSED_SHIFT = 0; // bool: bits 0..7
    uint256 internal constant CAP_COUNT_SHIFT = 8; // uint64: bits 8..71
    uint256 internal constant MAX_BRIBE_SHIFT = 72; // uint16: bits 72..87
    uint256 internal constant MIN_PROFIT_COUNT_SHIFT = 88; // uint64: bits 88..151
    uint256 internal constant EXECUTOR_REVOKED_SHIFT = 152; // bool: bits 152..159
    // `paused`, `capCount` and `minProfitCount` (bits 0..71 and 88..151): all zero, LibGuard.enforceLimits has
    // nothing to check for an arb that asks for no bribe and no loss (FlashArbFacet skips the call then)
    uint256 internal constant LIMITS_MASK = ((1 << 72) - 1) | (((1 << 64) - 1) << 88);

    /// @custom:storage-location erc7201:flasharb.guard
    /// @dev Slot 0 packs everything executeArb reads on every trade (one cold read): `paused`, `capCount`, and
    ///      (issue 14) `maxBribeBps` and `minProfitCount`, which sit in bytes 9..18 of slot 0, zero in every diamond
    ///      deployed before them: inserting them there moves no other field (the mappings keep slots 1 and 2), so
    ///      it is the same as appending, without a second slot to read per trade. Issue 17 adds `executorRevoked`
    ///      (byte 19 of slot 0, same reasoning) and appends `maxLosses` and `riskGuardian` after slot 3.
    ///      New fields go at the end.
    struct Layout {
        bool paused; // executeArb refuses everyone while set; withdrawals stay open
        uint64 capCount; // tokens with a non-zero cap; packed with `paused`: no cap set, no cap read
        uint16 maxBribeBps; // most of an arb's profit it may pay block.coinbase, in basis points (0: no bribes)
        uint64 minProfitCount; // tokens with an owner minimum profit; packed with `paused`: none set, none read
        bool executorRevoked; // setExecutor(_, false) was ever called: a child's built-in executor goes through
        //                       the `executors` mapping like any other from then on (LibGuard.enforceCaller)
        mapping(address => bool) executors; // may call executeArb besides the owner; no other right
        mapping(address => uint256) notionalCaps; // token => most amountIn per arb in that token; 0 = no cap
        mapping(address => uint256) minProfits; // token => least profit an arb in it keeps (slot 3); 0 = none
        mapping(address => uint256) maxLosses; // token => most an arb may lower the balance (slot 4); 0 = no loss
        address riskGuardian; // may pause (ChildFacet.pause), never resume or anything else (slot 5); 0 = none
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
