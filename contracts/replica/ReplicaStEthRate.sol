// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Replica-only source of wstETH's exchange rate: `stEthPerToken()`, as Lido's wstETH answers it on mainnet.
/// @dev The replica's wstETH is a plain ReplicaERC20 (no stETH behind it), so the canonical WstETHRateProvider
///      (20210812-wsteth-rate-provider, at its mainnet address) is constructed with this contract in place of wstETH.
///      Lido's rate moves once a day with the oracle report; here the owner (the replica builder) moves it, so tests
///      can drive a ComposableStablePool's rate cache exactly as a report would. Never on mainnet.
contract ReplicaStEthRate {
    /// @notice The rate moved.
    event StEthPerTokenSet(uint256 stEthPerToken);

    /// @notice Only the owner may move the rate.
    error NotOwner(address caller, address owner);

    /// @notice Who may move the rate.
    address public immutable owner;
    /// @notice stETH per wstETH, 18 decimals (mainnet mid-2024: ~1.17e18).
    uint256 public stEthPerToken;

    /// @param owner_ Who may move the rate.
    /// @param initialRate stETH per wstETH, 18 decimals.
    constructor(address owner_, uint256 initialRate) {
        owner = owner_;
        stEthPerToken = initialRate;
        emit StEthPerTokenSet(initialRate);
    }

    /// @notice Move the rate (an oracle report, on the replica).
    /// @param rate stETH per wstETH, 18 decimals.
    function setStEthPerToken(uint256 rate) external {
        if (msg.sender != owner) revert NotOwner(msg.sender, owner);
        stEthPerToken = rate;
        emit StEthPerTokenSet(rate);
    }
}
