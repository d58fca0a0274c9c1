// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The PoolManager functions the probe calls (Uniswap v4-core 1.0.2).
interface IV4ProbePoolManager {
    /// @notice v4-core's PoolKey.
    struct PoolKey {
        address currency0;
        address currency1;
        uint24 fee;
        int24 tickSpacing;
        address hooks;
    }

    /// @notice v4-core's SwapParams: amountSpecified < 0 is exact input, > 0 exact output.
    struct SwapParams {
        bool zeroForOne;
        int256 amountSpecified;
        uint160 sqrtPriceLimitX96;
    }

    /// @notice Open a flash-accounting session; calls back `unlockCallback`.
    function unlock(bytes calldata data) external returns (bytes memory);

    /// @notice Swap; the BalanceDelta (caller's side) packs amount0 (high 128 bits) and amount1 (low 128).
    function swap(PoolKey memory key, SwapParams memory params, bytes calldata hookData)
        external
        returns (int256 swapDelta);

    /// @notice Read a storage slot of the PoolManager.
    function extsload(bytes32 slot) external view returns (bytes32 value);
}

/// @notice Test probe: many Uniswap v4 swaps run through the real PoolManager in one eth_call, each outcome (deltas,
///         price, tick, liquidity after, or the revert data) returned.
/// @dev Never deployed: its runtime code is placed at an unused address with an eth_call state override. Each swap
///      runs in its own `unlock`, and the callback reverts with the outcome after the swap, so nothing is settled and
///      nothing moves. The callback therefore needs no authentication.
contract V4SwapProbe {
    /// @dev Uniswap v4 PoolManager, at its mainnet address (also the replica's).
    IV4ProbePoolManager internal constant POOL_MANAGER =
        IV4ProbePoolManager(0x000000000004444c5dc75cB358380D2e3dE08A90);
    /// @dev StateLibrary.POOLS_SLOT: the PoolManager's `_pools` mapping.
    uint256 internal constant POOLS_SLOT = 6;

    /// @notice One swap to run.
    struct Case {
        IV4ProbePoolManager.PoolKey key;
        bool zeroForOne;
        int256 amountSpecified; // < 0 exact input, > 0 exact output
        uint160 sqrtPriceLimitX96;
    }

    /// @notice What the PoolManager made of one Case.
    struct Outcome {
        bool swapped; // the swap returned (else revertData holds its revert)
        int256 amount0; // BalanceDelta, caller's side
        int256 amount1;
        uint160 sqrtPriceX96After; // slot0 and liquidity right after the swap
        int24 tickAfter;
        uint128 liquidityAfter;
        bytes revertData;
    }

    /// @notice Raised by the callback to carry the swap's result out of the reverted session.
    error SwapOutcome(int256 amount0, int256 amount1, uint160 sqrtPriceX96, int24 tick, uint128 liquidity);

    /// @notice Run every case, in order.
    /// @param cases The swaps.
    /// @return outcomes One per case.
    function run(Case[] calldata cases) external returns (Outcome[] memory outcomes) {
        outcomes = new Outcome[](cases.length);
        for (uint256 i; i < cases.length; ++i) {
            try POOL_MANAGER.unlock(abi.encode(cases[i])) {
                // unreachable: the callback always reverts
            } catch (bytes memory reason) {
                Outcome memory o = outcomes[i];
                if (reason.length == 164 && bytes4(reason) == SwapOutcome.selector) {
                    o.swapped = true;
                    (o.amount0, o.amount1, o.sqrtPriceX96After, o.tickAfter, o.liquidityAfter) =
                        abi.decode(_args(reason), (int256, int256, uint160, int24, uint128));
                } else {
                    o.revertData = reason;
                }
            }
        }
    }

    /// @notice Swaps, reads the pool's slot0 and liquidity, and reverts with all of it.
    /// @param data One abi-encoded Case.
    function unlockCallback(bytes calldata data) external returns (bytes memory) {
        Case memory c = abi.decode(data, (Case));
        int256 delta = POOL_MANAGER.swap(
            c.key,
            IV4ProbePoolManager.SwapParams({
                zeroForOne: c.zeroForOne,
                amountSpecified: c.amountSpecified,
                sqrtPriceLimitX96: c.sqrtPriceLimitX96
            }),
            ""
        );
        bytes32 poolId = keccak256(abi.encode(c.key));
        bytes32 stateSlot = keccak256(abi.encodePacked(poolId, bytes32(POOLS_SLOT)));
        uint256 slot0 = uint256(POOL_MANAGER.extsload(stateSlot));
        uint256 liquidity = uint256(POOL_MANAGER.extsload(bytes32(uint256(stateSlot) + 3)));
        revert SwapOutcome(
            int256(int128(delta >> 128)),
            int256(int128(delta)),
            uint160(slot0),
            int24(uint24(slot0 >> 160)), // tick: int24 right above the price
            uint128(liquidity)
        );
    }

    /// @dev `data` without its 4-byte selector.
    function _args(bytes memory data) private pure returns (bytes memory args) {
        args = new bytes(data.length - 4);
        for (uint256 i; i < args.length; ++i) {
            args[i] = data[i + 4];
        }
    }
}
