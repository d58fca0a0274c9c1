"""Deploy the diamond and its facets on the fork, and find it again later."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

from eth_abi import encode
from eth_utils import (
    function_abi_to_4byte_selector,
    function_signature_to_4byte_selector,
    to_checksum_address,
)
from web3 import Web3

from flasharb.chain.artifacts import contract
from flasharb.chain.rpc import send
from flasharb.errors import FlasharbRuntimeError
from flasharb.paths import state_dir

FACETS = (
    "DiamondCutFacet",
    "DiamondLoupeFacet",
    "OwnershipFacet",
    "FlashArbFacet",
    "TreasuryFacet",
    "GuardFacet",
)
ADD = 0  # IDiamondCut.FacetCutAction.Add


@dataclass(frozen=True, slots=True, kw_only=True)
class Deployment:
    diamond: str
    facets: dict[str, str]
    owner: str
    chain_id: int
    rpc_url: str
    block: int

    def to_json(self) -> dict[str, Any]:
        return {"diamond": self.diamond, "facets": self.facets}


def selectors(name: str) -> list[bytes]:
    """The 4-byte selectors of every external function in a facet's ABI."""
    abi = contract(name).abi
    return [function_abi_to_4byte_selector(cast(Any, e)) for e in abi if e["type"] == "function"]


def diamond_abi() -> list[dict[str, Any]]:
    """The diamond's full ABI: every facet's functions, events and errors (deduplicated)."""
    seen: set[str] = set()
    abi: list[dict[str, Any]] = []
    for name in (*FACETS, "Diamond", "DiamondInit"):
        for entry in contract(name).abi:
            if entry["type"] in ("constructor", "fallback", "receive"):
                continue
            key = json.dumps(entry, sort_keys=True)
            if key not in seen:
                seen.add(key)
                abi.append(entry)
    return abi


def _deploy(w3: Web3, owner: str, code: bytes, what: str) -> str:
    receipt = send(w3, {"from": owner, "data": "0x" + code.hex()}, f"deploy {what}")
    address = receipt["contractAddress"]
    if address is None:
        raise FlasharbRuntimeError(f"deploy {what}: the receipt names no contract")
    return to_checksum_address(address)


def deploy(w3: Web3, owner: str, rpc_url: str = "", record: bool = True) -> Deployment:
    """Deploy every facet and DiamondInit, then the Diamond with all cuts and init in one tx."""
    facets = {name: _deploy(w3, owner, contract(name).bytecode, name) for name in FACETS}
    init = _deploy(w3, owner, contract("DiamondInit").bytecode, "DiamondInit")
    cuts = [(facets[name], ADD, selectors(name)) for name in FACETS]
    init_calldata = function_signature_to_4byte_selector("init()")
    args = encode(
        ["(address,uint8,bytes4[])[]", "(address,address,bytes)"],
        [cuts, (owner, init, init_calldata)],
    )
    diamond = _deploy(w3, owner, contract("Diamond").bytecode + args, "Diamond")
    dep = Deployment(
        diamond=diamond,
        facets=facets,
        owner=to_checksum_address(owner),
        chain_id=w3.eth.chain_id,
        rpc_url=rpc_url,
        block=w3.eth.block_number,
    )
    if record:
        save(dep)
    return dep


def _record() -> Any:
    return state_dir() / "deployment.json"


def save(dep: Deployment) -> None:
    payload = dep.to_json() | {
        "owner": dep.owner,
        "chain_id": dep.chain_id,
        "rpc_url": dep.rpc_url,
        "block": dep.block,
    }
    tmp = _record().with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(_record())


def load(w3: Web3) -> Deployment:
    """The deployment recorded by `flasharb deploy`, checked against the chain we talk to."""
    path = _record()
    if not path.exists():
        raise FlasharbRuntimeError("no diamond deployed on this fork; run 'flasharb deploy'")
    raw = json.loads(path.read_text())
    if not w3.eth.get_code(raw["diamond"]):
        raise FlasharbRuntimeError(
            f"no diamond at {raw['diamond']} on this fork (a new fork?); run 'flasharb deploy'"
        )
    return Deployment(
        diamond=raw["diamond"],
        facets=raw["facets"],
        owner=raw["owner"],
        chain_id=raw["chain_id"],
        rpc_url=raw.get("rpc_url", ""),
        block=raw.get("block", 0),
    )
