"""The hostile token zoo: tokens that break the assumptions a router makes about ERC-20s.

Never part of the replica state. Tests and audits deploy the zoo on demand, on any chain, with
`deploy_zoo`, and bend it with the setters below (all owner-only on-chain: the deployer owns it).

- FeeOnTransferToken: every transfer delivers the amount minus `fee_bps` (burned or collected);
- RebasingToken: balances are shares times an index the owner moves (stETH-like rounding), and
  that may grow every second (`set_growth`, aToken-like);
- ReturnsFalseToken: failed transfers return false instead of reverting; a switch makes all fail;
- ReentrantHookToken: every transfer calls a chosen target with chosen calldata (re-entrancy);
- GasPriceAwareToken: honest only when `tx.gasprice == 0` (every eth_call, eth_estimateGas);
  a priced (mined) transfer reverts, or with `set_revert_when_priced(False)` delivers nothing.
  Its owner seeds pools with `mint`, which is not a transfer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_abi import encode
from web3 import Web3
from web3.contract import Contract

from flasharb.chain.artifacts import contract
from flasharb.chain.rpc import checksum, contract_at, send
from flasharb.errors import FlasharbValueError

FEE_ON_TRANSFER = "FeeOnTransferToken"
REBASING = "RebasingToken"
RETURNS_FALSE = "ReturnsFalseToken"
REENTRANT_HOOK = "ReentrantHookToken"
GAS_PRICE_AWARE = "GasPriceAwareToken"
ZOO = (FEE_ON_TRANSFER, REBASING, RETURNS_FALSE, REENTRANT_HOOK, GAS_PRICE_AWARE)
ZOO_BASE = "ZooERC20"  # their common base (owner, mint, plain ERC-20 views)

INDEX_ONE = 10**18  # RebasingToken's index of 1.0 (tokens per share, 18 decimals)
MAX_FEE_BPS = 10_000
EVERY_TRANSFER = 2**256 - 1  # ReentrantHookToken: the hook fires on every transfer
ZERO_ADDRESS = "0x" + "00" * 20
DEPLOY_GAS = 3_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class ZooSettings:
    """What `deploy_zoo` gives every zoo token: decimals, supply, and the initial fee."""

    decimals: int = 18
    supply: int = 10**9 * 10**18  # base units, minted to the deployer
    fee_bps: int = 100  # FeeOnTransferToken's fee at deployment (1%), burned


_METADATA = {
    FEE_ON_TRANSFER: ("Zoo Fee-On-Transfer", "ZFOT"),
    REBASING: ("Zoo Rebasing", "ZREB"),
    RETURNS_FALSE: ("Zoo Returns-False", "ZRFT"),
    REENTRANT_HOOK: ("Zoo Reentrant-Hook", "ZHOOK"),
    GAS_PRICE_AWARE: ("Zoo Gas-Price-Aware", "ZGAS"),
}


def zoo_token(w3: Web3, name: str, address: str) -> Contract:
    """A web3 contract for the zoo token `name` (one of ZOO) at `address`."""
    if name not in ZOO:
        raise FlasharbValueError(f"{name!r} is not a zoo token; pick one of {', '.join(ZOO)}")
    return contract_at(w3, checksum(address, f"{name} address"), contract(name).abi)


def deploy_zoo(
    w3: Web3,
    deployer: str,
    settings: ZooSettings | None = None,
    names: Sequence[str] = ZOO,
) -> dict[str, str]:
    """Deploy one of each zoo token in `names` (default: all) from `deployer` (who owns them
    and holds their supply).

    Returns {contract name: address}, in the order of `names`.
    """
    s = settings or ZooSettings()
    if not 0 <= s.fee_bps <= MAX_FEE_BPS:
        raise FlasharbValueError(f"fee_bps {s.fee_bps} must be within 0..{MAX_FEE_BPS}")
    unknown = [n for n in names if n not in ZOO]
    if unknown:
        raise FlasharbValueError(f"{unknown[0]!r} is not a zoo token; pick from {', '.join(ZOO)}")
    sender = checksum(deployer, "deployer")
    out: dict[str, str] = {}
    for name in names:
        label, symbol = _METADATA[name]
        types = ["string", "string", "uint8", "address", "uint256"]
        args: list[object] = [label, symbol, s.decimals, sender, s.supply]
        if name == FEE_ON_TRANSFER:
            types.append("uint256")
            args.append(s.fee_bps)
        code = contract(name).bytecode + encode(types, args)
        tx = {"from": sender, "data": "0x" + code.hex(), "gas": DEPLOY_GAS}
        receipt = send(w3, tx, f"deploy {name}")
        out[name] = checksum(str(receipt["contractAddress"]), name)
    return out


def _owner_call(w3: Web3, name: str, token: str, owner: str, fn: str, args: list[object]) -> None:
    c = contract_at(w3, checksum(token, f"{name} address"), contract(name).abi)
    tx = {"from": checksum(owner, "owner"), "to": c.address, "data": c.encode_abi(fn, args)}
    send(w3, tx, f"{name}.{fn}")  # gas estimated: a revert surfaces with its custom error


def set_fee(w3: Web3, token: str, owner: str, fee_bps: int, recipient: str = ZERO_ADDRESS) -> None:
    """FeeOnTransferToken: take `fee_bps` of every transfer, sent to `recipient` (zero: burned)."""
    if not 0 <= fee_bps <= MAX_FEE_BPS:
        raise FlasharbValueError(f"fee_bps {fee_bps} must be within 0..{MAX_FEE_BPS}")
    _owner_call(
        w3, FEE_ON_TRANSFER, token, owner, "setFee", [fee_bps, checksum(recipient, "recipient")]
    )


def set_index(w3: Web3, token: str, owner: str, index: int) -> None:
    """RebasingToken: set tokens per share (18 decimals; INDEX_ONE = 1.0). Every balance scales
    by index / old index at once."""
    if index <= 0:
        raise FlasharbValueError(f"rebasing index {index} must be positive (INDEX_ONE = 1.0)")
    _owner_call(w3, REBASING, token, owner, "setIndex", [index])


def set_growth(w3: Web3, token: str, owner: str, per_second: int) -> None:
    """RebasingToken: from now on the index grows by `per_second` (18 decimals) every second, as
    an aToken accrues interest (INDEX_ONE // 86_400: +1.0 a day); 0 stops it."""
    if per_second < 0:
        raise FlasharbValueError(f"growth {per_second} per second must be >= 0")
    _owner_call(w3, REBASING, token, owner, "setGrowth", [per_second])


def set_revert_when_priced(w3: Web3, token: str, owner: str, on: bool) -> None:
    """GasPriceAwareToken: a transfer with tx.gasprice > 0 reverts (`on`, the default) or burns
    the amount and returns true (the recipient gets nothing)."""
    _owner_call(w3, GAS_PRICE_AWARE, token, owner, "setRevertWhenPriced", [on])


def set_always_false(w3: Web3, token: str, owner: str, on: bool) -> None:
    """ReturnsFalseToken: when `on`, transfer and transferFrom move nothing and return false."""
    _owner_call(w3, RETURNS_FALSE, token, owner, "setAlwaysFalse", [on])


def set_hook(
    w3: Web3,
    token: str,
    owner: str,
    target: str,
    data: bytes,
    times: int = EVERY_TRANSFER,
    bubble: bool = True,
) -> None:
    """ReentrantHookToken: after each of the next `times` transfers, call `target` with `data`.

    With `bubble`, a failing hook reverts the transfer with the hook's own revert data (so a
    re-entrancy guard's error reaches the caller verbatim); without it, the failure only shows in
    the token's HookCalled event.
    """
    if not 0 <= times <= EVERY_TRANSFER:
        raise FlasharbValueError(f"times {times} must be within 0..2**256-1")
    args: list[object] = [checksum(target, "hook target"), data, times, bubble]
    _owner_call(w3, REENTRANT_HOOK, token, owner, "setHook", args)


def clear_hook(w3: Web3, token: str, owner: str) -> None:
    """ReentrantHookToken: disarm the hook."""
    set_hook(w3, token, owner, ZERO_ADDRESS, b"", times=0, bubble=False)


def mint(w3: Web3, token: str, owner: str, to: str, amount: int) -> None:
    """Any zoo token: create `amount` base units for `to` (the zoo's stand-in for `deal`)."""
    _owner_call(w3, ZOO_BASE, token, owner, "mint", [checksum(to, "recipient"), amount])
