"""Deploy the diamond and its facets on the fork, register its executor, and find it again later.

Two keys (issue 14): the owner deploys, cuts, withdraws and sets limits; the executor only
trades (`GuardFacet.setExecutor`). `deploy` registers the executor — the account of
`FLASHARB_EXECUTOR_KEY` when it is set, else Anvil's development account #1 (the lab is always
an Anvil fork, and Anvil's development keys are public) — and records its address, never a key.

FlashArbFacet is built with the Uniswap-V2-style factories it may trade (`V2_FACTORY_VENUES`)
and their pair init-code hashes, read on the chain it is deployed to: a factory that answers
`pairCodeHash()` (SushiSwap) gives its own, one without that getter (Uniswap V2) has the
canonical hash; either way the factory's first pair must sit at the CREATE2 address the hash
gives, or the deploy stops. A replica rebuilt from source has other hashes than mainnet, and
nothing here branches on which chain it is.

Master and children (issue 17, `deploy(..., children=N)` / `flasharb deploy --children N`): a
master diamond (MASTER_FACETS) holds the capital; each child is a ChildDiamond (FlashArbFacet's
code built in, CHILD_FACETS cut in) with its own executor key, generated into the key store
(flasharb.execute.keys) and funded with CHILD_GAS_WEI for gas by the owner, and the same risk
guardian (FLASHARB_RISK_KEY's account, else a generated key), registered on the master with its
label. Facets are deployed once and shared by the master and every child (a facet has no state).
The single diamond stays the default: one bot pays for no master.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

from eth_abi import decode, encode
from eth_account import Account
from eth_account.hdaccount import key_from_seed, seed_from_mnemonic
from eth_account.signers.local import LocalAccount
from eth_utils import (
    function_abi_to_4byte_selector,
    function_signature_to_4byte_selector,
    to_checksum_address,
)
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.artifacts import contract
from flasharb.chain.rpc import send
from flasharb.errors import FlasharbRuntimeError, FlasharbValueError
from flasharb.execute.keys import (
    ANVIL_MNEMONIC,
    EXECUTOR_KEY_ENV,
    RISK_KEY_ENV,
    generate_key,
    signer,
)
from flasharb.paths import state_dir
from flasharb.search.route import V2_FACTORY_VENUES, v2_pair_address

FACETS = (
    "DiamondCutFacet",
    "DiamondLoupeFacet",
    "OwnershipFacet",
    "FlashArbFacet",
    "TreasuryFacet",
    "GuardFacet",
)
MASTER_FACETS = (
    "DiamondCutFacet",
    "DiamondLoupeFacet",
    "OwnershipFacet",
    "TreasuryFacet",
    "MasterFacet",
)
CHILD_FACETS = (  # cut into a ChildDiamond; FlashArbFacet's functions are its own
    "DiamondCutFacet",
    "DiamondLoupeFacet",
    "OwnershipFacet",
    "TreasuryFacet",
    "GuardFacet",
    "ChildFacet",
)
CHILD_GAS_WEI = 10 * 10**18  # what the owner sends each new child executor for gas
RISK_GAS_WEI = 10**18  # and the risk key, when it holds less: a pause costs ~50k gas
MAX_CHILDREN = 64  # a sanity bound for one command, not a limit of the master
ADD = 0  # IDiamondCut.FacetCutAction.Add
DEV_EXECUTOR = 1  # Anvil's development account #1: the executor when FLASHARB_EXECUTOR_KEY is unset
_PAIR_CODE_HASH = function_signature_to_4byte_selector("pairCodeHash()")
_ALL_PAIRS_LENGTH = function_signature_to_4byte_selector("allPairsLength()")
_ALL_PAIRS = function_signature_to_4byte_selector("allPairs(uint256)")
_TOKEN0 = function_signature_to_4byte_selector("token0()")
_TOKEN1 = function_signature_to_4byte_selector("token1()")


@dataclass(frozen=True, slots=True, kw_only=True)
class Child:
    """A child diamond of a master: one strategy's trading diamond."""

    address: str
    label: str  # the strategy it runs
    executor: str  # its executor key's address (the key is in the key store)

    def to_json(self) -> dict[str, str]:
        return {"address": self.address, "label": self.label, "executor": self.executor}


