// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDiamondLoupe} from "../interfaces/IDiamondLoupe.sol";
import {IERC165} from "../interfaces/IERC165.sol";
import {LibDiamond} from "../libraries/LibDiamond.sol";

/// @notice EIP-2535 loupe and ERC-165 for the diamond; views only, meant for off-chain callers.
contract DiamondLoupeFacet is IDiamondLoupe, IERC165 {
    /// @inheritdoc IDiamondLoupe
    function facets() external view override returns (Facet[] memory facets_) {
        LibDiamond.DiamondStorage storage ds = LibDiamond.diamondStorage();
        uint256 selectorCount = ds.selectors.length;
        facets_ = new Facet[](selectorCount); // upper bound: one facet per selector; trimmed below
        uint256[] memory counts = new uint256[](selectorCount); // selectors found so far per facet
        uint256 facetCount;
        for (uint256 s; s < selectorCount; ++s) {
            bytes4 selector = ds.selectors[s];
            address facet = ds.facetAddressAndSelectorPosition[selector].facetAddress;
            uint256 f;
            while (f < facetCount && facets_[f].facetAddress != facet) ++f; // linear: a diamond has few facets
            if (f == facetCount) {
                facets_[f].facetAddress = facet;
                facets_[f].functionSelectors = new bytes4[](selectorCount); // upper bound; trimmed below
                ++facetCount;
            }
            facets_[f].functionSelectors[counts[f]++] = selector;
        }
        for (uint256 f; f < facetCount; ++f) {
            bytes4[] memory selectors = facets_[f].functionSelectors;
            uint256 count = counts[f];
            assembly ("memory-safe") {
                mstore(selectors, count) // shrink in place; the tail stays allocated, unused
            }
        }
        assembly ("memory-safe") {
            mstore(facets_, facetCount)
        }
    }

    /// @inheritdoc IDiamondLoupe
    function facetFunctionSelectors(address _facet)
        external
        view
        override
        returns (bytes4[] memory facetFunctionSelectors_)
    {
        LibDiamond.DiamondStorage storage ds = LibDiamond.diamondStorage();
        uint256 selectorCount = ds.selectors.length;
        facetFunctionSelectors_ = new bytes4[](selectorCount); // upper bound; trimmed below
        uint256 count;
        for (uint256 s; s < selectorCount; ++s) {
            bytes4 selector = ds.selectors[s];
            if (ds.facetAddressAndSelectorPosition[selector].facetAddress == _facet) {
                facetFunctionSelectors_[count++] = selector;
            }
        }
        assembly ("memory-safe") {
            mstore(facetFunctionSelectors_, count)
        }
    }

    /// @inheritdoc IDiamondLoupe
    function facetAddresses() external view override returns (address[] memory facetAddresses_) {
        LibDiamond.DiamondStorage storage ds = LibDiamond.diamondStorage();
        uint256 selectorCount = ds.selectors.length;
        facetAddresses_ = new address[](selectorCount); // upper bound; trimmed below
        uint256 facetCount;
        for (uint256 s; s < selectorCount; ++s) {
            address facet = ds.facetAddressAndSelectorPosition[ds.selectors[s]].facetAddress;
            uint256 f;
            while (f < facetCount && facetAddresses_[f] != facet) ++f;
            if (f == facetCount) facetAddresses_[facetCount++] = facet;
        }
        assembly ("memory-safe") {
            mstore(facetAddresses_, facetCount)
        }
    }

    /// @inheritdoc IDiamondLoupe
    function facetAddress(bytes4 _functionSelector) external view override returns (address facetAddress_) {
        facetAddress_ = LibDiamond.diamondStorage().facetAddressAndSelectorPosition[_functionSelector].facetAddress;
    }

    /// @inheritdoc IERC165
    /// @dev Flags are set by DiamondInit (and later initializers), not derived from the routed selectors.
    function supportsInterface(bytes4 _interfaceId) external view override returns (bool) {
        return LibDiamond.diamondStorage().supportedInterfaces[_interfaceId];
    }
}
