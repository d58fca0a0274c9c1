"""Tokens at their canonical addresses: WETH9 from canonical-weth, USDT as mainnet's
TetherToken behaves (no return values, the approve race guard), the rest replica ERC-20s with
mainnet's names, symbols and decimals."""

from __future__ import annotations

from flasharb.chain.artifacts import contract, npm_artifact
from flasharb.chain.etch import etch
from flasharb.errors import FlasharbValueError
from flasharb.replica.context import BUILDER, BuildContext, deploy_code
from flasharb.replica.spec import TokenSpec

# The real WETH9 source (deposit on plain ETH, bare reverts, mainnet's storage layout) from npm
# canonical-weth, compiled with solc 0.5.0. @uniswap/v2-periphery's WETH9 is Uniswap's 0.6.6 test
# copy, whose fallback is commented out, so sending plain ETH to it reverts; mainnet's deposits.
WETH9 = "canonical-weth/build/contracts/WETH9.json"
ARTIFACTS = [WETH9]
CONTRACTS = ["ReplicaERC20", "ReplicaTetherToken"]

# ReplicaTetherToken hardcodes mainnet's metadata, as TetherToken's storage holds it.
USDT_NAME, USDT_SYMBOL, USDT_DECIMALS = "Tether USD", "USDT", 6


def creation_code(t: TokenSpec) -> bytes:
    """Creation code (constructor arguments included) of a non-WETH token: all of its supply
    goes to the builder."""
    if t.kind == "usdt":
        if (t.name, t.symbol, t.decimals) != (USDT_NAME, USDT_SYMBOL, USDT_DECIMALS):
            raise FlasharbValueError(
                f"token {t.symbol} of kind 'usdt' must be named {USDT_NAME!r}, symbol "
                f"{USDT_SYMBOL!r}, {USDT_DECIMALS} decimals, as mainnet's TetherToken"
            )
        return deploy_code(
            contract("ReplicaTetherToken"), ["address", "uint256"], [BUILDER, t.supply]
        )
    return deploy_code(
        contract("ReplicaERC20"),
        ["string", "string", "uint8", "address", "uint256"],
        [t.name, t.symbol, t.decimals, BUILDER, t.supply],
    )


def deploy_tokens(ctx: BuildContext) -> None:
    for t in ctx.spec.tokens:
        if t.kind == "weth9":
            etch(ctx.url, BUILDER, npm_artifact(WETH9).bytecode, t.address)
            weth = ctx.at(t.address, npm_artifact(WETH9).abi)
            ctx.call(weth, "deposit", [], "WETH.deposit", value=t.supply)  # the builder wraps it
        else:
            # BuildContext.transfer/approve encode with ReplicaERC20's ABI: the selectors are the
            # same for USDT, and the receipt is all they read, so USDT's missing return is fine.
            etch(ctx.url, BUILDER, creation_code(t), t.address)
