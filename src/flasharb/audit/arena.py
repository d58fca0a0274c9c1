"""The stage an audit plays on, set up inside the audit's own snapshot (undone at the end):

- the attacker: a fixed address nobody holds a key for (impersonated, funded with ETH), so every
  transaction in a report is reproducible on a fork of the same block;
- its relay contract (contracts/audit/AttackerRelay.sol), for attacks that need a contract as
  msg.sender, and a pool look-alike (contracts/audit/PoolLookalike.sol) that answers token0(),
  token1() and fee() like a real pool;
- the hostile token zoo (contracts/zoo: fee-on-transfer, rebasing, returns-false, re-entrant
  hook), each with a Uniswap V2 pair against WETH seeded by the attacker;
- inventory worth stealing in the target: INVENTORY_UNITS whole tokens of every token of the
  fork's pools (written at the balance slot found by `deal_all`, skipped for a token whose
  balance is not a plain mapping)
  and INVENTORY_ETH wei on top of its own ETH.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector as selector
from eth_utils import keccak, to_checksum_address
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.artifacts import contract
from flasharb.chain.cheats import set_balance
from flasharb.chain.rpc import send
from flasharb.errors import FlasharbRuntimeError
from flasharb.replica import zoo

__all__ = ["STRANGER", "Arena", "build_arena"]

STRANGER = to_checksum_address(keccak(b"flasharb.audit.stranger")[-20:])  # no key exists
STRANGER_ETH = 10_000 * 10**18
INVENTORY_UNITS = 10_000  # whole tokens of every pool token dealt to the target
INVENTORY_ETH = 10 * 10**18
ZOO_SEED_TOKENS = 1_000 * 10**18  # each zoo pair: 1000 zoo tokens against 10 WETH
ZOO_SEED_WETH = 10 * 10**18
_DEPOSIT = selector("deposit()")
_TRANSFER = selector("transfer(address,uint256)")
_CREATE_PAIR = selector("createPair(address,address)")
_GET_PAIR = selector("getPair(address,address)")
_MINT = selector("mint(address)")
_BALANCE_OF = selector("balanceOf(address)")
PROBE_SLOTS = 32  # balance mapping slots tried per token (mainnet tokens use the first few)
MARKER = 0x5EED_F1A5_0A0D17  # written at a candidate slot: the slot that returns it is the one


@dataclass(frozen=True, slots=True, kw_only=True)
class Arena:
    stranger: str
    relay: str  # the attacker's relay contract
    lookalike: str  # the attacker's pool look-alike
    zoo: Mapping[str, str]  # zoo contract name -> token (empty without hostile tokens)
    zoo_pairs: Mapping[str, str]  # zoo contract name -> its Uniswap V2 pair against WETH
    inventory: Mapping[str, int]  # token (or "ETH") -> amount the target was given
    no_inventory: tuple[str, ...]  # tokens `deal` could not write


def _send(w3: Web3, sender: str, to: str | None, data: bytes, what: str, value: int = 0) -> Any:
    tx: dict[str, Any] = {"from": sender, "data": "0x" + data.hex(), "value": value}
    if to is not None:
        tx["to"] = to
    return send(w3, tx, what)


def build_arena(
    w3: Web3,
    target: str,
    tokens: Sequence[str],
    decimals: Mapping[str, int | None],
    *,
    stranger: str = STRANGER,
    hostile: bool = True,
) -> Arena:
    """Set the stage (see the module docstring). The caller impersonates `stranger` first."""
    set_balance(w3, stranger, STRANGER_ETH)
    relay = _send(w3, stranger, None, contract("AttackerRelay").bytecode, "deploy AttackerRelay")
    lookalike = _send(
        w3, stranger, None, contract("PoolLookalike").bytecode, "deploy PoolLookalike"
    )
    zoo_tokens: dict[str, str] = {}
    pairs: dict[str, str] = {}
    if hostile and w3.eth.get_code(A.UNISWAP_V2_FACTORY) and w3.eth.get_code(A.WETH):
        # a gas-price-aware token cannot be seeded into a pair by a mined transfer (it refuses
        # priced transfers): the token screen keeps it out of markets instead (state/screen.py)
        names = tuple(n for n in zoo.ZOO if n != zoo.GAS_PRICE_AWARE)
        zoo_tokens = zoo.deploy_zoo(w3, stranger, names=names)
        _send(w3, stranger, A.WETH, _DEPOSIT, "wrap ETH", len(zoo_tokens) * ZOO_SEED_WETH)
        for name, token in zoo_tokens.items():
            pairs[name] = _seed_pair(w3, stranger, token)
    inventory = deal_all(
        w3, target, {t: INVENTORY_UNITS * 10 ** (decimals.get(t) or 18) for t in tokens}
    )
    missing = [t for t in tokens if t not in inventory]
    set_balance(w3, target, w3.eth.get_balance(target) + INVENTORY_ETH)  # type: ignore[arg-type]
    inventory["ETH"] = INVENTORY_ETH
    return Arena(
        stranger=stranger,
        relay=to_checksum_address(str(relay["contractAddress"])),
        lookalike=to_checksum_address(str(lookalike["contractAddress"])),
        zoo=zoo_tokens,
        zoo_pairs=pairs,
        inventory=inventory,
        no_inventory=tuple(missing),
    )


def _balance_key(account: str, slot: int, vyper: bool) -> str:
    """The storage key of `account`'s entry in a balance mapping at `slot` (Solidity's order,
    or Vyper's)."""
    a, n = _word(account), slot.to_bytes(32, "big")
    return "0x" + keccak(n + a if vyper else a + n).hex()


