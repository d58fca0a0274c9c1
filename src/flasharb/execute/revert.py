"""Turn revert data into a readable line: custom errors of every facet and of the Uniswap V4
PoolManager (a V4 hop bubbles its errors up: PoolNotInitialized, CurrencyNotSettled, ...),
Error(string), Panic."""

from __future__ import annotations

import json
from functools import cache
from typing import Any, cast

from eth_abi import decode
from eth_utils import function_abi_to_4byte_selector, to_checksum_address

from flasharb.chain import toolchain
from flasharb.chain.artifacts import contract
from flasharb.errors import ToolchainError

_POOL_MANAGER = "@uniswap/v4-core/out/PoolManager.sol/PoolManager.json"
_ERROR_STRING = bytes.fromhex("08c379a0")
_PANIC = bytes.fromhex("4e487b71")
_SOURCES = (
    "Diamond",
    "DiamondCutFacet",
    "DiamondLoupeFacet",
    "OwnershipFacet",
    "FlashArbFacet",
    "TreasuryFacet",
    "GuardFacet",
    "ChildFacet",
    "MasterFacet",
    "ChildDiamond",
    "DiamondInit",
)


@cache
def _errors() -> dict[bytes, dict[str, Any]]:
    table: dict[bytes, dict[str, Any]] = {}
    abis = [contract(name).abi for name in _SOURCES]
    try:  # the PoolManager's own errors, from its npm artifact (Foundry's format)
        path = toolchain.node_modules() / _POOL_MANAGER
        abis.insert(0, json.loads(path.read_text())["abi"])
    except (ToolchainError, OSError):
        pass  # no node toolchain: its errors show as unknown custom errors
    for abi in abis:
        for entry in abi:
            if entry["type"] == "error":
                table[function_abi_to_4byte_selector(cast(Any, entry))] = entry
    return table


def _types(entry: dict[str, Any]) -> list[str]:
    out = []
    for i in entry["inputs"]:
        if i["type"].startswith("tuple"):
            inner = ",".join(_types({"inputs": i["components"]}))
            out.append(f"({inner}){i['type'][5:]}")
        else:
            out.append(i["type"])
    return out


def _show(typ: str, value: Any) -> str:
    if typ == "address":
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def decode_revert(data: bytes | str | None) -> str:
    """`InsufficientProfit(profit=-12, minProfit=0)`, `Error("UniswapV2: K")`, `Panic(0x11)`."""
    if data is None:
        return "reverted without data"
    if isinstance(data, str):
        data = bytes.fromhex(data.removeprefix("0x"))
    if len(data) < 4:
        return "reverted without data" if not data else f"revert data 0x{data.hex()}"
    sel, body = data[:4], data[4:]
    if sel == _ERROR_STRING:
        (msg,) = decode(["string"], body)
        return f'Error("{msg}")'
    if sel == _PANIC:
        (code,) = decode(["uint256"], body)
        return f"Panic(0x{code:02x})"
    entry = _errors().get(sel)
    if entry is None:
        return f"unknown custom error 0x{data.hex()}"
    values = decode(_types(entry), body)
    args = ", ".join(
        f"{i['name'] or f'arg{n}'}={_show(i['type'], v)}"
        for n, (i, v) in enumerate(zip(entry["inputs"], values, strict=True))
    )
    return f"{entry['name']}({args})"


def revert_data(exc: BaseException) -> bytes | None:
    """Dig the revert bytes out of a web3 exception (ContractCustomError, ContractLogicError)."""
    data = getattr(exc, "data", None)
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    if isinstance(data, dict):
        inner = data.get("data")
        if isinstance(inner, str) and inner.startswith("0x"):
            return bytes.fromhex(inner[2:])
    return None
