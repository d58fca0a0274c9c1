"""Uniswap V3: the factory and periphery at canonical addresses, pools seeded with positions.

Bytecode is mainnet's (npm @uniswap/v3-core and @uniswap/v3-periphery), so every pool lands at
its mainnet CREATE2 address. Each pool of the data file is created and initialized at the data
file's price through the NonfungiblePositionManager, then gets its positions minted there
(owner: the builder), as liquidity providers do on mainnet.

The seeding math is done once, in `plan_pool`, with exact integers and 80-digit Decimals: the
same data file gives the same ticks and amounts, hence a byte-identical replica.

The position manager is constructed with mainnet's token descriptor address
(`TOKEN_DESCRIPTOR`), which has no code on the replica: `tokenURI` reverts there, everything
else of the position manager works.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from flasharb.chain import addresses as A
from flasharb.chain.artifacts import npm_artifact
from flasharb.chain.etch import create2_address, etch
from flasharb.errors import FlasharbRuntimeError, FlasharbValueError
from flasharb.replica.context import BUILDER, BuildContext, BuiltPool, deploy_code
from flasharb.replica.spec import ReplicaSpec, TokenSpec, V3PoolSpec

CORE = "@uniswap/v3-core/artifacts/contracts"
PERIPHERY = "@uniswap/v3-periphery/artifacts/contracts"
FACTORY = f"{CORE}/UniswapV3Factory.sol/UniswapV3Factory.json"
POOL = f"{CORE}/UniswapV3Pool.sol/UniswapV3Pool.json"
POSITION_MANAGER = f"{PERIPHERY}/NonfungiblePositionManager.sol/NonfungiblePositionManager.json"
SWAP_ROUTER = f"{PERIPHERY}/SwapRouter.sol/SwapRouter.json"
QUOTER_V2 = f"{PERIPHERY}/lens/QuoterV2.sol/QuoterV2.json"
ARTIFACTS = [FACTORY, POOL, POSITION_MANAGER, SWAP_ROUTER, QUOTER_V2]

# Mainnet's NonfungibleTokenPositionDescriptor (proxy). No code behind it on the replica, so the
# position manager's tokenURI() reverts; nothing else reads it.
TOKEN_DESCRIPTOR = to_checksum_address("0xEe6A57eC80ea46401049E92587E52f5Ec1c24785")

MIN_TICK = -887272  # TickMath.MIN_TICK
MAX_TICK = 887272  # TickMath.MAX_TICK
MIN_SQRT_RATIO = 4295128739  # TickMath.MIN_SQRT_RATIO, sqrt(1.0001^MIN_TICK) as a Q64.96
MAX_SQRT_RATIO = 1461446703485210103287273052203988822378723970342  # TickMath.MAX_SQRT_RATIO
Q96 = 2**96
PRECISION = 80  # Decimal digits for logs, powers and square roots
TICK_BASE = Decimal("1.0001")  # price(tick) = 1.0001^tick
FAR_DEADLINE = 2**32 - 1  # position manager deadline: 2106, never binding on the replica
MAX_UINT256 = 2**256 - 1


@dataclass(frozen=True, slots=True, kw_only=True)
class V3Mint:
    """One position to mint: a tick range and the token amounts offered for it (base units)."""

    tick_lower: int
    tick_upper: int
    amount0: int  # amount0Desired; the manager takes at most this
    amount1: int  # amount1Desired


@dataclass(frozen=True, slots=True, kw_only=True)
class V3PoolPlan:
    """Everything the builder sends for one pool, in the pool's own token order."""

    name: str  # "WETH/USDC 0.05%", for messages
    symbol0: str
    symbol1: str
    token0: str  # address, token0 < token1 as the factory sorts them
    token1: str
    fee: int  # hundredths of a bip
    tick_spacing: int
    sqrt_price_x96: int  # initial price, Q64.96 square root of raw token1 per raw token0
    mints: tuple[V3Mint, ...]


def pool_address(token0: str, token1: str, fee: int) -> str:
    """The pool's CREATE2 address, as PoolAddress.computeAddress in v3-periphery."""
    salt = keccak(encode(["address", "address", "uint24"], [token0, token1, fee]))
    return create2_address(A.UNISWAP_V3_FACTORY, salt, A.UNISWAP_V3_POOL_INIT_CODE_HASH)


