// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IBalancerVault} from "../interfaces/IBalancerVault.sol";
import {IERC20} from "../interfaces/IERC20.sol";
import {LibRoute} from "./LibRoute.sol";

/// @notice An approve failed: it reverted, returned false, or the token has no code.
error TokenApproveFailed(address token, address spender, uint256 amount);

/// @notice Swaps through the Balancer V2 Vault that leave no allowance behind: one pool, or a whole cycle as one batch.
library LibBalancer {
    IBalancerVault internal constant VAULT = IBalancerVault(0xBA12222222228d8Ba445958a75a0704d566BF2C8); // Balancer V2 Vault, same address on every chain

    /// @notice Sell exactly `amountIn` of `tokenIn` (held by this contract) in pool `poolId`; output to `recipient`.
    /// @dev The Vault pulls the input with transferFrom, so this approves it for exactly `amountIn` just before; the
    ///      swap consumes that allowance, and if a token did not (a non-standard transferFrom), it is reset to 0
    ///      before returning: no approval outlives the hop. The Vault checks `minOut` (BAL#507) and reverts with
    ///      BAL#400 inside a Balancer flash loan (its reentrancy guard), which is why callers never try.
    /// @param poolId The Vault's id of the pool.
    /// @param tokenIn Sold.
    /// @param tokenOut Bought.
    /// @param amountIn Exact input.
    /// @param minOut Least output accepted.
    /// @param recipient Receives the output: the next V2 pair, or this contract.
    /// @return amountOut What the pool paid.
    function swap(
        bytes32 poolId,
        address tokenIn,
        address tokenOut,
        uint256 amountIn,
        uint256 minOut,
        address recipient
    ) internal returns (uint256 amountOut) {
        _approve(tokenIn, amountIn);
        amountOut = VAULT.swap(
            IBalancerVault.SingleSwap(poolId, IBalancerVault.SwapKind.GIVEN_IN, tokenIn, tokenOut, amountIn, ""),
            IBalancerVault.FundManagement(address(this), false, payable(recipient), false),
            minOut,
            block.timestamp // the arb's own deadline (a block number) was checked on entry
        );
        if (IERC20(tokenIn).allowance(address(this), address(VAULT)) != 0) _approve(tokenIn, 0); // never left standing
    }

    /// @notice Run a cycle made only of Balancer hops as one Vault batchSwap, settled net.
    /// @dev GIVEN_IN steps chained by amount 0 ("the previous step's output"). Only net amounts move: intermediate
    ///      tokens net to zero (limit 0: the Vault may take none of them) and the route token nets to
    ///      amountIn - amountOut < 0, so the Vault pays the profit and pulls nothing: no loan, no approval. The
    ///      route token's limit, amountIn - minOut, makes the Vault revert (BAL#507) unless the cycle returns at
    ///      least the last hop's expected output. The route passed LibRoute.validate.
    /// @param path The packed path (LibRoute), every hop a Balancer hop.
    /// @param amounts The packed amounts.
    /// @param n Hop count.
    /// @return amountOut What the last step produced.
    function batchSwapCycle(bytes calldata path, bytes calldata amounts, uint256 n)
        internal
        returns (uint256 amountOut)
    {
        uint256 amountIn = LibRoute.amountAt(amounts, 0);
        (IBalancerVault.BatchSwapStep[] memory steps, address[] memory assets) = _cycleSteps(path, n, amountIn);
        int256[] memory limits = new int256[](n); // intermediate tokens: 0
        limits[0] = int256(amountIn) - int256(LibRoute.amountAt(amounts, n)); // both < 2^128: the Vault pays >= minOut - amountIn
        int256[] memory deltas = VAULT.batchSwap(
            IBalancerVault.SwapKind.GIVEN_IN,
            steps,
            assets,
            IBalancerVault.FundManagement(address(this), false, payable(address(this)), false),
            limits,
            block.timestamp
        );
        amountOut = uint256(int256(amountIn) - deltas[0]); // the delta is what the Vault received: amountIn - amountOut
    }

    /// @dev The batch steps and assets of an all-Balancer cycle: asset i is hop i's tokenIn, the last hop returns
    ///      to asset 0 (the route token).
    function _cycleSteps(bytes calldata path, uint256 n, uint256 amountIn)
        private
        pure
        returns (IBalancerVault.BatchSwapStep[] memory steps, address[] memory assets)
    {
        steps = new IBalancerVault.BatchSwapStep[](n);
        assets = new address[](n);
        assets[0] = LibRoute.addressAt(path, 0);
        uint256 offset = LibRoute.TOKEN_LENGTH;
        for (uint256 i; i < n; ++i) {
            uint256 next = i + 1 == n ? 0 : i + 1; // the last step returns to the route token
            if (next != 0) assets[next] = LibRoute.tokenOut(path, offset, LibRoute.KIND_BALANCER);
            steps[i] = IBalancerVault.BatchSwapStep(
                LibRoute.balancerPoolId(path, offset),
                i,
                next,
                i == 0 ? amountIn : 0, // 0: the previous step's output
                ""
            );
            offset += LibRoute.BALANCER_HOP_LENGTH;
        }
    }

    /// @dev approve(VAULT, amount) accepting USDT-style tokens that return nothing; reverts TokenApproveFailed.
    function _approve(address token, uint256 amount) private {
        bool ok;
        assembly ("memory-safe") {
            let p := mload(0x40) // scratch past the free pointer; not claimed
            mstore(p, shl(224, 0x095ea7b3)) // approve(address,uint256)
            mstore(add(p, 0x04), 0xBA12222222228d8Ba445958a75a0704d566BF2C8) // VAULT
            mstore(add(p, 0x24), amount)
            ok := call(gas(), token, 0, p, 0x44, 0x00, 0x20)
            if ok {
                switch returndatasize()
                case 0 { ok := gt(extcodesize(token), 0) } // USDT-style: no return value, but must be a contract
                default { ok := and(gt(returndatasize(), 0x1f), eq(mload(0x00), 1)) } // must be a full word `true`
            }
        }
        if (!ok) revert TokenApproveFailed(token, address(VAULT), amount);
    }
}

