// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice DO NOT DEPLOY. A deliberately naive flash-loan arbitrage contract, written the way common tutorial
///         templates are, for `flasharb audit` to find its holes (docs/audit.md).
/// @dev The holes, each marked HOLE below:
///      1. receiveFlashLoan checks that the caller is the Balancer Vault but not that this contract started the loan:
///         anyone may call Vault.flashLoan naming this contract, with any userData, and make it trade its
///         inventory at a loss (the fees and slippage of the round trip are paid from its balance).
///      2. uniswapV3FlashCallback and uniswapV2Call do not check that the caller is a pool this contract called
///         (no CallbackValidation, no `sender == address(this)`): any pool's flash, or a pool's address calling
///         directly, makes it "repay" a loan it never took.
///      3. The constructor approves the swap router for type(uint256).max and never revokes it (standing approvals).
///      Tutorial style kept on purpose: require strings, unchecked ERC-20 return values, no reentrancy guard. The
///      fixed version of each hole is flasharb's own FlashArbFacet (contracts/facets/FlashArbFacet.sol).

interface IERC20 {
    function transfer(address to, uint256 amount) external returns (bool);
    function approve(address spender, uint256 amount) external returns (bool);
    function balanceOf(address account) external view returns (uint256);
}

interface IVault {
    function flashLoan(address recipient, address[] memory tokens, uint256[] memory amounts, bytes memory userData)
        external;
}

interface ISwapRouter {
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

    function exactInputSingle(ExactInputSingleParams calldata params) external payable returns (uint256 amountOut);
}

interface IPool {
    function token0() external view returns (address);
    function flash(address recipient, uint256 amount0, uint256 amount1, bytes calldata data) external; // Uniswap V3
    function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes calldata data) external; // Uniswap V2
}

contract NaiveFlashLoan {
    /// @notice Balancer V2 Vault (mainnet).
    IVault public constant VAULT = IVault(0xBA12222222228d8Ba445958a75a0704d566BF2C8);
    /// @notice Uniswap V3 SwapRouter (mainnet).
    ISwapRouter public constant ROUTER = ISwapRouter(0xE592427A0AEce92De3Edee1F18E0157C05861564);

    /// @notice Who may start trades and withdraw.
    address public owner;

    modifier onlyOwner() {
        require(msg.sender == owner, "not owner");
        _;
    }

    /// @param tokens Tokens the router may pull from this contract, forever.
    constructor(address[] memory tokens) {
        owner = msg.sender;
        for (uint256 i = 0; i < tokens.length; i++) {
            IERC20(tokens[i]).approve(address(ROUTER), type(uint256).max); // HOLE 3: a standing approval
        }
    }

    // ------------------------------------------------------------------ start a trade (owner only)

    /// @notice Borrow `amount` of `tokenA` from Balancer, swap it to `tokenB` and back, repay.
    function startArb(address tokenA, address tokenB, uint24 feeIn, uint24 feeOut, uint256 amount)
        external
        onlyOwner
    {
        address[] memory tokens = new address[](1);
        tokens[0] = tokenA;
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = amount;
        VAULT.flashLoan(address(this), tokens, amounts, abi.encode(tokenB, feeIn, feeOut));
    }

    /// @notice Borrow `amount` of a Uniswap V3 pool's token0, swap it to `tokenB` and back, repay.
    function startV3Flash(address pool, uint256 amount, address tokenB, uint24 feeIn, uint24 feeOut)
        external
        onlyOwner
    {
        IPool(pool).flash(address(this), amount, 0, abi.encode(amount, tokenB, feeIn, feeOut));
    }

    /// @notice Flash-swap `amount` of a Uniswap V2 pair's token0, swap it to `tokenB` and back, repay.
    function startV2Flash(address pair, uint256 amount, address tokenB, uint24 feeIn, uint24 feeOut)
        external
        onlyOwner
    {
        IPool(pair).swap(amount, 0, address(this), abi.encode(tokenB, feeIn, feeOut));
    }

    // ------------------------------------------------------------------ callbacks

    /// @notice Balancer V2 flash-loan callback.
    function receiveFlashLoan(
        address[] memory tokens,
        uint256[] memory amounts,
        uint256[] memory feeAmounts,
        bytes memory userData
    ) external {
        require(msg.sender == address(VAULT), "not vault"); // HOLE 1: but who asked the Vault for this loan?
        (address tokenB, uint24 feeIn, uint24 feeOut) = abi.decode(userData, (address, uint24, uint24));
        _roundTrip(tokens[0], tokenB, feeIn, feeOut, amounts[0]);
        IERC20(tokens[0]).transfer(address(VAULT), amounts[0] + feeAmounts[0]); // any loss comes from inventory
    }

    /// @notice Uniswap V3 flash callback.
    function uniswapV3FlashCallback(uint256 fee0, uint256, bytes calldata data) external {
        // HOLE 2: msg.sender is trusted to be the pool startV3Flash called
        (uint256 amount, address tokenB, uint24 feeIn, uint24 feeOut) =
            abi.decode(data, (uint256, address, uint24, uint24));
        address token0 = IPool(msg.sender).token0();
        _roundTrip(token0, tokenB, feeIn, feeOut, amount);
        IERC20(token0).transfer(msg.sender, amount + fee0);
    }

    /// @notice Uniswap V2 flash-swap callback.
    function uniswapV2Call(address, uint256 amount0, uint256, bytes calldata data) external {
        // HOLE 2: neither msg.sender (a genuine pair?) nor the initiator (`sender`) is checked
        (address tokenB, uint24 feeIn, uint24 feeOut) = abi.decode(data, (address, uint24, uint24));
        address token0 = IPool(msg.sender).token0();
        _roundTrip(token0, tokenB, feeIn, feeOut, amount0);
        IERC20(token0).transfer(msg.sender, (amount0 * 1000) / 997 + 1); // repay with the pair's 0.3% fee
    }

    // ------------------------------------------------------------------ owner

    /// @notice Send `amount` of `token` to the owner.
    function withdraw(address token, uint256 amount) external onlyOwner {
        IERC20(token).transfer(owner, amount);
    }

    /// @notice Send this contract's ETH to the owner.
    function withdrawETH() external onlyOwner {
        payable(owner).transfer(address(this).balance);
    }

    receive() external payable {}

    // ------------------------------------------------------------------ internals

    /// @dev `amount` of `tokenA` to `tokenB` on the `feeIn` pool, and all of it back on the `feeOut` pool.
    function _roundTrip(address tokenA, address tokenB, uint24 feeIn, uint24 feeOut, uint256 amount) internal {
        uint256 mid = ROUTER.exactInputSingle(
            ISwapRouter.ExactInputSingleParams(tokenA, tokenB, feeIn, address(this), block.timestamp, amount, 0, 0)
        );
        ROUTER.exactInputSingle(
            ISwapRouter.ExactInputSingleParams(tokenB, tokenA, feeOut, address(this), block.timestamp, mid, 0, 0)
        );
    }
}
