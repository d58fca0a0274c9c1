"""Pool discovery from the chain: factories, the Balancer Vault, the V4 PoolManager, never a hand
list. The driver knows no venue; each venue of `Venues` says where its pools come from
(`flasharb.state.venue.PoolSource`):

1. `enumerate`: pools that exist without a log in the scanned range (a V2 factory's `allPairs`
   at the discovery block);
2. one log scan from `Venues.from_block` to the block, in ranges of `Venues.log_chunk` blocks,
   of every venue's creation topics from every venue's creation contracts; each log goes to
   the venues that listen to its contract and topic (`created`), which may probe the chain and
   refuse a pool with a reason (`PoolRegistry.skipped`);
3. the decimals of every new token, in one batched call per 500 tokens, for all venues at once;
   a pool with a token that has no `decimals()` is skipped. Native ETH (a V4 currency,
   address(0)) has 18 and no contract.

`add_created` is step 2 and 3 for the creation logs a sync meets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector as selector
from web3 import Web3

from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.state._rpc import RawLog, call_reader, get_logs, resolve_block
from flasharb.state.registry import PoolInfo, PoolRegistry
from flasharb.state.venue import PoolSource, Scan, Venues

__all__ = [
    "NATIVE",
    "READER",
    "Venues",
    "add_created",
    "creation_sources",
    "discover",
    "fetch_decimals",
    "multicall",
]

READER = "PoolDiscoveryReader"
FAILED = 2**256 - 1  # the reader's "this call failed"
NATIVE = "0x0000000000000000000000000000000000000000"  # native ether, where a venue names it
_DECIMALS = selector("decimalsOf(address[])")
_CALLS = selector("calls(address[],bytes[])")
_DECIMALS_PER_CALL = 500
_CALLS_PER_CALL = 400


def creation_sources(venues: Venues) -> dict[str, str]:
    """Contracts whose creation events count: address -> the first venue listening to it."""
    return {address: found[0][0].name for address, found in venues.creation_sources().items()}


def discover(
    w3: Web3, *, block: int | str | None = None, venues: Venues | None = None
) -> PoolRegistry:
    """Every usable pool of `venues` (default: every built-in venue) at `block` (default: the
    head)."""
    v = venues if venues is not None else Venues()
    number = resolve_block(w3, block)
    registry = PoolRegistry(number)
    scan = v.scan(w3, number)
    found: list[tuple[PoolSource, PoolInfo]] = []
    for venue in v:
        found.extend((venue, info) for info in venue.enumerate(scan, registry))
    topics = v.creation_topics()
    if topics:
        logs = get_logs(
            w3,
            from_block=v.from_block,
            to_block=number,
            topics=topics,
            address=sorted(v.creation_sources()),
            chunk=v.log_chunk,
        )
        found.extend(_announced(scan, registry, logs, v))
    _add(scan, registry, found)
    return registry


def add_created(
    w3: Web3, registry: PoolRegistry, logs: Iterable[RawLog], venues: Venues, block: int
) -> list[str]:
    """Add the pools that creation `logs` announce (only logs from a venue's creation
    contracts count: anyone can emit a look-alike event). Returns the new pools' uids."""
    scan = venues.scan(w3, block)
    return _add(scan, registry, _announced(scan, registry, logs, venues))


def _announced(
    scan: Scan, registry: PoolRegistry, logs: Iterable[RawLog], venues: Venues
) -> list[tuple[PoolSource, PoolInfo]]:
    sources = venues.creation_sources()
    per_venue: dict[str, list[RawLog]] = {}
    for log in sorted(logs, key=lambda lg: (lg.block, lg.index)):
        if not log.topics:
            continue
        for venue, topics in sources.get(log.address, ()):
            if log.topics[0] in topics:
                per_venue.setdefault(venue.name, []).append(log)
    out: list[tuple[PoolSource, PoolInfo]] = []
    for venue in venues:
        mine = per_venue.get(venue.name)
        if mine:
            out.extend((venue, info) for info in venue.created(scan, registry, mine))
    return out


def _add(
    scan: Scan, registry: PoolRegistry, found: Sequence[tuple[PoolSource, PoolInfo]]
) -> list[str]:
    fetch_decimals(scan.w3, registry, [t for _, info in found for t in info.tokens], scan.block)
    added = []
    for _venue, info in found:
        decimals = [registry.decimals.get(t) for t in info.tokens]
        missing = [t for t, d in zip(info.tokens, decimals, strict=True) if d is None]
        if missing:
            registry.skip(info.uid, f"pool {info.uid}: token {missing[0]} has no decimals()")
            continue
        full = replace(info, decimals=tuple(d for d in decimals if d is not None))
        if registry.add(full):
            added.append(full.uid)
    return added


def fetch_decimals(w3: Web3, registry: PoolRegistry, tokens: Iterable[str], block: int) -> None:
    """Read decimals() of every token not yet in `registry.decimals`; None where it failed
    (native ETH: 18, no call)."""
    todo = sorted({checksum_address(t) for t in tokens} - set(registry.decimals))
    if NATIVE in todo:
        registry.decimals[NATIVE] = 18
        todo.remove(NATIVE)
    for start in range(0, len(todo), _DECIMALS_PER_CALL):
        chunk = todo[start : start + _DECIMALS_PER_CALL]
        raw = call_reader(w3, READER, _DECIMALS + encode(["address[]"], [chunk]), block)
        (values,) = decode(["uint256[]"], raw)
        for token, value in zip(chunk, values, strict=True):
            ok = value != FAILED and value <= 255  # decimals() is a uint8
            registry.decimals[token] = value if ok else None


def multicall(w3: Web3, calls: Sequence[tuple[str, bytes]], block: int) -> list[bytes]:
    """Each (contract, calldata) STATICCALLed at `block`, in as few eth_calls as fit: each
    call's return data, empty where it reverted or the contract has no code."""
    out: list[bytes] = []
    for start in range(0, len(calls), _CALLS_PER_CALL):
        chunk = calls[start : start + _CALLS_PER_CALL]
        data = _CALLS + encode(
            ["address[]", "bytes[]"], [[c[0] for c in chunk], [c[1] for c in chunk]]
        )
        (results,) = decode(["bytes[]"], call_reader(w3, READER, data, block))
        out.extend(bytes(r) for r in results)
    return out
