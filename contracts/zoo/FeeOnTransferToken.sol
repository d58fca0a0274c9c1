// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ZooERC20} from "./ZooERC20.sol";

/// @notice Models fee-on-transfer tokens (STA, PAXG): every transfer delivers the amount minus a fee in bps.
/// @dev The fee is `feeBps` of the amount sent, rounded down, burned or sent to `feeRecipient`; the
///      sender's balance drops by the full amount. Transfers from a pool therefore pay out less
///      than the pool's quote, and transfers into one credit it with less than the router sent.
contract FeeOnTransferToken is ZooERC20 {
    /// @notice The fee schedule changed.
    event FeeSet(uint256 feeBps, address feeRecipient);

    error FeeTooHigh(uint256 feeBps, uint256 maxFeeBps);

    /// @notice 100% in basis points.
    uint256 public constant MAX_FEE_BPS = 10_000;

    /// @notice The fee, in basis points of each transferred amount.
    uint256 public feeBps;
    /// @notice Receives the fee; the zero address burns it.
    address public feeRecipient;

    constructor(
        string memory _name,
        string memory _symbol,
        uint8 _decimals,
        address holder,
        uint256 supply,
        uint256 _feeBps
    ) ZooERC20(_name, _symbol, _decimals, holder, supply) {
        _setFee(_feeBps, address(0));
    }

    /// @notice Change the fee. Owner only.
    /// @param _feeBps The fee in basis points, at most MAX_FEE_BPS.
    /// @param _feeRecipient Receives the fee; the zero address burns it.
    function setFee(uint256 _feeBps, address _feeRecipient) external onlyOwner {
        _setFee(_feeBps, _feeRecipient);
    }

    /// @notice The fee taken from a transfer of `amount`.
    /// @param amount The amount sent, in the token's smallest unit.
    /// @return fee The part the recipient does not get (rounded down).
    function feeOf(uint256 amount) public view returns (uint256 fee) {
        return amount * feeBps / MAX_FEE_BPS;
    }

    function _setFee(uint256 _feeBps, address _feeRecipient) private {
        if (_feeBps > MAX_FEE_BPS) revert FeeTooHigh(_feeBps, MAX_FEE_BPS);
        feeBps = _feeBps;
        feeRecipient = _feeRecipient;
        emit FeeSet(_feeBps, _feeRecipient);
    }

    function _transfer(address from, address to, uint256 amount) internal override {
        uint256 bal = balanceOf(from);
        if (bal < amount) revert InsufficientBalance(from, bal, amount); // the sender pays it all
        uint256 fee = feeOf(amount);
        _move(from, to, amount - fee);
        if (fee != 0) {
            if (feeRecipient == address(0)) _burn(from, fee);
            else _move(from, feeRecipient, fee);
        }
    }
}
