"""Balancer V2: the Authorizer and the Vault at canonical addresses (the Vault's constructor
CREATEs the ProtocolFeesCollector, which lands at mainnet's address), the weighted pool factories
and BalancerQueries, weighted pools seeded with an INIT join, and the Vault's loanable balances.

Weighted pools come from the factories of the 20210418-weighted-pool task, the ones mainnet's
first pools came from: two-token pools from WeightedPool2TokensFactory (as mainnet's 80/20
BAL/WETH pool), pools of three or more tokens from WeightedPoolFactory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from eth_abi import encode
from eth_utils import to_checksum_address
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.artifacts import Artifact, npm_artifact
from flasharb.chain.etch import etch
from flasharb.errors import FlasharbRuntimeError, FlasharbValueError
from flasharb.paths import node_modules
from flasharb.replica.context import BUILDER, BuildContext, BuiltPool, deploy_code
from flasharb.replica.spec import ReplicaSpec, WeightedPoolSpec, to_base_units

TASKS = "@balancer-labs/v2-deployments/dist/tasks"
VAULT = f"{TASKS}/20210418-vault/artifact/Vault.json"
AUTHORIZER = f"{TASKS}/20210418-authorizer/artifact/Authorizer.json"
QUERIES = f"{TASKS}/20220721-balancer-queries/artifact/BalancerQueries.json"
ARTIFACTS = [VAULT, AUTHORIZER, QUERIES]  # hardhat artifacts only; see code_fingerprint()

# The weighted pool task ships no hardhat artifact: bytecode/<name>.json ({"creationCode"}) and
# abi/<name>.json instead. The factories' creation code embeds their pools' creation code.
WEIGHTED_TASK = f"{TASKS}/20210418-weighted-pool"
WEIGHTED_FACTORY = "WeightedPoolFactory"
WEIGHTED_2TOKENS_FACTORY = "WeightedPool2TokensFactory"
WEIGHTED_POOL = "WeightedPool"
WEIGHTED_POOL_2TOKENS = "WeightedPool2Tokens"
WEIGHTED_CONTRACTS = (
    WEIGHTED_FACTORY,
    WEIGHTED_2TOKENS_FACTORY,
    WEIGHTED_POOL,
    WEIGHTED_POOL_2TOKENS,
)

PAUSE_WINDOW = 90 * 24 * 3600  # Vault constructor args on mainnet: 90 days ...
BUFFER_PERIOD = 30 * 24 * 3600  # ... and 30 days

ONE = 10**18  # Balancer's FixedPoint.ONE: weights and swap fees are 18-decimal fractions
MIN_WEIGHT = ONE // 100  # WeightedPool: every normalized weight is at least 1%
MAX_TOKENS = 8  # WeightedPool (20210418) takes 2 to 8 tokens
MIN_SWAP_FEE = ONE // 10**6  # BasePool: 0.0001% ...
MAX_SWAP_FEE = ONE // 10  # ... to 10%
JOIN_KIND_INIT = 0  # WeightedPool.JoinKind.INIT
# Two-token pools keep the TWAP oracle, the feature WeightedPool2Tokens exists for: a swap that
# writes a sample costs ~30k gas more than one through WeightedPool.
ORACLE_ENABLED = True
# No owner: the swap fee is fixed at what the data file says. BUILDER exists only in the replica,
# so nothing may rely on it to move a fee (the engine must run unchanged on real mainnet).
POOL_OWNER = "0x0000000000000000000000000000000000000000"

_POOL_CREATED = Web3.keccak(text="PoolCreated(address)")


@cache
def task_artifact(name: str) -> Artifact:
    """A contract of the 20210418-weighted-pool task, from its bytecode/ and abi/ files."""
    root = node_modules() / WEIGHTED_TASK
    code = json.loads((root / "bytecode" / f"{name}.json").read_text())["creationCode"]
    abi = json.loads((root / "abi" / f"{name}.json").read_text())
    return Artifact(
        name=name,
        abi=abi,
        bytecode=bytes.fromhex(code.removeprefix("0x")),
        deployed_bytecode=b"",  # the task does not ship runtime code
    )


def code_fingerprint() -> bytes:
    """The weighted pool task's files, for the build's input digest (they are not in ARTIFACTS:
    npm_artifact cannot read them)."""
    root = node_modules() / WEIGHTED_TASK
    return b"".join(
        (root / folder / f"{name}.json").read_bytes()
        for name in WEIGHTED_CONTRACTS
        for folder in ("bytecode", "abi")
    )


# ---------------------------------------------------------------- pool layout


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolLayout:
    """A weighted pool as the Vault registers it: tokens sorted by address, everything else in
    that order, weights and fee as 18-decimal fixed point."""

    name: str  # "Balancer 80 BAL 20 WETH", in the data file's order, as mainnet names them
    symbol: str  # "B-80BAL-20WETH"
    symbols: tuple[str, ...]
    tokens: tuple[str, ...]  # checksummed addresses, ascending
    weights: tuple[int, ...]  # 1e18 = 100%; they sum to exactly 1e18
    amounts: tuple[int, ...]  # base units joined at INIT
    swap_fee: int  # 1e18 = 100%


def normalized_weights(weights: tuple[Decimal, ...], what: str = "weights") -> tuple[int, ...]:
    """Weights as 18-decimal integers summing to exactly 1e18: each is floored, and what the
    floors leave over goes to the largest weight (the first of equal largest ones, in the order
    given). Weights with at most 18 decimals, such as 0.3334, convert exactly."""
    floors = [to_base_units(w, 18, what, exact=False) for w in weights]
    largest = max(range(len(weights)), key=lambda i: (weights[i], -i))
    floors[largest] += ONE - sum(floors)
    return tuple(floors)


def _percent(w: Decimal) -> str:
    pct = (w * 100).normalize()
    return format(pct, "f")


def layout(spec: ReplicaSpec, p: WeightedPoolSpec) -> PoolLayout:
    """Where each of the data file's figures goes in the pool; raises on what the pool rejects."""
    label = "/".join(p.tokens)
    if not 2 <= len(p.tokens) <= MAX_TOKENS:
        raise FlasharbValueError(f"Balancer pool {label}: weighted pools take 2 to 8 tokens")
    if len(set(p.tokens)) != len(p.tokens):
        raise FlasharbValueError(f"Balancer pool {label}: a token appears twice")
    fee = to_base_units(p.swap_fee, 18, f"Balancer pool {label} swap_fee")
    if not MIN_SWAP_FEE <= fee <= MAX_SWAP_FEE:
        raise FlasharbValueError(
            f"Balancer pool {label}: swap_fee {p.swap_fee} is outside 0.000001..0.1"
        )
    weights = normalized_weights(p.weights, f"Balancer pool {label} weights")
    if min(weights) < MIN_WEIGHT:
        raise FlasharbValueError(f"Balancer pool {label}: every weight must be at least 0.01")
    if 0 in p.amounts:
        raise FlasharbValueError(f"Balancer pool {label}: a token amount rounds to zero")
    addresses = [spec.token(s).address for s in p.tokens]
    order = sorted(range(len(p.tokens)), key=lambda i: int(addresses[i], 16))
    parts = [(_percent(w), s) for w, s in zip(p.weights, p.tokens, strict=True)]
    return PoolLayout(
        name="Balancer " + " ".join(f"{pct} {s}" for pct, s in parts),
        symbol="B-" + "-".join(f"{pct}{s}" for pct, s in parts),
        symbols=tuple(p.tokens[i] for i in order),
        tokens=tuple(addresses[i] for i in order),
        weights=tuple(weights[i] for i in order),
        amounts=tuple(p.amounts[i] for i in order),
        swap_fee=fee,
    )


