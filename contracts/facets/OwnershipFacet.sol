// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC173} from "../interfaces/IERC173.sol";
import {LibDiamond} from "../libraries/LibDiamond.sol";

/// @notice ERC-173 ownership of the diamond: the owner runs arbs, cuts facets and withdraws funds.
contract OwnershipFacet is IERC173 {
    /// @notice transferOwnership was given the zero address.
    error ZeroAddress();

    /// @inheritdoc IERC173
    /// @dev Owner only (NotContractOwner). Unlike plain ERC-173, renouncing (the zero address) is refused with
    ///      ZeroAddress: only the owner can withdraw, so an ownerless diamond would lock its funds for good.
    function transferOwnership(address _newOwner) external override {
        LibDiamond.enforceIsContractOwner();
        if (_newOwner == address(0)) revert ZeroAddress();
        LibDiamond.setContractOwner(_newOwner);
    }

    /// @inheritdoc IERC173
    function owner() external view override returns (address owner_) {
        owner_ = LibDiamond.contractOwner();
    }
}
