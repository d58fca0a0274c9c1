// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDiamondCut} from "../interfaces/IDiamondCut.sol";
import {IERC173} from "../interfaces/IERC173.sol";

/// @notice The caller is not the diamond's owner.
error NotContractOwner(address _user, address _contractOwner);
/// @notice A FacetCut came with an empty selector list.
error NoSelectorsProvidedForFacetForCut(address _facetAddress);
/// @notice Add was asked with the zero address as facet.
error CannotAddSelectorsToZeroAddress(bytes4[] _selectors);
/// @notice A facet or init address has no code (an EOA, or a contract still in its constructor).
error NoBytecodeAtAddress(address _contractAddress);
/// @notice The FacetCutAction is none of Add, Replace, Remove.
error IncorrectFacetCutAction(uint8 _action);
/// @notice Add was asked for a selector the diamond already routes.
error CannotAddFunctionToDiamondThatAlreadyExists(bytes4 _selector);
/// @notice Replace was asked with the zero address as facet.
error CannotReplaceFunctionsFromFacetWithZeroAddress(bytes4[] _selectors);
/// @notice Replace or Remove was asked for a function defined on the diamond itself.
error CannotReplaceImmutableFunction(bytes4 _selector);
/// @notice Replace was asked to route a selector to the facet that already serves it.
error CannotReplaceFunctionWithTheSameFunctionFromTheSameFacet(bytes4 _selector);
/// @notice Replace was asked for a selector the diamond does not route.
error CannotReplaceFunctionThatDoesNotExists(bytes4 _selector);
/// @notice Remove must name the zero address as facet.
error RemoveFacetAddressMustBeZeroAddress(address _facetAddress);
/// @notice Remove was asked for a selector the diamond does not route.
error CannotRemoveFunctionThatDoesNotExist(bytes4 _selector);
/// @notice Remove was asked for a function defined on the diamond itself.
error CannotRemoveImmutableFunction(bytes4 _selector);
/// @notice The init delegatecall reverted without reason data.
error InitializationFunctionReverted(address _initializationContractAddress, bytes _calldata);

