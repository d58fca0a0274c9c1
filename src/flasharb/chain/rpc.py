"""web3 connections and transactions, with errors that say what failed."""

from __future__ import annotations

import json
import os
from typing import Any, cast

from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.types import TxReceipt

from flasharb.errors import FlasharbValueError, NoNodeError, TransactionFailed
from flasharb.paths import state_dir

RPC_TIMEOUT = 60


def connect(url: str) -> Web3:
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": RPC_TIMEOUT}))
    if not w3.is_connected():
        raise NoNodeError(f"nothing answers at {url}")
    return w3


def contract_at(w3: Web3, address: str, abi: list[dict[str, Any]]) -> Contract:
    """A web3 contract object; ABIs here are plain JSON from artifacts."""
    return w3.eth.contract(address=to_checksum_address(address), abi=cast(Any, abi))


def node_record() -> dict[str, Any] | None:
    path = state_dir() / "node.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def find_rpc_url() -> str:
    """The fork to work on: FLASHARB_RPC_URL, else the one `flasharb node up` recorded."""
    url = os.environ.get("FLASHARB_RPC_URL")
    if url:
        return url
    rec = node_record()
    if rec is None:
        raise NoNodeError()
    return str(rec["rpc_url"])


def checksum(address: str, what: str = "address") -> str:
    try:
        return to_checksum_address(address)
    except ValueError as exc:
        raise FlasharbValueError(f"{what} {address!r} is not a 20-byte hex address") from exc


def revert_reason(exc: Exception) -> str:
    if isinstance(exc, ContractCustomError):
        return f"custom error {exc.data if isinstance(exc.data, str) else exc}"
    if isinstance(exc, ContractLogicError):
        return str(exc.message or exc)
    return str(exc)


def send(w3: Web3, tx: dict[str, Any], what: str = "transaction") -> TxReceipt:
    """Send from an unlocked/impersonated account and wait; raise TransactionFailed on revert."""
    try:
        tx_hash = w3.eth.send_transaction(tx)  # type: ignore[arg-type]
    except (ContractLogicError, ValueError) as exc:
        raise TransactionFailed(what, revert_reason(exc)) from exc
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RPC_TIMEOUT, poll_latency=0.01)
    if receipt["status"] != 1:
        raise TransactionFailed(what, f"status 0 in tx {tx_hash.hex()}")
    return receipt
