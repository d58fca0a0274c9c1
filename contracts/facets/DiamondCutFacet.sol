// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDiamondCut} from "../interfaces/IDiamondCut.sol";
import {LibDiamond} from "../libraries/LibDiamond.sol";

/// @notice EIP-2535 diamondCut for the owner: add, replace and remove facet functions.
contract DiamondCutFacet is IDiamondCut {
    /// @inheritdoc IDiamondCut
    /// @dev Owner only (NotContractOwner).
    function diamondCut(FacetCut[] calldata _diamondCut, address _init, bytes calldata _calldata) external override {
        LibDiamond.enforceIsContractOwner();
        LibDiamond.diamondCut(_diamondCut, _init, _calldata);
    }
}
