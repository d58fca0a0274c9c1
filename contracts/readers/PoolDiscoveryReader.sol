// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Batch reads for pool discovery: Uniswap-V2-style factory enumeration, token decimals, the shape of
///         Balancer V2 pools, and what lenders hold, each in one eth_call.
/// @dev Never deployed: its runtime code is placed at an unused address with an eth_call state override, so it
///      has no constructor, no immutables and no storage. Views only. Calls to tokens and pools are low-level
///      STATICCALLs with a gas allowance and a return-size check, so one odd token or pool cannot fail a batch;
///      factories and the Vault are trusted to answer.
contract PoolDiscoveryReader {
    /// @dev Balancer V2 Vault, at its mainnet address (the replica deploys it there too).
    address private constant BALANCER_VAULT = 0xBA12222222228d8Ba445958a75a0704d566BF2C8;
    /// @dev Gas each token or pool call may use.
    uint256 private constant CALL_GAS = 100_000;
    /// @dev Returned where a token or pool did not answer a uint256.
    uint256 private constant FAILED = type(uint256).max;

    /// @notice Pairs `start` to `end` (exclusive) of a Uniswap-V2-style factory, clipped to allPairsLength.
    /// @param factory A factory with allPairs and allPairsLength (Uniswap V2, SushiSwap).
    /// @param start First index, inclusive.
    /// @param end Last index, exclusive; clipped to allPairsLength.
    /// @return total The factory's allPairsLength.
    /// @return pairs The pair at each index in [start, min(end, total)).
    /// @return token0s Each pair's token0.
    /// @return token1s Each pair's token1.
    function v2Pairs(address factory, uint256 start, uint256 end)
        external
        view
        returns (uint256 total, address[] memory pairs, address[] memory token0s, address[] memory token1s)
    {
        total = IReaderV2Factory(factory).allPairsLength();
        if (end > total) end = total;
        uint256 n = start < end ? end - start : 0;
        pairs = new address[](n);
        token0s = new address[](n);
        token1s = new address[](n);
        for (uint256 k; k < n; ++k) {
            address pair = IReaderV2Factory(factory).allPairs(start + k);
            pairs[k] = pair;
            token0s[k] = address(uint160(_uint(pair, IReaderV2Pair.token0.selector))); // FAILED -> 0xff..ff
            token1s[k] = address(uint160(_uint(pair, IReaderV2Pair.token1.selector)));
        }
    }

    /// @notice decimals() of each token.
    /// @param tokens ERC-20 tokens.
    /// @return decimals Each token's decimals, or type(uint256).max where the call failed.
    function decimalsOf(address[] calldata tokens) external view returns (uint256[] memory decimals) {
        decimals = new uint256[](tokens.length);
        for (uint256 k; k < tokens.length; ++k) {
            decimals[k] = _uint(tokens[k], IReaderERC20Decimals.decimals.selector);
        }
    }

    /// @notice The tokens of Balancer pools as the Vault registers them, and whether each pool answers the
    ///         weighted-pool views.
    /// @param poolIds Vault pool ids.
    /// @param pools The pool contract of each id (from the Vault's PoolRegistered event).
    /// @return tokens Each pool's tokens, in the Vault's order; empty if getPoolTokens reverted.
    /// @return weightCounts Length of getNormalizedWeights(), or type(uint256).max where it failed.
    /// @return swapFees getSwapFeePercentage() (18 decimals), or type(uint256).max where it failed.
    function balancerPools(bytes32[] calldata poolIds, address[] calldata pools)
        external
        view
        returns (address[][] memory tokens, uint256[] memory weightCounts, uint256[] memory swapFees)
    {
        uint256 n = poolIds.length;
        tokens = new address[][](n);
        weightCounts = new uint256[](n);
        swapFees = new uint256[](n);
        for (uint256 k; k < n; ++k) {
            try IReaderBalancerVault(BALANCER_VAULT).getPoolTokens(poolIds[k]) returns (
                address[] memory poolTokens, uint256[] memory, uint256
            ) {
                tokens[k] = poolTokens;
            } catch {} // unknown id: no tokens, and the caller skips it
            weightCounts[k] = _arrayLength(pools[k], IReaderWeightedPool.getNormalizedWeights.selector);
            swapFees[k] = _uint(pools[k], IReaderWeightedPool.getSwapFeePercentage.selector);
        }
    }

    /// @notice Which factory created each pool: Balancer pool factories answer isPoolFromFactory(pool), so a
    ///         pool's factory says which version of the pool's math it runs.
    /// @param pools Pool contracts.
    /// @param factories Candidate factories, in order of preference.
    /// @return which The index in `factories` of the first that created each pool, or type(uint256).max if none.
    function factoryOf(address[] calldata pools, address[] calldata factories)
        external
        view
        returns (uint256[] memory which)
    {
        which = new uint256[](pools.length);
        for (uint256 k; k < pools.length; ++k) {
            which[k] = FAILED;
            for (uint256 f; f < factories.length; ++f) {
                (bool ok, bytes memory ret) = factories[f].staticcall{gas: CALL_GAS}(
                    abi.encodeWithSelector(IReaderPoolFactory.isPoolFromFactory.selector, pools[k])
                );
                if (ok && ret.length >= 32 && abi.decode(ret, (uint256)) == 1) {
                    which[k] = f;
                    break;
                }
            }
        }
    }

    /// @notice What flash lenders can lend: the Balancer Vault's flash-loan fee, and balanceOf(holder) of each
    ///         (token, holder) pair (the Vault's, the V4 PoolManager's and V3 pools' balances); token address(0)
    ///         reads the holder's ETH (the PoolManager lends native ETH).
    /// @param tokens ERC-20 tokens, or address(0) for ETH.
    /// @param holders The holder of each token (same length).
    /// @return flashFee The Vault's flash-loan fee percentage (18 decimals), or type(uint256).max if unreadable.
    /// @return balances tokens[k].balanceOf(holders[k]), or type(uint256).max where the call failed.
    function lenderBalances(address[] calldata tokens, address[] calldata holders)
        external
        view
        returns (uint256 flashFee, uint256[] memory balances)
    {
        address collector = address(uint160(_uint(BALANCER_VAULT, IReaderBalancerVault.getProtocolFeesCollector.selector)));
        flashFee = _uint(collector, IReaderFeesCollector.getFlashLoanFeePercentage.selector); // FAILED if no code
        balances = new uint256[](tokens.length);
        for (uint256 k; k < tokens.length; ++k) {
            if (tokens[k] == address(0)) {
                balances[k] = holders[k].balance;
                continue;
            }
            (bool ok, bytes memory ret) =
                tokens[k].staticcall{gas: CALL_GAS}(abi.encodeWithSelector(IReaderERC20Balance.balanceOf.selector, holders[k]));
            if (!ok || ret.length < 32) {
                balances[k] = FAILED;
                continue;
            }
            uint256 value;
            assembly ("memory-safe") {
                value := mload(add(ret, 0x20))
            }
            balances[k] = value;
        }
    }

    /// @dev First return word of `target.selector()`, or FAILED.
    function _uint(address target, bytes4 selector) private view returns (uint256 value) {
        (bool ok, bytes memory ret) = target.staticcall{gas: CALL_GAS}(abi.encodeWithSelector(selector));
        if (!ok || ret.length < 32) return FAILED;
        assembly ("memory-safe") {
            value := mload(add(ret, 0x20))
        }
    }

    /// @dev Length of the dynamic array `target.selector()` returns, or FAILED.
    function _arrayLength(address target, bytes4 selector) private view returns (uint256 length) {
        (bool ok, bytes memory ret) = target.staticcall{gas: CALL_GAS}(abi.encodeWithSelector(selector));
        if (!ok || ret.length < 64) return FAILED;
        uint256 offset;
        assembly ("memory-safe") {
            offset := mload(add(ret, 0x20))
        }
        if (offset > ret.length - 32) return FAILED;
        assembly ("memory-safe") {
            length := mload(add(add(ret, 0x20), offset))
        }
        if (length > (ret.length - offset - 32) / 32) return FAILED; // not that many words follow
    }
}

