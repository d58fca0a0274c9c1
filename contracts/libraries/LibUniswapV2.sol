// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Uniswap-V2-style pairs by construction (the factory's CREATE2 address of a token pair), a swap for an exact,
///         precomputed output, and the flash-swap repayment.
library LibUniswapV2 {
    uint256 internal constant FEE_DENOMINATOR = 1e6; // hundredths of a bip

    /// @notice The pair `factory` deploys for `tokenA`/`tokenB` (v2-periphery UniswapV2Library.pairFor).
    /// @dev CREATE2 address: keccak256(0xff | factory | keccak256(token0 | token1) | pairCodeHash), token0 < token1.
    ///      A pair named this way is the factory's own deployment, with the code the hash commits to, or an address
    ///      with no code (no such pair yet): never a look-alike. ~150 gas, against 20 bytes of calldata (~300 gas).
    /// @param factory The Uniswap-V2-style factory.
    /// @param pairCodeHash keccak256 of the factory's pair creation code.
    /// @param tokenA One token.
    /// @param tokenB The other.
    /// @return pair The pair address (with or without code).
    function pairFor(address factory, bytes32 pairCodeHash, address tokenA, address tokenB)
        internal
        pure
        returns (address pair)
    {
        (address token0, address token1) = tokenA < tokenB ? (tokenA, tokenB) : (tokenB, tokenA);
        assembly ("memory-safe") {
            let p := mload(0x40) // scratch past the free pointer; not claimed
            let mask := 0xffffffffffffffffffffffffffffffffffffffff // high bits are not guaranteed clean
            mstore(add(p, 0x14), and(token1, mask)) // token0 | token1, packed: 40 bytes at p + 0x0c
            mstore(p, and(token0, mask))
            let salt := keccak256(add(p, 0x0c), 0x28) // keccak256(abi.encodePacked(token0, token1))
            mstore(add(p, 0x35), pairCodeHash) // 0xff | factory | salt | pair code hash: 85 bytes
            mstore(add(p, 0x01), shl(96, factory))
            mstore(add(p, 0x15), salt)
            mstore8(p, 0xff)
            pair := and(keccak256(p, 0x55), 0xffffffffffffffffffffffffffffffffffffffff)
        }
    }

    /// @notice Output of a V2 swap of `amountIn`, exactly as the pair's k check allows (off-chain parity reference).
    /// @dev out = in*(1e6-fee)*rOut / (rIn*1e6 + in*(1e6-fee)). For fee 3000 this equals v2-periphery's
    ///      getAmountOut (997/1000) bit for bit: numerator and denominator are both scaled by 1000.
    ///      Preconditions: amountIn, reserveIn, reserveOut < 2^112 and feePips < 1e6.
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

    /// @notice Ask `pair` for exactly `amountOut` of the token it does not receive, delivered to `to`.
    /// @dev The input must already sit in the pair. No getReserves: the amount was computed off-chain from the same
    ///      reserves, and the pair's own k check reverts ("UniswapV2: K") if it is one wei too high. Direction comes
    ///      from V2's token order (token0 < token1). The pair's revert data is bubbled up unchanged.
    /// @param pair The V2 pair.
    /// @param zeroForOne True when selling token0 (tokenIn < tokenOut): the output is token1.
    /// @param amountOut The output to ask for.
    /// @param to Recipient of the output: the next pair, or this contract.
    function swap(address pair, bool zeroForOne, uint256 amountOut, address to) internal {
        assembly ("memory-safe") {
            let p := mload(0x40) // scratch past the free pointer; not claimed, nothing outlives this block
            mstore(p, shl(224, 0x022c0d9f)) // swap(uint256,uint256,address,bytes)
            mstore(add(p, 0x04), mul(amountOut, iszero(zeroForOne))) // amount0Out
            mstore(add(p, 0x24), mul(amountOut, zeroForOne)) // amount1Out
            mstore(add(p, 0x44), and(to, 0xffffffffffffffffffffffffffffffffffffffff)) // high bits are not guaranteed clean
            mstore(add(p, 0x64), 0x80) // offset of `data`
            mstore(add(p, 0x84), 0) // data.length = 0: a plain swap, no callback
            if iszero(call(gas(), pair, 0, p, 0xa4, 0, 0)) {
                returndatacopy(p, 0, returndatasize())
                revert(p, returndatasize())
            }
        }
    }

    /// @notice What a pair must get back for lending `amount` of one of its tokens in a flash swap.
    /// @dev The pair's k check with only one side moved reduces to repay*(1e6 - fee) >= amount*1e6
    ///      (UniswapV2Pair.swap: balanceAdjusted = balance*1000 - amountIn*3, scaled by 1000), so the least
    ///      repayment is ceil(amount*1e6 / (1e6 - fee)). Preconditions: amount < 2^128, feePips < 1e6.
    /// @param amount Borrowed.
    /// @param feePips The pair's fee in hundredths of a bip (3000 for Uniswap V2 and SushiSwap).
    /// @return repay The amount to send back.
    function flashRepayment(uint256 amount, uint256 feePips) internal pure returns (uint256 repay) {
        unchecked {
            uint256 kept = FEE_DENOMINATOR - feePips; // cannot underflow: feePips < 1e6 (checked by the caller)
            repay = (amount * FEE_DENOMINATOR + kept - 1) / kept; // cannot overflow: amount < 2^128
        }
    }
}
