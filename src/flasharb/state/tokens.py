"""Token metadata (symbol, decimals) read from the chain, for display only."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3

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
