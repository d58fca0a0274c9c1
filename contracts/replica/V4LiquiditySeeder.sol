// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The PoolManager functions the seeder calls (Uniswap v4-core 1.0.2, IPoolManager).
interface ISeederPoolManager {
    /// @notice v4-core's PoolKey: currency0 < currency1 (address(0) is native ETH).
    struct PoolKey {
        address currency0;
        address currency1;
        uint24 fee; // pips
        int24 tickSpacing;
        address hooks; // address(0): no hooks
    }

    /// @notice v4-core's ModifyLiquidityParams.
    struct ModifyLiquidityParams {
        int24 tickLower;
        int24 tickUpper;
        int256 liquidityDelta;
        bytes32 salt;
    }

    /// @notice Create the pool at a price.
    function initialize(PoolKey memory key, uint160 sqrtPriceX96) external returns (int24 tick);

    /// @notice Open a flash-accounting session; calls back `unlockCallback`.
    function unlock(bytes calldata data) external returns (bytes memory);

    /// @notice Add or remove liquidity; the returned BalanceDelta packs amount0 (high 128) and amount1 (low 128).
    function modifyLiquidity(PoolKey memory key, ModifyLiquidityParams memory params, bytes calldata hookData)
        external
        returns (int256 callerDelta, int256 feesAccrued);

    /// @notice Checkpoint the PoolManager's balance of `currency` before a transfer-then-settle.
    function sync(address currency) external;

    /// @notice Credit what was transferred (or sent as value) since the last sync.
    function settle() external payable returns (uint256 paid);
}

/// @notice Replica-only: creates Uniswap v4 pools and adds their liquidity in one call, as a liquidity provider's
///         router does on mainnet (there: v4-periphery's PositionManager).
/// @dev The positions belong to this contract (salt 0). The payer is whoever called `seed`: it must have approved
///      this contract for both ERC-20s; for a native-ETH pool it sends ETH with the call and gets the rest back. The
///      callback authenticates the PoolManager, and `seed` is the only way in, so no one can make it pay for a
///      session it did not open. Never on mainnet.
contract V4LiquiditySeeder {
    /// @dev Uniswap v4 PoolManager, at its mainnet address (also the replica's).
    ISeederPoolManager internal constant POOL_MANAGER = ISeederPoolManager(0x000000000004444c5dc75cB358380D2e3dE08A90);

    /// @notice One position to add.
    struct Position {
        int24 tickLower;
        int24 tickUpper;
        uint128 liquidity;
    }

    /// @notice The callback came from somewhere else than the PoolManager.
    error NotPoolManager(address caller);
    /// @notice A token transfer to the PoolManager failed.
    error PaymentFailed(address currency, uint256 amount);
    /// @notice The ETH refund to the payer failed.
    error RefundFailed(address payer, uint256 amount);

    /// @notice Initialize the pool at `sqrtPriceX96` and add `positions`; refunds unspent ETH.
    /// @param key The pool.
    /// @param sqrtPriceX96 Its initial price, Q64.96.
    /// @param positions Liquidity to add.
    function seed(ISeederPoolManager.PoolKey calldata key, uint160 sqrtPriceX96, Position[] calldata positions)
        external
        payable
    {
        POOL_MANAGER.initialize(key, sqrtPriceX96);
        POOL_MANAGER.unlock(abi.encode(key, positions, msg.sender));
        uint256 left = address(this).balance;
        if (left > 0) {
            (bool ok,) = msg.sender.call{value: left}("");
            if (!ok) revert RefundFailed(msg.sender, left);
        }
    }

    /// @notice Adds the positions and pays what they cost.
    /// @param data (PoolKey, Position[], payer), from `seed`.
    function unlockCallback(bytes calldata data) external returns (bytes memory) {
        if (msg.sender != address(POOL_MANAGER)) revert NotPoolManager(msg.sender);
        (ISeederPoolManager.PoolKey memory key, Position[] memory positions, address payer) =
            abi.decode(data, (ISeederPoolManager.PoolKey, Position[], address));
        int256 owed0;
        int256 owed1;
        for (uint256 i; i < positions.length; ++i) {
            ISeederPoolManager.ModifyLiquidityParams memory p = ISeederPoolManager.ModifyLiquidityParams({
                tickLower: positions[i].tickLower,
                tickUpper: positions[i].tickUpper,
                liquidityDelta: int256(uint256(positions[i].liquidity)),
                salt: bytes32(0)
            });
            (int256 delta,) = POOL_MANAGER.modifyLiquidity(key, p, "");
            owed0 += int256(int128(delta >> 128)); // BalanceDelta: amount0 in the high 128 bits
            owed1 += int256(int128(delta)); // amount1 in the low 128 bits
        }
        _pay(key.currency0, payer, uint256(-owed0)); // adding liquidity only ever owes (deltas <= 0)
        _pay(key.currency1, payer, uint256(-owed1));
        return "";
    }

    function _pay(address currency, address payer, uint256 amount) private {
        if (amount == 0) return;
        if (currency == address(0)) {
            POOL_MANAGER.settle{value: amount}();
            return;
        }
        POOL_MANAGER.sync(currency);
        // transferFrom(payer, PoolManager, amount); USDT returns nothing, so accept an empty return
        (bool ok, bytes memory ret) =
            currency.call(abi.encodeWithSelector(0x23b872dd, payer, address(POOL_MANAGER), amount));
        if (!ok || (ret.length > 0 && !abi.decode(ret, (bool)))) revert PaymentFailed(currency, amount);
        POOL_MANAGER.settle();
    }

    /// @notice Takes ETH refunds from the PoolManager (none expected) and the payer's ETH.
    receive() external payable {}
}
