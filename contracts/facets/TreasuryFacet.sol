// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "../interfaces/IERC20.sol";
import {LibDiamond} from "../libraries/LibDiamond.sol";
import {LibSafeERC20} from "../libraries/LibSafeERC20.sol";
import {TreasuryStorage} from "../storage/TreasuryStorage.sol";

/// @notice The way profits leave the diamond: owner-only withdrawals (tokens and ETH) and an optional split among
///         beneficiaries.
/// @dev The diamond always keeps DUST (1 wei) of every token it holds: the first write of an arb into the diamond's
///      balance is then non-zero to non-zero (~2.9k gas) instead of zero to non-zero (~20k), twice per arb.
contract TreasuryFacet {
    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice What withdraw and distribute leave behind of every token, in its smallest unit.
    uint256 public constant DUST = 1;
    uint256 internal constant BPS = 10_000; // basis points in a whole

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice `amount` of `token` left the diamond for `to`.
    event Withdrawn(address indexed token, address indexed to, uint256 amount);
    /// @notice The profit split is now `accounts` with `bps` each (empty: none).
    event BeneficiariesSet(address[] accounts, uint16[] bps);
    /// @notice distribute sent `amount` of `token` to `to`, its share.
    event Distributed(address indexed token, address indexed to, uint256 amount);
    /// @notice `amount` wei of ETH left the diamond for `to`.
    event EthWithdrawn(address indexed to, uint256 amount);

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice A recipient or beneficiary is the zero address.
    error ZeroAddress();
    /// @notice withdraw of `amount` would leave less than DUST of `token` (balance `balance`).
    error DustMustStay(address token, uint256 balance, uint256 amount);
    /// @notice The beneficiaries' shares are not one per account, contain a zero, or do not sum to 10_000 (sum given).
    error InvalidSplit(uint256 totalBps);
    /// @notice distribute was called with no beneficiaries set.
    error NoBeneficiaries();
    /// @notice withdrawEth of `amount` wei (0, or above the balance `balance`).
    error InvalidEthAmount(uint256 balance, uint256 amount);
    /// @notice Sending `amount` wei to `to` failed (it reverted).
    error EthTransferFailed(address to, uint256 amount);

    /*//////////////////////////////////////////////////////////////
                                  LOGIC
    //////////////////////////////////////////////////////////////*/

    /// @notice Send `amount` of `token` held by the diamond to `to`; type(uint256).max sends all but DUST.
    /// @dev Owner only (NotContractOwner); with distribute, the only way funds leave outside an arb's own
    ///      repayments. Reverts DustMustStay rather than take the last DUST, TokenTransferFailed if the token reverts
    ///      or returns false (USDT-style no-return is accepted).
    /// @param token The ERC-20 token.
    /// @param to The recipient; not the zero address.
    /// @param amount The amount, in the token's smallest unit (type(uint256).max: everything above DUST).
    function withdraw(address token, address to, uint256 amount) external {
        LibDiamond.enforceIsContractOwner();
        if (to == address(0)) revert ZeroAddress();
        uint256 balance = IERC20(token).balanceOf(address(this));
        if (amount == type(uint256).max) amount = balance > DUST ? balance - DUST : 0;
        if (amount == 0 || amount > balance || balance - amount < DUST) revert DustMustStay(token, balance, amount);
        LibSafeERC20.safeTransfer(IERC20(token), to, amount);
        emit Withdrawn(token, to, amount);
    }

    /// @notice Send `amount` wei of the diamond's ETH to `to`; type(uint256).max sends it all.
    /// @dev Owner only (NotContractOwner). The diamond takes ETH from WETH only (the unwrap of a bribe, sent on to
    ///      block.coinbase in the same call), but no contract can refuse ETH forced on it (SELFDESTRUCT, a block
    ///      reward): this is how it comes back out. No DUST is kept: an ETH balance costs arbs no storage write.
    ///      Reverts ZeroAddress, InvalidEthAmount for 0 or more than the balance, EthTransferFailed if `to` refuses.
    /// @param to The recipient; not the zero address. It gets all the gas left: the owner chose it.
    /// @param amount The amount in wei (type(uint256).max: the whole balance).
    function withdrawEth(address payable to, uint256 amount) external {
        LibDiamond.enforceIsContractOwner();
        if (to == address(0)) revert ZeroAddress();
        uint256 balance = address(this).balance;
        if (amount == type(uint256).max) amount = balance;
        if (amount == 0 || amount > balance) revert InvalidEthAmount(balance, amount);
        emit EthWithdrawn(to, amount); // undone with the call if `to` refuses
        (bool ok, ) = to.call{value: amount}("");
        if (!ok) revert EthTransferFailed(to, amount);
    }

    /// @notice Set the profit split: `accounts[i]` gets `bps[i]` / 10_000 of each distribute. Empty arrays clear it.
    /// @dev Owner only (NotContractOwner). Reverts InvalidSplit unless the lengths match, no share is 0 and the
    ///      shares sum to exactly 10_000; ZeroAddress for a zero account.
    /// @param accounts The beneficiaries.
    /// @param bps Their shares in basis points.
    function setBeneficiaries(address[] calldata accounts, uint16[] calldata bps) external {
        LibDiamond.enforceIsContractOwner();
        uint256 n = accounts.length;
        if (bps.length != n) revert InvalidSplit(0);
        TreasuryStorage.Beneficiary[] storage list = TreasuryStorage.layout().beneficiaries;
        while (list.length != 0) list.pop();
        uint256 total;
        for (uint256 i; i < n; ++i) {
            if (accounts[i] == address(0)) revert ZeroAddress();
            if (bps[i] == 0) revert InvalidSplit(total);
            total += bps[i];
            list.push(TreasuryStorage.Beneficiary(accounts[i], bps[i]));
        }
        if (n != 0 && total != BPS) revert InvalidSplit(total);
        emit BeneficiariesSet(accounts, bps);
    }

    /// @notice Split the diamond's `token` balance above DUST among the beneficiaries, by their shares.
    /// @dev Owner only (NotContractOwner). Each share is rounded down; the rounding remainder (less than one wei
    ///      per beneficiary) stays in the diamond. Reverts NoBeneficiaries when no split is set.
    /// @param token The ERC-20 token.
    /// @return distributed The total sent.
    function distribute(address token) external returns (uint256 distributed) {
        LibDiamond.enforceIsContractOwner();
        TreasuryStorage.Beneficiary[] storage list = TreasuryStorage.layout().beneficiaries;
        uint256 n = list.length;
        if (n == 0) revert NoBeneficiaries();
        uint256 balance = IERC20(token).balanceOf(address(this));
        uint256 pot = balance > DUST ? balance - DUST : 0;
        for (uint256 i; i < n; ++i) {
            TreasuryStorage.Beneficiary storage b = list[i];
            uint256 share = (pot * b.bps) / BPS; // cannot overflow: a token balance times 10_000
            if (share == 0) continue;
            LibSafeERC20.safeTransfer(IERC20(token), b.account, share);
            distributed += share;
            emit Distributed(token, b.account, share);
        }
    }

    /// @notice The profit split.
    /// @return accounts The beneficiaries.
    /// @return bps Their shares in basis points.
    function beneficiaries() external view returns (address[] memory accounts, uint16[] memory bps) {
        TreasuryStorage.Beneficiary[] storage list = TreasuryStorage.layout().beneficiaries;
        uint256 n = list.length;
        accounts = new address[](n);
        bps = new uint16[](n);
        for (uint256 i; i < n; ++i) {
            accounts[i] = list[i].account;
            bps[i] = list[i].bps;
        }
    }
}
