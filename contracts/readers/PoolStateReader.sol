// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Reads the swap state of hundreds of pools (Uniswap-V2-style pairs, Uniswap V3 pools, Balancer V2
///         weighted pools) in one eth_call, as packed bytes that are cheap to decode off-chain.
/// @dev Never deployed: its runtime code is placed at an unused address with an eth_call state override, so it
///      has no constructor, no immutables and no storage, and it works unchanged on a fork of real mainnet.
///
///      Every pool call is a STATICCALL with a fixed gas allowance whose return size is checked before it is
///      read, so a pool that reverts, burns its gas, has no code or answers garbage fails alone: its record says
///      so and the batch goes on. When the call's gas runs low the reader stops before the pool it cannot
///      finish, and returns the records it has; the caller sends the rest in another call.
///
///      Request: one entry per pool, back to back (all integers big-endian):
///        kind 1, Uniswap-V2-style pair:  kind (1) | pair (20)
///        kind 2, Uniswap V3 pool:        kind (1) | pool (20) | tickSpacing (int24, 3) | wordsPerSide (2)
///        kind 3, Balancer weighted pool: kind (1) | pool (20) | poolId (32)
///      Response: one record per pool read, in request order:
///        failed:  0 (1) | step (1): the 1-based number of the call, in the order below, that failed
///        kind 1:  1 (1) | reserve0 (14) | reserve1 (14)
///                 calls: getReserves
///        kind 2:  1 (1) | sqrtPriceX96 (20) | tick (3) | liquidity (16) | wordLo (int16, 2) | wordHi (2)
///                 | per word of [wordLo, wordHi]: bitmap (32) | per set bit, lowest first: liquidityNet (int128, 16)
///                 calls: slot0, liquidity, the tick spacing check, tickBitmap, ticks
///        kind 3:  1 (1) | n (1) | balances (n x 32) | normalized weights (n x 32) | swap fee (32)
///                 calls: Vault.getPoolTokens, getNormalizedWeights, getSwapFeePercentage
///      The V3 word window is [word(tick) - wordsPerSide, word(tick) + wordsPerSide], clipped to the words that
///      hold valid ticks (TickMath.MIN_TICK..MAX_TICK) for the pool's tick spacing.
contract PoolStateReader {
    /// @dev Balancer V2 Vault, at its mainnet address (the replica deploys it there too).
    address private constant BALANCER_VAULT = 0xBA12222222228d8Ba445958a75a0704d566BF2C8;
    /// @dev Gas each pool call may use: ~25x what the heaviest view here needs (Vault.getPoolTokens, 8 tokens).
    uint256 private constant CALL_GAS = 200_000;
    /// @dev Gas kept back to write the last record and return.
    uint256 private constant GAS_RESERVE = 60_000;

    /// @notice Packed state of the pools in `request` (format in the contract's @dev), in request order.
    /// @dev Returns fewer records than requested when the call's gas runs low; never reverts because of a pool.
    ///      Reverts only on a malformed request (unknown kind, truncated entry).
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
            // Calldata is built in the scratch space (0x00-0x3f); the free memory pointer is not touched.
            function scall(target, sel, arg, withArg, minSize) -> st {
                if lt(gas(), add(CALL_GAS, GAS_RESERVE)) {
                    st := 2
                    leave
                }
                mstore(0, shl(224, sel))
                mstore(4, arg)
                let ok := staticcall(CALL_GAS, target, 0, add(4, mul(withArg, 0x20)), 0, 0)
                // returndatasize() after the call, in its own statement: Yul evaluates arguments right to left
                st := and(ok, iszero(lt(returndatasize(), minSize)))
            }

            function readV2(pair, p) -> st, q, step {
                q := p
                step := 1
                st := scall(pair, 0x0902f1ac, 0, 0, 0x60) // getReserves()
                if iszero(eq(st, 1)) { leave }
                let r0 := word(0)
                let r1 := word(0x20)
                if or(shr(112, r0), shr(112, r1)) { // reserves are uint112: this is not a pair
                    st := 0
                    leave
                }
                q := put(put(p, r0, 14), r1, 14)
            }

            // [word(tick) - wordsPerSide, word(tick) + wordsPerSide], clipped to the words of valid ticks
            function window(tick, spacing, wordsPerSide) -> lo, hi {
                // TickBitmap.position(compress(tick)): round towards negative infinity, then >> 8
                let compressed := sdiv(tick, spacing)
                if and(slt(tick, 0), iszero(iszero(smod(tick, spacing)))) { compressed := sub(compressed, 1) }
                lo := sub(sar(8, compressed), wordsPerSide)
                hi := add(sar(8, compressed), wordsPerSide)
                let minCompressed := sdiv(sub(0, 887272), spacing) // TickMath.MIN_TICK = -887272
                if smod(sub(0, 887272), spacing) { minCompressed := sub(minCompressed, 1) }
                if slt(lo, sar(8, minCompressed)) { lo := sar(8, minCompressed) }
                if sgt(hi, sar(8, sdiv(887272, spacing))) { hi := sar(8, sdiv(887272, spacing)) } // MAX_TICK
            }

            // Bitmap words lo..hi, each followed by the liquidityNet of its initialized ticks.
            function readWords(pool, spacing, lo, hi, p) -> st, q, step {
                q := p
                st := 1
                for { let w := lo } iszero(sgt(w, hi)) { w := add(w, 1) } {
                    step := 4
                    st := scall(pool, 0x5339c296, w, 1, 0x20) // tickBitmap(int16)
                    if iszero(eq(st, 1)) { leave }
                    let bits := word(0)
                    q := put(q, bits, 32)
                    step := 5
                    for { let b := 0 } bits { b := add(b, 1) } {
                        if and(bits, 1) {
                            st := scall(pool, 0xf30dba93, mul(add(shl(8, w), b), spacing), 1, 0x40) // ticks(int24)
                            if iszero(eq(st, 1)) { leave }
                            q := put(q, word(0x20), 16) // liquidityNet, int128
                        }
                        bits := shr(1, bits)
                    }
                }
            }

            function readV3(pool, spacing, wordsPerSide, p) -> st, q, step {
                q := p
                step := 1
                st := scall(pool, 0x3850c7bd, 0, 0, 0x40) // slot0()
                if iszero(eq(st, 1)) { leave }
                let tick := word(0x20)
                if or(shr(160, word(0)), iszero(eq(tick, signextend(2, tick)))) { // uint160, int24
                    st := 0
                    leave
                }
                q := put(put(p, word(0), 20), tick, 3)
                step := 2
                st := scall(pool, 0x1a686502, 0, 0, 0x20) // liquidity()
                if iszero(eq(st, 1)) { leave }
                if shr(128, word(0)) { // uint128
                    st := 0
                    leave
                }
                q := put(q, word(0), 16)
                step := 3
                if or(slt(spacing, 1), sgt(spacing, 16383)) { // TickMath: 0 < tickSpacing < 16384
                    st := 0
                    leave
                }
                let lo, hi := window(tick, spacing, wordsPerSide)
                st, q, step := readWords(pool, spacing, lo, hi, put(put(q, lo, 2), hi, 2))
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
                let kind := byte(0, calldataload(i))
                let pool := shr(96, calldataload(add(i, 1)))
                let st := 0
                let q := 0
                let step := 0
                let size := 0
                switch kind
                case 1 {
                    size := 21
                    st, q, step := readV2(pool, add(ptr, 1))
                }
                case 2 {
                    size := 26
                    let spacing := signextend(2, shr(232, calldataload(add(i, 21))))
                    let wordsPerSide := shr(240, calldataload(add(i, 24)))
                    st, q, step := readV3(pool, spacing, wordsPerSide, add(ptr, 1))
                }
                case 3 {
                    size := 53
                    st, q, step := readWeighted(vault, pool, calldataload(add(i, 21)), add(ptr, 1))
                }
                default { revert(0, 0) } // unknown kind: a bug in the caller, not a pool's fault
                if gt(add(i, size), end) { revert(0, 0) } // truncated entry
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
                i := add(i, size)
            }
            mstore(out, sub(ptr, add(out, 0x20)))
            mstore(0x40, and(add(ptr, 31), not(31))) // allocate what was written
            state := out
        }
    }
}