def sqrt_price_x96(raw_price: Decimal) -> int:
    """floor(sqrt(raw_price) * 2^96), exactly: isqrt(floor(raw_price * 2^192)) is the same
    integer, and the Decimal is an exact fraction, so no rounding enters."""
    num, den = raw_price.as_integer_ratio()
    return math.isqrt(num * 2**192 // den)


def _tick_of(price: Decimal, rounding: str) -> int:
    """log_1.0001(price), rounded down (ROUND_FLOOR) or up (ROUND_CEILING) to a whole tick."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        t = price.ln() / TICK_BASE.ln()
        return int(t.to_integral_value(rounding=rounding))


def range_ticks(lower: Decimal, upper: Decimal, spacing: int) -> tuple[int, int]:
    """A price range (raw token1 per raw token0) as initializable ticks, rounded outward to the
    tick spacing and kept inside TickMath's range."""
    lo = _tick_of(lower, ROUND_FLOOR) // spacing * spacing
    hi = -(-_tick_of(upper, ROUND_CEILING) // spacing) * spacing
    lo_min = -(MAX_TICK // spacing) * spacing
    return max(lo, lo_min), min(hi, MAX_TICK // spacing * spacing)


def _sqrt_at_tick(tick: int) -> Decimal:
    return (TICK_BASE**tick).sqrt()  # caller sets the precision


def _usd_per_raw1(t0: TokenSpec, t1: TokenSpec, raw_price: Decimal, name: str) -> Decimal:
    """What one base unit of token1 is worth: token1's USD price, else token0's at the pool
    price."""
    if t1.price_usd:
        return t1.price_usd / Decimal(10) ** t1.decimals
    if t0.price_usd:
        return t0.price_usd / Decimal(10) ** t0.decimals / raw_price
    raise FlasharbValueError(f"uniswap_v3 pool {name}: give {t0.symbol} or {t1.symbol} a price_usd")


def plan_pool(spec: ReplicaSpec, p: V3PoolSpec) -> V3PoolPlan:
    """Sort the tokens, convert the data file's human price and range multiples to the pool's
    raw token1/token0 orientation, and size every position for its USD value at that price."""
    ta, tb = spec.token(p.token_a), spec.token(p.token_b)
    a_is_token0 = int(ta.address, 16) < int(tb.address, 16)
    t0, t1 = (ta, tb) if a_is_token0 else (tb, ta)
    spacing = A.V3_FEE_TIERS[p.fee]
    name = f"{t0.symbol}/{t1.symbol} {Decimal(p.fee) / 10**4}%"
    if p.price <= 0:
        raise FlasharbValueError(f"uniswap_v3 pool {name}: price must be positive, not {p.price}")
    with localcontext() as ctx:
        ctx.prec = PRECISION
        human = p.price if a_is_token0 else 1 / p.price  # token1 per token0, human units
        raw = human * Decimal(10) ** (t1.decimals - t0.decimals)
        sqrt_p = sqrt_price_x96(raw)
        if not MIN_SQRT_RATIO <= sqrt_p < MAX_SQRT_RATIO:
            raise FlasharbValueError(f"uniswap_v3 pool {name}: price {p.price} is out of range")
        s = Decimal(sqrt_p) / Q96
        usd_per_raw1 = _usd_per_raw1(t0, t1, raw, name)
        mints = []
        for pos in p.positions:
            lo_mult, hi_mult = (
                (pos.lower, pos.upper) if a_is_token0 else (1 / pos.upper, 1 / pos.lower)
            )
            lo, hi = range_ticks(raw * lo_mult, raw * hi_mult, spacing)
            sa, sb = _sqrt_at_tick(lo), _sqrt_at_tick(hi)
            per_l0 = (sb - s) / (s * sb)  # token0 per unit of liquidity (SqrtPriceMath)
            per_l1 = s - sa  # token1 per unit of liquidity
            liquidity = pos.usd / (usd_per_raw1 * (per_l0 * s * s + per_l1))
            amount0 = int((liquidity * per_l0).to_integral_value(rounding=ROUND_FLOOR))
            amount1 = int((liquidity * per_l1).to_integral_value(rounding=ROUND_FLOOR))
            if amount0 <= 0 or amount1 <= 0:
                raise FlasharbValueError(
                    f"uniswap_v3 pool {name}: position {pos.lower}-{pos.upper} of {pos.usd} USD "
                    "is too small to hold both tokens; give it more USD"
                )
            mints.append(V3Mint(tick_lower=lo, tick_upper=hi, amount0=amount0, amount1=amount1))
    return V3PoolPlan(
        name=name,
        symbol0=t0.symbol,
        symbol1=t1.symbol,
        token0=t0.address,
        token1=t1.address,
        fee=p.fee,
        tick_spacing=spacing,
        sqrt_price_x96=sqrt_p,
        mints=tuple(mints),
    )


# ---------------------------------------------------------------- build


def deploy(ctx: BuildContext) -> None:
    """Factory (owner: the builder), position manager, SwapRouter and QuoterV2 at mainnet's
    addresses. etch rewrites the factory's NoDelegateCall `original` immutable to its target."""
    etch(ctx.url, BUILDER, npm_artifact(FACTORY).bytecode, A.UNISWAP_V3_FACTORY)
    factory = ctx.at(A.UNISWAP_V3_FACTORY, npm_artifact(FACTORY).abi)
    for fee, spacing in sorted(A.V3_FEE_TIERS.items()):
        # The constructor enables 500, 3000 and 10000; governance added 100 (spacing 1) in 2021.
        if factory.functions.feeAmountTickSpacing(fee).call() == 0:
            ctx.call(factory, "enableFeeAmount", [fee, spacing], f"enableFeeAmount({fee})")
    core = [A.UNISWAP_V3_FACTORY, A.WETH]
    manager = deploy_code(
        npm_artifact(POSITION_MANAGER), ["address"] * 3, [*core, TOKEN_DESCRIPTOR]
    )
    etch(ctx.url, BUILDER, manager, A.UNISWAP_V3_POSITION_MANAGER)
    router = deploy_code(npm_artifact(SWAP_ROUTER), ["address"] * 2, core)
    etch(ctx.url, BUILDER, router, A.UNISWAP_V3_SWAP_ROUTER)
    quoter = deploy_code(npm_artifact(QUOTER_V2), ["address"] * 2, core)
    etch(ctx.url, BUILDER, quoter, A.UNISWAP_V3_QUOTER_V2)


def seed(ctx: BuildContext, pools: list[V3PoolSpec]) -> list[BuiltPool]:
    """Create, initialize and fill every pool, in data file order; the builder owns the
    position NFTs and keeps whatever the position manager did not take."""
    plans = [plan_pool(ctx.spec, p) for p in pools]
    seen: set[tuple[str, str, int]] = set()
    for plan in plans:
        key = (plan.token0, plan.token1, plan.fee)
        if key in seen:
            raise FlasharbValueError(
                f"{ctx.spec.path}: uniswap_v3 pool {plan.name} appears twice; merge its positions"
            )
        seen.add(key)
    symbols = sorted({s for plan in plans for s in (plan.symbol0, plan.symbol1)})
    for sym in symbols:
        ctx.approve(sym, A.UNISWAP_V3_POSITION_MANAGER, MAX_UINT256)
    built = [_seed_pool(ctx, plan) for plan in plans]
    for sym in symbols:  # leave no allowance behind in the replica
        ctx.approve(sym, A.UNISWAP_V3_POSITION_MANAGER, 0)
    return built


def _seed_pool(ctx: BuildContext, plan: V3PoolPlan) -> BuiltPool:
    manager = ctx.at(A.UNISWAP_V3_POSITION_MANAGER, npm_artifact(POSITION_MANAGER).abi)
    ctx.call(
        manager,
        "createAndInitializePoolIfNecessary",
        [plan.token0, plan.token1, plan.fee, plan.sqrt_price_x96],
        f"create uniswap_v3 pool {plan.name}",
    )
    factory = ctx.at(A.UNISWAP_V3_FACTORY, npm_artifact(FACTORY).abi)
    address = factory.functions.getPool(plan.token0, plan.token1, plan.fee).call()
    expected = pool_address(plan.token0, plan.token1, plan.fee)
    if address != expected:
        raise FlasharbRuntimeError(f"uniswap_v3 pool {plan.name} at {address}, expected {expected}")
    slot0 = ctx.at(address, npm_artifact(POOL).abi).functions.slot0().call()
    if slot0[0] != plan.sqrt_price_x96:
        raise FlasharbRuntimeError(f"uniswap_v3 pool {plan.name} was initialized at another price")
    for m in plan.mints:
        params = (
            plan.token0,
            plan.token1,
            plan.fee,
            m.tick_lower,
            m.tick_upper,
            m.amount0,
            m.amount1,
            0,  # amount0Min: nothing else trades during the build
            0,  # amount1Min
            BUILDER,
            FAR_DEADLINE,
        )
        ctx.call(manager, "mint", [params], f"mint {plan.name} [{m.tick_lower}, {m.tick_upper}]")
    return BuiltPool(
        venue="uniswap_v3",
        address=address,
        tokens=(plan.token0, plan.token1),
        extra={"fee": plan.fee, "tick_spacing": plan.tick_spacing},
    )
