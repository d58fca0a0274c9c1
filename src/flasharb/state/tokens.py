"""Token metadata: symbol and decimals read from the chain (for display), and the symbols of the
canonical mainnet tokens (for input: `--token-in WETH`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from web3 import Web3

from flasharb.errors import FlasharbValueError
from flasharb.paths import bundle

_SYMBOL = function_signature_to_4byte_selector("symbol()")
_DECIMALS = function_signature_to_4byte_selector("decimals()")


def token_info(w3: Web3, tokens: Iterable[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for t in sorted(set(tokens)):
        try:
            raw = bytes(w3.eth.call({"to": t, "data": "0x" + _SYMBOL.hex()}))  # type: ignore[typeddict-item]
            symbol = decode(["string"], raw)[0] if len(raw) > 32 else raw.rstrip(b"\0").decode()
            dec = bytes(w3.eth.call({"to": t, "data": "0x" + _DECIMALS.hex()}))  # type: ignore[typeddict-item]
            out[t] = {"symbol": symbol, "decimals": int.from_bytes(dec[:32], "big")}
        except Exception:  # display only: an odd token gets its address
            out[t] = {"symbol": t[:8], "decimals": 18}
    return out


# ---------------------------------------------------------------- symbols, for input


@dataclass(frozen=True, slots=True, kw_only=True)
class KnownToken:
    symbol: str
    address: str  # EIP-55, the canonical mainnet address (the replica deploys it there too)
    decimals: int


@cache
def known_tokens() -> dict[str, KnownToken]:
    """Upper-case symbol -> token, for the canonical mainnet tokens flasharb knows: the ones the
    replica data file that ships with flasharb lists, all at their mainnet addresses (so the
    same symbols work on a fork of real mainnet)."""
    raw = json.loads((bundle() / "data" / "replica" / "mainnet.json").read_text())
    return {
        t["symbol"].upper(): KnownToken(
            symbol=t["symbol"], address=to_checksum_address(t["address"]), decimals=t["decimals"]
        )
        for t in raw["tokens"]
    }


def token_by_address(address: str) -> KnownToken | None:
    for t in known_tokens().values():
        if t.address == address:
            return t
    return None


def resolve_symbol(symbol: str) -> KnownToken:
    """The known token called `symbol` (any case); FlasharbValueError listing them otherwise."""
    found = known_tokens().get(symbol.strip().upper())
    if found is None:
        raise FlasharbValueError(
            f"unknown token {symbol!r}: give its address, or one of "
            f"{', '.join(t.symbol for t in known_tokens().values())}"
        )
    return found
