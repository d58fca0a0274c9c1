"""web3 connections and transactions, with errors that say what failed."""

from __future__ import annotations

import json
import os
from typing import Any, cast

import requests
from eth_utils import to_checksum_address
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError
from web3.types import RPCEndpoint, RPCResponse, TxReceipt

from flasharb.errors import (
    FlasharbValueError,
    NodeGoneError,
    NoNodeError,
    RpcTimeoutError,
    TransactionFailed,
    UpstreamGoneError,
)
from flasharb.paths import state_dir

RPC_TIMEOUT = 60  # seconds per request; FLASHARB_RPC_TIMEOUT overrides
UPSTREAM_FAILURE = "error sending request for url"  # anvil --fork-url: the upstream is gone


def rpc_timeout() -> float:
    """Seconds one RPC request may take: FLASHARB_RPC_TIMEOUT, else RPC_TIMEOUT."""
    raw = os.environ.get("FLASHARB_RPC_TIMEOUT")
    if not raw:
        return RPC_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise FlasharbValueError(
            f"FLASHARB_RPC_TIMEOUT={raw!r} is not a positive number of seconds; fix or unset it"
        )
    return value


class LabHTTPProvider(HTTPProvider):
    """HTTPProvider whose transport failures are flasharb errors naming the URL: a request that
    times out, a node that refuses or drops the connection, a fork whose upstream is gone. No
    retries: a stalled node fails after one timeout, not after a backoff series of them.

    eth_chainId is answered once per connection, then from web3's request cache: web3's
    validation middleware asks for it before every eth_call, eth_estimateGas and
    eth_sendTransaction made through `w3.eth` (a run's background swaps and balance reads: 35
    extra round trips per block in a 200-trade soak, 3,366 in all). A node's chain id does not
    change under a URL; nothing else is cached."""

    def __init__(self, url: str, timeout: float) -> None:
        super().__init__(
            url,
            request_kwargs={"timeout": timeout},
            exception_retry_configuration=None,
            cache_allowed_requests=True,
            cacheable_requests={RPCEndpoint("eth_chainId")},
            request_cache_validation_threshold=None,  # else it asks eth_chainId to set one
        )
        self.timeout = timeout

    def _make_request(self, method: RPCEndpoint, request_data: bytes) -> bytes:
        url = str(self.endpoint_uri)
        try:
            return super()._make_request(method, request_data)
        except requests.exceptions.Timeout as exc:
            if isinstance(exc, requests.exceptions.ConnectTimeout):
                raise NodeGoneError(url, "connect timed out") from exc
            raise RpcTimeoutError(url, self.timeout, method) from exc
        except requests.exceptions.ConnectionError as exc:
            raise NodeGoneError(url, _reason(exc)) from exc

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        resp = super().make_request(method, params)
        err = resp.get("error") if isinstance(resp, dict) else None
        if isinstance(err, dict) and UPSTREAM_FAILURE in str(err.get("message", "")):
            raise UpstreamGoneError(str(self.endpoint_uri), _upstream_reason(str(err["message"])))
        return resp


def _reason(exc: Exception) -> str:
    text = str(exc)
    for key in (
        "Connection refused",
        "RemoteDisconnected",
        "Connection reset",
        "Connection aborted",
    ):
        if key in text:
            return key.lower()
    return type(exc).__name__


def _upstream_reason(message: str) -> str:
    for key in ("Connection refused", "timed out", "Connection reset"):
        if key in message:
            return f"upstream: {key.lower()}"
    return "upstream request failed"


def connect(url: str) -> Web3:
    """A web3 on `url` that answered eth_chainId; NoNodeError when nothing does."""
    w3 = Web3(LabHTTPProvider(url, rpc_timeout()))
    try:
        w3.eth.chain_id  # noqa: B018 - one round trip proves the node answers
    except NodeGoneError as exc:
        raise NoNodeError(f"nothing answers at {url}") from exc
    except RpcTimeoutError:
        raise
    except Exception as exc:  # noqa: BLE001 - not JSON-RPC at all (a web page, a bad URL)
        raise NoNodeError(f"no JSON-RPC node at {url} ({type(exc).__name__})") from exc
    return w3


def contract_at(w3: Web3, address: str, abi: list[dict[str, Any]]) -> Contract:
    """A web3 contract object; ABIs here are plain JSON from artifacts."""
    return w3.eth.contract(address=to_checksum_address(address), abi=cast(Any, abi))


def node_record() -> dict[str, Any] | None:
    path = state_dir(create=False) / "node.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def find_rpc_url() -> str:
    """The fork to work on: --rpc-url / FLASHARB_RPC_URL, else the one `flasharb node up`
    recorded."""
    url = os.environ.get("FLASHARB_RPC_URL")
    if url:
        return url
    rec = node_record()
    if rec is None:
        raise NoNodeError()
    if not rec.get("rpc_url"):
        raise NoNodeError(
            "the lab of this project is still starting (or its 'node up' was killed: "
            "'flasharb node down' stops what it started)"
        )
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
    if isinstance(exc, Web3RPCError) and exc.message:
        return str(exc.message)
    return str(exc)


def send(w3: Web3, tx: dict[str, Any], what: str = "transaction") -> TxReceipt:
    """Send from an unlocked/impersonated account and wait; raise TransactionFailed on revert."""
    try:
        tx_hash = w3.eth.send_transaction(tx)  # type: ignore[arg-type]
    except (ContractLogicError, ValueError, Web3RPCError) as exc:
        raise TransactionFailed(what, revert_reason(exc)) from exc
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RPC_TIMEOUT, poll_latency=0.01)
    if receipt["status"] != 1:
        raise TransactionFailed(what, f"status 0 in tx {tx_hash.hex()}")
    return receipt


def lab_id(w3: Web3) -> str:
    """Which node instance `w3` talks to: Anvil's `anvil_metadata.instanceId` (random per
    process: a restarted lab is a new lab even when its blocks are the same), else the chain id
    and URL. The journal keys runs by it."""
    url = str(getattr(w3.provider, "endpoint_uri", ""))
    try:
        resp = w3.provider.make_request(RPCEndpoint("anvil_metadata"), [])
    except Exception:  # noqa: BLE001 - any node without the method: fall back
        resp = {}
    result = resp.get("result") if isinstance(resp, dict) else None
    if isinstance(result, dict) and result.get("instanceId"):
        return f"anvil:{result['instanceId']}"
    return f"chain {w3.eth.chain_id} at {url}"
