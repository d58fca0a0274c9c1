// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Reads Balancer V2 weighted pools for flasharb (a venue reader of PoolStateReader): the Vault's balances,
///         the pool's normalized weights and swap fee. The same views answer in the 20210418 and the 20230206
///         (weighted-pool-v3) deployments.
/// @dev Never deployed: its runtime code is placed at an unused address with an eth_call state override, so it has
///      no constructor, no immutables and no storage, and it works unchanged on a fork of real mainnet. Every call
///      is a STATICCALL with a bounded gas allowance whose return size is checked before it is read, so a pool that
///      reverts or answers garbage fails alone. When the call's gas runs low the reader stops before the pool it
///      cannot finish.
///
///      Request: one entry per pool, back to back:  pool (20) | poolId (32)
///      Response: one record per pool read, in request order:
///        failed:  0 (1) | step (1): the 1-based number of the call, in the order below, that failed
///        read:    1 (1) | n (1) | balances (n x 32) | normalized weights (n x 32) | swap fee (32)
///                 calls: Vault.getPoolTokens, getNormalizedWeights, getSwapFeePercentage
contract BalancerWeightedReader {
    /// @dev Balancer V2 Vault, at its mainnet address (the replica deploys it there too).
    address private constant BALANCER_VAULT = 0xBA12222222228d8Ba445958a75a0704d566BF2C8;
    /// @dev Gas each pool call may use: ~25x what the heaviest view here needs (Vault.getPoolTokens, 8 tokens).
    uint256 private constant CALL_GAS = 200_000;
    /// @dev Gas kept back to write the last record and return.
    uint256 private constant GAS_RESERVE = 60_000;

    /// @notice Packed state of the pools in `request` (format in the contract's @dev), in request order.
    /// @dev Returns fewer records than requested when the call's gas runs low; never reverts because of a pool.
    ///      Reverts on a truncated entry.
    /// @param request Back-to-back pool entries.
    /// @return state Back-to-back pool records, one per pool read, starting with the first pool.
    function read(bytes calldata request) external view returns (bytes memory state) {
        address vault = BALANCER_VAULT;
        assembly {
            // Write `n` low-order bytes of `v` at `p`, big-endian (clobbers the 32 - n bytes after them).
            function put(p, v, n) -> q {
                mstore(p, shl(sub(256, shl(3, n)), v))
                q := add(p, n)
            }

            // Word at byte `off` of the last call's return data (bounds checked by the caller).
            function word(off) -> v {
                returndatacopy(0, off, 0x20)
                v := mload(0)
            }

            // STATICCALL `target` with `sel` and, if `withArg`, one 32-byte argument. Returns 1 if it succeeded
            // with at least `minSize` bytes, 0 if not, 2 if too little gas is left to give it CALL_GAS.
            function scall(target, sel, arg, withArg, minSize) -> st {
                if lt(gas(), add(CALL_GAS, GAS_RESERVE)) {
                    st := 2
                    leave
                }
                mstore(0, shl(224, sel))
                mstore(4, arg)
                let ok := staticcall(CALL_GAS, target, 0, add(4, mul(withArg, 0x20)), 0, 0)
                st := and(ok, iszero(lt(returndatasize(), minSize)))
            }

            function readWeighted(vaultAddress, pool, poolId, p) -> st, q, step {
                q := p
                step := 1
                st := scall(vaultAddress, 0xf94d4668, poolId, 1, 0x60) // getPoolTokens(bytes32)
                if iszero(eq(st, 1)) { leave }
                let size := returndatasize()
                let offset := word(0x20) // balances: uint256[]
                if gt(offset, sub(size, 0x20)) {
                    st := 0
                    leave
                }
                let n := word(offset)
                if or(gt(n, 255), gt(add(add(offset, 0x20), shl(5, n)), size)) {
                    st := 0
                    leave
                }
                q := put(p, n, 1)
                for { let k := 0 } lt(k, n) { k := add(k, 1) } {
                    q := put(q, word(add(add(offset, 0x20), shl(5, k))), 32)
                }
                step := 2
                st := scall(pool, 0xf89f27ed, 0, 0, 0x40) // getNormalizedWeights()
                if iszero(eq(st, 1)) { leave }
                size := returndatasize()
                offset := word(0)
                if gt(offset, sub(size, 0x20)) {
                    st := 0
                    leave
                }
                if or(iszero(eq(word(offset), n)), gt(add(add(offset, 0x20), shl(5, n)), size)) {
                    st := 0
                    leave
                }
                for { let k := 0 } lt(k, n) { k := add(k, 1) } {
                    q := put(q, word(add(add(offset, 0x20), shl(5, k))), 32)
                }
                step := 3
                st := scall(pool, 0x55c67628, 0, 0, 0x20) // getSwapFeePercentage()
                if iszero(eq(st, 1)) { leave }
                q := put(q, word(0), 32)
            }



            let out := mload(0x40)
            let ptr := add(out, 0x20) // after the length word of `state`
            let i := request.offset
            let end := add(request.offset, request.length)
            for {} lt(i, end) {} {
                if gt(add(i, 52), end) { revert(0, 0) } // truncated entry
                let pool := shr(96, calldataload(i))
                let st, q, step := readWeighted(vault, pool, calldataload(add(i, 20)), add(ptr, 1))
                if eq(st, 2) { break } // out of gas for this pool: the caller resends it
                switch st
                case 1 {
                    mstore8(ptr, 1)
                    ptr := q
                }
                default {
                    mstore8(ptr, 0)
                    mstore8(add(ptr, 1), step)
                    ptr := add(ptr, 2)
                }
                i := add(i, 52)
            }
            mstore(out, sub(ptr, add(out, 0x20)))
            mstore(0x40, and(add(ptr, 31), not(31))) // allocate what was written
            state := out
        }
    }
}
