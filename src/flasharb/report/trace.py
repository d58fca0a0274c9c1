"""The call tree of a mined transaction (debug_traceTransaction, callTracer), each frame named
and decoded: contracts by what they are, calls by function and arguments, reverts by error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_abi import decode
from eth_utils import to_checksum_address
from web3 import Web3

from flasharb.errors import FlasharbRuntimeError, FlasharbValueError
from flasharb.execute.revert import decode_revert
from flasharb.report import known
from flasharb.state.lookup import identify

_ERROR_STRING = bytes.fromhex("08c379a0")
_PANIC = bytes.fromhex("4e487b71")
SHOW_ARG = 42  # characters of one decoded argument shown before it is cut


@dataclass(frozen=True, slots=True, kw_only=True)
class Frame:
    kind: str  # CALL, STATICCALL, DELEGATECALL, CREATE, ...
    sender: str
    to: str
    label: str  # what `to` is, or "" when unknown
    call: str  # "transfer(to=WETH, amount=5)", or the bare selector when unknown
    value: int  # wei sent along
    gas_used: int
    error: str  # "" when the frame succeeded, else the decoded revert
    calls: list[Frame] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "from": self.sender,
            "to": self.to,
            "label": self.label,
            "call": self.call,
            "value": str(self.value),
            "gas_used": self.gas_used,
            "error": self.error,
            "calls": [c.to_json() for c in self.calls],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Trace:
    tx_hash: str
    block: int
    status: int
    gas_used: int
    root: Frame

    def to_json(self) -> dict[str, Any]:
        return {
            "tx_hash": self.tx_hash,
            "block": self.block,
            "status": self.status,
            "gas_used": self.gas_used,
            "error": self.root.error,
            "call": self.root.to_json(),
        }


def trace_transaction(w3: Web3, tx_hash: str) -> Trace:
    """The decoded call tree of `tx_hash`; FlasharbValueError when the chain does not have it."""
    receipt = w3.provider.make_request("eth_getTransactionReceipt", [tx_hash])  # type: ignore[arg-type]
    if receipt.get("result") is None:
        raise FlasharbValueError(
            f"transaction {tx_hash} is not on this fork ({w3.provider.endpoint_uri}); check the "  # type: ignore[attr-defined]
            "hash and --rpc-url (a fork restarted by 'node up' has none of the old ones)"
        )
    rec = receipt["result"]
    resp = w3.provider.make_request(
        "debug_traceTransaction",  # type: ignore[arg-type]
        [tx_hash, {"tracer": "callTracer", "tracerConfig": {"onlyTopCall": False}}],
    )
    if "error" in resp:
        message = resp["error"].get("message", resp["error"])
        raise FlasharbRuntimeError(
            f"the fork could not trace {tx_hash} ({message}); anvil keeps the state of its "
            "last 256 blocks only, so trace recent transactions"
        )
    labels = _Labels(w3)
    return Trace(
        tx_hash=tx_hash,
        block=int(rec["blockNumber"], 16),
        status=int(rec["status"], 16),
        gas_used=int(rec["gasUsed"], 16),
        root=_frame(resp["result"], labels),
    )


class _Labels:
    """Names of addresses: the canonical ones, the project's diamond, then pools on demand."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self.names = {a: k.name for a, k in known.canonical().items()}
        self.names.update({a: k.name for a, k in known.deployment(w3).items()})

    def __call__(self, address: str) -> str:
        if address not in self.names:
            try:
                self.names[address] = known.pool(identify(self.w3, address)).name
            except Exception:  # noqa: BLE001 - not a pool (an EOA, a contract of the user's)
                self.names[address] = ""
        return self.names[address]


