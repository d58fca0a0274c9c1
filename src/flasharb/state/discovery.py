"""Pool discovery from the chain: factories and the Balancer Vault, never a hand list.

- Uniswap-V2-style venues: `allPairs` of each factory at the discovery block (one call per
  `pairs_per_call` pairs); later pairs from the factories' `PairCreated` logs (`add_created`).
- Uniswap V3: the factory's `PoolCreated` logs (tokens, fee and tick spacing are in the event).
- Balancer V2: the Vault's `PoolRegistered` logs, then `getPoolTokens` and a probe of the
  weighted-pool views; a pool whose `getNormalizedWeights` fails is not a weighted pool and is
  skipped with the reason (its math is not in flasharb.amm).

Log queries run from `Venues.from_block` (0 on the replica; on a fork of mainnet, a block before
the deployments, e.g. 10_000_835 for Uniswap V2) in ranges of `Venues.log_chunk` blocks.
Token decimals are read for every token in one batched call per 500 tokens.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector as selector
from web3 import Web3

from flasharb.amm.uniswap_v2 import DEFAULT_FEE_PIPS, checksum_address
from flasharb.chain.addresses import (
    BALANCER_VAULT,
    BALANCER_WEIGHTED_POOL_V3_FACTORY,
    UNISWAP_V3_FACTORY,
    V2_FACTORIES,
)
from flasharb.kinds import HopKind
from flasharb.state._rpc import RawLog, block_param, call_reader, get_logs, request, resolve_block
from flasharb.state.events import PAIR_CREATED, POOL_CREATED, POOL_REGISTERED
from flasharb.state.registry import BALANCER, UNISWAP_V3, PoolInfo, PoolRegistry

__all__ = ["Venues", "add_created", "creation_sources", "discover"]

READER = "PoolDiscoveryReader"
FAILED = 2**256 - 1  # the reader's "this call failed"
_V2_PAIRS = selector("v2Pairs(address,uint256,uint256)")
_DECIMALS = selector("decimalsOf(address[])")
_BALANCER = selector("balancerPools(bytes32[],address[])")
_FACTORY_OF = selector("factoryOf(address[],address[])")
# Weighted-pool factories whose pools run weighted-pool-v3's math (the rest: the 20210418 pool's)
_WEIGHTED_V3_FACTORIES = (BALANCER_WEIGHTED_POOL_V3_FACTORY,)
_DECIMALS_PER_CALL = 500
_BALANCER_PER_CALL = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class Venues:
    """Where to look for pools. The Balancer Vault is the mainnet one the readers know."""

    v2_factories: Mapping[str, str] = field(default_factory=lambda: dict(V2_FACTORIES))
    v2_fee_pips: Mapping[str, int] = field(
        default_factory=lambda: {"uniswap_v2": 3000, "sushiswap": 3000}  # 0.30% on both
    )
    v3_factory: str | None = UNISWAP_V3_FACTORY  # None: no Uniswap V3
    balancer: bool = True  # Balancer V2 weighted pools through the Vault
    from_block: int = 0  # first block scanned for creation logs
    log_chunk: int = 10_000  # blocks per eth_getLogs (real RPCs cap the range)
    pairs_per_call: int = 1_000  # allPairs entries per eth_call


def creation_sources(venues: Venues) -> dict[str, str]:
    """Contracts whose creation events count: address -> venue."""
    out = {checksum_address(f): venue for venue, f in venues.v2_factories.items()}
    if venues.v3_factory:
        out[checksum_address(venues.v3_factory)] = UNISWAP_V3
    if venues.balancer:
        out[BALANCER_VAULT] = BALANCER
    return out


def discover(
    w3: Web3, *, block: int | str | None = None, venues: Venues | None = None
) -> PoolRegistry:
    """Every usable pool of `venues` at `block` (default: the head)."""
    v = venues or Venues()
    number = resolve_block(w3, block)
    registry = PoolRegistry(number)
    _discover_v2(w3, registry, v, number)
    topics = [t for t, on in ((POOL_CREATED, v.v3_factory), (POOL_REGISTERED, v.balancer)) if on]
    if topics:
        sources = [a for a, venue in creation_sources(v).items() if venue in (UNISWAP_V3, BALANCER)]
        logs = get_logs(
            w3,
            from_block=v.from_block,
            to_block=number,
            topics=topics,
            address=sources,
            chunk=v.log_chunk,
        )
        add_created(w3, registry, logs, v, number)
    return registry


def _has_code(w3: Web3, address: str, block: int) -> bool:
    code = request(w3, "eth_getCode", [address, block_param(block)], f"code of {address}")
    return len(code) > 2


def _discover_v2(w3: Web3, registry: PoolRegistry, v: Venues, block: int) -> None:
    found: list[tuple[str, str, str, str, str]] = []  # venue, factory, pair, token0, token1
    for venue, factory in v.v2_factories.items():
        if not _has_code(w3, factory, block):
            registry.absent[venue] = f"factory {factory} has no code at block {block}"
            continue
        start, total = 0, 1
        while start < total:
            end = start + v.pairs_per_call
            data = _V2_PAIRS + encode(["address", "uint256", "uint256"], [factory, start, end])
            raw = call_reader(w3, READER, data, block)
            total, pairs, t0s, t1s = decode(["uint256", "address[]", "address[]", "address[]"], raw)
            found.extend((venue, factory, *row) for row in zip(pairs, t0s, t1s, strict=True))
            start = end
    _add_pairs(w3, registry, v, found, block)


def _add_pairs(
    w3: Web3,
    registry: PoolRegistry,
    v: Venues,
    found: Sequence[tuple[str, str, str, str, str]],
    block: int,
) -> list[str]:
    bad = "0x" + "ff" * 20  # the reader's FAILED, as an address
    fetch_decimals(w3, registry, [t for row in found for t in row[3:] if t.lower() != bad], block)
    added = []
    for venue, factory, pair, t0, t1 in found:
        address = checksum_address(pair)
        if bad in (t0.lower(), t1.lower()):
            registry.skip(address, f"{venue} pair {address}: token0() or token1() failed")
            continue
        info = _info_or_skip(
            registry,
            address=address,
            venue=venue,
            kind=HopKind.UNISWAP_V2,
            tokens=(checksum_address(t0), checksum_address(t1)),
            fee=v.v2_fee_pips.get(venue, DEFAULT_FEE_PIPS),
            source=checksum_address(factory),
        )
        if info is not None and registry.add(info):
            added.append(address)
    return added


def _info_or_skip(
    registry: PoolRegistry,
    *,
    address: str,
    venue: str,
    kind: HopKind,
    tokens: tuple[str, ...],
    fee: int,
    source: str,
    tick_spacing: int = 0,
    pool_id: bytes = b"",
    version: int = 1,
) -> PoolInfo | None:
    """A PoolInfo with the tokens' decimals, or None (and the pool skipped) if one is unknown."""
    decimals = [registry.decimals.get(t) for t in tokens]
    for token, d in zip(tokens, decimals, strict=True):
        if d is None:
            registry.skip(address, f"pool {address}: token {token} has no decimals()")
            return None
    return PoolInfo(
        address=address,
        venue=venue,
        kind=kind,
        tokens=tokens,
        decimals=tuple(d for d in decimals if d is not None),
        fee=fee,
        source=source,
        tick_spacing=tick_spacing,
        pool_id=pool_id,
        version=version,
    )


