"""One pool by its uid, without scanning logs: what `flasharb quote` needs on any fork.

Each venue is asked whether the pool is one of its own (`identify`: a V2-style pair and a V3
pool name their `factory()`, a Balancer pool its `getPoolId()`, a V4 pool's id its PoolManager
`Initialize` log), and the answer is believed only if the factory, the Vault or the
PoolManager confirms it (`getPair`, `getPool`, `Vault.getPool`): anyone can deploy a contract
that claims a factory. The confirmed pool then goes through the same registry code as
discovery, as if its creation log had been seen.
"""

from __future__ import annotations

from web3 import Web3

from flasharb.errors import FlasharbValueError
from flasharb.state._rpc import block_param, request, resolve_block
from flasharb.state.discovery import add_created
from flasharb.state.registry import PoolInfo, PoolRegistry, normal_uid
from flasharb.state.venue import Venues

__all__ = ["identify"]


def identify(
    w3: Web3, address: str, *, block: int | str | None = None, venues: Venues | None = None
) -> PoolInfo:
    """What pool `address` (or a V4 pool's 0x-hex id) is, confirmed by its venue's factory,
    the Vault or the PoolManager.

    Raises:
        FlasharbValueError: no code there, not a pool of a known venue, or a pool flasharb has
            no math for (the message says which and why).
    """
    pool = normal_uid(address)
    v = venues if venues is not None else Venues()
    number = resolve_block(w3, block)
    if len(pool) == 42:
        code = request(w3, "eth_getCode", [pool, block_param(number)], f"code of {pool}")
        if str(code) in ("0x", ""):
            raise FlasharbValueError(f"pool {pool}: no contract at this address on this chain")
    scan = v.scan(w3, number)
    log = None
    for venue in v:
        identify_log = getattr(venue, "identify", None)
        log = identify_log(scan, pool) if identify_log is not None else None
        if log is not None:
            break
    if log is None:
        raise FlasharbValueError(
            f"pool {pool} is not a pool of a known factory, the Balancer Vault or the V4 "
            f"PoolManager (venues {', '.join(v.names)}); check the address"
        )
    registry = PoolRegistry(number)
    add_created(w3, registry, [log], v, number)
    info = registry.get(pool)
    if info is None:
        reason = registry.skipped.get(pool, "no math for this pool")
        raise FlasharbValueError(f"pool {pool} cannot be quoted: {reason}")
    return info
