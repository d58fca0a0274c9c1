// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Audit-only attacker contract: makes a list of calls as itself, in one transaction.
/// @dev Models every attack that needs a contract as msg.sender (a callback "from a contract", a pool created and
///      abused in the same transaction). The first failing call reverts the whole relay with that call's own revert
///      data, verbatim, so a test can assert the exact error the target gave. Holds nothing; never deployed outside
///      tests/audit.
contract AttackerRelay {
    /// @notice One call the relay makes.
    struct Call {
        address target; // contract called, as this relay
        bytes data; // calldata, selector included
    }

    /// @notice Make `calls` in order, as this contract.
    /// @param calls The calls.
    /// @return results Each call's return data.
    function relay(Call[] calldata calls) external returns (bytes[] memory results) {
        results = new bytes[](calls.length);
        for (uint256 i; i < calls.length; ++i) {
            (bool ok, bytes memory ret) = calls[i].target.call(calls[i].data);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(ret, 0x20), mload(ret)) // the target's own error, verbatim
                }
            }
            results[i] = ret;
        }
    }
}
