"""The replica's data file: tokens, pools and Vault liquidity, in human units."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from eth_utils import to_checksum_address

from flasharb.errors import FlasharbValueError
from flasharb.paths import repo_root

DEFAULT_SPEC = Path("data/replica/mainnet-v0.json")
VENUES = ("uniswap_v2", "sushiswap")


def to_base_units(amount: str, decimals: int, what: str) -> int:
    value = Decimal(amount) * (Decimal(10) ** decimals)
    if value != value.to_integral_value() or value < 0:
        raise FlasharbValueError(f"{what}: {amount} is not a whole number of base units")
    return int(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenSpec:
    symbol: str
    name: str
    decimals: int
    address: str
    kind: str  # "weth9" | "erc20"
    supply: int  # base units


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolSpec:
    venue: str
    token_a: str  # symbol
    token_b: str
    amount_a: int  # base units
    amount_b: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplicaSpec:
    path: Path
    chain_id: int
    genesis_timestamp: int
    block_time: int
    tokens: tuple[TokenSpec, ...]
    pools: tuple[PoolSpec, ...]
    vault: dict[str, int]  # symbol -> base units

    def token(self, symbol: str) -> TokenSpec:
        for t in self.tokens:
            if t.symbol == symbol:
                return t
        raise FlasharbValueError(f"{self.path}: unknown token symbol {symbol!r}")


def load_spec(path: Path | None = None) -> ReplicaSpec:
    p = path or repo_root() / DEFAULT_SPEC
    try:
        raw = json.loads(p.read_text())
    except FileNotFoundError as exc:
        raise FlasharbValueError(f"replica data file {p} not found") from exc
    tokens = tuple(
        TokenSpec(
            symbol=t["symbol"],
            name=t["name"],
            decimals=int(t["decimals"]),
            address=to_checksum_address(t["address"]),
            kind=t["kind"],
            supply=to_base_units(t["supply"], int(t["decimals"]), f"{t['symbol']} supply"),
        )
        for t in raw["tokens"]
    )
    by_symbol = {t.symbol: t for t in tokens}
    pools = []
    for i, entry in enumerate(raw["pools"]):
        a, b = entry["tokens"]
        if entry["venue"] not in VENUES:
            raise FlasharbValueError(f"{p}: pool {i} has unknown venue {entry['venue']!r}")
        for sym in (a, b):
            if sym not in by_symbol:
                raise FlasharbValueError(f"{p}: pool {i} names unknown token {sym!r}")
        pools.append(
            PoolSpec(
                venue=entry["venue"],
                token_a=a,
                token_b=b,
                amount_a=to_base_units(entry["amounts"][0], by_symbol[a].decimals, f"pool {i}"),
                amount_b=to_base_units(entry["amounts"][1], by_symbol[b].decimals, f"pool {i}"),
            )
        )
    vault = {
        sym: to_base_units(amt, by_symbol[sym].decimals, f"vault {sym}")
        for sym, amt in raw["balancer_vault"].items()
    }
    return ReplicaSpec(
        path=p,
        chain_id=int(raw["chain_id"]),
        genesis_timestamp=int(raw["genesis_timestamp"]),
        block_time=int(raw["block_time"]),
        tokens=tokens,
        pools=tuple(pools),
        vault=vault,
    )
