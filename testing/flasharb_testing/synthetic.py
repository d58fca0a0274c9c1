"""Seeded, mainnet-shaped markets of real pool states, for tests and benchmarks of the search.

Shape (figures are the generator's, chosen to resemble mainnet, not measured from it):

- Five hubs at their mainnet addresses and decimals (WETH, USDC, USDT, DAI, WBTC), all
  flash-borrowable. Every hub pair trades on most venues: Uniswap V2, SushiSwap, Uniswap V3
  fee tiers (100/500 pips for stable pairs, 500/3000/10000 otherwise) and some Balancer
  weighted pools, plus one three-token Balancer pool (WETH/WBTC/USDC).
- Long-tail tokens with heavy-tailed degrees: most have one pair (mostly with WETH), a few
  have many (preferential attachment among the long tail, like LINK or UNI). Each pair
  trades on one to a few venues.
- Depths log-normal: thousands of ETH on hub pairs, tens on the long tail. V3 pools hold a
  full-range position plus two concentrated ones around the price; their state carries the
  tick bitmap words around the price (a swap beyond them raises IncompleteStateError, as a
  state read from a chain would).
- Prices: every pool sits within 45% of its own fee of the true price, which leaves no cycle
  profitable (each hop's fee exceeds the dislocation it can add); then a fraction
  `dislocated` of the pools is pushed 0.5-3% off, as a whale trade leaves them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from flasharb.amm.balancer_weighted import WeightedPoolState
from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import V2PairState, checksum_address
from flasharb.amm.uniswap_v3 import MAX_TICK, MIN_TICK, V3PoolState
from flasharb.amm.uniswap_v3.tick_math import get_tick_at_sqrt_ratio
from flasharb.errors import FlasharbValueError
from flasharb.search.route import v3_pool_address
from flasharb_testing.pool_builders import (
    TICK_SPACING,
    full_range,
    sqrt_price_x96_of,
    v3_pool,
    weighted_pool,
)

__all__ = ["HUBS", "SyntheticMarket", "SyntheticToken", "generate", "shocked"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SyntheticToken:
    address: str
    symbol: str
    decimals: int
    price_eth: float  # the "true" price the pools sit around (a float: it only shapes data)


# mainnet addresses, decimals, rough price in ETH
HUBS = (
    SyntheticToken(
        address="0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
        symbol="WETH",
        decimals=18,
        price_eth=1.0,
    ),
    SyntheticToken(
        address="0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
        symbol="USDC",
        decimals=6,
        price_eth=1 / 3000,
    ),
    SyntheticToken(
        address="0xdAC17F958D2ee523a2206206994597C13D831ec7",
        symbol="USDT",
        decimals=6,
        price_eth=1 / 3000,
    ),
    SyntheticToken(
        address="0x6B175474E89094C44Da98b954EedeAC495271d0F",
        symbol="DAI",
        decimals=18,
        price_eth=1 / 3000,
    ),
    SyntheticToken(
        address="0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599",
        symbol="WBTC",
        decimals=8,
        price_eth=20.0,
    ),
)
_STABLE = {"USDC", "USDT", "DAI"}
# long tail: who a new pair's other side is (the rest: another long-tail token)
_COUNTERPARTY = (("WETH", 0.66), ("USDC", 0.12), ("USDT", 0.06), ("DAI", 0.04), ("WBTC", 0.03))
# venue -> probability on a long-tail pair / on a hub pair
_VENUES_TAIL = (
    ("v2", 0.75),
    ("sushi", 0.25),
    ("v3_3000", 0.3),
    ("v3_10000", 0.2),
    ("v3_500", 0.05),
    ("balancer", 0.03),
)
_VENUES_HUB = (
    ("v2", 0.95),
    ("sushi", 0.8),
    ("v3_500", 0.9),
    ("v3_3000", 0.8),
    ("v3_10000", 0.3),
    ("balancer", 0.4),
)
_VENUES_STABLE = (("v2", 0.9), ("sushi", 0.6), ("v3_100", 0.95), ("v3_500", 0.8), ("balancer", 0.2))
_FEE_PIPS = {
    "v2": 3000,
    "sushi": 3000,
    "v3_100": 100,
    "v3_500": 500,
    "v3_3000": 3000,
    "v3_10000": 10_000,
    "balancer": 3000,
}
_DEPTH_SCALE = {
    "v2": 1.0,
    "sushi": 0.3,
    "v3_100": 1.0,
    "v3_500": 1.5,
    "v3_3000": 1.0,
    "v3_10000": 0.3,
    "balancer": 0.5,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class SyntheticMarket:
    """Tokens (hubs first), pool states, and the flash-borrowable tokens (the hubs)."""

    seed: int
    tokens: tuple[SyntheticToken, ...]
    pools: tuple[PoolState, ...]
    flash_tokens: tuple[str, ...]
    weth: str

    def states(self) -> dict[str, PoolState]:
        return {pool.address: pool for pool in self.pools}


class _Builder:
    def __init__(self, rng: random.Random, dislocated: float) -> None:
        self.rng = rng
        self.dislocated = dislocated
        self.pools: list[PoolState] = []
        self.v3_used: set[str] = set()  # canonical V3 addresses taken (one pool per pair and fee)

    def address(self) -> str:
        return checksum_address(f"0x{self.rng.getrandbits(160):040x}")

    def skew(self, fee_pips: int) -> float:
        """Price multiplier: within 45% of the fee, or 0.5-3% off for a dislocated pool."""
        rng = self.rng
        if rng.random() < self.dislocated:
            return math.exp(rng.choice((-1, 1)) * rng.uniform(0.005, 0.03))
        return math.exp(rng.uniform(-0.45, 0.45) * fee_pips / 1e6)

    def add(self, venue: str, a: SyntheticToken, b: SyntheticToken, depth_eth: float) -> None:
        t0, t1 = sorted((a, b), key=lambda t: t.address.lower())
        fee = _FEE_PIPS[venue]
        depth = depth_eth * _DEPTH_SCALE[venue]
        skew = self.skew(fee)  # on the price of t0 in t1
        if venue in ("v2", "sushi"):
            self.pools.append(
                V2PairState(
                    address=self.address(),
                    token0=t0.address,
                    token1=t1.address,
                    reserve0=max(int(depth / 2 / t0.price_eth * 10**t0.decimals), 1000),
                    reserve1=max(int(depth / 2 / t1.price_eth * skew * 10**t1.decimals), 1000),
                    venue="uniswap_v2" if venue == "v2" else "sushiswap",
                )
            )
        elif venue == "balancer":
            self.pools.append(self.balancer((t0, t1), depth, (skew, 1.0), fee))
        else:
            self.pools.append(self.v3(t0, t1, fee, depth, skew))

    def v3(
        self, t0: SyntheticToken, t1: SyntheticToken, fee: int, depth: float, skew: float
    ) -> V3PoolState:
        rng = self.rng
        spacing = TICK_SPACING[fee]
        price = t0.price_eth / t1.price_eth * 10 ** (t1.decimals - t0.decimals) * skew
        sqrt_price = sqrt_price_x96_of(price)
        tick = get_tick_at_sqrt_ratio(sqrt_price)
        amount0 = depth / 2 / t0.price_eth * 10**t0.decimals
        amount1 = depth / 2 / t1.price_eth * 10**t1.decimals
        base = int(math.sqrt(amount0 * amount1))  # full-range L holding the depth
        low, high = full_range(spacing)
        positions = [(low, high, max(base // 4, 1))]
        for width_bps, mult in ((500, 2.0), (60, 3.0)):  # +-5% and +-0.6% around the price
            half = max(width_bps, spacing) * rng.uniform(0.7, 1.3)  # 1 tick = 1 bp of price
            lower = math.floor((tick - half) / spacing) * spacing
            upper = math.ceil((tick + half + 1) / spacing) * spacing
            positions.append((lower, upper, max(int(base * mult), 1)))
        words = [(t // spacing) >> 8 for lower, upper, _ in positions[1:] for t in (lower, upper)]
        address = self.address()  # drawn in any case: the seeded stream stays as it was
        canonical = v3_pool_address(t0.address, t1.address, fee)
        if canonical not in self.v3_used:  # at the factory's CREATE2 address: executable
            self.v3_used.add(canonical)
            address = canonical
        return v3_pool(
            address=address,
            token0=t0.address,
            token1=t1.address,
            fee=fee,
            sqrt_price_x96=sqrt_price,
            positions=positions,
            word_range=(min(words) - 1, max(words) + 1),
        )

    def balancer(
        self,
        tokens: tuple[SyntheticToken, ...],
        depth: float,
        skews: tuple[float, ...],
        fee_pips: int,
    ) -> WeightedPoolState:
        if len(tokens) == 2:
            heavy = self.rng.choice((0.5, 0.8))
            weights = [int(heavy * 10**18), 10**18 - int(heavy * 10**18)]
        else:
            weights = [10**18 // len(tokens)] * len(tokens)
            weights[0] += 10**18 - sum(weights)
        return weighted_pool(
            address=self.address(),
            tokens=[t.address for t in tokens],
            balances=[
                max(int(depth * w / 1e18 / t.price_eth * s * 10**t.decimals), 1000)
                for t, w, s in zip(tokens, weights, skews, strict=True)
            ],
            decimals=[t.decimals for t in tokens],
            weights=weights,
            swap_fee=fee_pips * 10**12,
        )


def _venues(rng: random.Random, table: tuple[tuple[str, float], ...]) -> list[str]:
    chosen = [venue for venue, p in table if rng.random() < p]
    return chosen or [table[0][0]]


def generate(n_pools: int, seed: int = 0, *, dislocated: float = 0.002) -> SyntheticMarket:
    """A market of exactly `n_pools` pool states, the same for the same arguments.

    Raises:
        FlasharbValueError: `n_pools` below the hub core (about 60 pools) or `dislocated`
            outside [0, 1].
    """
    if not 0.0 <= dislocated <= 1.0:
        raise FlasharbValueError(f"dislocated must be a fraction in [0, 1], got {dislocated}")
    rng = random.Random(seed)
    build = _Builder(rng, dislocated)
    hubs = {t.symbol: t for t in HUBS}
    for i, a in enumerate(HUBS):
        for b in HUBS[i + 1 :]:
            table = _VENUES_STABLE if {a.symbol, b.symbol} <= _STABLE else _VENUES_HUB
            for venue in _venues(rng, table):
                build.add(venue, a, b, math.exp(rng.gauss(math.log(4000), 1.0)))
    trio = (hubs["WETH"], hubs["WBTC"], hubs["USDC"])
    build.pools.append(
        build.balancer(
            tuple(sorted(trio, key=lambda t: t.address.lower())), 3000.0, (1.0, 1.0, 1.0), 1000
        )
    )
    if n_pools < len(build.pools):
        raise FlasharbValueError(f"n_pools must be at least {len(build.pools)} (the hub core)")

    tail: list[SyntheticToken] = []
    attach: list[SyntheticToken] = []  # long-tail tokens, once per pair they have
    counterparties = [hubs[s] for s, _ in _COUNTERPARTY]
    weights = [w for _, w in _COUNTERPARTY]
    hub_share = sum(weights)
    while len(build.pools) < n_pools:
        token = SyntheticToken(
            address=build.address(),
            symbol=f"T{len(tail)}",
            decimals=rng.choice((18, 18, 18, 9, 6)),
            price_eth=math.exp(rng.uniform(math.log(1e-7), math.log(2.0))),
        )
        tail.append(token)
        degree = min(int(rng.paretovariate(2.5)), 40)  # one pair for ~82% of the tokens
        partners: set[str] = set()
        for _ in range(degree):
            if attach and rng.random() > hub_share:
                other = rng.choice(attach)  # preferential: by pairs already held
            else:
                other = rng.choices(counterparties, weights)[0]
            if other.address in partners or other.address == token.address:
                continue
            partners.add(other.address)
            attach.append(token)
            if other not in HUBS:
                attach.append(other)
            depth = math.exp(rng.gauss(math.log(30), 1.5))
            for venue in _venues(rng, _VENUES_TAIL):
                if len(build.pools) < n_pools:
                    build.add(venue, token, other, depth)
    return SyntheticMarket(
        seed=seed,
        tokens=(*HUBS, *tail),
        pools=tuple(build.pools),
        flash_tokens=tuple(t.address for t in HUBS),
        weth=HUBS[0].address,
    )


def shocked(
    pools: list[PoolState] | tuple[PoolState, ...], rng: random.Random, max_move: float = 0.01
) -> list[PoolState]:
    """New states for `pools` with prices moved by up to `max_move` (either way), as a trade
    leaves them: V2 and Balancer balances, V3 price within the current tick range's words."""
    out: list[PoolState] = []
    for pool in pools:
        move = math.exp(rng.uniform(-max_move, max_move))
        if isinstance(pool, V2PairState):
            out.append(
                V2PairState(
                    address=pool.address,
                    token0=pool.token0,
                    token1=pool.token1,
                    reserve0=max(int(pool.reserve0 / math.sqrt(move)), 1),
                    reserve1=max(int(pool.reserve1 * math.sqrt(move)), 1),
                    fee_pips=pool.fee_pips,
                    venue=pool.venue,
                )
            )
        elif isinstance(pool, V3PoolState):
            sqrt_price = int(pool.sqrt_price_x96 * math.sqrt(move))
            tick = get_tick_at_sqrt_ratio(sqrt_price)
            below = max((t for t in pool.ticks if t <= pool.tick), default=MIN_TICK)
            above = min((t for t in pool.ticks if t > pool.tick), default=MAX_TICK)
            if not below <= tick < above:  # would cross a tick: in-range liquidity would change
                sqrt_price, tick = pool.sqrt_price_x96, pool.tick
            out.append(
                V3PoolState(
                    address=pool.address,
                    token0=pool.token0,
                    token1=pool.token1,
                    fee=pool.fee,
                    tick_spacing=pool.tick_spacing,
                    sqrt_price_x96=sqrt_price,
                    tick=tick,
                    liquidity=pool.liquidity,
                    tick_bitmap=pool.tick_bitmap,
                    ticks=pool.ticks,
                    word_range=pool.word_range,
                )
            )
        elif isinstance(pool, WeightedPoolState):
            balances = list(pool.balances)
            balances[0] = max(int(balances[0] / move), 1)
            out.append(
                WeightedPoolState(
                    address=pool.address,
                    pool_id=pool.pool_id,
                    tokens=pool.tokens,
                    balances=tuple(balances),
                    decimals=pool.decimals,
                    normalized_weights=pool.normalized_weights,
                    swap_fee=pool.swap_fee,
                )
            )
        else:
            raise FlasharbValueError(f"pool {pool.address}: unknown pool type")
    return out
