"""Tokens at their canonical addresses: WETH9 from @uniswap/v2-periphery, the rest replica ERC-20s
with mainnet's names, symbols and decimals."""

from __future__ import annotations

from flasharb.chain.artifacts import contract, npm_artifact
from flasharb.chain.etch import etch
from flasharb.replica.context import BUILDER, BuildContext, deploy_code

WETH9 = "@uniswap/v2-periphery/build/WETH9.json"
ARTIFACTS = [WETH9]
CONTRACTS = ["ReplicaERC20"]


def deploy_tokens(ctx: BuildContext) -> None:
    for t in ctx.spec.tokens:
        if t.kind == "weth9":
            etch(ctx.url, BUILDER, npm_artifact(WETH9).bytecode, t.address)
            weth = ctx.at(t.address, npm_artifact(WETH9).abi)
            ctx.call(weth, "deposit", [], "WETH.deposit", value=t.supply)  # the builder wraps it
        else:
            code = deploy_code(
                contract("ReplicaERC20"),
                ["string", "string", "uint8", "address", "uint256"],
                [t.name, t.symbol, t.decimals, BUILDER, t.supply],
            )
            etch(ctx.url, BUILDER, code, t.address)
