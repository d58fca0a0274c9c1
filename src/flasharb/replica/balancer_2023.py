"""Balancer V2 pools of the 20230206 deployments: WeightedPool (weighted-pool-v3) and
ComposableStablePool (composable-stable-pool-v3), in the same Vault as the 20210418 pools.

Both factories sit at their mainnet addresses, with the ProtocolFeePercentagesProvider they read
(20220725 task, at its mainnet address, constructed with mainnet's 50% caps). Their creation code
is split in two contracts the constructor CREATEs (BaseSplitCodeFactory); `etch` lands those at
the addresses they have on mainnet (the factory's nonces 1 and 2).

wstETH's rate: mainnet's WstETHRateProvider (20210812 task) runs at its mainnet address with its
canonical bytecode, but the replica's wstETH is a ReplicaERC20 with no stETH behind it. The
provider is therefore constructed with `ReplicaStEthRate` (contracts/replica/) in place of wstETH:
a replica-only contract answering `stEthPerToken()` with the data file's rate, which the builder
can move as Lido's oracle would. Pools read the provider, and cache its rate for the data file's
duration, as on mainnet.

Pools are created in data file order (addresses follow the factories' nonces) and INIT-joined by
the builder. No owner: fees and amplification are fixed at the data file's figures. The
ProtocolFeesCollector's swap fee stays 0 (no one granted the setter); it would not change a
swap between tokens, only BPT minted to the protocol on joins and exits.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from eth_abi import encode
from eth_utils import to_checksum_address

from flasharb.chain import addresses as A
from flasharb.chain.artifacts import contract, npm_artifact
from flasharb.chain.etch import create_address, etch
from flasharb.errors import FlasharbValueError
from flasharb.replica.balancer import _created_pool, normalized_weights
from flasharb.replica.context import BUILDER, BuildContext, BuiltPool, deploy_code
from flasharb.replica.spec import StablePoolSpec, WeightedV3PoolSpec, to_base_units

TASKS = "@balancer-labs/v2-deployments/dist/tasks"
FEE_PROVIDER = (
    f"{TASKS}/20220725-protocol-fee-percentages-provider/artifact/"
    "ProtocolFeePercentagesProvider.json"
)
WEIGHTED_FACTORY = f"{TASKS}/20230206-weighted-pool-v3/artifact/WeightedPoolFactory.json"
WEIGHTED_POOL = f"{TASKS}/20230206-weighted-pool-v3/artifact/WeightedPool.json"
STABLE_FACTORY = (
    f"{TASKS}/20230206-composable-stable-pool-v3/artifact/ComposableStablePoolFactory.json"
)
STABLE_POOL = f"{TASKS}/20230206-composable-stable-pool-v3/artifact/ComposableStablePool.json"
WSTETH_RATE_PROVIDER = f"{TASKS}/20210812-wsteth-rate-provider/artifact/WstETHRateProvider.json"
VAULT = f"{TASKS}/20210418-vault/artifact/Vault.json"
ARTIFACTS = [
    FEE_PROVIDER,
    WEIGHTED_FACTORY,
    WEIGHTED_POOL,
    STABLE_FACTORY,
    STABLE_POOL,
    WSTETH_RATE_PROVIDER,
]
CONTRACTS = ["ReplicaStEthRate"]

MAX_YIELD_FEE = MAX_AUM_FEE = 5 * 10**17  # the 20220725 task's inputs: fp(0.5) each
# The factories' version strings, as the 20230206 tasks' input.ts JSON.stringify them.
WEIGHTED_VERSIONS = (
    '{"name":"WeightedPoolFactory","version":3,"deployment":"20230206-weighted-pool-v3"}',
    '{"name":"WeightedPool","version":3,"deployment":"20230206-weighted-pool-v3"}',
)
STABLE_VERSIONS = (
    '{"name":"ComposableStablePoolFactory","version":3,'
    '"deployment":"20230206-composable-stable-pool-v3"}',
    '{"name":"ComposableStablePool","version":3,"deployment":"20230206-composable-stable-pool-v3"}',
)
# Replica-only: where ReplicaStEthRate lives (no mainnet contract there).
STETH_RATE_SOURCE = to_checksum_address("0x00000000000000000000000000000000000057e7")
STETH_PER_WSTETH = Decimal("1.17")  # the data file's wstETH price ratio, mid-2024
ONE = 10**18
JOIN_KIND_INIT = 0  # WeightedPool.JoinKind.INIT and StablePoolUserData.JoinKind.INIT
POOL_OWNER = "0x0000000000000000000000000000000000000000"
ZERO = "0x0000000000000000000000000000000000000000"
MAX_UINT256 = 2**256 - 1


def _split_children(target: str) -> dict[int, str]:
    """BaseSplitCodeFactory's two code contracts: CREATEd at the factory's nonces 1 and 2."""
    return {1: create_address(target, 1), 2: create_address(target, 2)}


def deploy(ctx: BuildContext) -> None:
    provider = deploy_code(
        npm_artifact(FEE_PROVIDER),
        ["address", "uint256", "uint256"],
        [A.BALANCER_VAULT, MAX_YIELD_FEE, MAX_AUM_FEE],
    )
    etch(ctx.url, BUILDER, provider, A.BALANCER_PROTOCOL_FEE_PERCENTAGES_PROVIDER)
    for art, versions, target in (
        (WEIGHTED_FACTORY, WEIGHTED_VERSIONS, A.BALANCER_WEIGHTED_POOL_V3_FACTORY),
        (STABLE_FACTORY, STABLE_VERSIONS, A.BALANCER_COMPOSABLE_STABLE_POOL_V3_FACTORY),
    ):
        code = deploy_code(
            npm_artifact(art),
            ["address", "address", "string", "string"],
            [A.BALANCER_VAULT, A.BALANCER_PROTOCOL_FEE_PERCENTAGES_PROVIDER, *versions],
        )
        etch(ctx.url, BUILDER, code, target, children=_split_children(target))
    rate = to_base_units(STETH_PER_WSTETH, 18, "stETH per wstETH")
    source = deploy_code(contract("ReplicaStEthRate"), ["address", "uint256"], [BUILDER, rate])
    etch(ctx.url, BUILDER, source, STETH_RATE_SOURCE)
    wsteth = deploy_code(npm_artifact(WSTETH_RATE_PROVIDER), ["address"], [STETH_RATE_SOURCE])
    etch(ctx.url, BUILDER, wsteth, A.BALANCER_WSTETH_RATE_PROVIDER)


def _sorted(ctx: BuildContext, symbols: tuple[str, ...], *columns: tuple[Any, ...]) -> list[Any]:
    addresses = [ctx.token_address(s) for s in symbols]
    order = sorted(range(len(symbols)), key=lambda i: int(addresses[i], 16))
    return [[addresses[i] for i in order], [symbols[i] for i in order]] + [
        [col[i] for i in order] for col in columns
    ]


def _join_init(
    ctx: BuildContext, pool_address: str, symbols: list[str], amounts: list[int], what: str
) -> bytes:
    """INIT-join the pool with `amounts` (the Vault's token order, BPT included for a
    composable pool, whose amount is 0 and whose max is unbounded)."""
    pool = ctx.at(pool_address, npm_artifact(WEIGHTED_POOL).abi)  # getPoolId: every pool has it
    pool_id = bytes(pool.functions.getPoolId().call())
    vault = ctx.at(A.BALANCER_VAULT, npm_artifact(VAULT).abi)
    tokens, _, _ = vault.functions.getPoolTokens(pool_id).call()
    by_address = dict(zip([ctx.token_address(s) for s in symbols], amounts, strict=True))
    amounts_in = [by_address.get(t, 0) for t in tokens]
    max_in = [by_address.get(t, MAX_UINT256) for t in tokens]
    for sym, amount in zip(symbols, amounts, strict=True):
        ctx.approve(sym, A.BALANCER_VAULT, amount)
    user_data = encode(["uint256", "uint256[]"], [JOIN_KIND_INIT, amounts_in])
    request = (list(tokens), max_in, user_data, False)
    ctx.call(vault, "joinPool", [pool_id, BUILDER, BUILDER, request], f"INIT join {what}")
    return pool_id


def _label(symbols: list[str], parts: list[str]) -> tuple[str, str]:
    return " ".join(parts), "-".join(p.replace(" ", "") for p in parts)


def seed_weighted(ctx: BuildContext, pools: list[WeightedV3PoolSpec]) -> list[BuiltPool]:
    factory = ctx.at(A.BALANCER_WEIGHTED_POOL_V3_FACTORY, npm_artifact(WEIGHTED_FACTORY).abi)
    built = []
    for p in pools:
        label = "/".join(p.tokens)
        if not 2 <= len(p.tokens) <= 8 or len(set(p.tokens)) != len(p.tokens):
            raise FlasharbValueError(f"balancer_weighted_v3 pool {label}: 2 to 8 distinct tokens")
        weights = normalized_weights(p.weights, f"balancer_weighted_v3 pool {label} weights")
        fee = to_base_units(p.swap_fee, 18, f"balancer_weighted_v3 pool {label} swap_fee")
        tokens, symbols, ws, amounts = _sorted(ctx, p.tokens, weights, p.amounts)
        pct = [format((w * 100).normalize(), "f") for w in p.weights]
        name = "Balancer " + " ".join(f"{x} {s}" for x, s in zip(pct, p.tokens, strict=True))
        symbol = "B-" + "-".join(f"{x}{s}" for x, s in zip(pct, p.tokens, strict=True))
        args = [name, symbol, tokens, ws, [ZERO] * len(tokens), fee, POOL_OWNER]
        receipt = ctx.call(factory, "create", args, f"create {symbol} (weighted-pool-v3)")
        address = _created_pool(receipt, factory.address)
        pool_id = _join_init(ctx, address, symbols, amounts, symbol)
        built.append(
            BuiltPool(
                venue=p.venue,
                address=address,
                tokens=tuple(tokens),
                extra={
                    "pool_id": "0x" + pool_id.hex(),
                    "weights": [str(w) for w in ws],
                    "swap_fee": str(fee),
                },
            )
        )
    return built


def seed_stable(ctx: BuildContext, pools: list[StablePoolSpec]) -> list[BuiltPool]:
    factory = ctx.at(A.BALANCER_COMPOSABLE_STABLE_POOL_V3_FACTORY, npm_artifact(STABLE_FACTORY).abi)
    providers = {"wsteth": A.BALANCER_WSTETH_RATE_PROVIDER}
    built = []
    for p in pools:
        label = "/".join(p.tokens)
        if not 2 <= len(p.tokens) <= 5 or len(set(p.tokens)) != len(p.tokens):
            raise FlasharbValueError(f"balancer_stable pool {label}: 2 to 5 distinct tokens")
        if not 1 <= p.amp <= 5000:
            raise FlasharbValueError(f"balancer_stable pool {label}: amp {p.amp} not in 1..5000")
        fee = to_base_units(p.swap_fee, 18, f"balancer_stable pool {label} swap_fee")
        provider_addresses = tuple(ZERO if r is None else providers[r] for r in p.rate_providers)
        durations = tuple(0 if r is None else p.cache_duration for r in p.rate_providers)
        tokens, symbols, amounts, rps, durs = _sorted(
            ctx, p.tokens, p.amounts, provider_addresses, durations
        )
        name = f"Balancer {label} Stable Pool"
        symbol = "-".join(p.tokens) + "-BPT"
        args = [name, symbol, tokens, p.amp, rps, durs, [False] * len(tokens), fee, POOL_OWNER]
        receipt = ctx.call(factory, "create", args, f"create {symbol} (composable-stable-pool-v3)")
        address = _created_pool(receipt, factory.address)
        pool_id = _join_init(ctx, address, symbols, amounts, symbol)
        built.append(
            BuiltPool(
                venue=p.venue,
                address=address,
                tokens=tuple(tokens),
                extra={
                    "pool_id": "0x" + pool_id.hex(),
                    "amp": p.amp,
                    "swap_fee": str(fee),
                    "rate_providers": list(rps),
                },
            )
        )
    return built
