// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IUniswapV2Factory} from "../interfaces/IUniswapV2Factory.sol";
import {IUniswapV2Pair} from "../interfaces/IUniswapV2Pair.sol";

/// @notice Batch reads of Uniswap-V2-style factories and pairs in one eth_call.
/// @dev Never deployed: its runtime code is placed at an unused address with an eth_call state override, so it
///      has no constructor, no immutables and no storage. Views only; a pair that reverts fails the whole batch.
contract V2PoolReader {
    /// @notice One pair with its tokens and current reserves.
    struct V2Pair {
        address pair;
        address token0;
        address token1;
        uint112 reserve0;
        uint112 reserve1;
    }

    /// @notice Pairs `start` to `end` (exclusive) of `factory`, clipped to allPairsLength, with tokens and reserves.
    /// @param factory A Uniswap-V2-style factory (allPairs, allPairsLength).
    /// @param start First index, inclusive.
    /// @param end Last index, exclusive; clipped to allPairsLength.
    /// @return pairs One entry per index in [start, min(end, allPairsLength)); empty if that range is.
    function pairsOf(address factory, uint256 start, uint256 end) external view returns (V2Pair[] memory pairs) {
        uint256 length = IUniswapV2Factory(factory).allPairsLength();
        if (end > length) end = length;
        if (start >= end) return pairs; // zero-length array
        unchecked {
            pairs = new V2Pair[](end - start); // cannot underflow: start < end
        }
        for (uint256 i = start; i < end; ++i) {
            address pair = IUniswapV2Factory(factory).allPairs(i);
            (uint112 reserve0, uint112 reserve1, ) = IUniswapV2Pair(pair).getReserves();
            unchecked {
                pairs[i - start] = V2Pair({ // cannot underflow: i >= start
                    pair: pair,
                    token0: IUniswapV2Pair(pair).token0(),
                    token1: IUniswapV2Pair(pair).token1(),
                    reserve0: reserve0,
                    reserve1: reserve1
                });
            }
        }
    }

    /// @notice Current reserves of `pairs`, in order.
    /// @param pairs Uniswap-V2-style pairs.
    /// @return r0 Reserve of token0, per pair.
    /// @return r1 Reserve of token1, per pair.
    /// @return ts Block timestamp (mod 2^32) of each pair's last reserve update.
    function reservesOf(address[] calldata pairs)
        external
        view
        returns (uint112[] memory r0, uint112[] memory r1, uint32[] memory ts)
    {
        uint256 n = pairs.length;
        r0 = new uint112[](n);
        r1 = new uint112[](n);
        ts = new uint32[](n);
        for (uint256 i; i < n; ++i) {
            (r0[i], r1[i], ts[i]) = IUniswapV2Pair(pairs[i]).getReserves();
        }
    }

    /// @notice Number of pairs `factory` has created.
    /// @param factory A Uniswap-V2-style factory.
    /// @return The factory's allPairsLength.
    function allPairsLength(address factory) external view returns (uint256) {
        return IUniswapV2Factory(factory).allPairsLength();
    }
}
