"""Put a contract at a fixed address with its constructor's effects, as Foundry's deployCodeTo does.

The contract is deployed at a scratch address inside an `evm_snapshot`, its post-state (code and
storage of every account the constructor created) is read with the prestate tracer, the
snapshot is reverted, and the state is written at the target address. Scratch addresses that
the constructor baked into code or storage (immutables such as `address(this)`, or a child it
created with CREATE) are rewritten to their targets, so the result is what a deployment at the
target would have produced.
"""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3

from flasharb.chain.anvil import rpc_request, wait_receipt
from flasharb.errors import FlasharbRuntimeError


def create_address(sender: str, nonce: int) -> str:
    """CREATE address: keccak256(rlp([sender, nonce]))[12:]."""
    import rlp  # ships with py-evm / eth-rlp

    raw = rlp.encode([bytes.fromhex(sender[2:]), nonce])
    return to_checksum_address(Web3.keccak(raw)[12:])


def create2_address(deployer: str, salt: bytes, init_code_hash: bytes) -> str:
    raw = b"\xff" + bytes.fromhex(deployer[2:]) + salt + init_code_hash
    return to_checksum_address(Web3.keccak(raw)[12:])


def _patch(hexstr: str, renames: dict[str, str]) -> str:
    out = hexstr.lower()
    for old, new in renames.items():
        out = out.replace(old[2:].lower(), new[2:].lower())
    return out


def etch(
    url: str,
    sender: str,
    creation_code: bytes,
    target: str,
    children: dict[int, str] | None = None,
    gas: int = 15_000_000,
) -> dict[str, str]:
    """Deploy `creation_code` (with constructor args appended) so that it lives at `target`.

    `children` maps a CREATE nonce of the new contract (1, 2, ...) to the address the child it
    creates must land at. Returns {scratch address: target address} for every account written.
    """
    snap = rpc_request(url, "evm_snapshot")
    try:
        tx = {"from": sender, "data": "0x" + creation_code.hex(), "gas": hex(gas)}
        tx_hash = rpc_request(url, "eth_sendTransaction", [tx])
        receipt = wait_receipt(url, tx_hash)
        if int(receipt["status"], 16) != 1:
            raise FlasharbRuntimeError(f"constructor for {target} reverted in the replica build")
        scratch = to_checksum_address(receipt["contractAddress"])
        trace = rpc_request(
            url,
            "debug_traceTransaction",
            [tx_hash, {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}],
        )
    finally:
        if not rpc_request(url, "evm_revert", [snap]):
            raise FlasharbRuntimeError("evm_revert failed while etching; the build is not clean")

    renames: dict[str, str] = {scratch: target}
    for nonce, child_target in (children or {}).items():
        renames[create_address(scratch, nonce)] = child_target
    post: dict[str, Any] = {to_checksum_address(k): v for k, v in trace["post"].items()}
    for old, new in renames.items():
        acct = post.get(old)
        if acct is None or "code" not in acct:
            raise FlasharbRuntimeError(f"expected a contract at scratch address {old} for {new}")
        rpc_request(url, "anvil_setCode", [new, _patch(acct["code"], renames)])
        rpc_request(url, "anvil_setNonce", [new, hex(int(acct.get("nonce", 1)))])
        for slot, value in sorted(acct.get("storage", {}).items()):
            rpc_request(
                url,
                "anvil_setStorageAt",
                [new, slot, "0x" + _patch(value, renames)[2:].rjust(64, "0")],
            )
    return renames
