// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IDiamondCut} from "../interfaces/IDiamondCut.sol";
import {IDiamondLoupe} from "../interfaces/IDiamondLoupe.sol";
import {IERC165} from "../interfaces/IERC165.sol";
import {IERC173} from "../interfaces/IERC173.sol";
import {IFlashLoanRecipient} from "../interfaces/IFlashLoanRecipient.sol";
import {LibDiamond} from "../libraries/LibDiamond.sol";

/// @notice First-cut initializer of the flasharb diamond: registers its ERC-165 interfaces.
contract DiamondInit {
    /// @notice Mark IERC165, IDiamondCut, IDiamondLoupe, IERC173 and IFlashLoanRecipient as supported.
    /// @dev Runs by delegatecall from the diamond's constructor (DiamondArgs.init); idempotent, so a later cut may
    ///      run it again. Calling it on the DiamondInit contract itself only writes DiamondInit's own storage.
    function init() external {
        LibDiamond.DiamondStorage storage ds = LibDiamond.diamondStorage();
        ds.supportedInterfaces[type(IERC165).interfaceId] = true;
        ds.supportedInterfaces[type(IDiamondCut).interfaceId] = true;
        ds.supportedInterfaces[type(IDiamondLoupe).interfaceId] = true;
        ds.supportedInterfaces[type(IERC173).interfaceId] = true;
        ds.supportedInterfaces[type(IFlashLoanRecipient).interfaceId] = true;
    }
}
