// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Reads Uniswap V4 pools for flasharb (a venue reader of PoolStateReader): price, tick, liquidity, the
///         tick-bitmap words around the current tick's word, the liquidityNet of every initialized tick in them, and
///         the protocol and LP fees, from the PoolManager's storage through its `extsload(bytes32[])`.
/// @dev Never deployed: its runtime code is placed at an unused address with an eth_call state override, so it has
///      no constructor, no immutables and no storage, and it works unchanged on a fork of real mainnet. Three
///      `extsload` calls per pool: slot0 and liquidity, then the bitmap words of the window, then one slot per
///      initialized tick (TickInfo's first slot: liquidityGross | liquidityNet << 128). Pool.State lives at
///      keccak256(poolId, 6) (StateLibrary.POOLS_SLOT): +0 slot0 (sqrtPriceX96 | tick << 160 | protocolFee << 184 |
///      lpFee << 208), +3 liquidity, +4 the ticks mapping, +5 the tickBitmap mapping. When the call's gas runs low the
///      reader stops before the pool it cannot finish.
///
///      Request: one entry per pool, back to back (integers big-endian):
///        poolId (32) | tickSpacing (int24, 3) | wordsPerSide (2)
///      Response: one record per pool read, in request order:
///        failed:  0 (1) | step (1): 1 slot0 and liquidity, 3 the tick spacing check, 4 the bitmap words, 5 the ticks
///        read:    1 (1) | sqrtPriceX96 (20) | tick (3) | liquidity (16) | wordLo (int16, 2) | wordHi (2)
///                 | per word of [wordLo, wordHi]: bitmap (32) | per set bit, lowest first: liquidityNet (int128, 16)
///                 | protocolFee (3) | lpFee (3)
///      The word window is [word(tick) - wordsPerSide, word(tick) + wordsPerSide], clipped to the words that hold
///      valid ticks (TickMath.MIN_TICK..MAX_TICK) for the pool's tick spacing.
///      ref: v4-core src/libraries/StateLibrary.sol, src/Extsload.sol
contract UniswapV4Reader {
    /// @dev The Uniswap V4 PoolManager, at its mainnet address (the replica deploys it there too).
    address private constant POOL_MANAGER = 0x000000000004444c5dc75cB358380D2e3dE08A90;
    /// @dev Gas kept back to write the last record and return.
    uint256 private constant GAS_RESERVE = 60_000;
    /// @dev Gas per slot an extsload call needs: a cold SLOAD (2,100) and its loop and copy (~200).
    uint256 private constant SLOAD_GAS = 2_300;
    /// @dev Gas per key kept for the reader's own work: hash the key, find its bit, write its record part.
    uint256 private constant KEY_GAS = 600;
    uint256 private constant MASK128 = (1 << 128) - 1; // uint128
    uint256 private constant MASK160 = (1 << 160) - 1; // uint160

    /// @notice Packed state of the pools in `request` (format in the contract's @dev), in request order.
    /// @dev Returns fewer records than requested when the call's gas runs low; never reverts because of a pool.
    ///      Reverts on a truncated entry.
    /// @param request Back-to-back pool entries.
    /// @return state Back-to-back pool records, one per pool read, starting with the first pool.
    function read(bytes calldata request) external view returns (bytes memory state) {
        assembly {
            // Write `n` low-order bytes of `v` at `p`, big-endian (clobbers the 32 - n bytes after them).
            function put(p, v, n) -> q {
                mstore(p, shl(sub(256, shl(3, n)), v))
                q := add(p, n)
            }

            // Gas an extsload call needs for `n` slots: a cold SLOAD and the loop per slot, the call and its copy.
            function slotGas(n) -> g {
                g := add(add(mul(n, SLOAD_GAS), shr(9, mul(n, n))), 3000)
            }

            // 1 if enough gas is left to compute `n` keys and read them in one call (and to finish the record).
            function roomFor(n) -> ok {
                let g := slotGas(n)
                ok := iszero(lt(gas(), add(add(g, shr(5, g)), add(mul(n, KEY_GAS), GAS_RESERVE))))
            }

            // PoolManager.extsload(bytes32[]) of the `n` keys at [p + 0x44, p + 0x44 + 32 n): the call is built over
            // [p, p + 0x44) and its answer (0x20 | n | values) comes back at p, so the values start at p + 0x40.
            function extsloads(p, n) -> st {
                mstore(p, shl(224, 0xdbd035ff)) // extsload(bytes32[])
                mstore(add(p, 4), 0x20)
                mstore(add(p, 0x24), n)
                let size := add(0x40, shl(5, n))
                st := staticcall(slotGas(n), POOL_MANAGER, p, add(0x44, shl(5, n)), p, size)
                st := and(st, eq(returndatasize(), size))
            }

            // Storage key of `key` in a Solidity mapping at slot `slot` (value-type key, padded to 32 bytes).
            function mappingKey(key, slot) -> k {
                mstore(0, key)
                mstore(0x20, slot)
                k := keccak256(0, 0x40)
            }

            // [word(tick) - wordsPerSide, word(tick) + wordsPerSide], clipped to the words of valid ticks: the
            // first word and the count
            function window(tick, spacing, wordsPerSide) -> lo, n {
                // TickBitmap.compress(tick) >> 8: round towards negative infinity
                let compressed := sdiv(tick, spacing)
                if and(slt(tick, 0), iszero(iszero(smod(tick, spacing)))) { compressed := sub(compressed, 1) }
                lo := sub(sar(8, compressed), wordsPerSide)
                let hi := add(sar(8, compressed), wordsPerSide)
                let minCompressed := sdiv(sub(0, 887272), spacing) // TickMath.MIN_TICK = -887272
                if smod(sub(0, 887272), spacing) { minCompressed := sub(minCompressed, 1) }
                if slt(lo, sar(8, minCompressed)) { lo := sar(8, minCompressed) }
                if sgt(hi, sar(8, sdiv(887272, spacing))) { hi := sar(8, sdiv(887272, spacing)) } // MAX_TICK
                n := add(sub(hi, lo), 1)
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

            // Keys in the pool's ticks mapping (slot `ticksSlot`) of the initialized ticks of the `n` bitmap words
            // at `words`, lowest first, written after the words and an extsload header's room.
            function tickKeys(spacing, lo, n, words, ticksSlot) {
                let keys := add(add(words, shl(5, n)), 0x44)
                for { let w := 0 } lt(w, n) { w := add(w, 1) } {
                    let base := shl(8, add(lo, w))
                    for { let bits := mload(add(words, shl(5, w))) } bits { bits := and(bits, sub(bits, 1)) } {
                        let b := highBit(and(bits, sub(0, bits)))
                        mstore(keys, mappingKey(mul(add(base, b), spacing), ticksSlot))
                        keys := add(keys, 0x20)
                    }
                }
            }

            // The window's part of the record: per word, its bitmap, then the liquidityNet of each set bit.
            function writeWindow(n, words, values, p) -> q {
                q := p
                for { let w := 0 } lt(w, n) { w := add(w, 1) } {
                    let bits := mload(add(words, shl(5, w)))
                    q := put(q, bits, 32)
                    for {} bits { bits := and(bits, sub(bits, 1)) } {
                        q := put(q, sar(128, mload(values)), 16) // liquidityNet, int128
                        values := add(values, 0x20)
                    }
                }
            }

            // Where the `n` bitmap words read at `p + 0x40` are parked: after the record they make (32 n + 16 m
            // bytes, m their set bits) and the room an extsload header needs, so writing it never overwrites them;
            // the keys of their initialized ticks follow them, after another header's room.
            function parkWords(p, n, lo, spacing, ticksSlot) -> words, m {
                m := countBits(add(p, 0x40), n)
                words := add(add(p, 0x44), add(shl(5, n), shl(4, m)))
                mcopy(words, add(p, 0x40), shl(5, n))
                tickKeys(spacing, lo, n, words, ticksSlot)
            }

            // The liquidityNet of the `m` initialized ticks of the `n` words at `words` (one extsload, its header
            // right after the words), then the window's part of the record at `p`.
            function readTicks(words, n, m, p) -> st, q {
                let values := add(words, shl(5, n))
                st := 1
                if m {
                    if iszero(roomFor(m)) {
                        st := 2
                        leave
                    }
                    st := extsloads(values, m)
                    if iszero(st) { leave }
                    values := add(values, 0x40)
                }
                q := writeWindow(n, words, values, p)
            }

            // The `n` bitmap words from word `lo`, each followed by the liquidityNet of its initialized ticks: two
            // extsloads. `done` 0: the words failed, 1: the ticks failed (with `st` 0) or all went well.
            function readWindow(s, spacing, lo, n, p) -> st, q, done {
                q := p
                if iszero(roomFor(n)) {
                    st := 2
                    leave
                }
                for { let w := 0 } lt(w, n) { w := add(w, 1) } {
                    mstore(add(add(p, 0x44), shl(5, w)), mappingKey(add(lo, w), add(s, 5))) // tickBitmap[int16]
                }
                st := extsloads(p, n)
                if iszero(st) { leave }
                done := 1
                let words, m := parkWords(p, n, lo, spacing, add(s, 4))
                st, q := readTicks(words, n, m, p)
            }

            // The window around `tick`: wordLo (2) | wordHi (2) | its words and ticks.
            function windowOf(s, spacing, wordsPerSide, tick, p) -> st, q, step {
                let lo, n := window(tick, spacing, wordsPerSide)
                q := put(p, lo, 2)
                q := put(q, add(lo, sub(n, 1)), 2) // wordHi
                st, q, step := readWindow(s, spacing, lo, n, q)
                step := add(4, step)
            }

            // slot0 and liquidity (one extsload): sqrtPriceX96 (20) | tick (3) | liquidity (16) at `p`; the tick and
            // slot0's fees (protocolFee | lpFee << 24) back.
            function head(s, p) -> st, tick, fees {
                mstore(add(p, 0x44), s) // slot0
                mstore(add(p, 0x64), add(s, 3)) // liquidity
                st := extsloads(p, 2)
                if iszero(st) { leave }
                let s0 := mload(add(p, 0x40))
                let liquidity := and(mload(add(p, 0x60)), MASK128)
                tick := signextend(2, shr(160, s0))
                fees := shr(184, s0)
                p := put(p, and(s0, MASK160), 20)
                p := put(p, tick, 3)
                pop(put(p, liquidity, 16))
            }

            function readV4(poolId, spacing, wordsPerSide, p) -> st, q, step {
                q := p
                step := 1
                if iszero(roomFor(2)) {
                    st := 2
                    leave
                }
                let s := mappingKey(poolId, 6) // _pools[poolId]
                let tick, fees
                st, tick, fees := head(s, p)
                if iszero(st) { leave }
                step := 3
                if or(slt(spacing, 1), sgt(spacing, 32767)) { // TickMath: 0 < tickSpacing < 32768
                    st := 0
                    leave
                }
                st, q, step := windowOf(s, spacing, wordsPerSide, tick, add(p, 39))
                if eq(st, 1) {
                    q := put(q, and(fees, 0xffffff), 3) // protocolFee
                    q := put(q, and(shr(24, fees), 0xffffff), 3) // lpFee
                }
            }

            let out := mload(0x40)
            let ptr := add(out, 0x20) // after the length word of `state`
            let i := request.offset
            let end := add(request.offset, request.length)
            for {} lt(i, end) {} {
                if gt(add(i, 37), end) { revert(0, 0) } // truncated entry
                let poolId := calldataload(i)
                let spacing := signextend(2, shr(232, calldataload(add(i, 32))))
                let wordsPerSide := shr(240, calldataload(add(i, 35)))
                let st, q, step := readV4(poolId, spacing, wordsPerSide, add(ptr, 1))
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
                i := add(i, 37)
            }
            mstore(out, sub(ptr, add(out, 0x20)))
            mstore(0x40, and(add(ptr, 31), not(31))) // allocate what was written
            state := out
        }
    }
}
