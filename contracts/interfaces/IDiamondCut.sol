// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice EIP-2535 diamondCut: add, replace or remove facet functions (https://eips.ethereum.org/EIPS/eip-2535).
interface IDiamondCut {
    /// @notice What a FacetCut does with its selectors.
    enum FacetCutAction {
        Add,
        Replace,
        Remove
    }

    /// @notice One facet's change: its address (zero for Remove), the action, the selectors.
    struct FacetCut {
        address facetAddress;
        FacetCutAction action;
        bytes4[] functionSelectors;
    }

    /// @notice Facets changed; `_init` was delegatecalled with `_calldata` (zero address: no init).
    event DiamondCut(FacetCut[] _diamondCut, address _init, bytes _calldata);

    /// @notice Add/replace/remove any number of functions and optionally execute a function with delegatecall.
    /// @param _diamondCut The facet addresses, actions and function selectors.
    /// @param _init The contract to delegatecall with `_calldata` after the cut; zero for none.
    /// @param _calldata The call to `_init`, selector included.
    function diamondCut(FacetCut[] calldata _diamondCut, address _init, bytes calldata _calldata) external;
}
