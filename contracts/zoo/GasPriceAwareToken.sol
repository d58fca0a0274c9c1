// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ZooERC20} from "./ZooERC20.sol";

/// @notice Models a token that is honest only when `tx.gasprice == 0`: it passes every eth_call and eth_estimateGas, and fails every mined transaction.
/// @dev Anvil's eth_call and eth_estimateGas run with a gas price of zero; a mined transaction
///      pays at least the block's base fee. This token moves balances plainly in the first case
///      and, in the second, either reverts (`revertWhenPriced`, the default) or quietly burns the
///      amount while returning true (the recipient gets nothing). Simulating with the fee caps of
///      the transaction that will be sent (eth_simulateV1 with validation) is what exposes it.
contract GasPriceAwareToken is ZooERC20 {
    /// @notice The priced-transfer behaviour changed.
    event ModeSet(bool revertWhenPriced);

    /// @notice A transfer ran with a non-zero gas price and the token refused it.
    error PricedTransfer(uint256 gasPrice);

    /// @notice True: a transfer with tx.gasprice > 0 reverts. False: it burns the amount and
    ///         returns true (the recipient gets nothing).
    bool public revertWhenPriced = true;

    constructor(string memory _name, string memory _symbol, uint8 _decimals, address holder, uint256 supply)
        ZooERC20(_name, _symbol, _decimals, holder, supply)
    {}

    /// @notice Choose how a priced transfer misbehaves. Owner only.
    /// @param on True: revert. False: burn the amount, deliver nothing, return true.
    function setRevertWhenPriced(bool on) external onlyOwner {
        revertWhenPriced = on;
        emit ModeSet(on);
    }

    function _transfer(address from, address to, uint256 amount) internal override {
        if (tx.gasprice == 0) {
            _move(from, to, amount); // a simulation: behave
            return;
        }
        if (revertWhenPriced) revert PricedTransfer(tx.gasprice);
        _burn(from, amount); // mined: the sender pays, the recipient gets nothing
    }
}