/// @notice EIP-2535 diamond mechanics: selector routing, the facet cut, ERC-165 flags and the ERC-173 owner.
library LibDiamond {
    /// @dev The diamond-1 reference slot; kept so standard diamond tooling reads our storage.
    bytes32 internal constant DIAMOND_STORAGE_POSITION = keccak256("diamond.standard.diamond.storage");

    struct FacetAddressAndSelectorPosition {
        address facetAddress; // facet serving the selector; address(this) marks an immutable function
        uint16 selectorPosition; // index in DiamondStorage.selectors, for O(1) removal
    }

    /// @dev Append-only: facets of a live diamond read this layout.
    struct DiamondStorage {
        mapping(bytes4 => FacetAddressAndSelectorPosition) facetAddressAndSelectorPosition; // routing table
        bytes4[] selectors; // every routed selector; the loupe derives the facet list from it
        mapping(bytes4 => bool) supportedInterfaces; // ERC-165 flags, set by DiamondInit
        address contractOwner; // ERC-173 owner
    }

    /// @notice The diamond's storage struct, at its hashed slot.
    /// @return ds The storage pointer.
    function diamondStorage() internal pure returns (DiamondStorage storage ds) {
        bytes32 position = DIAMOND_STORAGE_POSITION;
        assembly ("memory-safe") {
            ds.slot := position
        }
    }

    /*//////////////////////////////////////////////////////////////
                                OWNERSHIP
    //////////////////////////////////////////////////////////////*/

    /// @notice Set the owner and emit ERC-173 OwnershipTransferred.
    /// @param _newOwner The next owner.
    function setContractOwner(address _newOwner) internal {
        DiamondStorage storage ds = diamondStorage();
        address previousOwner = ds.contractOwner;
        ds.contractOwner = _newOwner;
        emit IERC173.OwnershipTransferred(previousOwner, _newOwner);
    }

    /// @notice The current owner.
    /// @return contractOwner_ The owner address.
    function contractOwner() internal view returns (address contractOwner_) {
        contractOwner_ = diamondStorage().contractOwner;
    }

    /// @notice Revert with NotContractOwner unless msg.sender is the owner.
    function enforceIsContractOwner() internal view {
        address owner = diamondStorage().contractOwner; // one SLOAD for the check and the error
        if (msg.sender != owner) revert NotContractOwner(msg.sender, owner);
    }

    /*//////////////////////////////////////////////////////////////
                                DIAMOND CUT
    //////////////////////////////////////////////////////////////*/

    /// @notice Apply `_diamondCut`, emit DiamondCut, then delegatecall `_init` with `_calldata` (if `_init` != 0).
    /// @param _diamondCut The facet addresses, actions and selectors.
    /// @param _init The initializer to delegatecall; zero for none.
    /// @param _calldata The initializer call, selector included.
    function diamondCut(IDiamondCut.FacetCut[] memory _diamondCut, address _init, bytes memory _calldata) internal {
        for (uint256 i; i < _diamondCut.length; ++i) {
            IDiamondCut.FacetCut memory cut = _diamondCut[i];
            if (cut.functionSelectors.length == 0) revert NoSelectorsProvidedForFacetForCut(cut.facetAddress);
            if (cut.action == IDiamondCut.FacetCutAction.Add) {
                addFunctions(cut.facetAddress, cut.functionSelectors);
            } else if (cut.action == IDiamondCut.FacetCutAction.Replace) {
                replaceFunctions(cut.facetAddress, cut.functionSelectors);
            } else if (cut.action == IDiamondCut.FacetCutAction.Remove) {
                removeFunctions(cut.facetAddress, cut.functionSelectors);
            } else {
                revert IncorrectFacetCutAction(uint8(cut.action)); // unreachable from ABI input: enum decoding checks range
            }
        }
        emit IDiamondCut.DiamondCut(_diamondCut, _init, _calldata);
        initializeDiamondCut(_init, _calldata);
    }

    /// @notice Route new selectors to `_facetAddress`.
    /// @param _facetAddress The facet; must have code, unless it is the diamond itself (EIP-2535 immutable functions,
    ///        added by a ChildDiamond's constructor, when its code is not deployed yet).
    /// @param _functionSelectors Selectors not yet routed.
    function addFunctions(address _facetAddress, bytes4[] memory _functionSelectors) internal {
        if (_facetAddress == address(0)) revert CannotAddSelectorsToZeroAddress(_functionSelectors);
        if (_facetAddress != address(this)) enforceHasContractCode(_facetAddress);
        DiamondStorage storage ds = diamondStorage();
        uint16 position = uint16(ds.selectors.length);
        for (uint256 i; i < _functionSelectors.length; ++i) {
            bytes4 selector = _functionSelectors[i];
            if (ds.facetAddressAndSelectorPosition[selector].facetAddress != address(0)) {
                revert CannotAddFunctionToDiamondThatAlreadyExists(selector);
            }
            ds.facetAddressAndSelectorPosition[selector] = FacetAddressAndSelectorPosition(_facetAddress, position);
            ds.selectors.push(selector);
            ++position; // checked: more than 65535 selectors must revert, not wrap
        }
    }

    /// @notice Re-route existing selectors to `_facetAddress`.
    /// @param _facetAddress The new facet; must have code.
    /// @param _functionSelectors Routed, non-immutable selectors served by another facet.
    function replaceFunctions(address _facetAddress, bytes4[] memory _functionSelectors) internal {
        if (_facetAddress == address(0)) revert CannotReplaceFunctionsFromFacetWithZeroAddress(_functionSelectors);
        enforceHasContractCode(_facetAddress);
        DiamondStorage storage ds = diamondStorage();
        for (uint256 i; i < _functionSelectors.length; ++i) {
            bytes4 selector = _functionSelectors[i];
            address oldFacet = ds.facetAddressAndSelectorPosition[selector].facetAddress;
            if (oldFacet == address(this)) revert CannotReplaceImmutableFunction(selector); // defined on the diamond
            if (oldFacet == _facetAddress) revert CannotReplaceFunctionWithTheSameFunctionFromTheSameFacet(selector);
            if (oldFacet == address(0)) revert CannotReplaceFunctionThatDoesNotExists(selector);
            ds.facetAddressAndSelectorPosition[selector].facetAddress = _facetAddress; // position is unchanged
        }
    }

    /// @notice Stop routing selectors; the last selector fills each hole so the list stays dense.
    /// @param _facetAddress Must be the zero address.
    /// @param _functionSelectors Routed, non-immutable selectors.
    function removeFunctions(address _facetAddress, bytes4[] memory _functionSelectors) internal {
        if (_facetAddress != address(0)) revert RemoveFacetAddressMustBeZeroAddress(_facetAddress);
        DiamondStorage storage ds = diamondStorage();
        for (uint256 i; i < _functionSelectors.length; ++i) {
            bytes4 selector = _functionSelectors[i];
            FacetAddressAndSelectorPosition memory old = ds.facetAddressAndSelectorPosition[selector];
            if (old.facetAddress == address(0)) revert CannotRemoveFunctionThatDoesNotExist(selector);
            if (old.facetAddress == address(this)) revert CannotRemoveImmutableFunction(selector); // defined on the diamond
            uint256 last = ds.selectors.length - 1; // cannot underflow: `selector` is routed, so the list is non-empty
            if (old.selectorPosition != last) {
                bytes4 moved = ds.selectors[last];
                ds.selectors[old.selectorPosition] = moved; // swap-and-pop keeps removal O(1)
                ds.facetAddressAndSelectorPosition[moved].selectorPosition = old.selectorPosition;
            }
            ds.selectors.pop();
            delete ds.facetAddressAndSelectorPosition[selector];
        }
    }

    /// @notice Delegatecall `_init` with `_calldata`, bubbling up its revert reason.
    /// @param _init The initializer; zero skips the call.
    /// @param _calldata The call, selector included.
    function initializeDiamondCut(address _init, bytes memory _calldata) internal {
        if (_init == address(0)) return;
        enforceHasContractCode(_init);
        (bool success, bytes memory reason) = _init.delegatecall(_calldata);
        if (!success) {
            if (reason.length == 0) revert InitializationFunctionReverted(_init, _calldata);
            assembly ("memory-safe") {
                revert(add(reason, 0x20), mload(reason)) // bubble up the initializer's own error
            }
        }
    }

    /// @notice Revert with NoBytecodeAtAddress unless `_contract` has code.
    /// @param _contract The address to check.
    function enforceHasContractCode(address _contract) internal view {
        if (_contract.code.length == 0) revert NoBytecodeAtAddress(_contract);
    }
}
