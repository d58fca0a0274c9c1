// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ZooERC20} from "./ZooERC20.sol";

/// @notice Models tokens that return false instead of reverting (ZRX, BAT), plus an always-false switch.
/// @dev A caller that ignores the returned bool believes a transfer happened when nothing moved.
contract ReturnsFalseToken is ZooERC20 {
    /// @notice The always-false switch was flipped.
    event AlwaysFalseSet(bool on);

    /// @notice When true, transfer and transferFrom move nothing and return false.
    bool public alwaysFalse;

    constructor(string memory _name, string memory _symbol, uint8 _decimals, address holder, uint256 supply)
        ZooERC20(_name, _symbol, _decimals, holder, supply)
    {}

    /// @notice Make every transfer fail silently (or stop doing so). Owner only.
    /// @param on True: transfer and transferFrom return false and move nothing.
    function setAlwaysFalse(bool on) external onlyOwner {
        alwaysFalse = on;
        emit AlwaysFalseSet(on);
    }

    /// @notice Move `amount` of the caller's tokens to `to`; false (no revert) if it cannot.
    /// @param to The recipient.
    /// @param amount The amount, in the token's smallest unit.
    /// @return False when the balance is short or the switch is on; nothing moved then.
    function transfer(address to, uint256 amount) external override returns (bool) {
        if (alwaysFalse || _stored[msg.sender] < amount) return false;
        _move(msg.sender, to, amount);
        return true;
    }

    /// @notice Move `amount` from `from` to `to` with the caller's allowance; false if it cannot.
    /// @param from The holder.
    /// @param to The recipient.
    /// @param amount The amount, in the token's smallest unit.
    /// @return False when the allowance or balance is short or the switch is on; nothing moved then.
    function transferFrom(address from, address to, uint256 amount) external override returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (alwaysFalse || allowed < amount || _stored[from] < amount) return false;
        if (allowed != type(uint256).max) allowance[from][msg.sender] = allowed - amount;
        _move(from, to, amount);
        return true;
    }
}
