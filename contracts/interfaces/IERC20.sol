// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice ERC-20 token interface (https://eips.ethereum.org/EIPS/eip-20); call through LibSafeERC20 for transfers.
interface IERC20 {
    /// @notice `value` tokens moved from `from` to `to`.
    event Transfer(address indexed from, address indexed to, uint256 value);

    /// @notice `owner` allowed `spender` to move `value` of its tokens.
    event Approval(address indexed owner, address indexed spender, uint256 value);

    /// @notice Total tokens in existence.
    /// @return The supply, in the token's smallest unit.
    function totalSupply() external view returns (uint256);

    /// @notice Tokens held by `account`.
    /// @param account The holder.
    /// @return The balance, in the token's smallest unit.
    function balanceOf(address account) external view returns (uint256);

    /// @notice Move `amount` of the caller's tokens to `to`.
    /// @dev Some tokens (USDT) return nothing; never call this directly, use LibSafeERC20.safeTransfer.
    /// @param to The recipient.
    /// @param amount The amount, in the token's smallest unit.
    /// @return True on success (when the token returns anything at all).
    function transfer(address to, uint256 amount) external returns (bool);

    /// @notice Tokens `spender` may still move on behalf of `owner`.
    /// @param owner The holder.
    /// @param spender The approved spender.
    /// @return The remaining allowance.
    function allowance(address owner, address spender) external view returns (uint256);

    /// @notice Allow `spender` to move up to `amount` of the caller's tokens.
    /// @param spender The approved spender.
    /// @param amount The allowance.
    /// @return True on success (when the token returns anything at all).
    function approve(address spender, uint256 amount) external returns (bool);

    /// @notice Move `amount` tokens from `from` to `to` using the caller's allowance.
    /// @param from The holder.
    /// @param to The recipient.
    /// @param amount The amount, in the token's smallest unit.
    /// @return True on success (when the token returns anything at all).
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}
