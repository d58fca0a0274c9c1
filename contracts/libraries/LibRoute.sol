// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {LibUniswapV4} from "./LibUniswapV4.sol";

/// @notice The amounts are not one uint128 for amountIn plus one per hop, or the hop count is 0 or above MAX_HOPS.
error InvalidHopCount(uint256 amountsLength);
/// @notice amountIn is zero or above what any supported pool can hold (2^112 - 1).
error InvalidAmountIn(uint256 amountIn);
/// @notice Hop `hopIndex` is a Balancer hop inside a Balancer flash loan (the Vault would revert BAL#400).
error BalancerHopInBalancerLoan(uint256 hopIndex);
/// @notice Hop `hopIndex` breaks the route: it runs past the end of the path, names an unknown kind or V2 factory,
///         swaps a token for itself, flags a V4 hop native without WETH on either side, or (last hop) does not end in
///         the route's token, or the path has bytes after the last hop.
error InvalidRoute(uint256 hopIndex);

/// @notice The packed route format: a cycle of hops from and back to one token, and its amounts.
/// @dev Calldata is the largest per-byte cost of an arb after storage, so the route is packed, not ABI-encoded:
///      path    = token (20) | hop_0 | ... | hop_{n-1}
///      V2 hop  = KIND_UNISWAP_V2 (1) | factory (1) | tokenOut (20)           22 bytes, pair = CREATE2(factory, tokens)
///      V3 hop  = KIND_UNISWAP_V3 (1) | tokenOut (20) | fee (3)                24 bytes, pool = CREATE2(tokens, fee)
///      Bal hop = KIND_BALANCER (1)   | poolId (32) | tokenOut (20)           53 bytes, swapped through the Vault
///      V4 hop  = KIND_UNISWAP_V4 (1) | tokenOut (20) | fee (3) | tickSpacing (3) | native (1)
///                                                                            28 bytes, key = (tokens, fee, spacing, no hooks)
///      amounts = amountIn (16) | out_0 (16) | ... | out_{n-1} (16)           uint128 each, big-endian
///      A hop's tokenIn is the previous hop's tokenOut (route token for hop 0); the last tokenOut must be the route
///      token. out_i is hop i's exact output, computed off-chain: a V2 pair is asked for exactly that (its own k
///      check guards it), V3 and Balancer hops revert when they pay less. A V2 hop names no pair: `factory` indexes
///      the facet's allowed Uniswap-V2-style factories (0: Uniswap V2, 1: SushiSwap; V2_FACTORY_COUNT in all) and
///      the pair is derived from that factory, its pair init-code hash and the hop's two tokens, as V3 pools are:
///      a route can only name a pair the factory deployed (issue 14: a pair taken from calldata let an executor
///      route the profit into a contract of its own). 1 byte instead of 20 also saves ~300 gas of calldata a hop.
///      A V4 hop names no pool either: its PoolKey is built from the two tokens, the fee, the tick spacing and
///      hooks = address(0), always (LibUniswapV4), so a pool with hooks cannot be written; `native` = 1 trades the
///      pool whose WETH side is native ETH (the route still speaks WETH: the facet unwraps and wraps at the hop).
///      keccak256(path) is the route's id: it names the pools and tokens, not the sizes, so one path keeps one id
///      across amounts.
library LibRoute {
    uint8 internal constant KIND_UNISWAP_V2 = 0; // constant-product pair, paid before `swap`, output sent anywhere
    uint8 internal constant KIND_UNISWAP_V3 = 1; // concentrated liquidity, paid in uniswapV3SwapCallback
    uint8 internal constant KIND_BALANCER = 2; // Balancer V2 pool, swapped through the Vault (exact approval)
    uint8 internal constant KIND_UNISWAP_V4 = 3; // hookless Uniswap V4 pool, swapped inside the PoolManager's unlock

    uint256 internal constant TOKEN_LENGTH = 20; // the route token heads the path
    uint256 internal constant V2_HOP_LENGTH = 22; // kind | factory index | tokenOut
    uint256 internal constant V2_FACTORY_COUNT = 2; // factory indexes 0 (Uniswap V2) and 1 (SushiSwap): FlashArbFacet
    uint256 internal constant V3_HOP_LENGTH = 24; // kind | tokenOut | fee
    uint256 internal constant BALANCER_HOP_LENGTH = 53; // kind | poolId | tokenOut
    uint256 internal constant V4_HOP_LENGTH = 28; // kind | tokenOut | fee | tickSpacing | native
    uint256 internal constant AMOUNT_LENGTH = 16; // uint128
    uint256 internal constant MAX_HOPS = 4; // longer cycles are never profitable after gas on mainnet
    uint256 internal constant MAX_AMOUNT_IN = type(uint112).max; // a V2 pair cannot hold more (UniswapV2: OVERFLOW)

    uint256 internal constant BAD_BALANCER_HOP = 1 << 128; // validate's failure code for BalancerHopInBalancerLoan

    uint256 internal constant SHAPE_UNISWAP_V2 = 1 << KIND_UNISWAP_V2; // validate's `kinds` for a V2-only route
    uint256 internal constant SHAPE_BALANCER = 1 << KIND_BALANCER; // ... and for a Balancer-only one (one batchSwap)
    uint256 internal constant SHAPE_UNISWAP_V4 = 1 << KIND_UNISWAP_V4; // some hop is V4: the route runs in an unlock

    /// @notice Check `path` and `amounts` form a route this build can execute; return what the caller needs.
    /// @dev One pass, before anything is borrowed: 1..MAX_HOPS hops (InvalidHopCount), 0 < amountIn <= 2^112 - 1
    ///      (InvalidAmountIn: the cap keeps the unchecked arithmetic downstream overflow-free), known kinds (and V2
    ///      factory indexes) with their full length inside the path, no hop selling a token for itself, a V4 hop's
    ///      native flag 0 or 1 and set only next to WETH, the last hop back in the route token and nothing after it
    ///      (InvalidRoute), and no Balancer hop when the loan comes from the Vault (BalancerHopInBalancerLoan). Later reads of the route trust these bounds.
    /// @param path The packed path.
    /// @param amounts The packed amounts.
    /// @param vaultLoan Whether the capital is a Balancer flash loan.
    /// @return token The route token.
    /// @return amountIn The amount put in.
    /// @return kinds Bit k set when some hop is of kind k (SHAPE_UNISWAP_V2, SHAPE_BALANCER: single-venue routes;
    ///         SHAPE_UNISWAP_V4: some V4 hop).
    function validate(bytes calldata path, bytes calldata amounts, bool vaultLoan)
        internal
        pure
        returns (address token, uint256 amountIn, uint256 kinds)
    {
        uint256 n = amounts.length >> 4; // AMOUNT_LENGTH = 16; the hop count below
        uint256 bad; // the walk below: 0: well formed; else 1 + the index of the hop that breaks it, plus
        //              BAD_BALANCER_HOP for a Balancer hop in a Vault loan (issue 17: the walk in assembly, ~40% of
        //              its gas in Solidity). First: bit 0 a bad hop count, bit 1 a bad amountIn.
        assembly ("memory-safe") {
            // the same tests as `n << 4 != len || n < 2 || n > MAX_HOPS + 1` and `amountIn == 0 || amountIn >
            // MAX_AMOUNT_IN`, without Solidity's short-circuit jumps (issue 17: ~80 gas); reported in that order
            bad := or(or(iszero(eq(shl(4, n), amounts.length)), lt(n, 2)), gt(n, 5)) // 5 = MAX_HOPS + 1
            amountIn := shr(128, calldataload(amounts.offset)) // amountAt(amounts, 0); zeros past the end
            bad := or(bad, shl(1, or(iszero(amountIn), gt(amountIn, 0xffffffffffffffffffffffffffff)))) // MAX_AMOUNT_IN
            n := sub(n, 1) // the first amount is amountIn; wraps only with a bad count, which reverts next
        }
        if (bad != 0) {
            if (bad & 1 != 0) revert InvalidHopCount(amounts.length);
            revert InvalidAmountIn(amountIn);
        }
        if (path.length < TOKEN_LENGTH) revert InvalidRoute(0);
        assembly ("memory-safe") {
            let end := add(path.offset, path.length) // calldata position just past the path
            token := shr(96, calldataload(path.offset))
            // V2 hops only, the usual route (issue 17: ~100 gas a hop less than the walk below): the path is exactly
            // n V2 hops long, each hop's kind and factory bytes, read as one number, are below V2_FACTORY_COUNT (kind
            // 0, a known factory), no hop sells a token for itself, and the last one buys the route token. The walk
            // below accepts exactly these routes with these results; anything else goes to it for its verdict.
            let fast // 1: the V2 pass accepted the route
            if eq(path.length, add(TOKEN_LENGTH, mul(n, V2_HOP_LENGTH))) {
                // names of their own (the walk below has tokenIn, at, head, bought: Slither's SSA fails on a
                // second variable of one name in a function)
                let sold := token
                let ok := 1
                for { let hop := add(path.offset, TOKEN_LENGTH) } lt(hop, end) { hop := add(hop, V2_HOP_LENGTH) } {
                    let out := shr(96, calldataload(add(hop, 2))) // tokenOut, after kind | factory (no mask)
                    if or(gt(shr(240, calldataload(hop)), 1), eq(out, sold)) { // 1 = V2_FACTORY_COUNT - 1
                        ok := 0
                        break
                    }
                    sold := out
                }
                fast := and(ok, eq(sold, token))
                kinds := fast // SHAPE_UNISWAP_V2 = 1 (assembly reads literal constants only)
            }
            if iszero(fast) { // the general walk: everything the V2 pass did not accept
                let tokenIn := token
                let at := add(path.offset, TOKEN_LENGTH) // calldata position of the hop
                for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                    if iszero(lt(at, end)) {
                        bad := add(i, 1) // the hop starts past the end
                        break
                    }
                    let head := calldataload(at) // the hop's first 32 bytes: kind, then fields (a read past the end: zeros)
                    let kind := shr(248, head)
                    let bought
                    switch kind
                    case 0 {
                        // KIND_UNISWAP_V2: kind | factory | tokenOut (bytes 2..21)
                        if iszero(lt(byte(1, head), V2_FACTORY_COUNT)) {
                            bad := add(i, 1) // no such factory
                            break
                        }
                        bought := and(shr(80, head), 0xffffffffffffffffffffffffffffffffffffffff)
                        at := add(at, V2_HOP_LENGTH)
                    }
                    case 1 {
                        // KIND_UNISWAP_V3: kind | tokenOut (bytes 1..20) | fee
                        bought := and(shr(88, head), 0xffffffffffffffffffffffffffffffffffffffff)
                        at := add(at, V3_HOP_LENGTH)
                    }
                    case 2 {
                        // KIND_BALANCER: kind | poolId | tokenOut (bytes 33..52)
                        if vaultLoan {
                            bad := add(BAD_BALANCER_HOP, add(i, 1))
                            break
                        }
                        bought := shr(96, calldataload(add(at, 33)))
                        at := add(at, BALANCER_HOP_LENGTH)
                    }
                    case 3 {
                        // KIND_UNISWAP_V4: kind | tokenOut (bytes 1..20) | fee | tickSpacing | native (byte 27)
                        bought := and(shr(88, head), 0xffffffffffffffffffffffffffffffffffffffff)
                        let native := byte(27, head)
                        let weth := 0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2 // LibUniswapV4.WETH
                        if or(gt(native, 1), and(eq(native, 1), and(iszero(eq(tokenIn, weth)), iszero(eq(bought, weth))))) {
                            bad := add(i, 1) // a native side must be the WETH side
                            break
                        }
                        at := add(at, V4_HOP_LENGTH)
                    }
                    default {
                        bad := add(i, 1) // unknown kind
                        break
                    }
                    if or(gt(at, end), eq(bought, tokenIn)) {
                        bad := add(i, 1) // runs past the end (it only read zeros there), or sells a token for itself
                        break
                    }
                    tokenIn := bought
                    kinds := or(kinds, shl(kind, 1)) // the hop's kind
                }
                if iszero(bad) {
                    if or(iszero(eq(at, end)), iszero(eq(tokenIn, token))) { bad := n } // the last hop (index n - 1)
                }
            }
        }
        if (bad != 0) {
            unchecked {
                if (bad > BAD_BALANCER_HOP) revert BalancerHopInBalancerLoan(bad - BAD_BALANCER_HOP - 1);
                revert InvalidRoute(bad - 1); // cannot underflow: bad != 0
            }
        }
    }

    /// @notice The `i`-th uint128 of `amounts` (0: amountIn, 1 + h: hop h's output). Bounds: validate.
    /// @param amounts The packed amounts.
    /// @param i Index.
    /// @return amount The amount.
    function amountAt(bytes calldata amounts, uint256 i) internal pure returns (uint256 amount) {
        assembly ("memory-safe") {
            amount := shr(128, calldataload(add(amounts.offset, shl(4, i)))) // 16-byte words, i <= MAX_HOPS
        }
    }

    /// @notice The 20-byte address at `offset` of `path`. Bounds: validate.
    /// @param path The packed path.
    /// @param offset Byte offset.
    /// @return a The address.
    function addressAt(bytes calldata path, uint256 offset) internal pure returns (address a) {
        assembly ("memory-safe") {
            a := shr(96, calldataload(add(path.offset, offset)))
        }
    }

    /// @notice The kind byte of the hop at `offset`. Bounds: validate.
    /// @param path The packed path.
    /// @param offset Byte offset of the hop.
    /// @return kind The hop's kind.
    function kindAt(bytes calldata path, uint256 offset) internal pure returns (uint8 kind) {
        assembly ("memory-safe") {
            kind := byte(0, calldataload(add(path.offset, offset)))
        }
    }

    /// @notice Byte length of a hop of `kind` (a kind validate accepted).
    /// @param kind The hop's kind.
    /// @return The length.
    function hopLength(uint8 kind) internal pure returns (uint256) {
        if (kind == KIND_UNISWAP_V2) return V2_HOP_LENGTH;
        if (kind == KIND_UNISWAP_V3) return V3_HOP_LENGTH;
        if (kind == KIND_UNISWAP_V4) return V4_HOP_LENGTH;
        return BALANCER_HOP_LENGTH;
    }

    /// @notice The factory index of the V2 hop at `offset`: 0..V2_FACTORY_COUNT-1 (bounds: validate).
    /// @param path The packed path.
    /// @param offset Byte offset of the hop.
    /// @return factory The index.
    function v2Factory(bytes calldata path, uint256 offset) internal pure returns (uint256 factory) {
        assembly ("memory-safe") {
            factory := byte(1, calldataload(add(path.offset, offset))) // the byte after the kind
        }
    }

    /// @notice tokenOut of the hop of `kind` at `offset` (bounds: validate).
    /// @param path The packed path.
    /// @param offset Byte offset of the hop.
    /// @param kind The hop's kind.
    /// @return tokenOut The token the hop buys.
    function tokenOut(bytes calldata path, uint256 offset, uint8 kind) internal pure returns (address) {
        if (kind == KIND_UNISWAP_V2) return addressAt(path, offset + 2); // after kind | factory
        if (kind == KIND_UNISWAP_V3 || kind == KIND_UNISWAP_V4) return addressAt(path, offset + 1); // after kind
        return addressAt(path, offset + 33); // Balancer: after kind | poolId
    }

    /// @notice Fee tier of the V3 hop at `offset`, in hundredths of a bip (bounds: validate).
    /// @param path The packed path.
    /// @param offset Byte offset of the hop.
    /// @return fee The pool's fee tier (500 = 0.05%).
    function v3Fee(bytes calldata path, uint256 offset) internal pure returns (uint24 fee) {
        assembly ("memory-safe") {
            fee := shr(232, calldataload(add(path.offset, add(offset, 21)))) // 3 bytes after kind | tokenOut
        }
    }

    /// @notice Balancer pool id of the Balancer hop at `offset` (bounds: validate).
    /// @param path The packed path.
    /// @param offset Byte offset of the hop.
    /// @return poolId The Vault's id of the pool.
    function balancerPoolId(bytes calldata path, uint256 offset) internal pure returns (bytes32 poolId) {
        assembly ("memory-safe") {
            poolId := calldataload(add(path.offset, add(offset, 1)))
        }
    }

    /// @notice Fee of the V4 hop at `offset`, in hundredths of a bip (bounds: validate).
    /// @param path The packed path.
    /// @param offset Byte offset of the hop.
    /// @return fee The pool key's static fee (3000 = 0.30%).
    function v4Fee(bytes calldata path, uint256 offset) internal pure returns (uint24 fee) {
        assembly ("memory-safe") {
            fee := shr(232, calldataload(add(path.offset, add(offset, 21)))) // 3 bytes after kind | tokenOut
        }
    }

    /// @notice Tick spacing of the V4 hop at `offset` (bounds: validate).
    /// @param path The packed path.
    /// @param offset Byte offset of the hop.
    /// @return tickSpacing The pool key's tick spacing (a spacing no pool has names no initialized pool).
    function v4TickSpacing(bytes calldata path, uint256 offset) internal pure returns (int24 tickSpacing) {
        assembly ("memory-safe") {
            tickSpacing := signextend(2, shr(232, calldataload(add(path.offset, add(offset, 24))))) // after the fee
        }
    }

    /// @notice Whether the V4 hop at `offset` trades the pool whose WETH side is native ETH (bounds: validate).
    /// @param path The packed path.
    /// @param offset Byte offset of the hop.
    /// @return native The hop's last byte is 1.
    function v4Native(bytes calldata path, uint256 offset) internal pure returns (bool native) {
        assembly ("memory-safe") {
            native := byte(27, calldataload(add(path.offset, offset)))
        }
    }
}