def _word(address: str) -> bytes:
    return encode(["address"], [address])


def _batch(w3: Web3, calls: list[tuple[str, list[Any]]]) -> list[Any]:
    responses = w3.provider.make_batch_request(calls)  # type: ignore[attr-defined]
    if isinstance(responses, dict):
        raise FlasharbRuntimeError(f"the node refused a batch of {len(calls)} requests")
    return [r.get("result") for r in responses]


def deal_all(w3: Web3, account: str, amounts: Mapping[str, int]) -> dict[str, int]:
    """Set `account`'s balance of every token to its amount; returns the ones that took.

    The balance slot of each token is found in one batched request: `balanceOf(account)` as an
    eth_call with a state override writing a marker at each candidate slot (Solidity's mapping
    order, then Vyper's, slots 0..PROBE_SLOTS-1); the slot that returns the marker is written
    with anvil_setStorageAt, then every balance is read back. Measured and rejected:
    flasharb.chain.cheats.deal token by token (4 requests per slot probed), 5.6 s for the
    replica's 26 tokens on a loaded machine against well under a second for this.
    """
    balance_of = "0x" + (_BALANCE_OF + _word(account)).hex()
    marker = "0x" + MARKER.to_bytes(32, "big").hex()
    probes = [
        (t, slot, vyper) for t in amounts for vyper in (False, True) for slot in range(PROBE_SLOTS)
    ]
    calls: list[tuple[str, list[Any]]] = [
        (
            "eth_call",
            [
                {"to": t, "data": balance_of},
                "latest",
                {t: {"stateDiff": {_balance_key(account, slot, vyper): marker}}},
            ],
        )
        for t, slot, vyper in probes
    ]
    found: dict[str, str] = {}
    for (t, slot, vyper), out in zip(probes, _batch(w3, calls), strict=True):
        if t not in found and isinstance(out, str) and out[:66] == marker:
            found[t] = _balance_key(account, slot, vyper)
    _batch(
        w3,
        [
            ("anvil_setStorageAt", [t, key, "0x" + amounts[t].to_bytes(32, "big").hex()])
            for t, key in found.items()
        ],
    )
    back = _batch(w3, [("eth_call", [{"to": t, "data": balance_of}, "latest"]) for t in found])
    return {
        t: amounts[t]
        for t, out in zip(found, back, strict=True)
        if isinstance(out, str) and out[:66] == "0x" + amounts[t].to_bytes(32, "big").hex()
    }


def _seed_pair(w3: Web3, stranger: str, token: str) -> str:
    """A Uniswap V2 pair of `token` and WETH holding the attacker's liquidity."""
    args = encode(["address", "address"], [token, A.WETH])
    factory = A.UNISWAP_V2_FACTORY
    _send(w3, stranger, factory, _CREATE_PAIR + args, "createPair")
    raw = w3.eth.call({"to": factory, "data": "0x" + (_GET_PAIR + args).hex()})  # type: ignore[typeddict-item]
    pair = to_checksum_address(raw[-20:])
    to_pair = encode(["address", "uint256"], [pair, ZOO_SEED_TOKENS])
    _send(w3, stranger, token, _TRANSFER + to_pair, "seed the zoo pair")
    to_pair = encode(["address", "uint256"], [pair, ZOO_SEED_WETH])
    _send(w3, stranger, A.WETH, _TRANSFER + to_pair, "seed the zoo pair")
    _send(w3, stranger, pair, _MINT + encode(["address"], [stranger]), "mint the zoo pair")
    return pair