/// @notice The enumeration views of a Uniswap-V2-style factory (v2-core UniswapV2Factory).
interface IReaderV2Factory {
    /// @notice Number of pairs the factory has created.
    /// @return The length of allPairs.
    function allPairsLength() external view returns (uint256);

    /// @notice The pair created `index`-th (0-based).
    /// @param index Position in creation order.
    /// @return The pair address.
    function allPairs(uint256 index) external view returns (address);
}

/// @notice The token views of a Uniswap-V2-style pair (v2-core UniswapV2Pair).
interface IReaderV2Pair {
    /// @notice The pair's lower-sorted token.
    /// @return The token address.
    function token0() external view returns (address);

    /// @notice The pair's higher-sorted token.
    /// @return The token address.
    function token1() external view returns (address);
}

/// @notice ERC-20 decimals (optional in the standard: called low-level).
interface IReaderERC20Decimals {
    /// @notice Decimals of the token's display unit.
    /// @return The number of decimals.
    function decimals() external view returns (uint8);
}

/// @notice ERC-20 balanceOf.
interface IReaderERC20Balance {
    /// @notice Balance of `holder`.
    /// @param holder The account.
    /// @return The balance.
    function balanceOf(address holder) external view returns (uint256);
}

/// @notice Balancer V2 ProtocolFeesCollector: the flash-loan fee.
interface IReaderFeesCollector {
    /// @notice The fee charged on flash loans, 18 decimals (1e18 = 100%).
    /// @return The percentage.
    function getFlashLoanFeePercentage() external view returns (uint256);
}

/// @notice Balancer V2 Vault.getPoolTokens and the fees collector.
interface IReaderBalancerVault {
    /// @notice The contract that holds protocol fees and sets the flash-loan fee.
    /// @return The ProtocolFeesCollector.
    function getProtocolFeesCollector() external view returns (address);

    /// @notice A pool's registered tokens and their total balances.
    /// @param poolId The Vault's id for the pool.
    /// @return tokens The tokens, in the Vault's order.
    /// @return balances Cash plus managed balance of each token.
    /// @return lastChangeBlock The last block in which a balance changed.
    function getPoolTokens(bytes32 poolId)
        external
        view
        returns (address[] memory tokens, uint256[] memory balances, uint256 lastChangeBlock);
}

/// @notice The views that identify a Balancer V2 weighted pool (pkg/pool-weighted, 20210418).
interface IReaderWeightedPool {
    /// @notice Normalized weights, 18 decimals, in the Vault's token order.
    /// @return The weights.
    function getNormalizedWeights() external view returns (uint256[] memory);

    /// @notice Swap fee, 18 decimals (1e18 = 100%).
    /// @return The fee.
    function getSwapFeePercentage() external view returns (uint256);
}

/// @notice Balancer pool factories (BasePoolFactory): whether they created a pool.
interface IReaderPoolFactory {
    function isPoolFromFactory(address pool) external view returns (bool);
}
