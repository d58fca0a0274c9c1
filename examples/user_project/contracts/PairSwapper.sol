// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice A user's own contract (an example): sells exactly what it holds of `tokenIn` into one
///         Uniswap-V2-style pair, asking the pair for `amountOut`, the way a careful router does.
interface IPair {
    function token0() external view returns (address);
    function getReserves() external view returns (uint112, uint112, uint32);
    function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes calldata data) external;
}

interface IERC20Min {
    function balanceOf(address) external view returns (uint256);
    function transfer(address, uint256) external returns (bool);
}

contract PairSwapper {
    address public immutable owner;

    error NotOwner(address caller);

    constructor() {
        owner = msg.sender;
    }

    /// @notice Sell all of `tokenIn` this contract holds into `pair` for `amountOut` of the other token.
    /// @dev The pair's k check is the guard: asking one wei too much reverts with UniswapV2: K.
    function sellAll(address pair, address tokenIn, uint256 amountOut, address to) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        uint256 amountIn = IERC20Min(tokenIn).balanceOf(address(this));
        IERC20Min(tokenIn).transfer(pair, amountIn);
        bool zeroIn = IPair(pair).token0() == tokenIn;
        IPair(pair).swap(zeroIn ? 0 : amountOut, zeroIn ? amountOut : 0, to, "");
    }
}
