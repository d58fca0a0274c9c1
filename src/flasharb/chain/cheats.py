"""Fork cheats, the Foundry way: deal, impersonate, set_balance, snapshot/revert, mine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3

from flasharb.errors import FlasharbValueError

_BALANCE_OF = function_signature_to_4byte_selector("balanceOf(address)")
_PROBE_SLOTS = 64  # mapping slots tried; mainnet tokens keep balances in the first few


def _rpc(w3: Web3, method: str, params: list[object]) -> object:
    resp = w3.provider.make_request(method, params)  # type: ignore[arg-type]
    if "error" in resp:
        raise FlasharbValueError(f"{method} failed: {resp['error']}")
    return resp.get("result")


def balance_of(w3: Web3, token: str, account: str, block: int | str = "latest") -> int:
    data = _BALANCE_OF + encode(["address"], [account])
    out = w3.eth.call({"to": token, "data": "0x" + data.hex()}, block)  # type: ignore[typeddict-item,arg-type]
    if len(out) < 32:
        raise FlasharbValueError(f"token {token} has no balanceOf; is it an ERC-20?")
    return int.from_bytes(out[:32], "big")


def _slot_key(account: str, slot: int, vyper: bool) -> str:
    a = encode(["address"], [account])
    s = encode(["uint256"], [slot])
    return "0x" + Web3.keccak(s + a if vyper else a + s).hex().removeprefix("0x")


def find_balance_slot(w3: Web3, token: str, account: str) -> tuple[int, bool]:
    """Find the mapping slot of `balanceOf` by writing a marker and reading it back.

    Works on real mainnet tokens too (Solidity `mapping(address => uint)` at slot n, or the
    Vyper order). Every probe is undone.
    """
    marker = 0x5EED_F1A5
    for vyper in (False, True):
        for slot in range(_PROBE_SLOTS):
            key = _slot_key(account, slot, vyper)
            old = _rpc(w3, "eth_getStorageAt", [token, key, "latest"])
            _rpc(w3, "anvil_setStorageAt", [token, key, "0x" + marker.to_bytes(32, "big").hex()])
            hit = balance_of(w3, token, account) == marker
            _rpc(w3, "anvil_setStorageAt", [token, key, old])
            if hit:
                return slot, vyper
    raise FlasharbValueError(
        f"could not find the balance slot of token {token}; deal() supports plain mapping balances"
    )


def deal(w3: Web3, token: str, account: str, amount: int) -> None:
    """Set `account`'s balance of `token` to `amount` (totalSupply is left as it is)."""
    slot, vyper = find_balance_slot(w3, token, account)
    key = _slot_key(account, slot, vyper)
    _rpc(w3, "anvil_setStorageAt", [token, key, "0x" + amount.to_bytes(32, "big").hex()])
    if balance_of(w3, token, account) != amount:
        raise FlasharbValueError(f"deal on token {token} did not stick (rebasing token?)")


def set_balance(w3: Web3, account: str, wei: int) -> None:
    _rpc(w3, "anvil_setBalance", [account, hex(wei)])


def impersonate(w3: Web3, account: str) -> None:
    _rpc(w3, "anvil_impersonateAccount", [account])


def stop_impersonating(w3: Web3, account: str) -> None:
    _rpc(w3, "anvil_stopImpersonatingAccount", [account])


def mine(w3: Web3, blocks: int = 1) -> None:
    """Mine `blocks` empty blocks now (anvil_mine), each 12 s after the last on the lab."""
    _rpc(w3, "anvil_mine", [hex(blocks)])


@contextmanager
def snapshot(w3: Web3) -> Iterator[str]:
    """Everything done inside the block is reverted on exit."""
    snap = str(_rpc(w3, "evm_snapshot", []))
    try:
        yield snap
    finally:
        _rpc(w3, "evm_revert", [snap])


def advance_time(w3: Web3, seconds: int) -> None:
    """Mine one block `seconds` after the latest one.

    Set as an explicit timestamp: the lab's fork mines at a fixed 12 s interval, which
    evm_increaseTime would not move.
    """
    latest = int(w3.eth.get_block("latest")["timestamp"])
    set_next_block_timestamp(w3, latest + seconds)
    _rpc(w3, "evm_mine", [])


def set_next_block_timestamp(w3: Web3, timestamp: int) -> None:
    _rpc(w3, "evm_setNextBlockTimestamp", [hex(timestamp)])


@contextmanager
def impersonating(w3: Web3, account: str, eth: int | None = None) -> Iterator[str]:
    """Send as `account` inside the block (optionally funding it with `eth` wei for gas)."""
    if eth is not None:
        set_balance(w3, account, eth)
    impersonate(w3, account)
    try:
        yield account
    finally:
        stop_impersonating(w3, account)