def _frame(raw: dict[str, Any], labels: _Labels) -> Frame:
    to = to_checksum_address(raw["to"]) if raw.get("to") else ""
    error = ""
    if raw.get("error"):
        output = raw.get("output") or "0x"
        error = decode_error(bytes.fromhex(output.removeprefix("0x")), labels)
        if error == "reverted without data" and raw["error"] != "execution reverted":
            error = str(raw["error"])  # out of gas, invalid opcode, ...
    return Frame(
        kind=str(raw.get("type", "CALL")),
        sender=to_checksum_address(raw["from"]),
        to=to,
        label=labels(to) if to else "",
        call=decode_call(bytes.fromhex(str(raw.get("input", "0x")).removeprefix("0x")), labels),
        value=int(raw.get("value") or "0x0", 16),
        gas_used=int(raw.get("gasUsed") or "0x0", 16),
        error=error,
        calls=[_frame(c, labels) for c in raw.get("calls", [])],
    )


def decode_call(data: bytes, labels: Any = None) -> str:
    """`name(arg=value, ...)` for a known selector; the selector and length otherwise."""
    if len(data) < 4:
        return "(plain transfer)" if not data else f"0x{data.hex()}"
    entry = known.function_entry(data[:4])
    if entry is None:
        return f"0x{data[:4].hex()}(... {len(data) - 4} bytes)"
    return _with_args(entry, data[4:], labels)


def decode_error(data: bytes, labels: Any = None) -> str:
    """A revert: Error(string), Panic, flasharb's custom errors (execute.revert), then the custom
    errors of every known ABI."""
    if len(data) >= 4 and data[:4] not in (_ERROR_STRING, _PANIC):
        entry = known.error_entry(data[:4])
        if entry is not None:
            return _with_args(entry, data[4:], labels)
    return decode_revert(data)


def _with_args(entry: dict[str, Any], body: bytes, labels: Any) -> str:
    types = [_type(i) for i in entry["inputs"]]
    try:
        values = decode(types, body)
    except Exception:  # noqa: BLE001 - malformed calldata: show the name only
        return f"{entry['name']}(?)"
    args = ", ".join(
        f"{i['name'] or f'arg{n}'}={_show(i['type'], v, labels)}"
        for n, (i, v) in enumerate(zip(entry["inputs"], values, strict=True))
    )
    return f"{entry['name']}({args})"


def _type(i: dict[str, Any]) -> str:
    if i["type"].startswith("tuple"):
        return f"({','.join(_type(c) for c in i['components'])}){i['type'][5:]}"
    return str(i["type"])


def _show(typ: str, value: Any, labels: Any) -> str:
    if typ.endswith("[]") and isinstance(value, list | tuple):
        return "[" + ", ".join(_show(typ[:-2], v, labels) for v in value) + "]"
    if typ == "address":
        address = to_checksum_address(value)
        name = labels(address) if labels is not None else ""
        return name or address
    text = "0x" + value.hex() if isinstance(value, bytes) else str(value)
    return text if len(text) <= SHOW_ARG else text[: SHOW_ARG - 3] + "..."


def render(trace: Trace) -> list[str]:
    """The tree as text lines."""
    verdict = "succeeded" if trace.status == 1 else f"reverted: {trace.root.error or '?'}"
    lines = [f"tx {trace.tx_hash} (block {trace.block}, gas {trace.gas_used}) {verdict}"]

    def walk(f: Frame, prefix: str, last: bool, top: bool) -> None:
        who = f"{f.label} ({f.to})" if f.label else f.to
        value = f" value={f.value}" if f.value else ""
        mark = f"  ✗ {f.error}" if f.error else ""
        branch = "" if top else ("└─ " if last else "├─ ")
        lines.append(f"{prefix}{branch}{f.kind} {who}.{f.call}{value} [gas {f.gas_used}]{mark}")
        child_prefix = prefix if top else prefix + ("   " if last else "│  ")
        for n, c in enumerate(f.calls):
            walk(c, child_prefix, n == len(f.calls) - 1, False)

    walk(trace.root, "", True, True)
    return lines
