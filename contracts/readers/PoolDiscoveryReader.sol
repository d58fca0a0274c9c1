// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Batch reads for pool discovery: token decimals, what lenders hold, and any views a venue asks of many
///         contracts, each in one eth_call. Venue-specific discovery reads live in each venue's reader
///         (contracts/readers/venues/).
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

    /// @notice decimals() of each token.
    /// @param tokens ERC-20 tokens.
    /// @return decimals Each token's decimals, or type(uint256).max where the call failed.
    function decimalsOf(address[] calldata tokens) external view returns (uint256[] memory decimals) {
        decimals = new uint256[](tokens.length);
        for (uint256 k; k < tokens.length; ++k) {
            decimals[k] = _uint(tokens[k], IReaderERC20Decimals.decimals.selector);
        }
    }

    /// @notice Each of `targets[k]` STATICCALLed with `data[k]`: what a venue asks of many contracts at discovery
    ///         (a factory's isPoolFromFactory, a pool's views), in one eth_call.
    /// @param targets The contracts to call.
    /// @param data The calldata of each call (same length).
    /// @return results Each call's return data, or empty where it reverted or had no code.
    function calls(address[] calldata targets, bytes[] calldata data) external view returns (bytes[] memory results) {
        uint256 n = targets.length;
        results = new bytes[](n);
        for (uint256 k; k < n; ++k) {
            (bool ok, bytes memory ret) = targets[k].staticcall{gas: CALL_GAS}(data[k]);
            if (ok) results[k] = ret; // a failed call leaves its result empty
        }
    }

    /// @notice The ETH balance of `holder`: a view `calls` can ask of this reader itself (a lender of native ETH,
    ///         the V4 PoolManager, lends what it holds of it).
    /// @param holder The account.
    /// @return The balance, in wei.
    function ethBalanceOf(address holder) external view returns (uint256) {
        return holder.balance;
    }

    /// @notice What flash lenders can lend: the Balancer Vault's flash-loan fee, and balanceOf(holder) of each
    ///         (token, holder) pair (the Vault's and V3 pools' balances).
    /// @param tokens ERC-20 tokens.
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

/// @notice Balancer V2 Vault: its fees collector.
interface IReaderBalancerVault {
    /// @notice The contract that holds protocol fees and sets the flash-loan fee.
    /// @return The ProtocolFeesCollector.
    function getProtocolFeesCollector() external view returns (address);
}

