// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ZooERC20} from "./ZooERC20.sol";

/// @notice Models a hook token (ERC-777 style) in an attacker's hands: every transfer calls a chosen target.
/// @dev After each transfer moves balances (as ERC-777's tokensReceived runs), the token calls
///      `hookTarget` with `hookData`: the way an attacker re-enters a router or a diamond mid-route.
///      The hook never fires from inside itself.
contract ReentrantHookToken is ZooERC20 {
    /// @notice The hook ran: `target` was called and answered `success`, `returnData`.
    event HookCalled(address indexed target, bool success, bytes returnData);
    /// @notice The hook was set (times = 0 disarms it).
    event HookSet(address indexed target, bytes data, uint256 times, bool bubble);

    /// @notice The contract the hook calls.
    address public hookTarget;
    /// @notice The calldata the hook sends.
    bytes public hookData;
    /// @notice How many more transfers fire the hook; type(uint256).max means every one.
    uint256 public hooksLeft;
    /// @notice When true, a failing hook call makes the transfer revert with the hook's revert data.
    bool public bubble;
    /// @notice How many times the hook has fired.
    uint256 public hooksFired;

    bool private transient inHook; // a hook's own transfers do not fire the hook again

    constructor(string memory _name, string memory _symbol, uint8 _decimals, address holder, uint256 supply)
        ZooERC20(_name, _symbol, _decimals, holder, supply)
    {}

    /// @notice Arm the hook. Owner only.
    /// @param target The contract to call after each transfer.
    /// @param data The calldata to send it.
    /// @param times How many transfers fire it (type(uint256).max: all; 0: disarmed).
    /// @param bubbleRevert True: a failing hook reverts the transfer with the hook's revert data;
    ///        false: the failure is only reported in HookCalled.
    function setHook(address target, bytes calldata data, uint256 times, bool bubbleRevert) external onlyOwner {
        hookTarget = target;
        hookData = data;
        hooksLeft = times;
        bubble = bubbleRevert;
        emit HookSet(target, data, times, bubbleRevert);
    }

    function _transfer(address from, address to, uint256 amount) internal override {
        _move(from, to, amount);
        if (hooksLeft == 0 || inHook) return;
        if (hooksLeft != type(uint256).max) --hooksLeft;
        ++hooksFired;
        inHook = true;
        address target = hookTarget;
        (bool ok, bytes memory ret) = target.call(hookData);
        inHook = false;
        emit HookCalled(target, ok, ret);
        if (!ok && bubble) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret)) // the re-entered contract's own error, verbatim
            }
        }
    }
}
