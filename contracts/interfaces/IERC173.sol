// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice ERC-173 contract ownership (https://eips.ethereum.org/EIPS/eip-173).
interface IERC173 {
    /// @notice Ownership moved from `previousOwner` to `newOwner`.
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// @notice The address allowed to run arbs, cut facets and withdraw funds.
    /// @return owner_ The current owner.
    function owner() external view returns (address owner_);

    /// @notice Hand ownership to `_newOwner`; only the current owner may call.
    /// @param _newOwner The next owner.
    function transferOwnership(address _newOwner) external;
}
