"""The stage an audit plays on, set up inside the audit's own snapshot (undone at the end):

- the attacker: a fixed address nobody holds a key for (impersonated, funded with ETH), so every
  transaction in a report is reproducible on a fork of the same block;
- its relay contract (contracts/audit/AttackerRelay.sol), for attacks that need a contract as
  msg.sender, and a pool look-alike (contracts/audit/PoolLookalike.sol) that answers token0(),
  token1() and fee() like a real pool;
- the hostile token zoo (contracts/zoo: fee-on-transfer, rebasing, returns-false, re-entrant
  hook), each with a Uniswap V2 pair against WETH seeded by the attacker;
- inventory worth stealing in the target: INVENTORY_UNITS whole tokens of every token of the
  fork's pools (written with `deal`, skipped for a token whose balance slot cannot be found)
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
from flasharb.chain.cheats import deal, set_balance
from flasharb.chain.rpc import send
from flasharb.errors import FlasharbError
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
        zoo_tokens = zoo.deploy_zoo(w3, stranger)
        _send(w3, stranger, A.WETH, _DEPOSIT, "wrap ETH", len(zoo_tokens) * ZOO_SEED_WETH)
        for name, token in zoo_tokens.items():
            pairs[name] = _seed_pair(w3, stranger, token)
    inventory: dict[str, int] = {}
    missing: list[str] = []
    for token in tokens:
        amount = INVENTORY_UNITS * 10 ** (decimals.get(token) or 18)
        try:
            deal(w3, token, target, amount)
        except FlasharbError:  # balance kept elsewhere than a plain mapping: no inventory
            missing.append(token)
            continue
        inventory[token] = amount
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
