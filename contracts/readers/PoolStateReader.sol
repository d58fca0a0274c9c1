// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Reads the swap state of hundreds of pools of any venues in one eth_call: it hands each run of pools to
///         the reader of their venue and returns the records back to back, with the block's timestamp.
/// @dev Never deployed: its runtime code, and the code of every venue reader a request names, are placed with
///      eth_call state overrides (flasharb.state.reader), so the read works unchanged on a fork of real mainnet. A
///      venue reader (contracts/readers/venues/) is any contract with `read(bytes request) returns (bytes state)`
///      that reads its venue's pools and, when the call's gas runs low, stops before the pool it cannot finish;
///      this contract knows no venue. Adding a venue adds a reader beside the others, never a line here.
///
///      Request: segments, back to back (integers big-endian):
///        reader (20) | length (4) | `length` bytes of the reader's own entries
///      Response:
///        block.timestamp (8) | per segment read: length (4) | the reader's records
///      The segments after the first whose reader left too little gas are not read (the caller counts the records
///      of each segment, and resends every pool from the first one missing).
contract PoolStateReader {
    /// @dev Gas kept back after a segment to start the next one and return: below it the read stops.
    uint256 private constant SEGMENT_RESERVE = 100_000;
    /// @dev Gas kept back from a venue reader, to copy its answer and return.
    uint256 private constant COPY_RESERVE = 40_000;

    /// @notice The records of the pools in `request` (format in the contract's @dev).
    /// @dev Reverts when a venue reader reverts (a malformed entry: the caller's bug, not a pool's fault) or a
    ///      segment runs past the end of the request.
    /// @param request Back-to-back segments.
    /// @return state The block's timestamp, then each segment's records, in request order.
    function read(bytes calldata request) external view returns (bytes memory state) {
        assembly {
            state := mload(0x40)
            let ptr := add(state, 0x20)
            mstore(ptr, shl(192, timestamp()))
            ptr := add(ptr, 8)
            let i := request.offset
            let end := add(request.offset, request.length)
            for {} lt(i, end) {} {
                if lt(gas(), SEGMENT_RESERVE) { break }
                let reader := shr(96, calldataload(i))
                let size := shr(224, calldataload(add(i, 20)))
                let entries := add(i, 24)
                if gt(add(entries, size), end) { revert(0, 0) } // truncated segment
                // read(bytes): selector, offset, length, the entries (padded), built where the records will go
                let cd := add(ptr, 4)
                mstore(cd, shl(224, 0x8bf4515c)) // read(bytes)
                mstore(add(cd, 4), 0x20)
                mstore(add(cd, 0x24), size)
                calldatacopy(add(cd, 0x44), entries, size)
                mstore(add(add(cd, 0x44), size), 0) // zero padding
                if iszero(staticcall(sub(gas(), COPY_RESERVE), reader, cd, add(0x44, size), 0, 0)) {
                    returndatacopy(0, 0, returndatasize())
                    revert(0, returndatasize())
                }
                // the answer is abi bytes: offset (32) | length (32) | data
                returndatacopy(0, 0x20, 0x20)
                let got := mload(0)
                returndatacopy(add(ptr, 4), 0x40, got)
                mstore(ptr, or(shl(224, got), and(mload(ptr), sub(shl(224, 1), 1)))) // length (4), keep what follows
                ptr := add(add(ptr, 4), got)
                i := add(entries, size)
            }
            mstore(state, sub(ptr, add(state, 0x20)))
            mstore(0x40, and(add(ptr, 31), not(31)))
        }
    }
}
