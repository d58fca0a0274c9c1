"""Helpers of the audit suite: mine an attack and check its exact revert, deploy the audit
contracts (contracts/audit), decode errors the facets do not declare, trace inner reverts."""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from eth_abi import decode, encode
from eth_utils import function_abi_to_4byte_selector, function_signature_to_4byte_selector
from web3 import Web3
from web3.contract import Contract

from flasharb.chain.artifacts import contract
from flasharb.chain.rpc import contract_at, send
from flasharb.execute.deploy import Deployment
from flasharb.execute.plan import Plan
from flasharb.execute.revert import decode_revert, revert_data
from flasharb_testing import routes as R

AUDIT_CONTRACTS = ("AttackerRelay", "HostileLender", "RevertingInit", "StorageProbeFacet")
ATTACK_GAS = 6_000_000  # explicit gas: the attack is mined even though it reverts


@cache
def _extra_errors() -> dict[bytes, dict[str, Any]]:
    table = {}
    for name in (*AUDIT_CONTRACTS, "GuardFacet", "ReentrantHookToken"):
        for e in contract(name).abi:
            if e["type"] == "error":
                table[function_abi_to_4byte_selector(cast(Any, e))] = e
    return table


def describe(data: bytes | None) -> str:
    """decode_revert, plus the errors of the audit contracts and GuardFacet."""
    text = decode_revert(data)
    if data and text.startswith("unknown custom error"):
        entry = _extra_errors().get(data[:4])
        if entry is not None:
            values = decode([i["type"] for i in entry["inputs"]], data[4:])
            args = ", ".join(
                f"{i['name']}={v}" for i, v in zip(entry["inputs"], values, strict=True)
            )
            return f"{entry['name']}({args})"
    return text


def revert_of(w3: Web3, tx: dict[str, Any]) -> str | None:
    """None if `tx` succeeds as an eth_call now, else its decoded revert."""
    try:
        w3.eth.call(cast(Any, tx))
    except Exception as exc:  # noqa: BLE001 - any revert is the answer
        data = revert_data(exc)
        return describe(data) if data is not None else f"reverted: {exc}"
    return None


def mined_revert(w3: Web3, tx_hash: Any) -> str:
    """The decoded revert of a mined transaction, from its call trace."""
    h = tx_hash.to_0x_hex() if hasattr(tx_hash, "to_0x_hex") else str(tx_hash)
    resp = w3.provider.make_request(
        "debug_traceTransaction",  # type: ignore[arg-type]
        [h, {"tracer": "callTracer"}],
    )
    out = resp["result"].get("output")
    return describe(bytes.fromhex(out[2:]) if out and out != "0x" else b"")


def mine_attack(
    w3: Web3, tx: dict[str, Any], expected: str, gas: int = ATTACK_GAS, *, call: bool = True
) -> Any:
    """Mine `tx` with explicit gas (it reverts, so no estimate) and check the mined revert is
    exactly `expected`; with `call`, first check an eth_call at the same state says the same.
    Returns the receipt."""
    if call:
        got = revert_of(w3, tx)
        assert got == expected, f"eth_call: expected {expected}, got {got}"
    tx_hash = w3.eth.send_transaction(cast(Any, {**tx, "gas": gas}))
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=0.01)
    assert receipt["status"] == 0, "the attack was mined successfully"
    assert receipt["gasUsed"] < gas, "ran out of gas: not the revert under test"
    mined = mined_revert(w3, tx_hash)
    assert mined == expected, f"mined: expected {expected}, got {mined}"
    return receipt


def trader_refuses(
    w3: Web3,
    deployment: Deployment,
    plan: Plan,
    sender: str,
    expected: str | None,
    min_profit: int = 0,
) -> None:
    """The trader signing as `sender` refuses `plan` (simulated as mined, never sent) with
    exactly `expected` as its decoded revert (None: any revert)."""
    nonce = w3.eth.get_transaction_count(cast(Any, sender))
    prepared = R.prepare(R.trader(w3, deployment, sender=sender), plan, min_profit=min_profit)
    assert not prepared.ok, "the trader would send it"
    assert prepared.error is not None, f"refused without a revert: {prepared.refused}"
    if expected is not None:
        assert prepared.error == expected, f"trader: expected {expected}, got {prepared.error}"
    assert w3.eth.get_transaction_count(cast(Any, sender)) == nonce, "the trader sent something"


def error_data(signature: str, types: list[str], values: list[Any]) -> bytes:
    return function_signature_to_4byte_selector(signature) + encode(types, values)


def deploy_audit(w3: Web3, name: str, sender: str, args: bytes = b"") -> Contract:
    """Deploy one of contracts/audit (or any flasharb contract) and return it."""
    art = contract(name)
    receipt = send(w3, {"from": sender, "data": "0x" + (art.bytecode + args).hex()}, name)
    return contract_at(w3, str(receipt["contractAddress"]), art.abi)


def inner_reverts(w3: Web3, tx: dict[str, Any], to: str) -> list[str]:
    """Decoded reverts of every call frame into `to` while `tx` runs (callTracer, eth_call)."""
    resp = w3.provider.make_request(
        "debug_traceCall",  # type: ignore[arg-type]
        [
            {k: (hex(v) if isinstance(v, int) else v) for k, v in tx.items()},
            "latest",
            {"tracer": "callTracer"},
        ],
    )
    assert "result" in resp, resp
    found: list[str] = []

    def walk(frame: dict[str, Any]) -> None:
        if frame.get("to", "").lower() == to.lower() and "error" in frame:
            out = frame.get("output")
            found.append(describe(bytes.fromhex(out[2:])) if out else frame["error"])
        for child in frame.get("calls", []):
            walk(child)

    walk(resp["result"])
    return found


def callees(w3: Web3, tx: dict[str, Any]) -> set[str]:
    """Every address a call frame of `tx` enters (callTracer, eth_call at the head), lower case."""
    resp = w3.provider.make_request(
        "debug_traceCall",  # type: ignore[arg-type]
        [
            {k: (hex(v) if isinstance(v, int) else v) for k, v in tx.items()},
            "latest",
            {"tracer": "callTracer"},
        ],
    )
    assert "result" in resp, resp
    found: set[str] = set()

    def walk(frame: dict[str, Any]) -> None:
        found.add(str(frame.get("to", "")).lower())
        for child in frame.get("calls", []):
            walk(child)

    walk(resp["result"])
    return found
