// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ZooERC20} from "./ZooERC20.sol";

/// @notice Models rebasing tokens (stETH, AMPL, Aave's aTokens): balances are shares times a global index the owner moves, and that may grow with time.
/// @dev Balances change without any transfer (a pool's balance drifts away from its reserves), and
///      an amount is moved as whole shares, rounded down as stETH does: the recipient may get a
///      wei or two less than the amount sent, and a "send everything" leaves share dust. With a
///      growth rate set, the index also rises every second, as an aToken's balance accrues
///      interest (zero by default: the index moves only when the owner sets it).
contract RebasingToken is ZooERC20 {
    /// @notice The index moved from `oldIndex` to `newIndex`: every balance scaled by their ratio.
    event Rebased(uint256 oldIndex, uint256 newIndex);
    /// @notice From now on the index grows by `perSecond` every second.
    event GrowthSet(uint256 perSecond);

    error ZeroIndex();

    /// @notice An index of 1.0 (18 decimals).
    uint256 public constant ONE = 1e18;

    /// @notice How much the index grows per second (18 decimals); zero by default.
    uint256 public growthPerSecond;

    uint256 private _indexAt = ONE; // the index at `_since`
    uint256 private _since = block.timestamp; // when the index was last set

    constructor(string memory _name, string memory _symbol, uint8 _decimals, address holder, uint256 supply)
        ZooERC20(_name, _symbol, _decimals, holder, supply)
    {}

    /// @notice Rebase: set tokens per share. Owner only.
    /// @param newIndex Tokens per share, 18 decimals (ONE = 1.0); not zero.
    function setIndex(uint256 newIndex) external onlyOwner {
        if (newIndex == 0) revert ZeroIndex();
        emit Rebased(index(), newIndex);
        _indexAt = newIndex;
        _since = block.timestamp;
    }

    /// @notice Let the index grow by `perSecond` every second from now on (0 stops it). Owner only.
    /// @param perSecond Index growth per second, 18 decimals (ONE / 86400 adds 1.0 a day).
    function setGrowth(uint256 perSecond) external onlyOwner {
        _indexAt = index(); // what has accrued so far stays
        _since = block.timestamp;
        growthPerSecond = perSecond;
        emit GrowthSet(perSecond);
    }

    /// @notice Tokens per share, 18 decimals; starts at ONE.
    /// @return The index now: the last one set plus what it has grown since.
    function index() public view returns (uint256) {
        return _indexAt + growthPerSecond * (block.timestamp - _since);
    }

    /// @notice Shares held by `account` (what a balance is made of).
    /// @param account The holder.
    /// @return The shares.
    function sharesOf(address account) external view returns (uint256) {
        return _stored[account];
    }

    /// @notice All shares in existence.
    /// @return The shares.
    function totalShares() external view returns (uint256) {
        return _totalStored;
    }

    function _toStored(uint256 amount) internal view override returns (uint256) {
        return amount * ONE / index(); // rounds down, like stETH's getSharesByPooledEth
    }

    function _fromStored(uint256 units) internal view override returns (uint256) {
        return units * index() / ONE; // rounds down, like stETH's getPooledEthByShares
    }
}
