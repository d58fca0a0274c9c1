"""The target's ABI, as the harness sees it: read from a file, its functions sorted into what gets
attacked (state-changing ones, callback-looking ones), plausible arguments by ABI type, and its
custom errors for reading reverts.

Plausible arguments (`fill`) are what an attacker would try first, by variant:
- `Fill.STRANGER`: every address is the attacker's own, every integer 1, arrays of one element;
- `Fill.ZERO`: zeros, empty arrays and bytes;
- `Fill.MARKET_SMALL` / `Fill.MARKET_LARGE`: a real market of the fork: address parameters named
  like a pool or pair get a real pool, recipients the attacker, other addresses the most pooled
  tokens in turn (WETH, then USDC on mainnet), fee-sized integers (uint24) the Uniswap fee tiers
  in turn, deadlines far ahead, minimums zero, other amounts 10**6 or 10**18.
The market fills are also how the harness plays the owner when it harvests loan data
(flasharb.audit.harvest): an initiator like `startArb(tokenA, tokenB, fee, amount)` gets inputs
that reach the lender.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar, cast

from eth_abi import decode, encode
from eth_utils import function_abi_to_4byte_selector, to_checksum_address

from flasharb.errors import FlasharbValueError
from flasharb.execute.revert import decode_revert

__all__ = ["Fill", "Function", "Market", "describe_revert", "fill", "functions", "load_abi"]

# a selector whose name says "someone calls me back": flash-loan and swap callbacks of every
# lender family (uniswapV2Call, pancakeCall, uniswapV3SwapCallback, receiveFlashLoan,
# onFlashLoan, executeOperation, ...), token and NFT receive hooks
CALLBACK_NAME = re.compile(r"(?i)(callback|call$|^receive|^on[A-Z0-9_]|hook|^executeoperation$)")
POOL_NAME = re.compile(r"(?i)(pool|lender|source|vault)")
PAIR_NAME = re.compile(r"(?i)pair")
RECIPIENT_NAME = re.compile(  # camelCase: "to", "toAddress", "_recipient"; not "tokenA"
    r"^_?(to|recipient|receiver|beneficiary|account|user|owner|spender|executor|who|dst)"
    r"([A-Z0-9_]|$)"
)
DEADLINE_NAME = re.compile(r"(?i)(deadline|expiry|expiration|until|validto)")
MINIMUM_NAME = re.compile(r"(?i)^_?min")
FAR_FUTURE = 2**40  # beyond any block number or timestamp a fork will reach
SMALL_AMOUNT = 10**6  # 1 USDC, a dust amount of an 18-decimal token
LARGE_AMOUNT = 10**18  # 1 WETH
FEE_TIERS = (500, 3000, 100, 10000)  # Uniswap V3 fee tiers (pips), the most used first
T = TypeVar("T")


class Fill(StrEnum):
    """Which plausible arguments `fill` makes."""

    STRANGER = "stranger"
    ZERO = "zero"
    MARKET_SMALL = "market-small"
    MARKET_LARGE = "market-large"


@dataclass(frozen=True, slots=True, kw_only=True)
class Function:
    """One function of the target's ABI."""

    name: str
    signature: str  # name(type,...) with tuples expanded, as hashed into the selector
    selector: bytes
    inputs: tuple[dict[str, Any], ...]
    mutability: str  # pure, view, nonpayable, payable

    @property
    def state_changing(self) -> bool:
        return self.mutability not in ("view", "pure")

    @property
    def callback(self) -> bool:
        return bool(CALLBACK_NAME.search(self.name))

    def encode(self, args: Sequence[Any]) -> bytes:
        return self.selector + encode([abi_type(i) for i in self.inputs], list(args))


@dataclass(frozen=True, slots=True, kw_only=True)
class Market:
    """Real things of the fork that plausible arguments are made of."""

    stranger: str  # the attacker's address
    tokens: tuple[str, ...]  # the most pooled tokens first
    pool: str  # a Uniswap V3 pool of tokens[0] and tokens[1] (its largest fee tier)
    pool_fee: int  # that pool's fee, left out of the fee tiers the fill hands out
    pair: str  # a Uniswap V2 pair of tokens[0] and tokens[1]


def load_abi(path: Path | str) -> list[dict[str, Any]]:
    """The ABI in `path`: a JSON list of entries, or an artifact (Foundry, Hardhat, solc) whose
    "abi" key holds one. Bad input is a FlasharbValueError naming the file and the fix."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise FlasharbValueError(
            f"cannot read --abi {p} ({exc.strerror or type(exc).__name__}); give the path of a "
            "JSON ABI file"
        ) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FlasharbValueError(
            f"--abi {p} is not JSON ({exc.msg} at line {exc.lineno}); give a JSON ABI (a list of "
            "entries, or an artifact with an 'abi' key)"
        ) from exc
    if isinstance(data, dict) and "abi" in data:
        data = data["abi"]
    if not isinstance(data, list) or not all(
        isinstance(e, dict) and isinstance(e.get("type", "function"), str) for e in data
    ):
        raise FlasharbValueError(
            f"--abi {p} is not a JSON ABI: expected a list of entries (or an artifact with an "
            "'abi' key)"
        )
    try:
        functions(cast(list[dict[str, Any]], data))
    except (KeyError, TypeError, ValueError) as exc:
        raise FlasharbValueError(
            f"--abi {p} has an entry that is not valid ABI ({type(exc).__name__}: {exc}); "
            "check the file"
        ) from exc
    return cast(list[dict[str, Any]], data)


def abi_type(param: dict[str, Any]) -> str:
    """The canonical type of one input: tuples expanded, array suffixes kept."""
    t = str(param["type"])
    if t.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in param["components"])
        return f"({inner}){t[5:]}"
    return t


def functions(abi: Sequence[dict[str, Any]]) -> list[Function]:
    """The ABI's functions, in ABI order (one per selector)."""
    out: dict[bytes, Function] = {}
    for e in abi:
        if e.get("type", "function") != "function":
            continue
        mutability = e.get("stateMutability") or (
            "view" if e.get("constant") else ("payable" if e.get("payable") else "nonpayable")
        )
        inputs = tuple(e.get("inputs", []))
        sig = f"{e['name']}({','.join(abi_type(i) for i in inputs)})"
        selector = function_abi_to_4byte_selector(cast(Any, {**e, "inputs": list(inputs)}))
        out.setdefault(
            selector,
            Function(
                name=str(e["name"]),
                signature=sig,
                selector=selector,
                inputs=inputs,
                mutability=str(mutability),
            ),
        )
    return list(out.values())