# ---------------------------------------------------------------- build steps


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
    for name, address in (
        (WEIGHTED_FACTORY, A.BALANCER_WEIGHTED_POOL_FACTORY),
        (WEIGHTED_2TOKENS_FACTORY, A.BALANCER_WEIGHTED_POOL_2TOKENS_FACTORY),
    ):  # the pools' pause window starts with their factory: 90 days from the replica's genesis
        etch(
            ctx.url,
            BUILDER,
            deploy_code(task_artifact(name), ["address"], [A.BALANCER_VAULT]),
            address,
        )
    queries = deploy_code(npm_artifact(QUERIES), ["address"], [A.BALANCER_VAULT])
    etch(ctx.url, BUILDER, queries, A.BALANCER_QUERIES)


def seed(ctx: BuildContext, pools: list[WeightedPoolSpec]) -> list[BuiltPool]:
    """Create each pool through its factory and INIT-join the data file's amounts, in file order
    (pool addresses follow the factories' nonces)."""
    return [_seed_pool(ctx, p) for p in pools]


def _created_pool(receipt: Any, factory: str) -> str:
    for log in receipt["logs"]:
        if log["address"] == factory and bytes(log["topics"][0]) == _POOL_CREATED:
            return to_checksum_address(bytes(log["topics"][1])[12:])
    raise FlasharbRuntimeError(f"Balancer factory {factory} created no pool")


def _seed_pool(ctx: BuildContext, p: WeightedPoolSpec) -> BuiltPool:
    lay = layout(ctx.spec, p)
    common = [lay.name, lay.symbol, list(lay.tokens), list(lay.weights), lay.swap_fee]
    if len(lay.tokens) == 2:
        name, args = WEIGHTED_2TOKENS_FACTORY, [*common, ORACLE_ENABLED, POOL_OWNER]
        factory_address = A.BALANCER_WEIGHTED_POOL_2TOKENS_FACTORY
    else:
        name, args = WEIGHTED_FACTORY, [*common, POOL_OWNER]
        factory_address = A.BALANCER_WEIGHTED_POOL_FACTORY
    factory = ctx.at(factory_address, task_artifact(name).abi)
    receipt = ctx.call(factory, "create", args, f"create Balancer pool {lay.symbol}")
    pool_address = _created_pool(receipt, factory.address)
    pool = ctx.at(pool_address, task_artifact(WEIGHTED_POOL).abi)  # getPoolId: same in both
    pool_id = bytes(pool.functions.getPoolId().call())

    for sym, amount in zip(lay.symbols, lay.amounts, strict=True):
        ctx.approve(sym, A.BALANCER_VAULT, amount)
    user_data = encode(["uint256", "uint256[]"], [JOIN_KIND_INIT, list(lay.amounts)])
    request = (list(lay.tokens), list(lay.amounts), user_data, False)
    vault = ctx.at(A.BALANCER_VAULT, npm_artifact(VAULT).abi)
    ctx.call(vault, "joinPool", [pool_id, BUILDER, BUILDER, request], f"INIT join {lay.symbol}")
    return BuiltPool(
        venue=p.venue,
        address=pool_address,
        tokens=lay.tokens,
        extra={
            "pool_id": "0x" + pool_id.hex(),
            "weights": [str(w) for w in lay.weights],
            "swap_fee": str(lay.swap_fee),
        },
    )


def fund_vault(ctx: BuildContext) -> None:
    """Loanable balances beyond what the pools hold."""
    for sym, amount in ctx.spec.vault.items():
        ctx.transfer(sym, A.BALANCER_VAULT, amount)
