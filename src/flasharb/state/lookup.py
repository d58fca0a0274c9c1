"""One pool by address, without scanning logs: what `flasharb quote` needs on any fork.

The pool is asked what it is (a V2-style pair and a V3 pool name their `factory()`, a Balancer
pool its `getPoolId()`), and the answer is believed only if the factory or the Vault confirms
it (`getPair`, `getPool`, `Vault.getPool`): anyone can deploy a contract that claims a factory.
The confirmed pool then goes through the same registry code as discovery, as if its creation
log had been seen.
"""

from __future__ import annotations

from typing import Any

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3

from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.chain.addresses import BALANCER_VAULT
from flasharb.errors import FlasharbValueError
from flasharb.state._rpc import RawLog, block_param, request, resolve_block
from flasharb.state.discovery import Venues, add_created
from flasharb.state.events import PAIR_CREATED, POOL_CREATED, POOL_REGISTERED
from flasharb.state.registry import PoolInfo, PoolRegistry

__all__ = ["identify"]


def _call(w3: Web3, to: str, sig: str, block: int, types: list[str], args: list[Any]) -> bytes:
    """Raw eth_call; empty bytes when it reverts or `to` has no code (a yes/no question)."""
    data = function_signature_to_4byte_selector(sig) + (encode(types, args) if types else b"")
    try:
        out = request(
            w3, "eth_call", [{"to": to, "data": "0x" + data.hex()}, block_param(block)], sig
        )
    except Exception:  # noqa: BLE001 - a revert means "not this kind of pool"
        return b""
    return bytes.fromhex(str(out).removeprefix("0x"))


def _address(w3: Web3, to: str, sig: str, block: int) -> str | None:
    out = _call(w3, to, sig, block, [], [])
    return checksum_address("0x" + out[12:32].hex()) if len(out) >= 32 else None


def _uint(w3: Web3, to: str, sig: str, block: int) -> int | None:
    out = _call(w3, to, sig, block, [], [])
    return int.from_bytes(out[:32], "big", signed=True) if len(out) >= 32 else None


def _word(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


def _log(address: str, topics: tuple[bytes, ...], data: bytes, block: int) -> RawLog:
    return RawLog(address=address, topics=topics, data=data, block=block, index=0)


def _creation_log(w3: Web3, pool: str, block: int, venues: Venues) -> RawLog | None:
    """The creation log the pool's factory or the Vault would have emitted, once confirmed."""
    factory = _address(w3, pool, "factory()", block)
    if factory is not None:
        t0 = _address(w3, pool, "token0()", block)
        t1 = _address(w3, pool, "token1()", block)
        if t0 is None or t1 is None:
            return None
        v2 = {checksum_address(f) for f in venues.v2_factories.values()}
        if factory in v2:
            got = _call(w3, factory, "getPair(address,address)", block, ["address"] * 2, [t0, t1])
            if got[12:32] != bytes.fromhex(pool[2:]):
                return None
            data = _word(pool) + bytes(32)
            return _log(factory, (PAIR_CREATED, _word(t0), _word(t1)), data, block)
        if venues.v3_factory and factory == checksum_address(venues.v3_factory):
            fee, spacing = _uint(w3, pool, "fee()", block), _uint(w3, pool, "tickSpacing()", block)
            if fee is None or spacing is None:
                return None
            got = _call(
                w3,
                factory,
                "getPool(address,address,uint24)",
                block,
                ["address", "address", "uint24"],
                [t0, t1, fee],
            )
            if got[12:32] != bytes.fromhex(pool[2:]):
                return None
            topics = (POOL_CREATED, _word(t0), _word(t1), fee.to_bytes(32, "big"))
            data = spacing.to_bytes(32, "big", signed=True) + _word(pool)
            return _log(factory, topics, data, block)
        return None
    if not venues.balancer:
        return None
    raw = _call(w3, pool, "getPoolId()", block, [], [])
    if len(raw) < 32:
        return None
    pool_id = raw[:32]
    got = _call(w3, BALANCER_VAULT, "getPool(bytes32)", block, ["bytes32"], [pool_id])
    if len(got) < 64 or decode(["address", "uint8"], got[:64])[0].lower() != pool.lower():
        return None
    return _log(BALANCER_VAULT, (POOL_REGISTERED, pool_id, _word(pool)), bytes(32), block)


def identify(
    w3: Web3, address: str, *, block: int | str | None = None, venues: Venues | None = None
) -> PoolInfo:
    """What `address` is, confirmed by its factory or the Vault.

    Raises:
        FlasharbValueError: no code there, not a pool of a known factory or the Vault, or a pool
            flasharb has no math for (the message says which and why).
    """
    pool = checksum_address(address)
    v = venues or Venues()
    number = resolve_block(w3, block)
    code = request(w3, "eth_getCode", [pool, block_param(number)], f"code of {pool}")
    if str(code) in ("0x", ""):
        raise FlasharbValueError(f"pool {pool}: no contract at this address on this chain")
    log = _creation_log(w3, pool, number, v)
    if log is None:
        raise FlasharbValueError(
            f"pool {pool} is not a pool of a known factory (Uniswap V2, SushiSwap, Uniswap V3) "
            "or registered in the Balancer Vault; check the address"
        )
    registry = PoolRegistry(number)
    add_created(w3, registry, [log], v, number)
    info = registry.get(pool)
    if info is None:
        reason = registry.skipped.get(pool, "no math for this pool")
        raise FlasharbValueError(f"pool {pool} cannot be quoted: {reason}")
    return info
