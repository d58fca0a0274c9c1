// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IChild} from "../interfaces/IChild.sol";
import {IERC20} from "../interfaces/IERC20.sol";
import {IMaster} from "../interfaces/IMaster.sol";
import {LibDiamond} from "../libraries/LibDiamond.sol";
import {LibSafeERC20} from "../libraries/LibSafeERC20.sol";
import {TreasuryStorage} from "../storage/TreasuryStorage.sol";

/// @notice Interface of a child's guard, as the master checks it at registration.
interface IChildGuard {
    /// @notice GuardFacet.isExecutor.
    /// @param account The account.
    /// @return Whether it may call executeArb.
    function isExecutor(address account) external view returns (bool);
}

/// @notice The master diamond's capital structure (issue 17): it holds the capital and moves it to and from child
///         diamonds, one per strategy, each trading with its own executor key; a registry the loupe finds.
/// @dev Capital leaves the master only to a registered child (allocate) and by the owner's TreasuryFacet.withdraw;
///      it comes back with recall (the child's recallToMaster accepts its master only). Who moves it: the owner, or
///      an allocator the owner names (a key that can move capital between the master and its children and do
///      nothing else: no withdrawal, no registration, no limit). Every move emits an event naming the child; so do
///      the child's trades (ArbExecuted, emitted by the child): all of a child's P&L is attributable from logs.
///      No counters in storage: the events are the accounts (a per-child counter would cost every allocation a
///      storage write and tell nothing the logs do not).
contract MasterFacet is IMaster {
    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice What allocate leaves behind of every token, in its smallest unit (as TreasuryFacet.DUST).
    uint256 internal constant DUST = 1;

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice The caller is neither the owner nor an allocator.
    error NotAllocator(address caller);
    /// @notice `child` is not a registered child of this master.
    error NotAChild(address child);
    /// @notice `child` cannot be registered: no code, its master is `childMaster` (not this diamond), or `executor`
    ///         is the zero address, the owner, or not allowed on it.
    error InvalidChild(address child, address childMaster, address executor);
    /// @notice A zero address where an account is needed.
    error ZeroAddress();
    /// @notice allocate of `amount` would leave less than DUST of `token` (balance `balance`), or is 0.
    error DustMustStay(address token, uint256 balance, uint256 amount);

    /*//////////////////////////////////////////////////////////////
                                  LOGIC
    //////////////////////////////////////////////////////////////*/

    /// @notice Send `amount` of `token` from the master to `child`; type(uint256).max sends all but DUST.
    /// @dev Owner or allocator (NotAllocator); registered children only (NotAChild); DustMustStay, TokenTransferFailed.
    /// @param child A registered child.
    /// @param token The ERC-20 token.
    /// @param amount The amount, in the token's smallest unit.
    function allocate(address child, address token, uint256 amount) external {
        _enforceAllocator();
        if (TreasuryStorage.layout().childRecords[child].position == 0) revert NotAChild(child);
        uint256 balance = IERC20(token).balanceOf(address(this));
        if (amount == type(uint256).max) amount = balance > DUST ? balance - DUST : 0;
        if (amount == 0 || amount > balance || balance - amount < DUST) revert DustMustStay(token, balance, amount);
        LibSafeERC20.safeTransfer(IERC20(token), child, amount);
        emit Allocated(child, token, amount);
    }

    /// @notice Bring `amount` of `token` back from `child`; type(uint256).max brings all it holds but DUST.
    /// @dev Owner or allocator (NotAllocator); registered children only (NotAChild). The child sends it
    ///      (ChildFacet.recallToMaster, which takes this master's call only); Recalled reports what the master's
    ///      balance rose by, measured, not what was asked.
    /// @param child A registered child.
    /// @param token The ERC-20 token.
    /// @param amount The amount, in the token's smallest unit.
    function recall(address child, address token, uint256 amount) external {
        _enforceAllocator();
        if (TreasuryStorage.layout().childRecords[child].position == 0) revert NotAChild(child);
        uint256 before = IERC20(token).balanceOf(address(this));
        IChild(child).recallToMaster(token, amount);
        emit Recalled(child, token, IERC20(token).balanceOf(address(this)) - before);
    }

    /// @notice Register `child` (or update its record): it runs strategy `label` and trades with `executor`.
    /// @dev Owner only (NotContractOwner). InvalidChild unless `child` has code, names this diamond as its master
    ///      and allows `executor` (which must not be the owner: the executor key trades, the owner key administers).
    /// @param child The child diamond.
    /// @param label Its strategy's name.
    /// @param executor Its executor key.
    function registerChild(address child, string calldata label, address executor) external {
        LibDiamond.enforceIsContractOwner();
        address childMaster = child.code.length == 0 ? address(0) : IChild(child).master();
        if (
            childMaster != address(this) ||
            executor == address(0) ||
            executor == LibDiamond.contractOwner() ||
            !IChildGuard(child).isExecutor(executor)
        ) revert InvalidChild(child, childMaster, executor);
        TreasuryStorage.Layout storage t = TreasuryStorage.layout();
        TreasuryStorage.Child storage record = t.childRecords[child];
        if (record.position == 0) {
            t.children.push(child);
            record.position = uint96(t.children.length);
        }
        record.executor = executor;
        record.label = label;
        emit ChildRegistered(child, executor, label);
    }

    /// @notice Stop treating `child` as a child: no more allocations or recalls through the master.
    /// @dev Owner only (NotContractOwner); NotAChild. What the child holds stays there; the owner (who owns the
    ///      child too) can still recall it after registering it again, or withdraw it on the child.
    /// @param child A registered child.
    function removeChild(address child) external {
        LibDiamond.enforceIsContractOwner();
        TreasuryStorage.Layout storage t = TreasuryStorage.layout();
        uint256 position = t.childRecords[child].position;
        if (position == 0) revert NotAChild(child);
        address last = t.children[t.children.length - 1];
        t.children[position - 1] = last; // swap and pop: the list stays dense
        t.childRecords[last].position = uint96(position);
        t.children.pop();
        delete t.childRecords[child];
        emit ChildRemoved(child);
    }

    /// @notice Let `account` allocate and recall (true), or no longer (false).
    /// @dev Owner only (NotContractOwner); ZeroAddress.
    /// @param account The allocator's key.
    /// @param allowed Whether it may move capital between the master and its children.
    function setAllocator(address account, bool allowed) external {
        LibDiamond.enforceIsContractOwner();
        if (account == address(0)) revert ZeroAddress();
        TreasuryStorage.layout().allocators[account] = allowed;
        emit AllocatorSet(account, allowed);
    }

    /// @notice Every registered child, in registration order (removals move the last one into the hole).
    /// @return list The children with their executors and labels.
    function children() external view returns (ChildInfo[] memory list) {
        TreasuryStorage.Layout storage t = TreasuryStorage.layout();
        uint256 n = t.children.length;
        list = new ChildInfo[](n);
        for (uint256 i; i < n; ++i) {
            address child = t.children[i];
            TreasuryStorage.Child storage record = t.childRecords[child];
            list[i] = ChildInfo(child, record.executor, record.label);
        }
    }

    /// @notice Whether `child` is a registered child.
    /// @param child The address.
    /// @return Whether it is.
    function isChild(address child) external view returns (bool) {
        return TreasuryStorage.layout().childRecords[child].position != 0;
    }

    /// @notice Whether `account` may allocate and recall (the owner always may).
    /// @param account The account.
    /// @return Whether it may.
    function isAllocator(address account) external view returns (bool) {
        return account == LibDiamond.contractOwner() || TreasuryStorage.layout().allocators[account];
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev Revert NotAllocator unless msg.sender is the owner or an allocator.
    function _enforceAllocator() private view {
        if (msg.sender != LibDiamond.contractOwner() && !TreasuryStorage.layout().allocators[msg.sender]) {
            revert NotAllocator(msg.sender);
        }
    }
}
