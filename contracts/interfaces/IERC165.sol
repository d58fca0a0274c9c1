// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice ERC-165 standard interface detection (https://eips.ethereum.org/EIPS/eip-165).
interface IERC165 {
    /// @notice Whether the contract implements an interface.
    /// @param interfaceId The ERC-165 interface id (XOR of the interface's selectors).
    /// @return True if `interfaceId` is supported; never true for 0xffffffff.
    function supportsInterface(bytes4 interfaceId) external view returns (bool);
}
