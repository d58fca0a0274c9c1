// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "../interfaces/IERC20.sol";
import {IUniswapV2Pair} from "../interfaces/IUniswapV2Pair.sol";
import {LibSafeERC20} from "../libraries/LibSafeERC20.sol";

/// @notice UniswapV2Router02's pure quote functions (v2-periphery UniswapV2Library, 0.3% fee).
interface IUniswapV2RouterQuotes {
    function getAmountOut(uint256 amountIn, uint256 reserveIn, uint256 reserveOut) external pure returns (uint256);
    function getAmountIn(uint256 amountOut, uint256 reserveIn, uint256 reserveOut) external pure returns (uint256);
}

/// @notice UniswapV2Pair.skim: send the pair's balance above its reserves to `to`.
interface IUniswapV2PairSkim {
    function skim(address to) external;
}

/// @notice Test-only probe: runs a sequence of swap boundary checks on real Uniswap-V2-style pairs in one eth_call.
/// @dev Never deployed: passed as eth_call state-override code at an address that holds the input tokens. Each
///      case changes the pairs' state for the cases after it (within the same call), exactly as real swaps would.
contract V2ParityProbe {
    /// @notice One swap to check.
    struct Case {
        address pair;
        bool zeroForOne; // sells token0 for token1
        uint8 mode; // 0 exact-in, 1 exact-out, 2 an output not below its reserve (must revert INSUFFICIENT_LIQUIDITY)
        uint256 amountIn; // exact-in: sent; exact-out: the minimal input Python claims
        uint256 amountOut; // exact-in: Python's output; exact-out: the output bought
    }

    uint256 internal constant FIELDS = 6; // per case: boundaryHeld, succeeded, received, reserve0, reserve1, routerQuote

    bytes32 internal constant K = keccak256(abi.encodeWithSignature("Error(string)", "UniswapV2: K"));
    bytes32 internal constant NO_INPUT =
        keccak256(abi.encodeWithSignature("Error(string)", "UniswapV2: INSUFFICIENT_INPUT_AMOUNT"));
    bytes32 internal constant LIQUIDITY =
        keccak256(abi.encodeWithSignature("Error(string)", "UniswapV2: INSUFFICIENT_LIQUIDITY"));

    /// @notice Run `cases` in order and report, per case, whether the pair's boundary held and what it paid.
    /// @dev Exact-in: send amountIn, then `swap(amountOut + 1)` must revert with K and `swap(amountOut)` must pay.
    ///      Exact-out: send amountIn - 1, `swap(amountOut)` must revert with K (INSUFFICIENT_INPUT_AMOUNT if that is
    ///      zero); send 1 more and it must pay.
    /// @param cases The swaps, applied in order.
    /// @param router A UniswapV2Router02 whose getAmountOut / getAmountIn are quoted at the pre-swap reserves.
    /// @return results FIELDS words per case: boundary held (1/0), swap succeeded (1/0), output received,
    ///         reserve0 and reserve1 after the case, the router's quote (getAmountOut or getAmountIn).
    function run(Case[] calldata cases, address router) external returns (uint256[] memory results) {
        results = new uint256[](cases.length * FIELDS);
        for (uint256 i; i < cases.length; ++i) {
            Case calldata c = cases[i];
            IUniswapV2Pair pair = IUniswapV2Pair(c.pair);
            (address tokenIn, address tokenOut) =
                c.zeroForOne ? (pair.token0(), pair.token1()) : (pair.token1(), pair.token0());
            (uint256 r0, uint256 r1, ) = pair.getReserves();
            (uint256 rIn, uint256 rOut) = c.zeroForOne ? (r0, r1) : (r1, r0);
            uint256 o = i * FIELDS;
            if (c.mode == 2) {
                results[o] = _reverted(pair, c.zeroForOne, c.amountOut) == LIQUIDITY ? 1 : 0; // checked before inputs
            } else if (c.mode == 0) {
                results[o + 5] = IUniswapV2RouterQuotes(router).getAmountOut(c.amountIn, rIn, rOut);
                LibSafeERC20.safeTransfer(IERC20(tokenIn), c.pair, c.amountIn);
                results[o] = _reverted(pair, c.zeroForOne, c.amountOut + 1) == K ? 1 : 0;
            } else {
                results[o + 5] = IUniswapV2RouterQuotes(router).getAmountIn(c.amountOut, rIn, rOut);
                LibSafeERC20.safeTransfer(IERC20(tokenIn), c.pair, c.amountIn - 1);
                bytes32 expected = c.amountIn == 1 ? NO_INPUT : K; // one wei less than one is nothing at all
                results[o] = _reverted(pair, c.zeroForOne, c.amountOut) == expected ? 1 : 0;
                LibSafeERC20.safeTransfer(IERC20(tokenIn), c.pair, 1);
            }
            if (c.mode != 2 && c.amountOut > 0) {
                uint256 before = IERC20(tokenOut).balanceOf(address(this));
                results[o + 1] = _reverted(pair, c.zeroForOne, c.amountOut) == bytes32(0) ? 1 : 0;
                results[o + 2] = IERC20(tokenOut).balanceOf(address(this)) - before;
            } else if (c.mode == 0) {
                IUniswapV2PairSkim(c.pair).skim(address(this)); // dust that buys nothing: take the input back
            }
            (r0, r1, ) = pair.getReserves();
            (results[o + 3], results[o + 4]) = (r0, r1);
        }
    }

    /// @dev keccak256 of the revert data of `pair.swap(out)` to this contract, or zero if it succeeded.
    function _reverted(IUniswapV2Pair pair, bool zeroForOne, uint256 out) private returns (bytes32) {
        (uint256 out0, uint256 out1) = zeroForOne ? (uint256(0), out) : (out, uint256(0));
        try pair.swap(out0, out1, address(this), "") {
            return bytes32(0);
        } catch (bytes memory reason) {
            return keccak256(reason);
        }
    }
}
