// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDiamondCut} from "./interfaces/IDiamondCut.sol";
import {LibDiamond} from "./libraries/LibDiamond.sol";

/// @notice No facet serves the called selector.
error FunctionNotFound(bytes4 _functionSelector);
/// @notice ETH sent by `sender`: the diamond takes ETH from WETH and the Uniswap V4 PoolManager only.
error EtherRefused(address sender);

address constant WETH9 = 0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2; // WETH9 (mainnet, and the replica): unwraps
address constant V4_POOL_MANAGER = 0x000000000004444c5dc75cB358380D2e3dE08A90; // Uniswap V4 (mainnet): native takes

/// @notice Constructor arguments beside the cut; a struct so more can be added without stack-too-deep.
struct DiamondArgs {
    address owner; // ERC-173 owner: runs arbs, cuts facets, withdraws
    address init; // initializer delegatecalled after the cut (DiamondInit); zero for none
    bytes initCalldata; // call to `init`, selector included
}

/// @notice The flasharb diamond (EIP-2535): routes every call to the facet that serves its selector.
/// @dev Takes ETH from WETH and the V4 PoolManager only: FlashArbFacet unwraps a bribe in WETH and sends it on to
///      block.coinbase in the same call, and takes native ETH out of the PoolManager (a V4 hop or loan) and wraps it
///      in the same call (receive() accepts exactly those; the fallback and the constructor are not payable). ETH forced in anyway
///      (SELFDESTRUCT, a block reward) leaves through TreasuryFacet.withdrawEth, owner only.
contract Diamond {

    /// @notice Set the owner, apply the first cut and run its initializer, in one transaction.
    /// @param _diamondCut The facets and selectors to add.
    /// @param _args Owner, initializer and initializer calldata.
    constructor(IDiamondCut.FacetCut[] memory _diamondCut, DiamondArgs memory _args) {
        LibDiamond.setContractOwner(_args.owner);
        LibDiamond.diamondCut(_diamondCut, _args.init, _args.initCalldata);
    }

    /// @notice Accept ETH from WETH (an unwrap) and the V4 PoolManager (a take); refuse it from anyone else
    ///         (EtherRefused).
    /// @dev Runs on WETH9's 2,300 gas stipend (`msg.sender.transfer`): two comparisons, no storage. ETH the
    ///      PoolManager sends unasked (another locker's take naming the diamond) is a gift, withdrawn by the owner.
    receive() external payable {
        if (msg.sender != WETH9 && msg.sender != V4_POOL_MANAGER) revert EtherRefused(msg.sender);
    }

    /// @notice Delegatecall the facet serving msg.sig and return or revert with its exact data.
    /// @dev Reverts FunctionNotFound when no facet serves the selector (also for empty calldata), and for a selector
    ///      routed to the diamond itself that its own code does not serve (an immutable function is dispatched by
    ///      the compiler before the fallback: reaching here with one means there is none; a delegatecall to itself
    ///      would only recurse).
    fallback() external virtual {
        _delegate();
    }

    /// @dev The fallback's routing (a child diamond's fallback serves receiveFlashLoan itself, then routes the rest).
    function _delegate() internal {
        address facet = LibDiamond.diamondStorage().facetAddressAndSelectorPosition[msg.sig].facetAddress;
        if (facet == address(0) || facet == address(this)) revert FunctionNotFound(msg.sig);
        assembly {
            calldatacopy(0, 0, calldatasize()) // owns all memory from here on: this frame never returns to Solidity
            let ok := delegatecall(gas(), facet, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            switch ok
            case 0 {
                revert(0, returndatasize())
            }
            default {
                return(0, returndatasize())
            }
        }
    }
}
