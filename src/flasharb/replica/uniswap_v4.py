"""Uniswap V4: the PoolManager (v4-core 1.0.2), PositionManager, V4Quoter and StateView
(v4-periphery 1.0.3) at their mainnet addresses, and hookless pools seeded with positions.

Every v4 pool lives inside the PoolManager. Each pool of the data file is initialized at the data
file's price and gets its positions through `V4LiquiditySeeder` (contracts/replica/, replica
only): one call initializes the pool and, inside one `unlock`, adds every position and settles
what it owes (ERC-20s pulled from the builder, native ETH sent with the call and the rest
refunded). On mainnet liquidity providers go through the PositionManager; the positions here
belong to the seeder. Native-ETH pools use address(0) as currency0 ("ETH" in the data file).

The PoolManager's owner (who may appoint a protocol fee controller) is the builder: mainnet's is
Uniswap governance, which the replica does not have. No protocol fee is set, so every swap's fee
is the pool's LP fee. The PositionManager is constructed with mainnet's arguments (Permit2,
300,000 unsubscribe gas, mainnet's token descriptor address, which has no code on the replica).

Liquidity per position is sized as for V3 (`uniswap_v3.plan_pool`'s USD split at the pool price),
in exact integers: the same data file gives the same state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from functools import cache

from eth_abi import encode
from eth_utils import to_checksum_address

from flasharb.chain import addresses as A
from flasharb.chain.artifacts import Artifact, contract
from flasharb.chain.etch import etch
from flasharb.chain.uniswap_v4 import PoolKey
from flasharb.errors import FlasharbValueError, ToolchainError
from flasharb.paths import node_modules
from flasharb.replica.context import BUILDER, BuildContext, BuiltPool, deploy_code
from flasharb.replica.spec import NATIVE_SYMBOL, ReplicaSpec, TokenSpec, V4PoolSpec
from flasharb.replica.uniswap_v3 import (
    MAX_SQRT_RATIO,
    MIN_SQRT_RATIO,
    PRECISION,
    Q96,
    _sqrt_at_tick,
    range_ticks,
    sqrt_price_x96,
)

POOL_MANAGER = "@uniswap/v4-core/out/PoolManager.sol/PoolManager.json"
PERIPHERY = "@uniswap/v4-periphery/foundry-out"
POSITION_MANAGER = f"{PERIPHERY}/PositionManager.sol/PositionManager.json"
QUOTER = f"{PERIPHERY}/V4Quoter.sol/V4Quoter.json"
STATE_VIEW = f"{PERIPHERY}/StateView.sol/StateView.json"
FOUNDRY_ARTIFACTS = [POOL_MANAGER, POSITION_MANAGER, QUOTER, STATE_VIEW]
CONTRACTS = ["V4LiquiditySeeder"]

# Replica-only: where the seeder lives (no mainnet contract there).
SEEDER = to_checksum_address("0x000000000000000000000000000000000000F4a4")
UNSUBSCRIBE_GAS_LIMIT = 300_000  # PositionManager on mainnet
TOKEN_DESCRIPTOR = to_checksum_address(
    "0xd1428Ba554F4C8450b763a0B2040A4935c63f06C"
)  # mainnet's; no code here
MAX_UINT256 = 2**256 - 1
ETH_MARGIN = 10**6  # wei sent above a native pool's exact cost; refunded by the seeder


@cache
def foundry_artifact(relpath: str) -> Artifact:
    """A Foundry artifact from node_modules (`bytecode.object`, `deployedBytecode.object`)."""
    path = node_modules() / relpath
    if not path.exists():
        raise ToolchainError(f"protocol artifact {relpath}", str(path))
    data = json.loads(path.read_text())
    return Artifact(
        name=path.stem,
        abi=data["abi"],
        bytecode=bytes.fromhex(data["bytecode"]["object"].removeprefix("0x")),
        deployed_bytecode=bytes.fromhex(data["deployedBytecode"]["object"].removeprefix("0x")),
    )


def code_fingerprint() -> bytes:
    return b"".join(foundry_artifact(r).bytecode for r in FOUNDRY_ARTIFACTS)


@dataclass(frozen=True, slots=True, kw_only=True)
class V4Position:
    tick_lower: int
    tick_upper: int
    liquidity: int


@dataclass(frozen=True, slots=True, kw_only=True)
class V4PoolPlan:
    name: str
    key: PoolKey
    symbol0: str  # "ETH" for native
    symbol1: str
    sqrt_price_x96: int
    positions: tuple[V4Position, ...]
    amount0: int  # what the positions cost, rounded up (within a wei of the PoolManager's)
    amount1: int


def _token(spec: ReplicaSpec, symbol: str) -> TokenSpec:
    if symbol == NATIVE_SYMBOL:
        weth = spec.token("WETH")
        return TokenSpec(
            symbol=NATIVE_SYMBOL,
            name="Ether",
            decimals=18,
            address=A.NATIVE_ETH,
            kind="native",
            supply=0,
            price_usd=weth.price_usd,
        )
    return spec.token(symbol)


def plan_pool(spec: ReplicaSpec, p: V4PoolSpec) -> V4PoolPlan:
    """Sort the currencies, set the price, size each position's liquidity for its USD value."""
    ta, tb = _token(spec, p.token_a), _token(spec, p.token_b)
    a_is_0 = int(ta.address, 16) < int(tb.address, 16)
    t0, t1 = (ta, tb) if a_is_0 else (tb, ta)
    name = f"{t0.symbol}/{t1.symbol} {Decimal(p.fee) / 10**4}% spacing {p.tick_spacing}"
    if not 0 <= p.fee < 10**6 or not 1 <= p.tick_spacing <= 32767:
        raise FlasharbValueError(f"uniswap_v4 pool {name}: fee or tick spacing out of range")
    price_usd = t1.price_usd or t0.price_usd
    if p.price <= 0 or price_usd is None:
        raise FlasharbValueError(f"uniswap_v4 pool {name}: needs a positive price and a USD price")
    with localcontext() as ctx:
        ctx.prec = PRECISION
        human = p.price if a_is_0 else 1 / p.price
        raw = human * Decimal(10) ** (t1.decimals - t0.decimals)
        sqrt_p = sqrt_price_x96(raw)
        if not MIN_SQRT_RATIO <= sqrt_p < MAX_SQRT_RATIO:
            raise FlasharbValueError(f"uniswap_v4 pool {name}: price {p.price} out of range")
        s = Decimal(sqrt_p) / Q96
        usd_per_raw1 = (
            t1.price_usd / Decimal(10) ** t1.decimals
            if t1.price_usd
            else t0.price_usd / Decimal(10) ** t0.decimals / raw  # type: ignore[operator]
        )
        positions = []
        for pos in p.positions:
            lo_m, hi_m = (pos.lower, pos.upper) if a_is_0 else (1 / pos.upper, 1 / pos.lower)
            lo, hi = range_ticks(raw * lo_m, raw * hi_m, p.tick_spacing)
            sa, sb = _sqrt_at_tick(lo), _sqrt_at_tick(hi)
            per_l0 = (sb - s) / (s * sb)
            per_l1 = s - sa
            liquidity = pos.usd / (usd_per_raw1 * (per_l0 * s * s + per_l1))
            liq = int(liquidity.to_integral_value(rounding=ROUND_FLOOR))
            if liq <= 0:
                raise FlasharbValueError(f"uniswap_v4 pool {name}: a position rounds to 0")
            positions.append(V4Position(tick_lower=lo, tick_upper=hi, liquidity=liq))
        # what the positions cost (the price is inside every range: they straddle it), from
        # the 80-digit square roots; the PoolManager charges TickMath's, a fraction of a wei
        # apart, so the native ETH sent carries ETH_MARGIN and the seeder refunds the rest
        amount0 = amount1 = 0
        for q in positions:
            sa, sb = _sqrt_at_tick(q.tick_lower), _sqrt_at_tick(q.tick_upper)
            amount0 += int((q.liquidity * (sb - s) / (s * sb)).to_integral_value(ROUND_CEILING))
            amount1 += int((q.liquidity * (s - sa)).to_integral_value(ROUND_CEILING))
    key = PoolKey(
        currency0=t0.address, currency1=t1.address, fee=p.fee, tick_spacing=p.tick_spacing
    )
    return V4PoolPlan(
        name=name,
        key=key,
        symbol0=t0.symbol,
        symbol1=t1.symbol,
        sqrt_price_x96=sqrt_p,
        positions=tuple(positions),
        amount0=amount0,
        amount1=amount1,
    )


