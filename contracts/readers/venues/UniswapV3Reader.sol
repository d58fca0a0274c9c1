// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Reads Uniswap V3 pools for flasharb (a venue reader of PoolStateReader): price, tick, liquidity, the
///         tick-bitmap words around the current tick's word and the liquidityNet of every initialized tick in them.
/// @dev Never deployed: its runtime code is placed at an unused address with an eth_call state override, so it has
///      no constructor, no immutables and no storage, and it works unchanged on a fork of real mainnet.
///
///      Every pool call is a STATICCALL with a bounded gas allowance whose return size is checked before it is
///      read, so a pool that reverts, burns its gas, has no code or answers garbage fails alone: its record says
///      so and the batch goes on. When the call's gas runs low the reader stops before the pool it cannot
///      finish, and returns the records it has; the caller sends the rest in another call.
///
///      Two ways to read a pool. Mode 0 calls its getters. Mode 1 reads its storage slots: the caller overrides
///      the pool's code, in the same eth_call, with a slot reader (23 bytes: for each 32-byte word of calldata,
///      SLOAD it as a key and return the values in order), so the reader touches exactly the slots it needs:
///      slot0, liquidity, one slot per bitmap word and ONE per initialized tick, where the ticks() getter reads
///      four. On an Anvil fork every distinct account and slot read costs a round trip to the fork's database: a
///      pool with 6 ticks in a 3-word window takes 12 instead of 31, and its read 1.5-2x less time. It relies on
///      UniswapV3Pool's storage layout (v3-core 1.0, solc 0.7.6):
///        slot 0  slot0: sqrtPriceX96 (uint160) | tick (int24) << 160 | ... | unlocked << 240
///        slot 4  liquidity (uint128)
///        slot 5  ticks: mapping(int24 => Tick.Info); first word liquidityGross (uint128) | liquidityNet << 128
///        slot 6  tickBitmap: mapping(int16 => uint256)
///      so the caller sends mode 1 only for pools of the canonical factory (same code, same layout everywhere).
///
///      Request: one entry per pool, back to back (all integers big-endian):
///        mode (1) | pool (20) | tickSpacing (int24, 3) | wordsPerSide (2)
///      Response: one record per pool read, in request order:
///        failed:  0 (1) | step (1): the 1-based number of the call, in the order below, that failed
///        read:    1 (1) | sqrtPriceX96 (20) | tick (3) | liquidity (16) | wordLo (int16, 2) | wordHi (2)
///                 | per word of [wordLo, wordHi]: bitmap (32) | per set bit, lowest first: liquidityNet (int128, 16)
///                 calls: slot0 (mode 1: slot0 and liquidity), liquidity, the tick spacing check, tickBitmap, ticks
///      The word window is [word(tick) - wordsPerSide, word(tick) + wordsPerSide], clipped to the words that hold
///      valid ticks (TickMath.MIN_TICK..MAX_TICK) for the pool's tick spacing.
contract UniswapV3Reader {
    /// @dev Gas each pool call may use: ~25x what the heaviest view here needs.
    uint256 private constant CALL_GAS = 200_000;
    /// @dev Gas kept back to write the last record and return.
    uint256 private constant GAS_RESERVE = 60_000;
    /// @dev Gas per key a slot-reader call needs: a cold SLOAD (2,100) and the callee's loop (~50).
    uint256 private constant SLOAD_GAS = 2_200;
    /// @dev Gas per key kept for the reader's own work: hash the key, find its bit, write its part of the
    ///      record, and the memory all this grows into (~250 at 1 MB of memory).
    uint256 private constant KEY_GAS = 600;
    uint256 private constant MASK128 = (1 << 128) - 1; // uint128
    uint256 private constant MASK160 = (1 << 160) - 1; // uint160

    /// @notice Packed state of the pools in `request` (format in the contract's @dev), in request order.
    /// @dev Returns fewer records than requested when the call's gas runs low; never reverts because of a pool.
    ///      Reverts only on a malformed request (unknown mode, truncated entry).
    /// @param request Back-to-back pool entries.
    /// @return state Back-to-back pool records, one per pool read, starting with the first pool.
    function read(bytes calldata request) external view returns (bytes memory state) {
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

            // Gas a slot-reader call needs for `n` keys: a cold SLOAD and the loop per key, the callee's memory.
            function slotGas(n) -> g {
                g := add(add(mul(n, SLOAD_GAS), shr(9, mul(n, n))), 200)
            }

            // 1 if enough gas is left to compute `n` keys and read them in one call (and to finish the record).
            function roomFor(n) -> ok {
                let g := slotGas(n)
                ok := iszero(lt(gas(), add(add(g, shr(5, g)), add(mul(n, KEY_GAS), GAS_RESERVE))))
            }

            // STATICCALL `pool`, whose code this eth_call overrides with the slot reader, with the `n` storage
            // keys at memory [p, p + 32 n); the slot values come back over them. 1 if it answered all `n`.
            function sloads(pool, p, n) -> st {
                let size := shl(5, n)
                st := staticcall(slotGas(n), pool, p, size, p, size)
                st := and(st, eq(returndatasize(), size))
            }

            // Storage key of `key` in a Solidity mapping at slot `slot` (value-type key, padded to 32 bytes).
            function mappingKey(key, slot) -> k {
                mstore(0, key)
                mstore(0x20, slot)
                k := keccak256(0, 0x40)
            }

            // UniswapV3Pool slots: slot0 at 0 (sqrtPriceX96 | tick << 160 | ...), liquidity at 4, the ticks mapping
            // at 5 (first word of Tick.Info: liquidityGross | liquidityNet << 128), the tickBitmap mapping at 6.
            function readV3Slots(pool, spacing, wordsPerSide, p) -> st, q, step {
                q := p
                step := 1
                if iszero(roomFor(2)) {
                    st := 2
                    leave
                }
                mstore(p, 0) // slot0
                mstore(add(p, 0x20), 4) // liquidity
                st := sloads(pool, p, 2)
                if iszero(st) { leave }
                let tick := signextend(2, shr(160, mload(p)))
                q := putHead(p)
                step := 3
                if or(slt(spacing, 1), sgt(spacing, 16383)) { // TickMath: 0 < tickSpacing < 16384
                    st := 0
                    leave
                }
                let lo, hi := window(tick, spacing, wordsPerSide)
                st, q, step := readWindowSlots(pool, spacing, lo, hi, put(put(q, lo, 2), hi, 2))
            }

            // sqrtPriceX96 (20) | tick (3) | liquidity (16) from slot0 and liquidity, the two words at `p`.
            function putHead(p) -> q {
                let s0 := mload(p)
                let liquidity := and(mload(add(p, 0x20)), MASK128)
                q := put(put(put(p, and(s0, MASK160), 20), signextend(2, shr(160, s0)), 3), liquidity, 16)
            }

            // Bitmap words lo..hi, each followed by the liquidityNet of its initialized ticks, in two calls: the
            // words, then the ticks. The record is 32 n + 16 m bytes (n words, m ticks): the words are parked after
            // it, the tick keys after them, so that writing the record never overwrites what is still to be read.
            function readWindowSlots(pool, spacing, lo, hi, p) -> st, q, step {
                q := p
                step := 4
                let n := add(sub(hi, lo), 1)
                if iszero(roomFor(n)) {
                    st := 2
                    leave
                }
                for { let w := 0 } lt(w, n) { w := add(w, 1) } {
                    mstore(add(p, shl(5, w)), mappingKey(add(lo, w), 6)) // tickBitmap[int16]
                }
                st := sloads(pool, p, n)
                if iszero(st) { leave }
                let words := add(p, add(shl(5, n), shl(4, countBits(p, n))))
                mcopy(words, p, shl(5, n))
                let keys := add(words, shl(5, n))
                step := 5
                let m := shr(4, sub(words, add(p, shl(5, n))))
                if m {
                    if iszero(roomFor(m)) {
                        st := 2
                        leave
                    }
                    tickKeys(spacing, lo, n, words, keys)
                    st := sloads(pool, keys, m)
                    if iszero(st) { leave }
                }
                q := writeWindow(n, words, keys, p)
            }

            // Set bits in the `n` words at `p` (SWAR popcount: constant gas per word, however dense).
            function countBits(p, n) -> m {
                for { let w := 0 } lt(w, n) { w := add(w, 1) } {
                    let x := mload(add(p, shl(5, w)))
                    x := sub(x, and(shr(1, x), 0x5555555555555555555555555555555555555555555555555555555555555555))
                    x := add(
                        and(x, 0x3333333333333333333333333333333333333333333333333333333333333333),
                        and(shr(2, x), 0x3333333333333333333333333333333333333333333333333333333333333333)
                    )
                    x := and(add(x, shr(4, x)), 0x0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f)
                    x := and(add(x, shr(8, x)), 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff)
                    // the sum of the sixteen 16-bit lanes lands in the top lane (at most 256: no carry out)
                    m := add(m, shr(240, mul(x, 0x0001000100010001000100010001000100010001000100010001000100010001)))
                }
            }

            // Index of the highest set bit of `x` (x > 0): for a single set bit, its position.
            function highBit(x) -> r {
                r := shl(7, lt(0xffffffffffffffffffffffffffffffff, x))
                r := or(r, shl(6, lt(0xffffffffffffffff, shr(r, x))))
                r := or(r, shl(5, lt(0xffffffff, shr(r, x))))
                r := or(r, shl(4, lt(0xffff, shr(r, x))))
                r := or(r, shl(3, lt(0xff, shr(r, x))))
                r := or(r, shl(2, lt(0xf, shr(r, x))))
                r := or(r, shl(1, lt(0x3, shr(r, x))))
                r := or(r, lt(0x1, shr(r, x)))
            }

            // Keys in the ticks mapping of the initialized ticks of the `n` bitmap words at `words`, lowest first
            // (constant gas per tick: the lowest set bit is isolated, then located by binary search).
            function tickKeys(spacing, lo, n, words, keys) {
                for { let w := 0 } lt(w, n) { w := add(w, 1) } {
                    let base := shl(8, add(lo, w))
                    for { let bits := mload(add(words, shl(5, w))) } bits { bits := and(bits, sub(bits, 1)) } {
                        let b := highBit(and(bits, sub(0, bits)))
                        mstore(keys, mappingKey(mul(add(base, b), spacing), 5)) // ticks[int24]
                        keys := add(keys, 0x20)
                    }
                }
            }

            // The window's part of the record: per word, its bitmap, then the liquidityNet of each set bit.
            function writeWindow(n, words, keys, p) -> q {
                q := p
                for { let w := 0 } lt(w, n) { w := add(w, 1) } {
                    let bits := mload(add(words, shl(5, w)))
                    q := put(q, bits, 32)
                    for {} bits { bits := and(bits, sub(bits, 1)) } {
                        q := put(q, sar(128, mload(keys)), 16) // liquidityNet, int128
                        keys := add(keys, 0x20)
                    }
                }
            }

            let out := mload(0x40)
            let ptr := add(out, 0x20) // after the length word of `state`
            let i := request.offset
            let end := add(request.offset, request.length)
            for {} lt(i, end) {} {
                if gt(add(i, 26), end) { revert(0, 0) } // truncated entry
                let mode := byte(0, calldataload(i))
                let pool := shr(96, calldataload(add(i, 1)))
                let spacing := signextend(2, shr(232, calldataload(add(i, 21))))
                let wordsPerSide := shr(240, calldataload(add(i, 24)))
                let st := 0
                let q := 0
                let step := 0
                switch mode
                case 0 { st, q, step := readV3(pool, spacing, wordsPerSide, add(ptr, 1)) }
                case 1 { st, q, step := readV3Slots(pool, spacing, wordsPerSide, add(ptr, 1)) }
                default { revert(0, 0) } // unknown mode: a bug in the caller, not a pool's fault
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
                i := add(i, 26)
            }
            mstore(out, sub(ptr, add(out, 0x20)))
            mstore(0x40, and(add(ptr, 31), not(31))) // allocate what was written
            state := out
        }
    }
}
