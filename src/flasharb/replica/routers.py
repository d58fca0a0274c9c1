"""The routers real swaps arrive through: UniswapV2Router02, Permit2 and the UniversalRouter
(V2), at their mainnet addresses.

- UniswapV2Router02 from @uniswap/v2-periphery, constructed as on mainnet (Uniswap V2's factory,
  WETH9).
- Permit2: @uniswap/v4-periphery ships it as the runtime code of the mainnet deployment
  (lib/permit2/test/utils/DeployPermit2.sol, which `vm.etch`es it). Its EIP-712 domain separator
  is an immutable computed for chain 1 at 0x0000…22D4, which is the replica's chain id and the
  address it lands at, so the code is mainnet's byte for byte; it is set with `anvil_setCode`.
- UniversalRouter (the V4-capable release deployed at 0x66a9…8Af) from @uniswap/universal-router's
  hardhat artifacts, with mainnet's RouterParameters: Permit2, WETH9, the V2 and V3 factories and
  init-code hashes, the V4 PoolManager, and the V3 and V4 position managers.
"""

from __future__ import annotations

import re
from functools import cache

from flasharb.chain import addresses as A
from flasharb.chain.anvil import rpc_request
from flasharb.chain.artifacts import npm_artifact
from flasharb.chain.etch import etch
from flasharb.errors import ToolchainError
from flasharb.paths import node_modules
from flasharb.replica.context import BUILDER, BuildContext, deploy_code

ROUTER02 = "@uniswap/v2-periphery/build/UniswapV2Router02.json"
UNIVERSAL_ROUTER = (
    "@uniswap/universal-router/artifacts/contracts/UniversalRouter.sol/UniversalRouter.json"
)
PERMIT2_SOURCE = "@uniswap/v4-periphery/lib/permit2/test/utils/DeployPermit2.sol"
ARTIFACTS = [ROUTER02, UNIVERSAL_ROUTER]
ROUTER_PARAMETERS = "(address,address,address,address,bytes32,bytes32,address,address,address)"


@cache
def permit2_runtime() -> bytes:
    """Permit2's mainnet runtime code, from the hex literal DeployPermit2.sol etches."""
    path = node_modules() / PERMIT2_SOURCE
    if not path.exists():
        raise ToolchainError("Permit2 bytecode (@uniswap/v4-periphery)", str(path))
    match = re.search(r'hex"([0-9a-fA-F]+)"', path.read_text())
    if match is None:
        raise ToolchainError("Permit2 bytecode literal in DeployPermit2.sol", str(path))
    return bytes.fromhex(match.group(1))


def code_fingerprint() -> bytes:
    return permit2_runtime()


def router_parameters() -> tuple[object, ...]:
    """RouterParameters of the mainnet UniversalRouter at 0x66a9…8Af."""
    return (
        A.PERMIT2,
        A.WETH,
        A.UNISWAP_V2_FACTORY,
        A.UNISWAP_V3_FACTORY,
        A.UNISWAP_V2_PAIR_INIT_CODE_HASH,
        A.UNISWAP_V3_POOL_INIT_CODE_HASH,
        A.UNISWAP_V4_POOL_MANAGER,
        A.UNISWAP_V3_POSITION_MANAGER,
        A.UNISWAP_V4_POSITION_MANAGER,
    )


def deploy(ctx: BuildContext) -> None:
    rpc_request(ctx.url, "anvil_setCode", [A.PERMIT2, "0x" + permit2_runtime().hex()])
    router02 = deploy_code(
        npm_artifact(ROUTER02), ["address", "address"], [A.UNISWAP_V2_FACTORY, A.WETH]
    )
    etch(ctx.url, BUILDER, router02, A.UNISWAP_V2_ROUTER02)
    universal = deploy_code(
        npm_artifact(UNIVERSAL_ROUTER), [ROUTER_PARAMETERS], [router_parameters()]
    )
    etch(ctx.url, BUILDER, universal, A.UNIVERSAL_ROUTER)
