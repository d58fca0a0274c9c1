// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IBalancerVault} from "../interfaces/IBalancerVault.sol";
import {IERC20} from "../interfaces/IERC20.sol";
import {IFlashLoanRecipient} from "../interfaces/IFlashLoanRecipient.sol";

/// @notice UniswapV2Router02 (v2-periphery): the canonical V2 router's multi-hop exact-input swap.
interface IBaselineV2Router {
    /// @notice Sell exactly `amountIn` of path[0] along `path`, pulling it from msg.sender.
    /// @param amountIn Exact input.
    /// @param amountOutMin Least output of path[last].
    /// @param path Tokens, in order; one pair per neighbouring two.
    /// @param to Receives the output.
    /// @param deadline Latest block timestamp.
    /// @return amounts The input, then each hop's output.
    function swapExactTokensForTokens(
        uint256 amountIn,
        uint256 amountOutMin,
        address[] calldata path,
        address to,
        uint256 deadline
    ) external returns (uint256[] memory amounts);
}

/// @notice SwapRouter (v3-periphery): the canonical V3 router's single-pool exact-input swap.
interface IBaselineV3Router {
    /// @notice exactInputSingle's parameters.
    struct ExactInputSingleParams {
        address tokenIn;
        address tokenOut;
        uint24 fee;
        address recipient;
        uint256 deadline;
        uint256 amountIn;
        uint256 amountOutMinimum;
        uint160 sqrtPriceLimitX96;
    }

    /// @notice Sell exactly `params.amountIn` of tokenIn in the tokenIn/tokenOut pool at `fee`.
    /// @param params The swap.
    /// @return amountOut What the pool paid.
    function exactInputSingle(ExactInputSingleParams calldata params) external payable returns (uint256 amountOut);
}

/// @notice The gas benchmark's baseline: the same Balancer flash loan as FlashArbFacet, but every swap goes through
///         the canonical routers (UniswapV2Router02, SwapRouter), which read reserves and compute amounts on-chain.
/// @dev Not part of the diamond and never deployed outside bench/gas.py. It keeps the diamond's safety habits so the
///      comparison is about routing, not corners cut: owner-only, a Vault-only callback that must be in flight, a
///      final balance check, and approvals of exactly the amount each router pulls (or, with `approve` off, the
///      standing approvals the owner set beforehand with approveMax).
contract RouterBaseline is IFlashLoanRecipient {
    IBalancerVault internal constant VAULT = IBalancerVault(0xBA12222222228d8Ba445958a75a0704d566BF2C8); // Balancer V2 Vault

    /// @notice One router call.
    struct Leg {
        bool v3; // SwapRouter.exactInputSingle (path = [tokenIn, tokenOut]); else UniswapV2Router02 (any path)
        bool approve; // approve the router for exactly the input first (else rely on a standing approval)
        address router;
        uint24 fee; // V3 fee tier
        address[] path; // tokens, from the leg's input to its output
    }

    address internal immutable OWNER; // deployer: the only caller of run and approveMax
    bool internal transient inFlight; // set by run around its own flash loan

    /// @notice A caller other than the owner, or a callback other than the Vault's own in-flight loan.
    error Unauthorized(address caller);
    /// @notice The loan returned less than it cost.
    error InsufficientProfit(uint256 balanceBefore, uint256 balanceAfter);

    constructor() {
        OWNER = msg.sender;
    }

    /// @notice Borrow `amount` of `token` from the Vault, run `legs`, repay, keep at least `minProfit`.
    /// @param token Borrowed and returned.
    /// @param amount Borrowed.
    /// @param legs The router calls, in order; the last ends in `token`.
    /// @param minProfit Least gain in `token`.
    /// @return profit The gain.
    function run(address token, uint256 amount, Leg[] calldata legs, uint256 minProfit)
        external
        returns (uint256 profit)
    {
        if (msg.sender != OWNER) revert Unauthorized(msg.sender);
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20[] memory tokens = new IERC20[](1);
        tokens[0] = IERC20(token);
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = amount;
        inFlight = true;
        VAULT.flashLoan(this, tokens, amounts, abi.encode(legs));
        uint256 afterLoan = IERC20(token).balanceOf(address(this));
        if (afterLoan < before + minProfit) revert InsufficientProfit(before, afterLoan);
        profit = afterLoan - before;
    }

    /// @notice Give `router` a standing max approval of `token` (the standing-approval variant).
    /// @param token The token.
    /// @param router The router.
    function approveMax(address token, address router) external {
        if (msg.sender != OWNER) revert Unauthorized(msg.sender);
        IERC20(token).approve(router, type(uint256).max);
    }

    /// @notice The Vault's callback: run the legs through the routers, repay the Vault.
    /// @param tokens The borrowed token.
    /// @param amounts The borrowed amount.
    /// @param feeAmounts The Vault's fee.
    /// @param userData abi.encode(legs).
    function receiveFlashLoan(
        IERC20[] memory tokens,
        uint256[] memory amounts,
        uint256[] memory feeAmounts,
        bytes memory userData
    ) external override {
        if (msg.sender != address(VAULT) || !inFlight) revert Unauthorized(msg.sender);
        inFlight = false;
        Leg[] memory legs = abi.decode(userData, (Leg[]));
        uint256 amount = amounts[0];
        for (uint256 i; i < legs.length; ++i) {
            Leg memory leg = legs[i];
            if (leg.approve) IERC20(leg.path[0]).approve(leg.router, amount);
            if (leg.v3) {
                amount = IBaselineV3Router(leg.router).exactInputSingle(
                    IBaselineV3Router.ExactInputSingleParams(
                        leg.path[0], leg.path[1], leg.fee, address(this), block.timestamp, amount, 0, 0
                    )
                );
            } else {
                uint256[] memory outs = IBaselineV2Router(leg.router).swapExactTokensForTokens(
                    amount, 0, leg.path, address(this), block.timestamp
                );
                amount = outs[outs.length - 1];
            }
        }
        tokens[0].transfer(address(VAULT), amounts[0] + feeAmounts[0]);
    }
}
