"""The replica's data file: tokens (with USD prices) and pools of every venue, in human units.

Pool depth is given either as token amounts or as a USD value that the loader splits at the
tokens' prices, so every venue quotes the same mid price at build time. All arithmetic is
Decimal with 60 digits, then floored to base units: the same file gives the same integers
everywhere.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, localcontext
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from flasharb.errors import FlasharbValueError
from flasharb.paths import bundle

DEFAULT_SPEC = Path("data/replica/mainnet.json")
V2_VENUES = ("uniswap_v2", "sushiswap")
V3_VENUE = "uniswap_v3"
BALANCER_VENUE = "balancer_weighted"
BALANCER_V3_VENUE = "balancer_weighted_v3"  # WeightedPool of 20230206 (weighted-pool-v3)
STABLE_VENUE = "balancer_stable"  # ComposableStablePool of 20230206 (composable-stable-pool-v3)
V4_VENUE = "uniswap_v4"
NATIVE_SYMBOL = "ETH"  # a V4 pool's native currency (address(0)), priced as WETH
RATE_PROVIDERS = ("wsteth",)  # rate providers the replica can put behind a stable pool's token
V3_FEES = (100, 500, 3000, 10000)
TOKEN_KINDS = ("weth9", "erc20", "usdt")
PRECISION = 60


def _dec(value: Any, what: str) -> Decimal:
    try:
        d = Decimal(str(value))
    except Exception as exc:  # decimal.InvalidOperation
        raise FlasharbValueError(f"{what}: {value!r} is not a number") from exc
    if not d.is_finite() or d < 0:
        raise FlasharbValueError(f"{what}: {value!r} must be a finite non-negative number")
    return d


def to_base_units(amount: str | Decimal, decimals: int, what: str, exact: bool = True) -> int:
    with localcontext() as ctx:
        ctx.prec = PRECISION
        value = _dec(amount, what) * (Decimal(10) ** decimals)
        if exact and value != value.to_integral_value():
            raise FlasharbValueError(f"{what}: {amount} is not a whole number of base units")
        return int(value.to_integral_value(rounding=ROUND_FLOOR))


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenSpec:
    symbol: str
    name: str
    decimals: int
    address: str
    kind: str  # "weth9" | "erc20" | "usdt"
    supply: int  # base units
    price_usd: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class V2PoolSpec:
    venue: str  # "uniswap_v2" | "sushiswap"
    token_a: str  # symbol
    token_b: str
    amount_a: int  # base units
    amount_b: int


@dataclass(frozen=True, slots=True, kw_only=True)
class V3Position:
    lower: Decimal  # price range as multiples of the pool's price at build time (e.g. 0.5)
    upper: Decimal  # (e.g. 2); the builder rounds to the fee tier's tick spacing
    usd: Decimal  # value of the position at build time


@dataclass(frozen=True, slots=True, kw_only=True)
class V3PoolSpec:
    venue: str  # "uniswap_v3"
    token_a: str
    token_b: str
    fee: int  # 100 | 500 | 3000 | 10000 (hundredths of a bip)
    price: Decimal  # token_b per token_a, human units
    positions: tuple[V3Position, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class WeightedPoolSpec:
    venue: str  # "balancer_weighted"
    tokens: tuple[str, ...]
    weights: tuple[Decimal, ...]  # sum to 1
    swap_fee: Decimal  # e.g. 0.003
    amounts: tuple[int, ...]  # base units, value split by weight at the tokens' prices


@dataclass(frozen=True, slots=True, kw_only=True)
class WeightedV3PoolSpec:
    """A WeightedPool of the 20230206 factory (weighted-pool-v3): the same figures as
    `WeightedPoolSpec`, another factory and another FixedPoint."""

    venue: str  # "balancer_weighted_v3"
    tokens: tuple[str, ...]
    weights: tuple[Decimal, ...]
    swap_fee: Decimal
    amounts: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class StablePoolSpec:
    """A ComposableStablePool (20230206): tokens, amplification, fee, and a rate provider per
    token (None, or one of RATE_PROVIDERS) with its cache duration."""

    venue: str  # "balancer_stable"
    tokens: tuple[str, ...]
    amp: int  # A, without precision: 200
    swap_fee: Decimal
    amounts: tuple[int, ...]  # base units: the value split evenly at the tokens' prices
    rate_providers: tuple[str | None, ...]
    cache_duration: int  # seconds, for every token with a rate provider


@dataclass(frozen=True, slots=True, kw_only=True)
class V4PoolSpec:
    """A hookless Uniswap v4 pool: as a V3 pool, with any fee and tick spacing, and "ETH" for
    native ether."""

    venue: str  # "uniswap_v4"
    token_a: str  # symbol, or "ETH"
    token_b: str
    fee: int  # pips
    tick_spacing: int
    price: Decimal  # token_b per token_a, human units
    positions: tuple[V3Position, ...]


PoolSpec = (
    V2PoolSpec | V3PoolSpec | WeightedPoolSpec | WeightedV3PoolSpec | StablePoolSpec | V4PoolSpec
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplicaSpec:
    path: Path
    chain_id: int
    genesis_timestamp: int
    block_time: int
    tokens: tuple[TokenSpec, ...]
    pools: tuple[PoolSpec, ...]
    vault: dict[str, int]  # symbol -> base units lent by the Balancer Vault beyond pool balances

    def token(self, symbol: str) -> TokenSpec:
        for t in self.tokens:
            if t.symbol == symbol:
                return t
        raise FlasharbValueError(f"{self.path}: unknown token symbol {symbol!r}")

    def pools_of(self, kind: type[PoolSpec]) -> list[Any]:
        return [p for p in self.pools if isinstance(p, kind)]


class _Loader:
    def __init__(self, path: Path, raw: dict[str, Any]) -> None:
        self.path = path
        self.tokens = tuple(self._token(t) for t in raw["tokens"])
        self.by_symbol = {t.symbol: t for t in self.tokens}
        if len(self.by_symbol) != len(self.tokens):
            raise FlasharbValueError(f"{path}: a token symbol appears twice")

    def _token(self, t: dict[str, Any]) -> TokenSpec:
        if t["kind"] not in TOKEN_KINDS:
            raise FlasharbValueError(
                f"{self.path}: token {t['symbol']} has unknown kind {t['kind']!r}"
            )
        price = t.get("price_usd")
        return TokenSpec(
            symbol=t["symbol"],
            name=t["name"],
            decimals=int(t["decimals"]),
            address=to_checksum_address(t["address"]),
            kind=t["kind"],
            supply=to_base_units(t["supply"], int(t["decimals"]), f"{t['symbol']} supply"),
            price_usd=None if price is None else _dec(price, f"{t['symbol']} price_usd"),
        )

    def _known(self, sym: str, i: int) -> TokenSpec:
        if sym not in self.by_symbol:
            raise FlasharbValueError(f"{self.path}: pool {i} names unknown token {sym!r}")
        return self.by_symbol[sym]

    def _price(self, sym: str, i: int) -> Decimal:
        if sym == NATIVE_SYMBOL:
            sym = "WETH"
        p = self._known(sym, i).price_usd
        if not p:
            raise FlasharbValueError(f"{self.path}: pool {i} needs a price_usd for {sym}")
        return p

    def _usd_to_units(self, sym: str, usd: Decimal, i: int) -> int:
        t = self._known(sym, i)
        with localcontext() as ctx:
            ctx.prec = PRECISION
            return to_base_units(usd / self._price(sym, i), t.decimals, f"pool {i}", exact=False)

    def _positions(self, e: dict[str, Any], i: int) -> tuple[V3Position, ...]:
        positions = tuple(
            V3Position(
                lower=_dec(p["range"][0], f"pool {i} range"),
                upper=_dec(p["range"][1], f"pool {i} range"),
                usd=_dec(p["usd"], f"pool {i} usd"),
            )
            for p in e["positions"]
        )
        if any(not 0 < p.lower < 1 < p.upper for p in positions):
            raise FlasharbValueError(
                f"{self.path}: pool {i} ranges must straddle 1 (e.g. [0.5, 2])"
            )
        return positions

    def _weighted(self, i: int, e: dict[str, Any]) -> tuple[Any, ...]:
        syms = tuple(e["tokens"])
        weights = tuple(_dec(w, f"pool {i} weight") for w in e["weights"])
        if len(syms) != len(weights) or sum(weights) != 1:
            raise FlasharbValueError(
                f"{self.path}: pool {i} weights must match tokens and sum to 1"
            )
        usd = _dec(e["usd"], f"pool {i} usd")
        amounts = tuple(
            self._usd_to_units(s, usd * w, i) for s, w in zip(syms, weights, strict=True)
        )
        fee = _dec(e.get("swap_fee", "0.003"), f"pool {i} swap_fee")
        return syms, weights, fee, amounts

    def _new_venue(self, i: int, e: dict[str, Any]) -> PoolSpec | None:
        venue = e["venue"]
        if venue == BALANCER_V3_VENUE:
            syms, weights, fee, amounts = self._weighted(i, e)
            return WeightedV3PoolSpec(
                venue=venue, tokens=syms, weights=weights, swap_fee=fee, amounts=amounts
            )
        if venue == STABLE_VENUE:
            syms = tuple(e["tokens"])
            usd = _dec(e["usd"], f"pool {i} usd")
            with localcontext() as ctx:
                ctx.prec = PRECISION
                share = usd / len(syms)
            providers = tuple(e.get("rate_providers", {}).get(s) for s in syms)
            unknown = [p for p in providers if p is not None and p not in RATE_PROVIDERS]
            if unknown:
                raise FlasharbValueError(
                    f"{self.path}: pool {i} rate provider {unknown[0]!r} is not one of "
                    f"{RATE_PROVIDERS}"
                )
            return StablePoolSpec(
                venue=venue,
                tokens=syms,
                amp=int(e["amp"]),
                swap_fee=_dec(e.get("swap_fee", "0.0004"), f"pool {i} swap_fee"),
                amounts=tuple(self._usd_to_units(s, share, i) for s in syms),
                rate_providers=providers,
                cache_duration=int(e.get("cache_duration", 10800)),
            )
        if venue == V4_VENUE:
            a, b = e["tokens"]
            for sym in (a, b):
                if sym != NATIVE_SYMBOL:
                    self._known(sym, i)
            with localcontext() as ctx:
                ctx.prec = PRECISION
                price = (
                    _dec(e["price"], f"pool {i}")
                    if "price" in e
                    else self._price(a, i) / self._price(b, i)
                )
            return V4PoolSpec(
                venue=venue,
                token_a=a,
                token_b=b,
                fee=int(e["fee"]),
                tick_spacing=int(e["tick_spacing"]),
                price=price,
                positions=self._positions(e, i),
            )
        return None

    def pool(self, i: int, e: dict[str, Any]) -> PoolSpec:
        venue = e["venue"]
        new = self._new_venue(i, e)
        if new is not None:
            return new
        if venue in V2_VENUES:
            a, b = e["tokens"]
            ta, tb = self._known(a, i), self._known(b, i)
            if "amounts" in e:
                amt_a = to_base_units(e["amounts"][0], ta.decimals, f"pool {i}")
                amt_b = to_base_units(e["amounts"][1], tb.decimals, f"pool {i}")
            else:
                half = _dec(e["usd"], f"pool {i} usd") / 2
                amt_a, amt_b = self._usd_to_units(a, half, i), self._usd_to_units(b, half, i)
            return V2PoolSpec(venue=venue, token_a=a, token_b=b, amount_a=amt_a, amount_b=amt_b)
        if venue == V3_VENUE:
            a, b = e["tokens"]
            fee = int(e["fee"])
            if fee not in V3_FEES:
                raise FlasharbValueError(f"{self.path}: pool {i} fee {fee} is not one of {V3_FEES}")
            with localcontext() as ctx:
                ctx.prec = PRECISION
                price = (
                    _dec(e["price"], f"pool {i}")
                    if "price" in e
                    else self._price(a, i) / self._price(b, i)
                )
            positions = tuple(
                V3Position(
                    lower=_dec(p["range"][0], f"pool {i} range"),
                    upper=_dec(p["range"][1], f"pool {i} range"),
                    usd=_dec(p["usd"], f"pool {i} usd"),
                )
                for p in e["positions"]
            )
            if any(not 0 < p.lower < 1 < p.upper for p in positions):
                raise FlasharbValueError(
                    f"{self.path}: pool {i} ranges must straddle 1 (e.g. [0.5, 2])"
                )
            self._known(b, i)
            return V3PoolSpec(
                venue=venue, token_a=a, token_b=b, fee=fee, price=price, positions=positions
            )
        if venue == BALANCER_VENUE:
            syms = tuple(e["tokens"])
            weights = tuple(_dec(w, f"pool {i} weight") for w in e["weights"])
            if len(syms) != len(weights) or sum(weights) != 1:
                raise FlasharbValueError(
                    f"{self.path}: pool {i} weights must match tokens and sum to 1"
                )
            usd = _dec(e["usd"], f"pool {i} usd")
            amounts = tuple(
                self._usd_to_units(s, usd * w, i) for s, w in zip(syms, weights, strict=True)
            )
            return WeightedPoolSpec(
                venue=venue,
                tokens=syms,
                weights=weights,
                swap_fee=_dec(e.get("swap_fee", "0.003"), f"pool {i} swap_fee"),
                amounts=amounts,
            )
        raise FlasharbValueError(f"{self.path}: pool {i} has unknown venue {venue!r}")


def spec_path() -> Path:
    """The data file in use: FLASHARB_REPLICA_SPEC, else data/replica's default."""
    env = os.environ.get("FLASHARB_REPLICA_SPEC")
    if not env:
        return bundle() / DEFAULT_SPEC
    given = Path(env)
    if not given.exists() and not given.is_absolute() and (bundle() / given).exists():
        return bundle() / given  # a data file that ships with flasharb, e.g. data/replica/...
    return given.resolve()


def load_spec(path: Path | None = None) -> ReplicaSpec:
    p = path or spec_path()
    try:
        raw = json.loads(p.read_text())
    except FileNotFoundError as exc:
        raise FlasharbValueError(f"replica data file {p} not found") from exc
    loader = _Loader(p, raw)
    pools = tuple(loader.pool(i, e) for i, e in enumerate(raw["pools"]))
    vault = {
        sym: to_base_units(amt, loader._known(sym, -1).decimals, f"vault {sym}")
        for sym, amt in raw.get("balancer_vault", {}).items()
    }
    return ReplicaSpec(
        path=p,
        chain_id=int(raw["chain_id"]),
        genesis_timestamp=int(raw["genesis_timestamp"]),
        block_time=int(raw["block_time"]),
        tokens=loader.tokens,
        pools=pools,
        vault=vault,
    )