@dataclass(frozen=True, slots=True, kw_only=True)
class Deployment:
    """A deployed diamond: its address, its facets' addresses, who owns it, who may trade with
    it, and where (`flasharb deploy` records it in .flasharb/deployment.json; `load` reads it
    back). With `--children N`: the master, the risk guardian and the children too."""

    diamond: str  # the trading diamond: the single diamond, or the first child
    facets: dict[str, str]
    owner: str  # deploys, cuts, withdraws, sets limits
    chain_id: int
    rpc_url: str
    block: int
    executor: str = ""  # the account setExecutor allowed: trades, nothing else ("" in old records)
    master: str = ""  # the master diamond ("" for a single diamond)
    risk: str = ""  # the children's risk guardian: may pause them, nothing else ("": none)
    children: tuple[Child, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The `flasharb deploy --json` shape: diamond, facets by name, executor (and with
        children: master, risk, children)."""
        out: dict[str, Any] = {
            "diamond": self.diamond,
            "facets": self.facets,
            "executor": self.executor,
        }
        if self.master:
            out |= {
                "master": self.master,
                "risk": self.risk,
                "children": [c.to_json() for c in self.children],
            }
        return out

    def child(self, which: str) -> Deployment:
        """This deployment seen from one child (its label or address): `diamond` and `executor`
        are the child's, so a Trader built on it trades through that child.

        Raises:
            FlasharbValueError: no child has that label or address.
        """
        for c in self.children:
            if which == c.label or which.lower() == c.address.lower():
                return replace(self, diamond=c.address, executor=c.executor)
        known = ", ".join(c.label for c in self.children) or "none: deploy with --children N"
        raise FlasharbValueError(f"no child {which!r} in this deployment (children: {known})")

    def trading_signer(self) -> LocalAccount:
        """The key trades are signed with: the executor's (`FLASHARB_EXECUTOR_KEY`, else the key
        store's key `deploy` generated, else its Anvil development key on a lab fork), never the
        owner's, which deploys, cuts and withdraws (issue 14).

        Raises:
            FlasharbValueError: the record names no executor (made before executor keys), or
                the executor's key is not available.
        """
        if not self.executor:
            raise FlasharbValueError(
                f"deployment of {self.diamond} names no executor (an old record); "
                "run `flasharb deploy` again"
            )
        return signer(self.executor)


# Functions a facet serves in its fallback rather than as Solidity functions (so its ABI lacks
# them), by the interface that declares them: FlashArbFacet's receiveFlashLoan (issue 17: the
# ABI decoder of its four arrays cost ~850 gas a loan).
FALLBACK_INTERFACES: dict[str, tuple[str, ...]] = {"FlashArbFacet": ("IFlashLoanRecipient",)}


def facet_functions(name: str) -> list[dict[str, Any]]:
    """The ABI entries of every external function a facet serves: its own, and those its
    fallback serves (`FALLBACK_INTERFACES`)."""
    names = (name, *FALLBACK_INTERFACES.get(name, ()))
    return [e for n in names for e in contract(n).abi if e["type"] == "function"]


def selectors(name: str) -> list[bytes]:
    """The 4-byte selectors of every external function a facet serves (`facet_functions`)."""
    return [function_abi_to_4byte_selector(cast(Any, e)) for e in facet_functions(name)]


def diamond_abi() -> list[dict[str, Any]]:
    """The diamond's full ABI: every facet's functions, events and errors (deduplicated)."""
    seen: set[str] = set()
    abi: list[dict[str, Any]] = []
    extra = tuple(i for names in FALLBACK_INTERFACES.values() for i in names)
    for name in (
        *FACETS,
        "ChildFacet",
        "MasterFacet",
        "Diamond",
        "ChildDiamond",
        "DiamondInit",
        *extra,
    ):
        for entry in contract(name).abi:
            if entry["type"] in ("constructor", "fallback", "receive"):
                continue
            key = json.dumps(entry, sort_keys=True)
            if key not in seen:
                seen.add(key)
                abi.append(entry)
    return abi


def _call(w3: Web3, to: str, data: bytes) -> bytes | None:
    """eth_call at the head: the return data, or None if it reverted."""
    try:
        return bytes(w3.eth.call({"to": cast(Any, to), "data": cast(Any, "0x" + data.hex())}))
    except Exception:  # noqa: BLE001 - a revert or a missing function: the caller decides
        return None


def _pair_code_hash(w3: Web3, venue: str, factory: str) -> bytes:
    """The factory's pair init-code hash on this chain, checked against its first pair."""
    if not w3.eth.get_code(cast(Any, factory)):
        raise FlasharbRuntimeError(
            f"{venue} factory {factory} has no code on this chain; the diamond trades "
            f"{', '.join(V2_FACTORY_VENUES)}: deploy on a fork of a chain that has them"
        )
    raw = _call(w3, factory, _PAIR_CODE_HASH)
    code_hash = raw[:32] if raw and len(raw) >= 32 else A.UNISWAP_V2_PAIR_INIT_CODE_HASH
    length = _call(w3, factory, _ALL_PAIRS_LENGTH)
    if length and int.from_bytes(length[:32], "big") > 0:
        got = _call(w3, factory, _ALL_PAIRS + encode(["uint256"], [0]))
        pair = to_checksum_address("0x" + (got or bytes(32))[12:32].hex())
        t0, t1 = _call(w3, pair, _TOKEN0), _call(w3, pair, _TOKEN1)
        if not t0 or not t1:
            raise FlasharbRuntimeError(f"{venue} factory {factory}: pair 0 ({pair}) has no tokens")
        (a,), (b,) = decode(["address"], t0), decode(["address"], t1)
        derived = v2_pair_address(factory, code_hash, a, b)
        if derived != pair:
            raise FlasharbRuntimeError(
                f"{venue} factory {factory}: pair 0 is at {pair}, not at {derived} where pair "
                f"code hash 0x{code_hash.hex()} puts it; the facet could not derive its pairs"
            )
    return code_hash


def v2_factories(w3: Web3) -> tuple[tuple[str, bytes], ...]:
    """FlashArbFacet's allowed V2 factories on this chain, by factory index (V2_FACTORY_VENUES):
    (factory, pair init-code hash), each hash read and checked against the factory's pairs.

    Raises:
        FlasharbRuntimeError: a factory without code, or whose pairs are not where its hash
            puts them.
    """
    out = []
    for venue in V2_FACTORY_VENUES:
        factory = A.V2_FACTORIES[venue]
        out.append((factory, _pair_code_hash(w3, venue, factory)))
    return tuple(out)


def facet_args(w3: Web3, name: str) -> bytes:
    """The ABI-encoded constructor arguments of facet `name` on this chain (empty for all but
    FlashArbFacet: its allowed V2 factories and their pair code hashes, by factory index)."""
    if name != "FlashArbFacet":
        return b""
    values = [v for pair in v2_factories(w3) for v in pair]
    return encode(["address", "bytes32"] * len(V2_FACTORY_VENUES), values)


def executor_address(owner: str) -> str:
    """The executor `deploy` registers: `FLASHARB_EXECUTOR_KEY`'s account when it is set, else
    Anvil's development account #1.

    Raises:
        FlasharbValueError: the variable holds no valid key, or it is the owner's (the executor
            key must not hold the owner's rights).
    """
    if os.environ.get(EXECUTOR_KEY_ENV):
        address = to_checksum_address(signer().address)
    else:
        seed = seed_from_mnemonic(ANVIL_MNEMONIC, "")
        key = key_from_seed(seed, f"m/44'/60'/0'/0/{DEV_EXECUTOR}")
        address = to_checksum_address(Account.from_key(key).address)
    if address == to_checksum_address(owner):
        raise FlasharbValueError(
            f"{EXECUTOR_KEY_ENV} is the owner's key ({address}); set it to a second account's "
            "key: the executor trades, the owner deploys and withdraws"
        )
    return address


def _deploy(w3: Web3, owner: str, code: bytes, what: str) -> str:
    receipt = send(w3, {"from": owner, "data": "0x" + code.hex()}, f"deploy {what}")
    address = receipt["contractAddress"]
    if address is None:
        raise FlasharbRuntimeError(f"deploy {what}: the receipt names no contract")
    return to_checksum_address(address)


def deploy(
    w3: Web3,
    owner: str,
    rpc_url: str = "",
    record: bool = True,
    children: int | Sequence[str] = 0,
) -> Deployment:
    """Deploy every facet and DiamondInit, then the Diamond with all cuts and init in one tx,
    then allow the executor (`executor_address`) with `setExecutor`, as the owner. With
    `children` (a count, or the strategies' labels), a master and that many children instead
    (`deploy_capital`).

    Raises:
        FlasharbValueError: the executor key is the owner's or not a key; a bad child count.
        FlasharbRuntimeError: a V2 factory the facet needs is missing or its pairs are not at
            the addresses its code hash gives.
    """
    if children:
        return deploy_capital(w3, owner, children, rpc_url=rpc_url, record=record)
    executor = executor_address(owner)
    facets = {
        name: _deploy(w3, owner, contract(name).bytecode + facet_args(w3, name), name)
        for name in FACETS
    }
    init = _deploy(w3, owner, contract("DiamondInit").bytecode, "DiamondInit")
    cuts = [(facets[name], ADD, selectors(name)) for name in FACETS]
    init_calldata = function_signature_to_4byte_selector("init()")
    args = encode(
        ["(address,uint8,bytes4[])[]", "(address,address,bytes)"],
        [cuts, (owner, init, init_calldata)],
    )
    diamond = _deploy(w3, owner, contract("Diamond").bytecode + args, "Diamond")
    allow = function_signature_to_4byte_selector("setExecutor(address,bool)")
    data = allow + encode(["address", "bool"], [executor, True])
    send(w3, {"from": owner, "to": diamond, "data": "0x" + data.hex()}, "setExecutor")
    dep = Deployment(
        diamond=diamond,
        facets=facets,
        owner=to_checksum_address(owner),
        chain_id=w3.eth.chain_id,
        rpc_url=rpc_url,
        block=w3.eth.block_number,
        executor=executor,
    )
    if record:
        save(dep)
    return dep


def child_labels(children: int | Sequence[str]) -> list[str]:
    """`children` as labels: a count gives child-1..child-N.

    Raises:
        FlasharbValueError: no children, more than MAX_CHILDREN, or a label given twice or empty.
    """
    labels = (
        [f"child-{i}" for i in range(1, children + 1)]
        if isinstance(children, int)
        else [str(c).strip() for c in children]
    )
    if not 1 <= len(labels) <= MAX_CHILDREN:
        raise FlasharbValueError(f"children must be 1..{MAX_CHILDREN}: {len(labels)}")
    if len(set(labels)) != len(labels) or not all(labels):
        raise FlasharbValueError(f"child labels must be distinct and non-empty: {labels}")
    return labels


def risk_address() -> str:
    """The risk guardian's address: FLASHARB_RISK_KEY's account when set, else a new key in the
    key store.

    Raises:
        FlasharbValueError: the variable holds no valid key.
    """
    if os.environ.get(RISK_KEY_ENV):
        return to_checksum_address(Account.from_key(os.environ[RISK_KEY_ENV].strip()).address)
    return to_checksum_address(generate_key().address)


def _child_args(w3: Web3, executor: str, master: str, risk: str) -> tuple[Any, ...]:
    """ChildDiamond's ChildArgs: executor, master, risk guardian, the built-in selectors
    (FlashArbFacet's), and the V2 factories FlashArbFacet's constructor takes."""
    (uni, uni_hash), (sushi, sushi_hash) = v2_factories(w3)
    built_in = selectors("FlashArbFacet")
    return (executor, master, risk, built_in, uni, uni_hash, sushi, sushi_hash)


def deploy_capital(
    w3: Web3,
    owner: str,
    children: int | Sequence[str],
    rpc_url: str = "",
    record: bool = True,
) -> Deployment:
    """A master diamond and one child diamond per label (`child_labels`), in one go: the risk
    key (funded with RISK_GAS_WEI when it holds less), the shared facets, the master, then per
    child a new executor key (key store, funded with CHILD_GAS_WEI), the ChildDiamond (its
    executor, master and risk guardian built in) and its registration on the master. The owner
    deploys and owns everything.

    Raises:
        FlasharbValueError: bad labels, or FLASHARB_RISK_KEY is not a key.
        FlasharbRuntimeError: a V2 factory the facets need is missing or inconsistent.
    """
    labels = child_labels(children)
    owner = to_checksum_address(owner)
    risk = risk_address()
    if w3.eth.get_balance(cast(Any, risk)) < RISK_GAS_WEI:
        send(w3, {"from": owner, "to": risk, "value": RISK_GAS_WEI}, "fund the risk key")
    names = sorted(set(MASTER_FACETS) | set(CHILD_FACETS))
    facets = {name: _deploy(w3, owner, contract(name).bytecode, name) for name in names}
    init = _deploy(w3, owner, contract("DiamondInit").bytecode, "DiamondInit")
    init_args = (owner, init, function_signature_to_4byte_selector("init()"))
    cut_types = ["(address,uint8,bytes4[])[]", "(address,address,bytes)"]
    master_cuts = [(facets[n], ADD, selectors(n)) for n in MASTER_FACETS]
    master_args = encode(cut_types, [master_cuts, init_args])
    master = _deploy(w3, owner, contract("Diamond").bytecode + master_args, "master Diamond")
    child_cuts = [(facets[n], ADD, selectors(n)) for n in CHILD_FACETS]
    child_types = [*cut_types, "(address,address,address,bytes4[],address,bytes32,address,bytes32)"]
    register = function_signature_to_4byte_selector("registerChild(address,string,address)")
    made: list[Child] = []
    for label in labels:
        executor = to_checksum_address(generate_key().address)
        send(w3, {"from": owner, "to": executor, "value": CHILD_GAS_WEI}, f"fund {label}")
        args = encode(child_types, [child_cuts, init_args, _child_args(w3, executor, master, risk)])
        child = _deploy(w3, owner, contract("ChildDiamond").bytecode + args, f"child {label}")
        data = register + encode(["address", "string", "address"], [child, label, executor])
        send(w3, {"from": owner, "to": master, "data": "0x" + data.hex()}, f"register {label}")
        made.append(Child(address=child, label=label, executor=executor))
    dep = Deployment(
        diamond=made[0].address,
        facets=facets,
        owner=owner,
        chain_id=w3.eth.chain_id,
        rpc_url=rpc_url,
        block=w3.eth.block_number,
        executor=made[0].executor,
        master=master,
        risk=risk,
        children=tuple(made),
    )
    if record:
        save(dep)
    return dep


def _record() -> Any:
    return state_dir() / "deployment.json"


def save(dep: Deployment) -> None:
    payload = dep.to_json() | {
        "owner": dep.owner,
        "executor": dep.executor,
        "chain_id": dep.chain_id,
        "rpc_url": dep.rpc_url,
        "block": dep.block,
    }
    tmp = _record().with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(_record())


def recorded() -> Deployment | None:
    """The deployment `flasharb deploy` recorded in this project, read without a chain (None:
    nothing recorded). `load` is the same record checked against the chain."""
    path = state_dir(create=False) / "deployment.json"
    if not path.exists():
        return None
    raw = json.loads(path.read_text())
    return Deployment(
        diamond=raw["diamond"],
        facets=raw["facets"],
        owner=raw["owner"],
        chain_id=raw["chain_id"],
        rpc_url=raw.get("rpc_url", ""),
        block=raw.get("block", 0),
        executor=raw.get("executor", ""),
        master=raw.get("master", ""),
        risk=raw.get("risk", ""),
        children=tuple(
            Child(address=c["address"], label=c["label"], executor=c["executor"])
            for c in raw.get("children", [])
        ),
    )


def load(w3: Web3) -> Deployment:
    """The deployment recorded by `flasharb deploy`, checked against the chain we talk to."""
    dep = recorded()
    if dep is None:
        raise FlasharbRuntimeError("no diamond deployed on this fork; run 'flasharb deploy'")
    if not w3.eth.get_code(to_checksum_address(dep.diamond)):
        raise FlasharbRuntimeError(
            f"no diamond at {dep.diamond} on this fork (a new fork?); run 'flasharb deploy'"
        )
    return dep
