// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The route has no hops or more than LibRoute.MAX_HOPS.
error InvalidHopCount(uint256 hopCount);
/// @notice The amount to borrow is zero or above what any supported pool can hold (2^112 - 1).
error InvalidAmountIn(uint256 amountIn);
/// @notice Hop `hopIndex` breaks the chain: its tokenIn is not the previous tokenOut (or route.token for hop 0),
///         its tokenIn equals its tokenOut, its fee is not below 1e6, or (last hop) its tokenOut is not route.token.
error InvalidRoute(uint256 hopIndex);
/// @notice Hop `hopIndex` names a pool kind this build cannot swap on.
error UnsupportedHopKind(uint256 hopIndex, uint8 kind);

/// @notice The shape of an arbitrage route (a cycle of pool hops from and back to the borrowed token) and its checks.
library LibRoute {
    /// @notice One swap of a route.
    struct Hop {
        uint8 kind; // pool kind; KIND_UNISWAP_V2 is the only one so far
        address pool; // the pool swapped on
        address tokenIn; // sold on this hop
        address tokenOut; // bought on this hop; the next hop's tokenIn
        uint24 fee; // pool fee in hundredths of a bip (1e-6): 3000 = 0.30%
    }

    /// @notice A cycle: borrow `amountIn` of `token`, swap it through `hops`, end with more `token`.
    struct Route {
        address token; // borrowed token = hops[0].tokenIn = hops[last].tokenOut
        uint256 amountIn; // amount borrowed and sent into the first hop
        Hop[] hops;
    }

    uint8 internal constant KIND_UNISWAP_V2 = 0; // constant-product pair, paid before `swap`, fee on input
    uint256 internal constant MAX_HOPS = 4; // longer cycles are never profitable after gas on mainnet
    uint256 internal constant FEE_DENOMINATOR = 1e6; // fees are in hundredths of a bip
    uint256 internal constant MAX_AMOUNT_IN = type(uint112).max; // a V2 pair cannot hold more (UniswapV2: OVERFLOW)

    /// @notice Revert unless `route` is a well-formed cycle this build can execute.
    /// @dev The uint112 cap on amountIn is what makes the unchecked swap math in LibUniswapV2 overflow-free:
    ///      every later hop's input is a previous output, which is below a uint112 reserve.
    /// @param route The route to check.
    function validate(Route calldata route) internal pure {
        Hop[] calldata hops = route.hops;
        uint256 n = hops.length;
        if (n == 0 || n > MAX_HOPS) revert InvalidHopCount(n);
        uint256 amountIn = route.amountIn;
        if (amountIn == 0 || amountIn > MAX_AMOUNT_IN) revert InvalidAmountIn(amountIn);
        address token = route.token;
        address expected = token; // each hop sells what the previous one bought
        for (uint256 i; i < n; ) {
            Hop calldata hop = hops[i];
            if (hop.kind != KIND_UNISWAP_V2) revert UnsupportedHopKind(i, hop.kind); // fail before borrowing
            address tokenOut = hop.tokenOut;
            if (hop.tokenIn != expected || tokenOut == expected || hop.fee >= FEE_DENOMINATOR) revert InvalidRoute(i);
            expected = tokenOut;
            unchecked {
                ++i; // cannot overflow: i < n <= MAX_HOPS
            }
        }
        unchecked {
            if (expected != token) revert InvalidRoute(n - 1); // cannot underflow: n >= 1 checked above
        }
    }
}
