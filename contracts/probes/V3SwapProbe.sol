// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The parts of a Uniswap V3 pool the probe calls.
interface V3ProbePool {
    function slot0()
        external
        view
        returns (uint160 sqrtPriceX96, int24 tick, uint16, uint16, uint16, uint8, bool);

    function liquidity() external view returns (uint128);

    function swap(address recipient, bool zeroForOne, int256 amountSpecified, uint160 sqrtPriceLimitX96, bytes calldata data)
        external
        returns (int256 amount0, int256 amount1);
}

/// @notice Uniswap V3 QuoterV2's single-pool quotes (v3-periphery lens/QuoterV2.sol).
interface V3ProbeQuoter {
    struct QuoteExactInputSingleParams {
        address tokenIn;
        address tokenOut;
        uint256 amountIn;
        uint24 fee;
        uint160 sqrtPriceLimitX96;
    }

    struct QuoteExactOutputSingleParams {
        address tokenIn;
        address tokenOut;
        uint256 amount;
        uint24 fee;
        uint160 sqrtPriceLimitX96;
    }

    function quoteExactInputSingle(QuoteExactInputSingleParams memory params)
        external
        returns (uint256 amountOut, uint160 sqrtPriceX96After, uint32 initializedTicksCrossed, uint256 gasEstimate);

    function quoteExactOutputSingle(QuoteExactOutputSingleParams memory params)
        external
        returns (uint256 amountIn, uint160 sqrtPriceX96After, uint32 initializedTicksCrossed, uint256 gasEstimate);
}

/// @notice Test probe: many Uniswap V3 swaps simulated in one eth_call, each both through QuoterV2 and straight on
///         the pool, every outcome (result or revert data) returned.
/// @dev Never deployed: its runtime code is placed at an unused address with an eth_call state override, so it has
///      no constructor, no immutables and no storage. Every swap it starts reverts (QuoterV2's by design, the pool's
///      in this contract's callback), so nothing moves; the callback authenticates nobody for the same reason.
contract V3SwapProbe {
    /// @dev Uniswap V3 QuoterV2, at its mainnet address (also the replica's).
    V3ProbeQuoter internal constant QUOTER = V3ProbeQuoter(0x61fFE014bA17989E743c5F6cB21bF9697530B21e);
    /// @dev TickMath.MIN_SQRT_RATIO + 1 and TickMath.MAX_SQRT_RATIO - 1: the limits QuoterV2 uses when given none.
    uint160 internal constant MIN_LIMIT = 4295128740;
    uint160 internal constant MAX_LIMIT = 1461446703485210103287273052203988822378723970341;

    /// @notice One swap to simulate.
    struct Case {
        address pool;
        address tokenIn;
        address tokenOut;
        uint24 fee;
        bool zeroForOne; // tokenIn is the pool's token0
        int256 amountSpecified; // > 0 exact input, < 0 exact output (the pool's convention)
        uint160 sqrtPriceLimitX96; // 0: QuoterV2's default limit, for both calls
    }

    /// @notice What QuoterV2 and the pool made of one Case.
    struct Outcome {
        bool quoted; // QuoterV2 returned (else quoteRevert holds its revert data)
        uint256 quoteAmount; // amount out (exact input) or in (exact output)
        uint160 quoteSqrtPriceX96After;
        uint32 quoteTicksCrossed;
        bytes quoteRevert;
        bool swapped; // the pool reached the callback (else swapRevert holds its revert data)
        int256 amount0; // the pool's deltas, as passed to the callback
        int256 amount1;
        uint160 sqrtPriceX96After; // slot0 and liquidity as the callback saw them
        int24 tickAfter;
        uint128 liquidityAfter;
        bytes swapRevert;
    }

    /// @notice Raised by the callback to carry the pool's state out of the reverted swap.
    error SwapOutcome(int256 amount0, int256 amount1, uint160 sqrtPriceX96, int24 tick, uint128 liquidity);

    /// @notice Simulate every case, in order.
    /// @param cases The swaps.
    /// @return outcomes One per case.
    function run(Case[] calldata cases) external returns (Outcome[] memory outcomes) {
        outcomes = new Outcome[](cases.length);
        for (uint256 i = 0; i < cases.length; ++i) {
            _quote(cases[i], outcomes[i]);
            _swap(cases[i], outcomes[i]);
        }
    }

    /// @notice Reverts with the pool's deltas, price, tick and liquidity in the middle of its swap.
    /// @param amount0Delta Token0 owed to the pool (negative: paid out).
    /// @param amount1Delta Token1 owed to the pool (negative: paid out).
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata) external view {
        V3ProbePool pool = V3ProbePool(msg.sender);
        (uint160 sqrtPriceX96, int24 tick,,,,,) = pool.slot0();
        revert SwapOutcome(amount0Delta, amount1Delta, sqrtPriceX96, tick, pool.liquidity());
    }

    function _quote(Case calldata c, Outcome memory o) private {
        if (c.amountSpecified > 0) {
            try QUOTER.quoteExactInputSingle(
                V3ProbeQuoter.QuoteExactInputSingleParams({
                    tokenIn: c.tokenIn,
                    tokenOut: c.tokenOut,
                    amountIn: uint256(c.amountSpecified),
                    fee: c.fee,
                    sqrtPriceLimitX96: c.sqrtPriceLimitX96
                })
            ) returns (uint256 amount, uint160 sqrtAfter, uint32 crossed, uint256) {
                (o.quoted, o.quoteAmount, o.quoteSqrtPriceX96After, o.quoteTicksCrossed) = (true, amount, sqrtAfter, crossed);
            } catch (bytes memory reason) {
                o.quoteRevert = reason;
            }
        } else {
            try QUOTER.quoteExactOutputSingle(
                V3ProbeQuoter.QuoteExactOutputSingleParams({
                    tokenIn: c.tokenIn,
                    tokenOut: c.tokenOut,
                    amount: uint256(-c.amountSpecified), // cases never hold type(int256).min
                    fee: c.fee,
                    sqrtPriceLimitX96: c.sqrtPriceLimitX96
                })
            ) returns (uint256 amount, uint160 sqrtAfter, uint32 crossed, uint256) {
                (o.quoted, o.quoteAmount, o.quoteSqrtPriceX96After, o.quoteTicksCrossed) = (true, amount, sqrtAfter, crossed);
            } catch (bytes memory reason) {
                o.quoteRevert = reason;
            }
        }
    }

    function _swap(Case calldata c, Outcome memory o) private {
        uint160 limit = c.sqrtPriceLimitX96;
        if (limit == 0) limit = c.zeroForOne ? MIN_LIMIT : MAX_LIMIT;
        try V3ProbePool(c.pool).swap(address(this), c.zeroForOne, c.amountSpecified, limit, "") {
            // unreachable: the callback always reverts
        } catch (bytes memory reason) {
            if (reason.length == 164 && bytes4(reason) == SwapOutcome.selector) {
                o.swapped = true;
                (o.amount0, o.amount1, o.sqrtPriceX96After, o.tickAfter, o.liquidityAfter) =
                    abi.decode(_args(reason), (int256, int256, uint160, int24, uint128));
            } else {
                o.swapRevert = reason;
            }
        }
    }

    /// @dev `data` without its 4-byte selector.
    function _args(bytes memory data) private pure returns (bytes memory args) {
        args = new bytes(data.length - 4);
        for (uint256 i = 0; i < args.length; ++i) {
            args[i] = data[i + 4];
        }
    }
}
