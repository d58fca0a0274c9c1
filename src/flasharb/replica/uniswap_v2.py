"""Uniswap V2 and the SushiSwap venue: factories at canonical addresses, pairs seeded and synced."""

from __future__ import annotations

from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.artifacts import Artifact, npm_artifact, sushiswap_artifact
from flasharb.chain.etch import create2_address, etch
from flasharb.errors import FlasharbRuntimeError
from flasharb.replica.context import BUILDER, BuildContext, BuiltPool, deploy_code
from flasharb.replica.spec import V2PoolSpec

FACTORY = "@uniswap/v2-core/build/UniswapV2Factory.json"
PAIR = "@uniswap/v2-core/build/UniswapV2Pair.json"
ARTIFACTS = [FACTORY, PAIR]


def factory_artifact(venue: str) -> Artifact:
    """Uniswap's factory from @uniswap/v2-core; SushiSwap's own, built from @sushiswap/core."""
    if venue == "sushiswap":
        return sushiswap_artifact("UniswapV2Factory")
    return npm_artifact(FACTORY)


def pair_init_code_hash(venue: str) -> bytes:
    if venue == "sushiswap":
        return Web3.keccak(sushiswap_artifact("UniswapV2Pair").bytecode)
    return A.UNISWAP_V2_PAIR_INIT_CODE_HASH


def code_fingerprint() -> bytes:
    return sushiswap_artifact("UniswapV2Factory").bytecode


def deploy(ctx: BuildContext) -> None:
    for venue, address in A.V2_FACTORIES.items():
        etch(
            ctx.url, BUILDER, deploy_code(factory_artifact(venue), ["address"], [BUILDER]), address
        )


def seed(ctx: BuildContext, pools: list[V2PoolSpec]) -> list[BuiltPool]:
    built = [_seed_pair(ctx, p) for p in pools]
    # One block later, sync() every pair: price accumulators become non-zero, as on any
    # mainnet pair with a trading history, and reserves do not move.
    for pool in built:
        ctx.call(ctx.at(pool.address, npm_artifact(PAIR).abi), "sync", [], f"sync {pool.address}")
    return built


def _seed_pair(ctx: BuildContext, p: V2PoolSpec) -> BuiltPool:
    ta, tb = ctx.spec.token(p.token_a), ctx.spec.token(p.token_b)
    factory = ctx.at(A.V2_FACTORIES[p.venue], factory_artifact(p.venue).abi)
    ctx.call(factory, "createPair", [ta.address, tb.address], "createPair")
    pair_addr = factory.functions.getPair(ta.address, tb.address).call()
    t0, t1 = sorted([ta.address, tb.address], key=lambda a: int(a, 16))
    salt = Web3.keccak(bytes.fromhex(t0[2:] + t1[2:]))
    expected = create2_address(factory.address, salt, pair_init_code_hash(p.venue))
    if pair_addr != expected:
        raise FlasharbRuntimeError(
            f"{p.venue} pair {ta.symbol}/{tb.symbol} at {pair_addr}, expected {expected}"
        )
    ctx.transfer(ta.symbol, pair_addr, p.amount_a)
    ctx.transfer(tb.symbol, pair_addr, p.amount_b)
    ctx.call(
        ctx.at(pair_addr, npm_artifact(PAIR).abi),
        "mint",
        [BUILDER],
        f"mint {ta.symbol}/{tb.symbol}",
    )
    return BuiltPool(venue=p.venue, address=pair_addr, tokens=(t0, t1), extra={"fee": 3000})
