// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "../interfaces/IERC20.sol";

/// @notice A token transfer failed: it reverted, returned false, or the token has no code.
error TokenTransferFailed(address token, address to, uint256 amount);

/// @notice ERC-20 transfers that accept tokens returning nothing (USDT) and reject silent failures.
library LibSafeERC20 {
    /// @notice Transfer `amount` of `token` from this contract to `to`, or revert TokenTransferFailed.
    /// @dev Success as in tryTransfer, whose body this repeats: on the hot path of every arb, and calling into
    ///      tryTransfer measured 38 gas more per transfer (bench/gas.py, 2-hop: 189,344 against 189,268).
    /// @param token The token.
    /// @param to The recipient.
    /// @param amount The amount, in the token's smallest unit.
    function safeTransfer(IERC20 token, address to, uint256 amount) internal {
        bool ok;
        assembly ("memory-safe") {
            let p := mload(0x40) // scratch past the free pointer; not claimed, nothing outlives this block
            mstore(p, shl(224, 0xa9059cbb)) // transfer(address,uint256)
            mstore(add(p, 0x04), and(to, 0xffffffffffffffffffffffffffffffffffffffff)) // high bits are not guaranteed clean
            mstore(add(p, 0x24), amount)
            ok := call(gas(), token, 0, p, 0x44, 0x00, 0x20)
            if ok {
                switch returndatasize()
                case 0 { ok := gt(extcodesize(token), 0) } // USDT-style: no return value, but must be a contract
                default { ok := and(gt(returndatasize(), 0x1f), eq(mload(0x00), 1)) } // must be a full word `true`
            }
        }
        if (!ok) revert TokenTransferFailed(address(token), to, amount);
    }

    /// @notice Transfer `amount` of `token` from this contract to `to`; false if it failed (the call reverted or said no).
    /// @dev Success means: the call did not revert, and it either returned a word equal to 1 or returned
    ///      nothing from an address with code (a call to an EOA also "succeeds" with no data).
    /// @param token The token.
    /// @param to The recipient.
    /// @param amount The amount, in the token's smallest unit.
    /// @return ok Whether the transfer happened.
    function tryTransfer(IERC20 token, address to, uint256 amount) internal returns (bool ok) {
        assembly ("memory-safe") {
            let p := mload(0x40) // scratch past the free pointer; not claimed, nothing outlives this block
            mstore(p, shl(224, 0xa9059cbb)) // transfer(address,uint256)
            mstore(add(p, 0x04), and(to, 0xffffffffffffffffffffffffffffffffffffffff)) // high bits are not guaranteed clean
            mstore(add(p, 0x24), amount)
            ok := call(gas(), token, 0, p, 0x44, 0x00, 0x20)
            if ok {
                switch returndatasize()
                case 0 { ok := gt(extcodesize(token), 0) } // USDT-style: no return value, but must be a contract
                default { ok := and(gt(returndatasize(), 0x1f), eq(mload(0x00), 1)) } // must be a full word `true`
            }
        }
    }
}
