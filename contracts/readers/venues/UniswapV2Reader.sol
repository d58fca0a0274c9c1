// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Reads Uniswap-V2-style pairs for flasharb: their reserves (a venue reader of PoolStateReader) and a
///         factory's pairs with their tokens (discovery).
/// @dev Never deployed: its runtime code is placed at an unused address with an eth_call state override, so it has
///      no constructor, no immutables and no storage. Every pair call is a STATICCALL with a bounded gas allowance
///      whose return size is checked before it is read, so a pair that reverts, burns its gas, has no code or
///      answers garbage fails alone. When the call's gas runs low, `read` stops before the pair it cannot finish.
///
///      `read` request: entries back to back:  pair (20)
///      `read` response: one record per pair read, in request order:
///        read:    1 (1) | reserve0 (14) | reserve1 (14)
///        failed:  0 (1) | step (1): 1 = getReserves reverted or did not answer two uint112 reserves
contract UniswapV2Reader {
    /// @dev Gas each pair call may use: ~25x what getReserves needs.
    uint256 private constant CALL_GAS = 100_000;
    /// @dev Gas kept back to write the last record and return.
    uint256 private constant GAS_RESERVE = 40_000;
    /// @dev Returned where a token call failed (as an address: 0xff..ff).
    uint256 private constant FAILED = type(uint256).max;

    /// @notice Packed reserves of the pairs in `request` (format in the contract's @dev), in request order.
    /// @dev Returns fewer records than requested when the call's gas runs low; never reverts because of a pair.
    ///      Reverts on a truncated entry.
    /// @param request Back-to-back pair addresses.
    /// @return state Back-to-back records, one per pair read, starting with the first pair.
    function read(bytes calldata request) external view returns (bytes memory state) {
        assembly {
            let out := mload(0x40)
            let ptr := add(out, 0x20)
            let i := request.offset
            let end := add(request.offset, request.length)
            for {} lt(i, end) {} {
                if gt(add(i, 20), end) { revert(0, 0) } // truncated entry
                if lt(gas(), add(CALL_GAS, GAS_RESERVE)) { break } // the caller resends the rest
                let pair := shr(96, calldataload(i))
                mstore(0, shl(224, 0x0902f1ac)) // getReserves()
                let ok := staticcall(CALL_GAS, pair, 0, 4, 0, 0)
                ok := and(ok, iszero(lt(returndatasize(), 0x60)))
                let r0 := 0
                let r1 := 0
                if ok {
                    returndatacopy(0, 0, 0x40)
                    r0 := mload(0)
                    r1 := mload(0x20)
                    ok := iszero(or(shr(112, r0), shr(112, r1))) // reserves are uint112: else not a pair
                }
                switch ok
                case 1 {
                    mstore8(ptr, 1)
                    mstore(add(ptr, 1), shl(144, r0))
                    mstore(add(ptr, 15), shl(144, r1))
                    ptr := add(ptr, 29)
                }
                default {
                    mstore8(ptr, 0)
                    mstore8(add(ptr, 1), 1)
                    ptr := add(ptr, 2)
                }
                i := add(i, 20)
            }
            mstore(out, sub(ptr, add(out, 0x20)))
            mstore(0x40, and(add(ptr, 31), not(31)))
            state := out
        }
    }

    /// @notice Pairs `start` to `end` (exclusive) of a Uniswap-V2-style factory, clipped to allPairsLength.
    /// @param factory A factory with allPairs and allPairsLength (Uniswap V2, SushiSwap).
    /// @param start First index, inclusive.
    /// @param end Last index, exclusive; clipped to allPairsLength.
    /// @return total The factory's allPairsLength.
    /// @return pairs The pair at each index in [start, min(end, total)).
    /// @return token0s Each pair's token0 (0xff..ff where the call failed).
    /// @return token1s Each pair's token1 (0xff..ff where the call failed).
    function v2Pairs(address factory, uint256 start, uint256 end)
        external
        view
        returns (uint256 total, address[] memory pairs, address[] memory token0s, address[] memory token1s)
    {
        total = IReaderV2Factory(factory).allPairsLength();
        if (end > total) end = total;
        uint256 n = start < end ? end - start : 0;
        pairs = new address[](n);
        token0s = new address[](n);
        token1s = new address[](n);
        for (uint256 k; k < n; ++k) {
            address pair = IReaderV2Factory(factory).allPairs(start + k);
            pairs[k] = pair;
            token0s[k] = address(uint160(_uint(pair, IReaderV2Pair.token0.selector)));
            token1s[k] = address(uint160(_uint(pair, IReaderV2Pair.token1.selector)));
        }
    }

    /// @dev First return word of `target.selector()`, or FAILED.
    function _uint(address target, bytes4 selector) private view returns (uint256 value) {
        (bool ok, bytes memory ret) = target.staticcall{gas: CALL_GAS}(abi.encodeWithSelector(selector));
        if (!ok || ret.length < 32) return FAILED;
        assembly ("memory-safe") {
            value := mload(add(ret, 0x20))
        }
    }
}

/// @notice The enumeration views of a Uniswap-V2-style factory (v2-core UniswapV2Factory).
interface IReaderV2Factory {
    /// @notice Number of pairs the factory has created.
    /// @return The length of allPairs.
    function allPairsLength() external view returns (uint256);

    /// @notice The pair created `index`-th (0-based).
    /// @param index Position in creation order.
    /// @return The pair address.
    function allPairs(uint256 index) external view returns (address);
}

/// @notice The token views of a Uniswap-V2-style pair (v2-core UniswapV2Pair).
interface IReaderV2Pair {
    /// @notice The pair's lower-sorted token.
    /// @return The token address.
    function token0() external view returns (address);

    /// @notice The pair's higher-sorted token.
    /// @return The token address.
    function token1() external view returns (address);
}