def fetch_decimals(w3: Web3, registry: PoolRegistry, tokens: Iterable[str], block: int) -> None:
    """Read decimals() of every token not yet in `registry.decimals`; None where it failed."""
    todo = sorted({checksum_address(t) for t in tokens} - set(registry.decimals))
    for start in range(0, len(todo), _DECIMALS_PER_CALL):
        chunk = todo[start : start + _DECIMALS_PER_CALL]
        raw = call_reader(w3, READER, _DECIMALS + encode(["address[]"], [chunk]), block)
        (values,) = decode(["uint256[]"], raw)
        for token, value in zip(chunk, values, strict=True):
            ok = value != FAILED and value <= 255  # decimals() is a uint8
            registry.decimals[token] = value if ok else None


def add_created(
    w3: Web3, registry: PoolRegistry, logs: Iterable[RawLog], venues: Venues, block: int
) -> list[str]:
    """Add the pools that creation `logs` announce (only logs from `venues`' factories and the
    Vault count: anyone can emit a look-alike event). Returns the new pools' addresses."""
    sources = creation_sources(venues)
    pairs: list[tuple[str, str, str, str, str]] = []
    v3: list[tuple[str, str, str, int, int]] = []  # pool, token0, token1, fee, tick spacing
    balancer: list[tuple[bytes, str]] = []  # pool id, pool
    for log in sorted(logs, key=lambda lg: (lg.block, lg.index)):
        venue = sources.get(log.address)
        if venue is None or not log.topics:
            continue
        t = log.topics
        if t[0] == PAIR_CREATED and venue in venues.v2_factories and len(t) == 3:
            pairs.append((venue, log.address, _addr(log.data[:32]), _addr(t[1]), _addr(t[2])))
        elif t[0] == POOL_CREATED and venue == UNISWAP_V3 and len(t) == 4:
            spacing = int.from_bytes(log.data[:32], "big", signed=True)
            v3.append(
                (_addr(log.data[32:64]), _addr(t[1]), _addr(t[2]), int.from_bytes(t[3]), spacing)
            )
        elif t[0] == POOL_REGISTERED and venue == BALANCER and len(t) == 3:
            balancer.append((t[1], _addr(t[2])))
    added = _add_pairs(w3, registry, venues, pairs, block)
    fetch_decimals(w3, registry, [t for row in v3 for t in row[1:3]], block)
    for pool, t0, t1, fee, spacing in v3:
        info = _info_or_skip(
            registry,
            address=pool,
            venue=UNISWAP_V3,
            kind=HopKind.UNISWAP_V3,
            tokens=(t0, t1),
            fee=fee,
            tick_spacing=spacing,
            source=checksum_address(str(venues.v3_factory)),
        )
        if info is not None and registry.add(info):
            added.append(pool)
    added += _add_balancer(w3, registry, balancer, block)
    return added


