// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Audit-only attacker contract that looks like a pool from outside: token0(), token1() and fee() answer
///         what it was told to mimic (a real pool's), and relay() calls a target as this contract.
/// @dev Models the forged callback that beats a callback trusting `msg.sender` to describe itself
///      (`IUniswapV3Pool(msg.sender).token0()`, `IUniswapV2Pair(msg.sender).token0()`): the victim believes it
///      owes this contract the pool's token and pays it. Holds whatever a victim pays it; never deployed outside
///      an audit's snapshot (flasharb.audit).
contract PoolLookalike {
    /// @notice The mimicked pool's token0.
    address public token0;
    /// @notice The mimicked pool's token1.
    address public token1;
    /// @notice The mimicked pool's fee, in pips.
    uint24 public fee;

    /// @notice Answer token0(), token1() and fee() like a given pool.
    /// @param token0_ Its token0.
    /// @param token1_ Its token1.
    /// @param fee_ Its fee.
    function mimic(address token0_, address token1_, uint24 fee_) external {
        token0 = token0_;
        token1 = token1_;
        fee = fee_;
    }

    /// @notice Call `target` with `data` as this contract; a revert comes back verbatim.
    /// @param target The contract called.
    /// @param data Calldata, selector included.
    /// @return ret The target's return data.
    function relay(address target, bytes calldata data) external returns (bytes memory ret) {
        bool ok;
        (ok, ret) = target.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret)) // the target's own error, verbatim
            }
        }
    }
}
