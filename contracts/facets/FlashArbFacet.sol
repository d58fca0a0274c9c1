// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IBalancerVault} from "../interfaces/IBalancerVault.sol";
import {IERC20} from "../interfaces/IERC20.sol";
import {IFlashLoanRecipient} from "../interfaces/IFlashLoanRecipient.sol";
import {LibDiamond} from "../libraries/LibDiamond.sol";
import {LibRoute, UnsupportedHopKind} from "../libraries/LibRoute.sol";
import {LibSafeERC20} from "../libraries/LibSafeERC20.sol";
import {LibUniswapV2} from "../libraries/LibUniswapV2.sol";
import {TransientState} from "../storage/TransientState.sol";

/// @notice Flash-loan arbitrage: borrow from the Balancer V2 Vault, swap around a cycle of pools, keep the profit.
/// @dev Gas is a product feature here: no storage writes (transient only), no standing approvals (V2 pairs are
///      paid by transfer), each V2 hop pays the next pair directly, calldata end to end.
contract FlashArbFacet is IFlashLoanRecipient, TransientState {
    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The Balancer V2 Vault: the flash-loan source, and the only caller receiveFlashLoan accepts.
    IBalancerVault internal constant BALANCER_VAULT = IBalancerVault(0xBA12222222228d8Ba445958a75a0704d566BF2C8); // Balancer V2 Vault, same address on every chain

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice An arb completed. `routeHash` = keccak256(abi.encode(route.hops)) (the hops only, not token or
    ///         amount, so one path keeps one id across sizes); `amountOut` is the last hop's output, before repaying
    ///         `amountIn + flashFee`; `profit` is the diamond's balance change in `token`.
    event ArbExecuted(
        bytes32 indexed routeHash,
        address indexed token,
        address indexed executor,
        uint256 amountIn,
        uint256 amountOut,
        uint256 flashFee,
        uint256 profit,
        address flashSource
    );

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice The transaction was mined after `deadlineBlock`.
    error DeadlinePassed(uint256 deadlineBlock, uint256 blockNumber);
    /// @notice executeArb was re-entered.
    error Reentrancy();
    /// @notice receiveFlashLoan was called by `caller`, not the Balancer V2 Vault.
    error UnauthorizedFlashLoanCaller(address caller);
    /// @notice receiveFlashLoan was called for a loan this contract did not request in this transaction.
    error UnsolicitedFlashLoan();
    /// @notice The route returned `profit` (negative: a loss) net of the loan and fee, below `minProfit`.
    error InsufficientProfit(int256 profit, uint256 minProfit);

    /*//////////////////////////////////////////////////////////////
                                  LOGIC
    //////////////////////////////////////////////////////////////*/

    /// @notice Borrow `route.amountIn` of `route.token` from Balancer, swap it along `route.hops`, repay, and keep
    ///         at least `minProfit` of `route.token` in the diamond.
    /// @dev Owner only (NotContractOwner). Reverts DeadlinePassed after `deadlineBlock`, Reentrancy when re-entered,
    ///      InvalidHopCount / InvalidAmountIn / InvalidRoute / UnsupportedHopKind for a malformed route (before
    ///      borrowing), InsufficientProfit when the cycle does not pay. The Vault receives
    ///      userData = abi.encode(route, minProfit); its hash is the in-flight marker receiveFlashLoan checks.
    /// @param route The cycle: borrowed token, amount, 1 to 4 hops from and back to that token.
    /// @param minProfit Least acceptable gain in `route.token`, net of the flash fee (0: break-even is enough).
    /// @param deadlineBlock Last block in which the arb may execute.
    /// @return profit The diamond's balance gain in `route.token`.
    function executeArb(LibRoute.Route calldata route, uint256 minProfit, uint256 deadlineBlock)
        external
        returns (uint256 profit)
    {
        LibDiamond.enforceIsContractOwner();
        if (block.number > deadlineBlock) revert DeadlinePassed(deadlineBlock, block.number);
        if (_arbLocked) revert Reentrancy();
        _arbLocked = true;
        LibRoute.validate(route);

        IERC20 token = IERC20(route.token);
        uint256 balanceBefore = token.balanceOf(address(this));
        _arbBalanceBefore = balanceBefore; // the callback measures profit against it before repaying
        {
            bytes memory userData = abi.encode(route, minProfit);
            _arbInFlight = keccak256(userData); // the callback accepts this exact loan and nothing else
            IERC20[] memory tokens = new IERC20[](1);
            tokens[0] = token;
            uint256[] memory amounts = new uint256[](1);
            amounts[0] = route.amountIn;
            BALANCER_VAULT.flashLoan(this, tokens, amounts, userData); // calls back receiveFlashLoan
        }
        // the callback consumed the in-flight marker; what is left is to measure the result on real balances
        uint256 balanceAfter = token.balanceOf(address(this));
        if (balanceAfter < balanceBefore || balanceAfter - balanceBefore < minProfit) {
            revert InsufficientProfit(_signedDelta(balanceAfter, balanceBefore), minProfit); // a token took more than amount + fee
        }
        unchecked {
            profit = balanceAfter - balanceBefore; // cannot underflow: checked just above
        }
        _arbLocked = false;
        emit ArbExecuted(
            keccak256(abi.encode(route.hops)),
            address(token),
            msg.sender,
            route.amountIn,
            _arbAmountOut,
            _arbFlashFee,
            profit,
            address(BALANCER_VAULT)
        );
    }

    /// @notice Balancer V2 flash-loan callback: runs the route's hops, checks the profit, repays the Vault.
    /// @dev Never meant to be called directly; two security properties make that safe:
    ///      (1) The caller must be the Balancer V2 Vault (UnauthorizedFlashLoanCaller otherwise), so nobody else can
    ///      hand this contract tokens plus instructions.
    ///      (2) The loan must have been initiated by this contract, in this transaction, for this exact route.
    ///      Balancer V2 loans are not EIP-3156 and do not pass the initiator, and anyone may ask the Vault to lend
    ///      to any recipient; so executeArb stores keccak256(userData) in transient storage just before flashLoan,
    ///      and this callback requires keccak256(userData) to equal that non-zero marker (UnsolicitedFlashLoan
    ///      otherwise), then clears it: a marker is good for one callback, and never outlives the transaction.
    ///      Because the hash binds userData to what executeArb validated, userData is read in place from calldata
    ///      without re-validating. The profit check (InsufficientProfit) runs before repaying.
    /// @param tokens The borrowed token (exactly one: route.token).
    /// @param amounts The borrowed amount (route.amountIn).
    /// @param feeAmounts The Vault's fee on the loan, owed on top of the amount.
    /// @param userData abi.encode(route, minProfit), as executeArb passed it.
    function receiveFlashLoan(
        IERC20[] calldata tokens,
        uint256[] calldata amounts,
        uint256[] calldata feeAmounts,
        bytes calldata userData
    ) external override {
        if (msg.sender != address(BALANCER_VAULT)) revert UnauthorizedFlashLoanCaller(msg.sender);
        {
            bytes32 inFlight = _arbInFlight;
            if (inFlight == bytes32(0) || keccak256(userData) != inFlight) revert UnsolicitedFlashLoan();
        }
        _arbInFlight = bytes32(0); // one-shot: no second callback can reuse it

        LibRoute.Route calldata route;
        uint256 minProfit;
        assembly ("memory-safe") {
            // userData is our own abi.encode(route, minProfit) (hash checked above): head = (offset of route, minProfit)
            route := add(userData.offset, calldataload(userData.offset))
            minProfit := calldataload(add(userData.offset, 0x20))
        }

        IERC20 token = tokens[0];
        uint256 fee = feeAmounts[0];
        uint256 owed = amounts[0] + fee;
        uint256 amountOut = _runHops(route.hops, amounts[0]);
        _requireProfit(token, owed, minProfit);
        _arbAmountOut = amountOut; // for the ArbExecuted event in executeArb
        _arbFlashFee = fee;
        LibSafeERC20.safeTransfer(token, address(BALANCER_VAULT), owed); // the Vault checks its balance after we return
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev Swap `amount` of hops[0].tokenIn along `hops`; the last hop pays this contract. Returns its output.
    function _runHops(LibRoute.Hop[] calldata hops, uint256 amount) private returns (uint256) {
        uint256 n = hops.length;
        bool atPool; // whether `amount` of the hop's tokenIn already sits in its pool
        for (uint256 i; i < n; ) {
            LibRoute.Hop calldata hop = hops[i];
            if (hop.kind != LibRoute.KIND_UNISWAP_V2) revert UnsupportedHopKind(i, hop.kind); // validated; dispatch fallback
            if (!atPool) LibSafeERC20.safeTransfer(IERC20(hop.tokenIn), hop.pool, amount); // V2 pairs are paid before swap
            unchecked {
                ++i; // cannot overflow: i < n <= MAX_HOPS
            }
            address to = address(this);
            atPool = i < n && hops[i].kind == LibRoute.KIND_UNISWAP_V2;
            if (atPool) to = hops[i].pool; // V2 -> V2: the output goes straight into the next pair
            amount = LibUniswapV2.swap(hop.pool, hop.tokenIn < hop.tokenOut, hop.fee, amount, to); // V2 sorts token0 < token1
        }
        return amount;
    }

    /// @dev Revert InsufficientProfit unless this contract now holds balance-before-loan + `owed` + `minProfit`.
    function _requireProfit(IERC20 token, uint256 owed, uint256 minProfit) private view {
        uint256 breakEven = _arbBalanceBefore + owed; // checked: a fee near 2^256 must revert, not wrap
        uint256 balanceNow = token.balanceOf(address(this));
        if (balanceNow < breakEven || balanceNow - breakEven < minProfit) {
            revert InsufficientProfit(_signedDelta(balanceNow, breakEven), minProfit); // never overflows on huge minProfit
        }
    }

    /// @dev a - b as int256, for error data only (values beyond int256 range are far outside real balances).
    function _signedDelta(uint256 a, uint256 b) private pure returns (int256) {
        return a >= b ? int256(a - b) : -int256(b - a);
    }
}