def _addr(word: bytes) -> str:
    return checksum_address("0x" + word[-20:].hex())


def _add_balancer(
    w3: Web3, registry: PoolRegistry, found: Sequence[tuple[bytes, str]], block: int
) -> list[str]:
    shapes: list[tuple[bytes, str, list[str], int, int, int]] = []
    for start in range(0, len(found), _BALANCER_PER_CALL):
        chunk = found[start : start + _BALANCER_PER_CALL]
        pools = [c[1] for c in chunk]
        data = _BALANCER + encode(["bytes32[]", "address[]"], [[c[0] for c in chunk], pools])
        raw = call_reader(w3, READER, data, block)
        tokens, counts, fees = decode(["address[][]", "uint256[]", "uint256[]"], raw)
        data = _FACTORY_OF + encode(["address[]", "address[]"], [pools, _WEIGHTED_V3_FACTORIES])
        (which,) = decode(["uint256[]"], call_reader(w3, READER, data, block))
        shapes.extend(
            (pid, pool, [checksum_address(t) for t in toks], n, fee, 3 if f != FAILED else 1)
            for (pid, pool), toks, n, fee, f in zip(chunk, tokens, counts, fees, which, strict=True)
        )
    fetch_decimals(w3, registry, [t for s in shapes for t in s[2]], block)
    added = []
    for pool_id, pool, tokens, n_weights, fee, version in shapes:
        if len(tokens) < 2:
            registry.skip(pool, f"Balancer pool {pool}: {len(tokens)} tokens registered")
        elif n_weights == FAILED or fee == FAILED:
            registry.skip(
                pool,
                f"Balancer pool {pool}: getNormalizedWeights() or getSwapFeePercentage() "
                "failed; not a weighted pool (no math for it)",
            )
        elif n_weights != len(tokens):
            registry.skip(
                pool, f"Balancer pool {pool}: {n_weights} weights for {len(tokens)} tokens"
            )
        else:
            info = _info_or_skip(
                registry,
                address=pool,
                venue=BALANCER,
                kind=HopKind.BALANCER,
                tokens=tuple(tokens),
                fee=fee,
                pool_id=pool_id,
                source=BALANCER_VAULT,
                version=version,
            )
            if info is not None and registry.add(info):
                added.append(pool)
    return added
