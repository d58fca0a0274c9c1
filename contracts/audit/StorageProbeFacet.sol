// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {LibDiamond} from "../libraries/LibDiamond.sol";
import {GuardStorage} from "../storage/GuardStorage.sol";
import {TreasuryStorage} from "../storage/TreasuryStorage.sol";

/// @notice Audit-only facet: reads the namespaced storage structs through the libraries, as every facet does.
/// @dev Cut into the diamond by the storage-layout test, which compares these values with the raw slots it reads
///      with eth_getStorageAt at the ERC-7201 / diamond-1 locations: the test's idea of the layout and the compiler's
///      must agree, before and after a facet upgrade.
contract StorageProbeFacet {
    /// @notice What the probe reads (a struct: more values than the stack holds).
    struct Layout {
        address owner; // LibDiamond contractOwner
        uint256 selectorCount; // LibDiamond selectors.length
        address facet; // the facet routing the probed selector
        uint16 position; // the probed selector's index in the selector list
        bool paused; // GuardStorage.paused
        uint64 capCount; // GuardStorage.capCount
        bool isExecutor; // GuardStorage.executors[executor]
        uint256 cap; // GuardStorage.notionalCaps[token]
        uint256 beneficiaryCount; // TreasuryStorage.beneficiaries.length
        uint16 maxBribeBps; // GuardStorage.maxBribeBps
        uint64 minProfitCount; // GuardStorage.minProfitCount
        uint256 minProfit; // GuardStorage.minProfits[token]
    }

    /// @notice The values of every namespaced struct the test decodes from raw slots.
    /// @param executor An account whose executor flag to read.
    /// @param token A token whose notional cap and minimum profit to read.
    /// @param selector A selector whose routing entry to read.
    /// @return l The values.
    function probeLayout(address executor, address token, bytes4 selector) external view returns (Layout memory l) {
        LibDiamond.DiamondStorage storage ds = LibDiamond.diamondStorage();
        l.owner = ds.contractOwner;
        l.selectorCount = ds.selectors.length;
        l.facet = ds.facetAddressAndSelectorPosition[selector].facetAddress;
        l.position = ds.facetAddressAndSelectorPosition[selector].selectorPosition;
        GuardStorage.Layout storage g = GuardStorage.layout();
        l.paused = g.paused;
        l.capCount = g.capCount;
        l.isExecutor = g.executors[executor];
        l.cap = g.notionalCaps[token];
        l.beneficiaryCount = TreasuryStorage.layout().beneficiaries.length;
        l.maxBribeBps = g.maxBribeBps;
        l.minProfitCount = g.minProfitCount;
        l.minProfit = g.minProfits[token];
    }
}
