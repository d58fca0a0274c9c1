// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice EIP-2535 loupe: which facets a diamond has and which selectors each one serves.
interface IDiamondLoupe {
    /// @notice A facet and the selectors routed to it.
    struct Facet {
        address facetAddress;
        bytes4[] functionSelectors;
    }

    /// @notice All facets and their selectors.
    /// @return facets_ One entry per facet, in order of first selector added.
    function facets() external view returns (Facet[] memory facets_);

    /// @notice The selectors routed to one facet.
    /// @param _facet The facet address.
    /// @return facetFunctionSelectors_ Its selectors; empty if the facet is unknown.
    function facetFunctionSelectors(address _facet) external view returns (bytes4[] memory facetFunctionSelectors_);

    /// @notice All facet addresses used by the diamond.
    /// @return facetAddresses_ One entry per facet.
    function facetAddresses() external view returns (address[] memory facetAddresses_);

    /// @notice The facet that serves a selector.
    /// @param _functionSelector The selector.
    /// @return facetAddress_ The facet, or the zero address if none.
    function facetAddress(bytes4 _functionSelector) external view returns (address facetAddress_);
}
