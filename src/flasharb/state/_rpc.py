"""Raw JSON-RPC for the state layer: eth_call with a state-override reader, chunked eth_getLogs.

Raw `make_request` skips web3's request and result formatters, which cost more than the call
itself when the answer is a 100 kB blob or a thousand logs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from web3 import Web3

from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.chain.artifacts import contract
from flasharb.errors import FlasharbError, FlasharbRuntimeError, FlasharbValueError

# Where reader code is placed for an eth_call; no account of any chain has code there.
READER_ADDRESS = checksum_address("0x00000000000000000000000000000000F1a5bEEF")
_MAX_LOG_SPLITS = 24  # a range is halved at most this often before a log query gives up


@cache
def reader_code(name: str) -> str:
    """Runtime code of a reader contract under contracts/readers/, as 0x-hex."""
    return "0x" + contract(name).deployed_bytecode.hex()


def block_param(block: int | str) -> str:
    """A block number or tag as JSON-RPC wants it."""
    if isinstance(block, int):
        if block < 0:
            raise FlasharbValueError(f"block must be >= 0, got {block}")
        return hex(block)
    if block in ("latest", "pending", "safe", "finalized", "earliest"):
        return block
    raise FlasharbValueError(f"block {block!r} is neither a number nor a block tag")


def request(w3: Web3, method: str, params: list[Any], what: str) -> Any:
    try:
        resp = w3.provider.make_request(method, params)  # type: ignore[arg-type]
    except Exception as exc:  # connection refused, timeout: the node is the problem
        raise FlasharbRuntimeError(f"{what}: {method} failed: {exc}") from exc
    if "error" in resp:
        raise FlasharbRuntimeError(f"{what}: {method} failed: {resp['error']}")
    return resp["result"]


def batch(w3: Web3, calls: Sequence[tuple[str, list[Any]]], what: str) -> list[Any]:
    """Several JSON-RPC requests in one HTTP round trip; their results, in order.

    Raises:
        FlasharbRuntimeError: the batch or any request in it failed (naming which).
    """
    if not calls:
        return []
    try:
        replies = w3.provider.make_batch_request(list(calls))  # type: ignore[attr-defined]
    except FlasharbError:
        raise  # the provider's own: a node gone, a timeout (they name the URL)
    except Exception as exc:  # connection refused, timeout: the node is the problem
        raise FlasharbRuntimeError(f"{what}: batch of {len(calls)} requests failed: {exc}") from exc
    if isinstance(replies, dict):  # the node refused the batch as a whole
        raise FlasharbRuntimeError(f"{what}: batch failed: {replies.get('error')}")
    by_id = sorted(replies, key=lambda r: int(r.get("id", 0)))
    out = []
    for (method, _), reply in zip(calls, by_id, strict=True):
        if "error" in reply:
            raise FlasharbRuntimeError(f"{what}: {method} failed: {reply['error']}")
        out.append(reply["result"])
    return out


def head(w3: Web3) -> int:
    return int(request(w3, "eth_blockNumber", [], "reading the head block"), 16)


def resolve_block(w3: Web3, block: int | str | None) -> int:
    """`block` as a number: the head for None or 'latest'."""
    if block is None or block == "latest":
        return head(w3)
    if isinstance(block, int):
        block_param(block)
        return block
    raw = request(w3, "eth_getBlockByNumber", [block_param(block), False], f"block {block}")
    return int(raw["number"], 16)


def call_reader(
    w3: Web3, name: str, data: bytes, block: int | str, gas: int | None = None
) -> bytes:
    """Run reader contract `name` on `data` at `block` with its code as a state override."""
    tx: dict[str, str] = {"to": READER_ADDRESS, "data": "0x" + data.hex()}
    if gas is not None:
        tx["gas"] = hex(gas)
    override = {READER_ADDRESS: {"code": reader_code(name)}}
    out = request(w3, "eth_call", [tx, block_param(block), override], f"{name} eth_call")
    return bytes.fromhex(out[2:])


@dataclass(frozen=True, slots=True, kw_only=True)
class RawLog:
    """One log, as eth_getLogs returns it, with addresses checksummed and hex decoded."""

    address: str
    topics: tuple[bytes, ...]
    data: bytes
    block: int
    index: int  # logIndex within the block


def raw_log(log: dict[str, Any]) -> RawLog:
    """One eth_getLogs entry as a RawLog."""
    return RawLog(
        address=checksum_address(log["address"]),
        topics=tuple(bytes.fromhex(t[2:]) for t in log["topics"]),
        data=bytes.fromhex(log["data"][2:]),
        block=int(log["blockNumber"], 16),
        index=int(log["logIndex"], 16),
    )


def log_filter(topics: Sequence[bytes], start: int, end: int) -> dict[str, Any]:
    """An eth_getLogs filter: any of `topics` first, blocks start..end."""
    return {
        "topics": [["0x" + t.hex() for t in topics]],
        "fromBlock": hex(start),
        "toBlock": hex(end),
    }


def get_logs(
    w3: Web3,
    *,
    from_block: int,
    to_block: int,
    topics: Sequence[bytes],
    address: str | Sequence[str] | None = None,
    chunk: int,
) -> list[RawLog]:
    """Logs whose first topic is one of `topics` in [from_block, to_block], queried `chunk` blocks
    at a time (real RPCs cap the range); a range the node refuses is halved and retried."""
    if chunk < 1:
        raise FlasharbValueError(f"log chunk must be at least 1 block, got {chunk}")
    flt: dict[str, Any] = {"topics": [["0x" + t.hex() for t in topics]]}
    if address is not None:
        flt["address"] = address if isinstance(address, str) else list(address)
    out: list[RawLog] = []
    start = from_block
    while start <= to_block:
        end = min(to_block, start + chunk - 1)
        out.extend(_logs_in(w3, flt, start, end, 0))
        start = end + 1
    return out


def _logs_in(w3: Web3, flt: dict[str, Any], start: int, end: int, depth: int) -> list[RawLog]:
    params = [flt | {"fromBlock": hex(start), "toBlock": hex(end)}]
    try:
        raw = request(w3, "eth_getLogs", params, f"logs of blocks {start}-{end}")
    except FlasharbRuntimeError:
        if start == end or depth >= _MAX_LOG_SPLITS:
            raise
        mid = (start + end) // 2  # too many results or too wide a range: split it
        return _logs_in(w3, flt, start, mid, depth + 1) + _logs_in(w3, flt, mid + 1, end, depth + 1)
    return [raw_log(log) for log in raw]
