// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Uniswap V3 pools by construction: the canonical pool address of a token pair and fee, and an exact-input
///         swap call.
library LibUniswapV3 {
    address internal constant FACTORY = 0x1F98431c8aD98523631AE4a59f267346ea31F984; // Uniswap V3 factory (mainnet)
    bytes32 internal constant POOL_INIT_CODE_HASH = 0xe34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54; // keccak256 of v3-core UniswapV3Pool creation code
    uint160 internal constant MIN_SQRT_RATIO_PLUS_ONE = 4295128740; // TickMath.MIN_SQRT_RATIO + 1: no price limit
    uint160 internal constant MAX_SQRT_RATIO_MINUS_ONE = 1461446703485210103287273052203988822378723970341; // TickMath.MAX_SQRT_RATIO - 1

    /// @notice The canonical pool of `tokenA`/`tokenB` at `fee` (v3-periphery PoolAddress.computeAddress).
    /// @dev A pool named this way is the factory's own deployment, never a look-alike: this is what lets the swap
    ///      callback trust the pool it pays and the tokens it names.
    /// @param tokenA One token.
    /// @param tokenB The other.
    /// @param fee Fee tier in hundredths of a bip.
    /// @return pool The pool address (with or without code).
    function poolAddress(address tokenA, address tokenB, uint24 fee) internal pure returns (address pool) {
        (address token0, address token1) = tokenA < tokenB ? (tokenA, tokenB) : (tokenB, tokenA);
        assembly ("memory-safe") {
            let p := mload(0x40) // scratch past the free pointer; not claimed
            let mask := 0xffffffffffffffffffffffffffffffffffffffff // high bits are not guaranteed clean
            mstore(p, and(token0, mask))
            mstore(add(p, 0x20), and(token1, mask))
            mstore(add(p, 0x40), and(fee, 0xffffff))
            let salt := keccak256(p, 0x60) // keccak256(abi.encode(token0, token1, fee))
            mstore(add(p, 0x35), POOL_INIT_CODE_HASH) // 0xff | factory | salt | init code hash: 85 bytes
            mstore(add(p, 0x01), shl(96, FACTORY))
            mstore(add(p, 0x15), salt)
            mstore8(p, 0xff)
            pool := and(keccak256(p, 0x55), 0xffffffffffffffffffffffffffffffffffffffff)
        }
    }

    /// @notice Sell exactly `amountIn` into `pool`, output to `recipient`; the pool calls uniswapV3SwapCallback
    ///         on this contract for the input. No price limit: the amount was sized off-chain.
    /// @param pool The pool.
    /// @param zeroForOne True when selling token0.
    /// @param amountIn Exact input (< 2^255).
    /// @param recipient Receives the output.
    /// @return amountOut Output the pool sent.
    function swap(address pool, bool zeroForOne, uint256 amountIn, address recipient)
        internal
        returns (uint256 amountOut)
    {
        assembly ("memory-safe") {
            let p := mload(0x40) // scratch past the free pointer; not claimed
            mstore(p, shl(224, 0x128acb08)) // swap(address,bool,int256,uint160,bytes)
            mstore(add(p, 0x04), and(recipient, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(p, 0x24), zeroForOne)
            mstore(add(p, 0x44), amountIn) // positive: exact input
            switch zeroForOne
            case 0 { mstore(add(p, 0x64), MAX_SQRT_RATIO_MINUS_ONE) }
            default { mstore(add(p, 0x64), MIN_SQRT_RATIO_PLUS_ONE) }
            mstore(add(p, 0x84), 0xa0) // offset of `data`
            mstore(add(p, 0xa4), 0) // empty: the callback reads what it needs from transient storage
            if iszero(call(gas(), pool, 0, p, 0xc4, p, 0x40)) {
                returndatacopy(p, 0, returndatasize())
                revert(p, returndatasize())
            }
            if lt(returndatasize(), 0x40) { revert(0, 0) } // not a V3 pool; unreachable for a CREATE2-derived one
            amountOut := sub(0, mload(add(p, mul(0x20, zeroForOne)))) // the pool's delta of the output token is negative
        }
    }
}
