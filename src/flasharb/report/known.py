"""Known contracts: a name and an ABI for the addresses a user meets on the fork.

The canonical mainnet contracts come with the ABIs of the npm artifacts their bytecode is built
from (the same artifacts the replica deploys, so they describe a fork of real mainnet too), the
tokens with their symbols, pools with the ABI of their kind, and the diamond `flasharb deploy`
recorded with the ABI of all its facets. Used to label and decode traces (`flasharb trace`) and
to tell Ape the contract types (`flasharb.ape_support`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from eth_utils import function_abi_to_4byte_selector, to_checksum_address
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.artifacts import contract, npm_artifact
from flasharb.kinds import HopKind
from flasharb.paths import state_dir
from flasharb.replica import balancer, tokens, uniswap_v2, uniswap_v3, uniswap_v4
from flasharb.state.registry import PoolInfo
from flasharb.state.tokens import known_tokens

ABI = list[dict[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Known:
    name: str  # what a person calls it: "WETH", "Balancer V2 Vault", "uniswap_v2 WETH/USDC"
    abi: ABI


@cache
def canonical() -> dict[str, Known]:
    """EIP-55 address -> name and ABI, for the canonical contracts and tokens."""
    erc20 = contract("ReplicaERC20").abi
    out = {
        t.address: Known(name=t.symbol, abi=erc20)
        for t in known_tokens().values()  # mainnet tokens: ERC-20 is all a caller relies on
    }
    out[A.WETH] = Known(name="WETH", abi=npm_artifact(tokens.WETH9).abi)
    out[A.USDT] = Known(name="USDT", abi=contract("ReplicaTetherToken").abi)
    v2_factory = npm_artifact(uniswap_v2.FACTORY).abi
    out[A.UNISWAP_V2_FACTORY] = Known(name="Uniswap V2 factory", abi=v2_factory)
    out[A.SUSHISWAP_FACTORY] = Known(name="SushiSwap factory", abi=v2_factory)
    for address, name, rel in (
        (A.UNISWAP_V3_FACTORY, "Uniswap V3 factory", uniswap_v3.FACTORY),
        (A.UNISWAP_V3_POSITION_MANAGER, "Uniswap V3 position manager", uniswap_v3.POSITION_MANAGER),
        (A.UNISWAP_V3_SWAP_ROUTER, "Uniswap V3 SwapRouter", uniswap_v3.SWAP_ROUTER),
        (A.UNISWAP_V3_QUOTER_V2, "Uniswap V3 QuoterV2", uniswap_v3.QUOTER_V2),
        (A.BALANCER_VAULT, "Balancer V2 Vault", balancer.VAULT),
        (A.BALANCER_AUTHORIZER, "Balancer V2 Authorizer", balancer.AUTHORIZER),
        (A.BALANCER_QUERIES, "Balancer V2 BalancerQueries", balancer.QUERIES),
    ):
        out[address] = Known(name=name, abi=npm_artifact(rel).abi)
    for address, name in (
        (A.BALANCER_WEIGHTED_POOL_FACTORY, balancer.WEIGHTED_FACTORY),
        (A.BALANCER_WEIGHTED_POOL_2TOKENS_FACTORY, balancer.WEIGHTED_2TOKENS_FACTORY),
    ):
        out[address] = Known(name=f"Balancer V2 {name}", abi=balancer.task_artifact(name).abi)
    out[A.BALANCER_PROTOCOL_FEES_COLLECTOR] = Known(  # the Vault creates it; no artifact ships
        name="Balancer V2 ProtocolFeesCollector", abi=[]
    )
    return out


@cache
def pool_abi(kind: HopKind) -> ABI:
    if kind is HopKind.UNISWAP_V2:
        return npm_artifact(uniswap_v2.PAIR).abi
    if kind is HopKind.UNISWAP_V3:
        return npm_artifact(uniswap_v3.POOL).abi
    if kind is HopKind.UNISWAP_V4:  # a V4 pool is an entry of the PoolManager
        return uniswap_v4.foundry_artifact(uniswap_v4.POOL_MANAGER).abi
    return balancer.task_artifact(balancer.WEIGHTED_POOL).abi


def pool(info: PoolInfo) -> Known:
    """A pool, named by venue and token symbols."""
    symbols = "/".join(symbol(t) for t in info.tokens)
    return Known(name=f"{info.venue} {symbols}", abi=pool_abi(info.kind))


def symbol(token: str) -> str:
    for t in known_tokens().values():
        if t.address == token:
            return t.symbol
    return token[:8]


def deployment(w3: Web3) -> dict[str, Known]:
    """The diamond and facets `flasharb deploy` recorded in this project, if they are on `w3`'s
    chain."""
    from flasharb.execute.deploy import diamond_abi

    path = state_dir(create=False) / "deployment.json"
    if not path.exists():
        return {}
    raw = json.loads(path.read_text())
    diamond = to_checksum_address(raw["diamond"])
    if not w3.eth.get_code(diamond):
        return {}
    out: dict[str, Known] = {diamond: Known(name="flasharb Diamond", abi=diamond_abi())}
    for name, address in raw.get("facets", {}).items():
        out[to_checksum_address(address)] = Known(name=name, abi=contract(name).abi)
    return out


# ---------------------------------------------------------------- selectors


@cache
def _tables() -> tuple[dict[bytes, dict[str, Any]], dict[bytes, dict[str, Any]]]:
    """4-byte selector -> ABI entry, for the functions and the custom errors of every ABI here
    (canonical contracts, pools of every kind, flasharb's own contracts)."""
    from flasharb.execute.deploy import diamond_abi

    functions: dict[bytes, dict[str, Any]] = {}
    errors: dict[bytes, dict[str, Any]] = {}
    abis = [k.abi for k in canonical().values()] + [pool_abi(k) for k in HopKind]
    abis.append(diamond_abi())
    for entries in abis:
        for entry in entries:
            if entry.get("type") in ("function", "error"):
                sel = function_abi_to_4byte_selector(cast(Any, entry))
                (functions if entry["type"] == "function" else errors).setdefault(sel, entry)
    return functions, errors


def function_entry(selector: bytes) -> dict[str, Any] | None:
    return _tables()[0].get(selector)


def error_entry(selector: bytes) -> dict[str, Any] | None:
    return _tables()[1].get(selector)