def deploy(ctx: BuildContext) -> None:
    pm = deploy_code(foundry_artifact(POOL_MANAGER), ["address"], [BUILDER])
    etch(ctx.url, BUILDER, pm, A.UNISWAP_V4_POOL_MANAGER)
    posm = deploy_code(
        foundry_artifact(POSITION_MANAGER),
        ["address", "address", "uint256", "address", "address"],
        [A.UNISWAP_V4_POOL_MANAGER, A.PERMIT2, UNSUBSCRIBE_GAS_LIMIT, TOKEN_DESCRIPTOR, A.WETH],
    )
    etch(ctx.url, BUILDER, posm, A.UNISWAP_V4_POSITION_MANAGER)
    for art, target in ((QUOTER, A.UNISWAP_V4_QUOTER), (STATE_VIEW, A.UNISWAP_V4_STATE_VIEW)):
        code = deploy_code(foundry_artifact(art), ["address"], [A.UNISWAP_V4_POOL_MANAGER])
        etch(ctx.url, BUILDER, code, target)
    etch(ctx.url, BUILDER, contract("V4LiquiditySeeder").bytecode, SEEDER)


def seed(ctx: BuildContext, pools: list[V4PoolSpec]) -> list[BuiltPool]:
    plans = [plan_pool(ctx.spec, p) for p in pools]
    ids = [plan.key.pool_id() for plan in plans]
    if len(set(ids)) != len(ids):
        raise FlasharbValueError(f"{ctx.spec.path}: a uniswap_v4 pool appears twice")
    symbols = sorted({s for p in plans for s in (p.symbol0, p.symbol1)} - {NATIVE_SYMBOL})
    for sym in symbols:
        ctx.approve(sym, SEEDER, MAX_UINT256)
    seeder = ctx.at(SEEDER, contract("V4LiquiditySeeder").abi)
    built = []
    for plan, pool_id in zip(plans, ids, strict=True):
        value = plan.amount0 + ETH_MARGIN if plan.symbol0 == NATIVE_SYMBOL else 0
        positions = [(q.tick_lower, q.tick_upper, q.liquidity) for q in plan.positions]
        ctx.call(
            seeder,
            "seed",
            [plan.key.as_tuple(), plan.sqrt_price_x96, positions],
            f"seed uniswap_v4 pool {plan.name}",
            value=value,
        )
        built.append(
            BuiltPool(
                venue="uniswap_v4",
                address=A.UNISWAP_V4_POOL_MANAGER,
                tokens=(plan.key.currency0, plan.key.currency1),
                extra={
                    "pool_id": "0x" + pool_id.hex(),
                    "fee": plan.key.fee,
                    "tick_spacing": plan.key.tick_spacing,
                    "hooks": plan.key.hooks,
                },
            )
        )
    for sym in symbols:  # leave no allowance behind
        ctx.approve(sym, SEEDER, 0)
    return built


def encode_key(key: PoolKey) -> bytes:
    return encode(["(address,address,uint24,int24,address)"], [key.as_tuple()])
