// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Audit-only diamondCut initializers that fail: one with a custom error, one with no data at all.
/// @dev LibDiamond.initializeDiamondCut must bubble the first verbatim and wrap the second in
///      InitializationFunctionReverted; either way the whole cut is undone.
contract RevertingInit {
    /// @notice The initializer refused, with `code`.
    error InitRefused(uint256 code);

    /// @notice Revert with InitRefused(7).
    function initWithError() external pure {
        revert InitRefused(7);
    }

    /// @notice Revert with empty revert data.
    function initSilently() external pure {
        assembly ("memory-safe") {
            revert(0, 0)
        }
    }
}
