"""Balancer V2: the Authorizer and the Vault at canonical addresses (the Vault's constructor
CREATEs the ProtocolFeesCollector, which lands at mainnet's address), and the Vault's loanable
balances."""

from __future__ import annotations

from flasharb.chain import addresses as A
from flasharb.chain.artifacts import npm_artifact
from flasharb.chain.etch import etch
from flasharb.replica.context import BUILDER, BuildContext, BuiltPool, deploy_code
from flasharb.replica.spec import WeightedPoolSpec

TASKS = "@balancer-labs/v2-deployments/dist/tasks"
VAULT = f"{TASKS}/20210418-vault/artifact/Vault.json"
AUTHORIZER = f"{TASKS}/20210418-authorizer/artifact/Authorizer.json"
ARTIFACTS = [VAULT, AUTHORIZER]

PAUSE_WINDOW = 90 * 24 * 3600  # Vault constructor args on mainnet: 90 days ...
BUFFER_PERIOD = 30 * 24 * 3600  # ... and 30 days


def deploy(ctx: BuildContext) -> None:
    authorizer = deploy_code(npm_artifact(AUTHORIZER), ["address"], [BUILDER])
    etch(ctx.url, BUILDER, authorizer, A.BALANCER_AUTHORIZER)
    vault = deploy_code(
        npm_artifact(VAULT),
        ["address", "address", "uint256", "uint256"],
        [A.BALANCER_AUTHORIZER, A.WETH, PAUSE_WINDOW, BUFFER_PERIOD],
    )
    etch(
        ctx.url, BUILDER, vault, A.BALANCER_VAULT, children={1: A.BALANCER_PROTOCOL_FEES_COLLECTOR}
    )


def seed(ctx: BuildContext, pools: list[WeightedPoolSpec]) -> list[BuiltPool]:
    if pools:
        raise NotImplementedError("Balancer weighted pools are not built yet")
    return []


def fund_vault(ctx: BuildContext) -> None:
    """Loanable balances beyond what the pools hold."""
    for sym, amount in ctx.spec.vault.items():
        ctx.transfer(sym, A.BALANCER_VAULT, amount)
