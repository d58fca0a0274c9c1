// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "../interfaces/IERC20.sol";
import {IWETH} from "../interfaces/IWETH.sol";
import {LibSafeERC20} from "./LibSafeERC20.sol";

/// @notice The Uniswap V4 PoolManager's flash accounting, as FlashArbFacet uses it: swap a hookless pool, pay a
///         currency in (sync, transfer, settle; native ETH unwrapped from WETH and settled with the call's value),
///         take one out (native ETH wrapped into WETH). Every call here runs inside the diamond's own `unlock`.
/// @dev A V4 pool has no address: it is an entry of the PoolManager named by its PoolKey (currency0, currency1, fee,
///      tickSpacing, hooks). The facet builds the key from the route's two tokens, the hop's fee and tick spacing and
///      hooks = address(0), always: a pool with hooks cannot be named by a route (a hook can change a swap's amounts,
///      fees and deltas), and a key naming a pool that was never initialized reverts in the PoolManager
///      (PoolNotInitialized). The PoolManager itself is a constant. The route speaks WETH: a hop flagged `native`
///      trades the pool whose WETH side is native ETH (currency address(0)), and this library unwraps and wraps
///      at the boundary, so the diamond never holds ETH across a hop.
///      ref: Uniswap v4-core 1.0.2 src/PoolManager.sol (`unlock`, `swap`, `sync`, `settle`, `take`),
///      src/types/BalanceDelta.sol (amount0 in the high 128 bits), src/libraries/TickMath.sol (price limits).
library LibUniswapV4 {
    address internal constant POOL_MANAGER = 0x000000000004444c5dc75cB358380D2e3dE08A90; // V4 PoolManager (mainnet)
    address internal constant WETH = 0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2; // WETH9 (mainnet, and the replica)
    uint160 internal constant MIN_SQRT_PRICE_PLUS_ONE = 4295128740; // TickMath.MIN_SQRT_PRICE + 1: no price limit
    uint160 internal constant MAX_SQRT_PRICE_MINUS_ONE = 1461446703485210103287273052203988822378723970341; // MAX - 1

    /// @notice The PoolManager's currency for `token` on a hop: address(0) (native ETH) when the hop is `native` and
    ///         `token` is WETH, else the token itself.
    /// @param token A route token.
    /// @param native The hop trades the pool whose WETH side is native ETH.
    /// @return The currency.
    function currency(address token, bool native) internal pure returns (address) {
        return native && token == WETH ? address(0) : token;
    }

    /// @notice Sell exactly `amountIn` of `currencyIn` for `currencyOut` in the hookless pool (fee, tickSpacing),
    ///         no price limit (the amount was sized off-chain); returns what the pool credits in `currencyOut`.
    /// @dev PoolManager.swap(key, (zeroForOne, -amountIn, limit), ""), encoded by hand. The deltas stay open: the
    ///      caller settles the input and takes the output (or nets them against the next hop or the loan). A swap
    ///      that stops at the price limit consumes less than `amountIn`: the input's delta is then left unsettled
    ///      and the unlock reverts (CurrencyNotSettled); the output is checked against the route by the caller.
    /// @param currencyIn Sold (address(0): native ETH).
    /// @param currencyOut Bought.
    /// @param fee The pool's static LP fee, in hundredths of a bip.
    /// @param tickSpacing The pool's tick spacing.
    /// @param amountIn Exact input (< 2^255).
    /// @return amountOut The output credited to this contract.
    function swap(address currencyIn, address currencyOut, uint24 fee, int24 tickSpacing, uint256 amountIn)
        internal
        returns (uint256 amountOut)
    {
        bool zeroForOne = currencyIn < currencyOut;
        (address c0, address c1) = zeroForOne ? (currencyIn, currencyOut) : (currencyOut, currencyIn);
        assembly ("memory-safe") {
            let p := mload(0x40) // scratch past the free pointer; not claimed, nothing outlives this block
            mstore(p, shl(224, 0xf3cd914c)) // swap((address,address,uint24,int24,address),(bool,int256,uint160),bytes)
            mstore(add(p, 0x04), c0) // key.currency0
            mstore(add(p, 0x24), c1) // key.currency1
            mstore(add(p, 0x44), and(fee, 0xffffff)) // key.fee
            mstore(add(p, 0x64), signextend(2, tickSpacing)) // key.tickSpacing: the ABI decoder refuses a dirty int24
            mstore(add(p, 0x84), 0) // key.hooks: none, ever
            mstore(add(p, 0xa4), zeroForOne)
            mstore(add(p, 0xc4), sub(0, amountIn)) // amountSpecified < 0: exact input
            switch zeroForOne
            case 0 { mstore(add(p, 0xe4), MAX_SQRT_PRICE_MINUS_ONE) }
            default { mstore(add(p, 0xe4), MIN_SQRT_PRICE_PLUS_ONE) }
            mstore(add(p, 0x104), 0x120) // offset of hookData
            mstore(add(p, 0x124), 0) // hookData: empty
            if iszero(call(gas(), POOL_MANAGER, 0, p, 0x144, 0x00, 0x20)) {
                returndatacopy(p, 0, returndatasize())
                revert(p, returndatasize())
            }
            let delta := mload(0x00) // BalanceDelta: amount0 (int128) << 128 | amount1 (int128), the caller's view
            switch zeroForOne
            case 0 { amountOut := sar(128, delta) } // amount0 > 0: credited
            default { amountOut := signextend(15, delta) } // amount1
        }
    }

    /// @notice Pay the PoolManager `amount` of `cur` out of this contract's balance: ERC-20s by sync, transfer,
    ///         settle; native ETH by unwrapping `amount` WETH and settling with it as the call's value.
    /// @dev sync must come right before the transfer: settle() credits the PoolManager's balance growth since then.
    ///      A native settle skips sync (which only resets the synced currency): a token that syncs another currency
    ///      in its transfer hook could only make this revert (NonzeroNativeValue), never pay less.
    /// @param cur The currency (address(0): native ETH, paid from WETH).
    /// @param amount The amount.
    function pay(address cur, uint256 amount) internal {
        if (cur == address(0)) {
            IWETH(WETH).withdraw(amount); // WETH9 sends the ETH to the diamond's receive()
            _call(POOL_MANAGER, amount, 0x11da60b4, 0, 0, 0, 0x04); // settle(), with the ETH as value
            return;
        }
        _call(POOL_MANAGER, 0, 0xa5841194, uint160(cur), 0, 0, 0x24); // sync(address)
        LibSafeERC20.safeTransfer(IERC20(cur), POOL_MANAGER, amount);
        _call(POOL_MANAGER, 0, 0x11da60b4, 0, 0, 0, 0x04); // settle()
    }

    /// @notice Take `amount` of `cur` out of the PoolManager to `to`; native ETH comes to this contract and is wrapped
    ///         into WETH here (`to` is then ignored: the caller pays the WETH on).
    /// @param cur The currency (address(0): native ETH, wrapped).
    /// @param to The recipient of an ERC-20: the next V2 pair, or this contract.
    /// @param amount The amount.
    function take(address cur, address to, uint256 amount) internal {
        if (cur == address(0)) {
            _call(POOL_MANAGER, 0, 0x0b0d9c09, 0, uint160(address(this)), amount, 0x64); // take(...) to here
            IWETH(WETH).deposit{value: amount}(); // the PoolManager paid the diamond's receive()
            return;
        }
        _call(POOL_MANAGER, 0, 0x0b0d9c09, uint160(cur), uint160(to), amount, 0x64); // take(address,address,uint256)
    }

    /// @dev Call `target` with `value` and `selector` | a | b | c (the first `size` bytes of it), bubbling up its revert
    ///      data unchanged. Encoded in scratch memory past the free pointer: nothing is allocated.
    function _call(address target, uint256 value, uint32 selector, uint256 a, uint256 b, uint256 c, uint256 size)
        private
    {
        assembly ("memory-safe") {
            let p := mload(0x40) // scratch past the free pointer; not claimed, nothing outlives this block
            mstore(p, shl(224, selector))
            mstore(add(p, 0x04), a)
            mstore(add(p, 0x24), b)
            mstore(add(p, 0x44), c)
            if iszero(call(gas(), target, value, p, size, 0, 0)) {
                returndatacopy(p, 0, returndatasize())
                revert(p, returndatasize())
            }
        }
    }
}
