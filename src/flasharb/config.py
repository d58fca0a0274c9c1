"""The project's configuration file: which venues the market reads, which tokens it trades, and
the strategy's figures (docs/config.md lists every key, its unit and its default).

Where: `flasharb.toml` in the project folder (`flasharb.paths.project_dir()`), else the
`[tool.flasharb]` table of its `pyproject.toml`, else nothing: the defaults, which are exactly
flasharb's behaviour without a file. `flasharb --config PATH` (FLASHARB_CONFIG, or
`load_config(PATH)`) reads another file.

    [venues.sushiswap]
    enabled = false                 # not discovered, not read, not lent from
    [venues.uniswap_v3]
    priority = 60                   # the order venues are discovered and read in, highest first
    min_liquidity = "5"             # ETH its pools must hold near their price (search/market.py)
    [venues.uniswap_v2]
    fee = 3000                      # pips, only for venues whose pools do not say their fee
    [tokens]
    deny = ["0xdAC17F958D2ee523a2206206994597C13D831ec7"]
    [strategy]
    max_hops = 2
    min_net_profit = "0.01"         # ETH: an integer is wei, a string a decimal (unit: ether)

Every value is checked when the file is read: an unknown key or venue, a wrong type, a bad
address or an amount finer than a wei is one FlasharbValueError naming the file, the key and
the fix (the CLI prints it as one line and exits 2).

What a command does with it: `Config.market(...)` is the `MarketConfig` (venues, token lists,
floors, max hops, priority fee, minimum net profit), its keywords overriding the file (the
CLI's flags); `Config.strategy` holds `top`, `bribe_bps` and `deadline_blocks` for
`flasharb execute` and `flasharb run`, which read them where their flags are not given.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from eth_utils import is_checksum_address, is_hex_address

from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.errors import FlasharbValueError
from flasharb.paths import project_dir
from flasharb.search.cycles import MAX_HOPS, MIN_HOPS
from flasharb.search.market import MarketConfig
from flasharb.state.venue import PoolSource, Venues, builtin_venues

__all__ = [
    "CONFIG_ENV",
    "CONFIG_FILE",
    "Config",
    "Strategy",
    "VenueSettings",
    "find_config",
    "load_config",
    "module_priority",
    "parse_config",
]

CONFIG_FILE = "flasharb.toml"
CONFIG_ENV = "FLASHARB_CONFIG"  # a file to read instead of the project's
PYPROJECT = "pyproject.toml"
UNITS = {"wei": 0, "gwei": 9, "ether": 18, "eth": 18}  # a string amount's unit (default ether)
_AMOUNT = re.compile(r"^(?P<num>\d[\d_]*(?:\.\d[\d_]*)?)\s*(?P<unit>[A-Za-z]+)?$")
_SECTIONS = ("venues", "tokens", "strategy")
_VENUE_KEYS = ("enabled", "priority", "min_liquidity", "fee")
_TOKEN_KEYS = ("allow", "deny")
_STRATEGY_KEYS = (
    "max_hops",
    "min_net_profit",
    "priority_fee",
    "top",
    "bribe_bps",
    "deadline_blocks",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueSettings:
    """One `[venues.NAME]` table: what the file says of a venue (None: as built in)."""

    name: str
    enabled: bool = True
    priority: int | None = None  # None: its module's PRIORITY; higher is discovered first
    min_liquidity_eth: int = 0  # ETH wei its pools must hold near their price; 0: no floor
    fee: int | None = None  # pips, for a venue whose instance takes its pools' fee


@dataclass(frozen=True, slots=True, kw_only=True)
class Strategy:
    """The `[strategy]` table; None: not in the file (the command's own default)."""

    max_hops: int | None = None
    min_net_profit_eth: int | None = None  # ETH wei
    priority_fee_wei: int | None = None
    top: int | None = None
    bribe_bps: int | None = None
    deadline_blocks: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """A project's flasharb configuration, read and checked (`load_config`); `Config()` is the
    defaults: every built-in venue, every token, no floors, the commands' own figures."""

    source: str = ""  # the file (and table) it was read from; "" for the defaults
    venues: tuple[VenueSettings, ...] = ()  # the venues the file names, in its order
    allow_tokens: frozenset[str] | None = None  # None: any token
    deny_tokens: frozenset[str] = frozenset()
    strategy: Strategy = field(default_factory=Strategy)

    def venue_set(self) -> Venues:
        """The built-in venues less the disabled ones, each with its configured fee, in order of
        priority (highest first; equal priorities keep the built-in order)."""
        if not self.venues:
            return Venues()
        settings = {v.name: v for v in self.venues}
        chosen: list[tuple[int, int, PoolSource]] = []
        for order, venue in enumerate(builtin_venues()):
            s = settings.get(venue.name)
            if s is not None and not s.enabled:
                continue
            if s is not None and s.fee is not None:
                venue = replace(venue, fee=s.fee)  # type: ignore[type-var]
            rank = (
                s.priority if s is not None and s.priority is not None else module_priority(venue)
            )
            chosen.append((-rank, order, venue))
        chosen.sort(key=lambda row: (row[0], row[1]))
        return Venues(venues=tuple(v for _, _, v in chosen))

    def market(
        self,
        *,
        max_hops: int | None = None,
        priority_fee_wei: int | None = None,
        min_net_profit_eth: int | None = None,
        **fields: Any,
    ) -> MarketConfig:
        """The market this configuration reads: its venues, token lists, floors and strategy;
        `max_hops`, `priority_fee_wei`, `min_net_profit_eth` (None: the file's, else the
        default) and any other `MarketConfig` field given override it."""
        s = self.strategy
        given = {
            "max_hops": max_hops if max_hops is not None else s.max_hops,
            "priority_fee_wei": (
                priority_fee_wei if priority_fee_wei is not None else s.priority_fee_wei
            ),
            "min_net_profit_eth": (
                min_net_profit_eth if min_net_profit_eth is not None else s.min_net_profit_eth
            ),
        }
        base: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
        if self.venues:
            base["venues"] = self.venue_set()
            floors = {v.name: v.min_liquidity_eth for v in self.venues if v.min_liquidity_eth}
            if floors:
                base["min_liquidity_eth"] = floors
        if self.deny_tokens:
            base["deny_tokens"] = self.deny_tokens
        if self.allow_tokens is not None:
            base["allow_tokens"] = self.allow_tokens
        return MarketConfig(**(base | fields))


def module_priority(venue: PoolSource) -> int:
    """The `PRIORITY` of the module that defines `venue` (0 without one): its built-in rank."""
    module = importlib.import_module(type(venue).__module__)
    return int(getattr(module, "PRIORITY", 0))


# ------------------------------------------------------------------ finding and reading


def find_config(project: Path | None = None) -> tuple[Path, bool] | None:
    """The project's configuration: (`flasharb.toml`, False), else (`pyproject.toml`, True) when
    it has a `[tool.flasharb]` table, else None."""
    d = project or project_dir()
    own = d / CONFIG_FILE
    if own.is_file():
        return own, False
    py = d / PYPROJECT
    if py.is_file() and "flasharb" in _read_toml(py).get("tool", {}):
        return py, True
    return None


def load_config(path: str | Path | None = None, *, project: Path | None = None) -> Config:
    """Read and check the configuration: the file at `path` (a `pyproject.toml`: its
    `[tool.flasharb]` table), else at FLASHARB_CONFIG (`flasharb --config PATH` sets it), else
    the project's (`find_config`), else the defaults.

    Raises:
        FlasharbValueError: a missing file at `path`, TOML that does not parse, or any key,
            venue, type, address or amount the file gets wrong (one line naming it).
    """
    if path is None:
        path = os.environ.get(CONFIG_ENV) or None
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise FlasharbValueError(f"config file {file} does not exist; give the path of a TOML")
        found: tuple[Path, bool] | None = (file, file.name == PYPROJECT)
    else:
        found = find_config(project)
    if found is None:
        return Config()
    file, in_pyproject = found
    data = _read_toml(file)
    if in_pyproject:
        table = data.get("tool", {}).get("flasharb")
        if not isinstance(table, dict):
            raise FlasharbValueError(f"{file} has no [tool.flasharb] table; add one")
        return parse_config(table, f"{file} [tool.flasharb]")
    return parse_config(data, str(file))


def _read_toml(file: Path) -> dict[str, Any]:
    try:
        with file.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise FlasharbValueError(f"{file} is not valid TOML ({exc}); fix the file") from None
    except OSError as exc:
        raise FlasharbValueError(f"cannot read {file} ({exc.strerror}); check the path") from None


# ------------------------------------------------------------------ checking


def parse_config(data: Mapping[str, Any], source: str = "config") -> Config:
    """Check a parsed configuration table (`[tool.flasharb]`, or a `flasharb.toml` whole).

    Raises:
        FlasharbValueError: the first thing it gets wrong, as `SOURCE: KEY ...; FIX`.
    """
    _known(data, _SECTIONS, source, "")
    venues = _venues(_table(data, "venues", source), source)
    tokens = _table(data, "tokens", source)
    _known(tokens, _TOKEN_KEYS, source, "tokens.")
    allow = _addresses(tokens, "allow", source) if "allow" in tokens else None
    deny = _addresses(tokens, "deny", source) if "deny" in tokens else frozenset()
    both = sorted(deny & allow) if allow is not None else []
    if both:
        raise FlasharbValueError(
            f"{source}: tokens: {both[0]} is in both allow and deny; keep it in one list"
        )
    return Config(
        source=source,
        venues=venues,
        allow_tokens=allow,
        deny_tokens=deny,
        strategy=_strategy(_table(data, "strategy", source), source),
    )


def _table(data: Mapping[str, Any], key: str, source: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise FlasharbValueError(f"{source}: {key} must be a table ([{key}]), not {_kind(value)}")
    return value


def _known(table: Mapping[str, Any], keys: tuple[str, ...], source: str, prefix: str) -> None:
    for key in table:
        if key not in keys:
            raise FlasharbValueError(
                f"{source}: unknown key {prefix}{key}; the keys here are {', '.join(keys)}"
            )


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a float", str: "a string"}.get(
        type(value), "a list" if isinstance(value, list) else "a table"
    )


def _venues(table: Mapping[str, Any], source: str) -> tuple[VenueSettings, ...]:
    known = {v.name: v for v in builtin_venues()}
    out = []
    for name, spec in table.items():
        venue = known.get(name)
        if venue is None:
            raise FlasharbValueError(
                f"{source}: unknown venue {name!r} in [venues]; the venues are {', '.join(known)}"
            )
        where = f"venues.{name}."
        if not isinstance(spec, dict):
            raise FlasharbValueError(
                f"{source}: venues.{name} must be a table ([venues.{name}]), not {_kind(spec)}"
            )
        _known(spec, _VENUE_KEYS, source, where)
        enabled = spec.get("enabled", True)
        if not isinstance(enabled, bool):
            raise FlasharbValueError(
                f"{source}: {where}enabled must be true or false, not {_kind(enabled)}"
            )
        priority = _int(spec, "priority", source, where, low=-(10**6), high=10**6)
        fee = _int(spec, "fee", source, where, low=0, high=999_999)
        if fee is not None and "fee" not in {
            f.name
            for f in dataclasses.fields(venue)  # type: ignore[arg-type]
        }:
            raise FlasharbValueError(
                f"{source}: {where}fee: {name} reads each pool's fee from the chain; remove it"
            )
        floor = _amount(spec, "min_liquidity", source, where)
        out.append(
            VenueSettings(
                name=name,
                enabled=enabled,
                priority=priority,
                min_liquidity_eth=floor or 0,
                fee=fee,
            )
        )
    if {v.name for v in out if not v.enabled} == set(known):
        raise FlasharbValueError(f"{source}: every venue is disabled; enable at least one")
    return tuple(out)


def _strategy(table: Mapping[str, Any], source: str) -> Strategy:
    _known(table, _STRATEGY_KEYS, source, "strategy.")
    w = "strategy."
    return Strategy(
        max_hops=_int(table, "max_hops", source, w, low=MIN_HOPS, high=MAX_HOPS),
        min_net_profit_eth=_amount(table, "min_net_profit", source, w),
        priority_fee_wei=_amount(table, "priority_fee", source, w),
        top=_int(table, "top", source, w, low=1, high=10_000),
        bribe_bps=_int(table, "bribe_bps", source, w, low=0, high=10_000),
        deadline_blocks=_int(table, "deadline_blocks", source, w, low=1, high=10_000),
    )


def _int(
    table: Mapping[str, Any], key: str, source: str, where: str, *, low: int, high: int
) -> int | None:
    if key not in table:
        return None
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise FlasharbValueError(
            f"{source}: {where}{key} must be an integer in {low}..{high}, not {_kind(value)}"
        )
    if not low <= value <= high:
        raise FlasharbValueError(f"{source}: {where}{key} = {value} is not in {low}..{high}")
    return value


def _amount(table: Mapping[str, Any], key: str, source: str, where: str) -> int | None:
    """An amount of ETH, exact: an integer is wei; a string is a decimal with an optional unit
    (`"0.05"` and `"0.05 ether"` are ether, `"2 gwei"`, `"1000 wei"`)."""
    if key not in table:
        return None
    value = table[key]
    fix = 'give an integer of wei (50000000000000000) or a decimal string ("0.05", "2 gwei")'
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise FlasharbValueError(f"{source}: {where}{key} is {_kind(value)}; {fix}")
    if isinstance(value, int):
        wei = value
    else:
        m = _AMOUNT.match(value.strip())
        unit = (m["unit"] or "ether").lower() if m else ""
        if m is None or unit not in UNITS:
            raise FlasharbValueError(f"{source}: {where}{key} = {value!r} is not an amount; {fix}")
        try:
            scaled = Decimal(m["num"].replace("_", "")).scaleb(UNITS[unit])
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            raise FlasharbValueError(f"{source}: {where}{key} = {value!r}: {fix}") from None
        if scaled != scaled.to_integral_value():
            raise FlasharbValueError(
                f"{source}: {where}{key} = {value!r} is finer than 1 wei; give fewer decimals"
            )
        wei = int(scaled)
    if not 0 <= wei < 2**256:
        raise FlasharbValueError(f"{source}: {where}{key} = {value} must be in 0..2^256-1 wei")
    return wei


def _addresses(table: Mapping[str, Any], key: str, source: str) -> frozenset[str]:
    value = table[key]
    if not isinstance(value, list):
        raise FlasharbValueError(
            f"{source}: tokens.{key} must be a list of addresses, not {_kind(value)}"
        )
    out = set()
    for item in value:
        if not isinstance(item, str) or not is_hex_address(item):
            raise FlasharbValueError(
                f"{source}: tokens.{key}: {item!r} is not an address; give 0x and 40 hex digits"
            )
        mixed = item[2:] != item[2:].lower() and item[2:] != item[2:].upper()
        if mixed and not is_checksum_address(item):
            raise FlasharbValueError(
                f"{source}: tokens.{key}: {item} fails its EIP-55 checksum (a typo?); check "
                "the address, or write it in lower case"
            )
        out.add(checksum_address(item))
    return frozenset(out)
