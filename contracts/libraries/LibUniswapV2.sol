// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IUniswapV2Pair} from "../interfaces/IUniswapV2Pair.sol";

/// @notice Uniswap-V2-style constant-product swaps with the fee in hundredths of a bip.
library LibUniswapV2 {
    uint256 internal constant FEE_DENOMINATOR = 1e6; // hundredths of a bip

    /// @notice Output of a V2 swap of `amountIn`, exactly as the pair's k check allows.
    /// @dev out = in*(1e6-fee)*rOut / (rIn*1e6 + in*(1e6-fee)). For fee 3000 this equals v2-periphery's
    ///      getAmountOut (997/1000) bit for bit: numerator and denominator are both scaled by 1000.
    ///      Preconditions (LibRoute.validate): amountIn, reserveIn, reserveOut < 2^112 and feePips < 1e6.
    /// @param amountIn Tokens sent into the pair.
    /// @param reserveIn Pair reserve of the input token.
    /// @param reserveOut Pair reserve of the output token.
    /// @param feePips Pool fee in hundredths of a bip (3000 = 0.30%).
    /// @return amountOut Tokens the pair will release, rounded down.
    function getAmountOut(uint256 amountIn, uint256 reserveIn, uint256 reserveOut, uint256 feePips)
        internal
        pure
        returns (uint256 amountOut)
    {
        unchecked {
            // cannot overflow: amountIn < 2^112 and 1e6 - feePips <= 1e6 < 2^20, so amountInWithFee < 2^132
            uint256 amountInWithFee = amountIn * (FEE_DENOMINATOR - feePips);
            // cannot overflow: 2^132 * reserveOut(< 2^112) < 2^244; rIn*1e6 + amountInWithFee < 2^133
            amountOut = (amountInWithFee * reserveOut) / (reserveIn * FEE_DENOMINATOR + amountInWithFee);
        }
    }

    /// @notice Swap `amountIn` (already sent to `pair`) for the other token, delivered to `to`.
    /// @dev Direction comes from V2's token ordering (token0 < token1), so no token0() call is needed.
    /// @param pair The V2 pair.
    /// @param zeroForOne True when selling token0 (tokenIn < tokenOut).
    /// @param feePips Pool fee in hundredths of a bip.
    /// @param amountIn Input already transferred to the pair.
    /// @param to Recipient of the output: the next pair, or this contract.
    /// @return amountOut Output sent to `to`.
    function swap(address pair, bool zeroForOne, uint256 feePips, uint256 amountIn, address to)
        internal
        returns (uint256 amountOut)
    {
        (uint112 reserve0, uint112 reserve1, ) = IUniswapV2Pair(pair).getReserves();
        (uint256 reserveIn, uint256 reserveOut) = zeroForOne ? (reserve0, reserve1) : (reserve1, reserve0);
        amountOut = getAmountOut(amountIn, reserveIn, reserveOut, feePips);
        (uint256 amount0Out, uint256 amount1Out) = zeroForOne ? (uint256(0), amountOut) : (amountOut, uint256(0));
        IUniswapV2Pair(pair).swap(amount0Out, amount1Out, to, ""); // empty data: plain swap, no callback
    }
}