class _Filler:
    """Hands out market values in turn: successive token parameters get successive tokens."""

    def __init__(self, variant: Fill, market: Market) -> None:
        self.variant = variant
        self.m = market
        self._tokens: Iterator[str] = _cycle(market.tokens or (market.stranger,))
        self._fees: Iterator[int] = _cycle(tuple(f for f in FEE_TIERS if f != market.pool_fee))

    def value(self, param: dict[str, Any]) -> Any:
        t = str(param["type"])
        name = str(param.get("name") or "")
        if t.endswith("]"):
            base = {**param, "type": t[: t.rindex("[")]}
            size = t[t.rindex("[") + 1 : -1]
            if size:
                return [self.value(base) for _ in range(int(size))]
            return [] if self.variant is Fill.ZERO else [self.value(base)]
        if t == "tuple":
            return tuple(self.value(c) for c in param["components"])
        if self.variant is Fill.ZERO:
            return _zero(t)
        if t == "address":
            return self._address(name)
        if t.startswith(("uint", "int")):
            return self._integer(t, name)
        if t == "bool":
            return True
        if t.startswith("bytes") and t != "bytes":
            return b"\x00" * int(t[5:])
        if t == "string":
            return ""
        return b""  # bytes: no data (callers add harvested data where it matters)

    def _address(self, name: str) -> str:
        if self.variant is Fill.STRANGER or RECIPIENT_NAME.search(name):
            return self.m.stranger
        if PAIR_NAME.search(name):
            return self.m.pair
        if POOL_NAME.search(name):
            return self.m.pool
        return next(self._tokens)

    def _integer(self, t: str, name: str) -> int:
        bits = int(re.sub(r"^u?int", "", t) or 256)
        if self.variant is Fill.STRANGER:
            return FAR_FUTURE if DEADLINE_NAME.search(name) and bits > 41 else 1
        if DEADLINE_NAME.search(name):
            return min(FAR_FUTURE, (1 << (bits - 1)) - 1)  # fits signed types too
        if MINIMUM_NAME.search(name):
            return 0
        if bits == 24 or ("fee" in name.lower() and bits >= 16):
            return next(self._fees)
        if bits <= 32:
            return 1
        return SMALL_AMOUNT if self.variant is Fill.MARKET_SMALL else LARGE_AMOUNT


def _cycle(values: tuple[T, ...]) -> Iterator[T]:
    while True:
        yield from values


def _zero(t: str) -> Any:
    if t == "address":
        return "0x" + "00" * 20
    if t == "bool":
        return False
    if t.startswith(("uint", "int")):
        return 0
    if t.startswith("bytes") and t != "bytes":
        return b"\x00" * int(t[5:])
    return "" if t == "string" else b""


def fill(fn: Function, variant: Fill, market: Market) -> list[Any]:
    """Plausible arguments for `fn` (see the module's docstring)."""
    filler = _Filler(variant, market)
    return [filler.value(i) for i in fn.inputs]


# ---------------------------------------------------------------- reverts


def error_table(abi: Sequence[dict[str, Any]]) -> dict[bytes, dict[str, Any]]:
    """The ABI's custom errors by selector."""
    return {
        function_abi_to_4byte_selector(cast(Any, e)): e for e in abi if e.get("type") == "error"
    }


def describe_revert(data: bytes | None, errors: dict[bytes, dict[str, Any]]) -> str:
    """A revert as one line: the target's own custom errors first, then Error(string), Panic and
    flasharb's errors (flasharb.execute.revert)."""
    if data and len(data) >= 4 and data[:4] in errors:
        entry = errors[data[:4]]
        try:
            values = decode([abi_type(i) for i in entry["inputs"]], data[4:])
        except Exception:  # noqa: BLE001 - malformed error data: show the raw bytes
            return f"{entry['name']}(0x{data[4:].hex()})"
        args = ", ".join(
            f"{i.get('name') or f'arg{n}'}={_show(i['type'], v)}"
            for n, (i, v) in enumerate(zip(entry["inputs"], values, strict=True))
        )
        return f"{entry['name']}({args})"
    try:
        return decode_revert(data)
    except Exception:  # noqa: BLE001 - undecodable Error(string) data and the like
        return f"revert data 0x{(data or b'').hex()}"


def _show(typ: str, value: Any) -> str:
    if typ == "address":
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)
