"""Incremental sync: keep every pool's state current by re-reading only the pools that logs say
changed, in one batched call.

`StateSync.start` discovers the pools and reads them all at a block. Each `sync()` then fetches
the logs of the new blocks in one eth_getLogs per `Venues.log_chunk` blocks (every topic at
once, no address filter, so new pools are caught too), maps them to pools:

- V2-style pairs: `Sync` (follows every swap, mint, burn and sync);
- Uniswap V3 pools: `Initialize`, `Swap`, `Mint`, `Burn`;
- Balancer weighted pools: the Vault's `Swap`, `PoolBalanceChanged` and `PoolBalanceManaged`
  (topic 1 is the pool id) and the pool's own `SwapFeePercentageChanged`;
- new pools: `PairCreated`, `PoolCreated`, `PoolRegistered` from the known factories / Vault,

and re-reads those pools at the new head. A log is only believed from a registered pool, factory
or the Vault. The result names the changed pools, so the search re-evaluates only their cycles.
Reorgs are not handled: on an Anvil fork there are none (a real chain would need the last few
blocks re-read on a parent-hash mismatch).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from web3 import Web3

from flasharb.amm.balancer_weighted import WeightedPoolState
from flasharb.amm.uniswap_v3 import V3PoolState
from flasharb.chain.addresses import BALANCER_VAULT
from flasharb.errors import FlasharbRuntimeError
from flasharb.kinds import HopKind
from flasharb.state._rpc import (
    RawLog,
    batch,
    block_param,
    get_logs,
    head,
    log_filter,
    raw_log,
    resolve_block,
)
from flasharb.state.discovery import Venues, add_created, discover
from flasharb.state.events import (
    BALANCER_STATE_TOPICS,
    CREATION_TOPICS,
    FLASH_FEE_CHANGED,
    STATE_TOPICS,
    SWAP_FEE_CHANGED,
    V2_SYNC,
    V3_STATE_TOPICS,
)
from flasharb.state.reader import AnyPoolState, ReadConfig, read_states
from flasharb.state.registry import PoolInfo, PoolRegistry

__all__ = ["StateSync", "SyncResult", "changed_pools"]

_POOL_TOPICS = {V2_SYNC: HopKind.UNISWAP_V2, SWAP_FEE_CHANGED: HopKind.BALANCER} | {
    t: HopKind.UNISWAP_V3 for t in V3_STATE_TOPICS
}
_VAULT_TOPICS = frozenset(BALANCER_STATE_TOPICS)


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncResult:
    """What one `sync()` did."""

    block: int  # the states are now at this block
    changed: frozenset[str]  # pools whose state was re-read: touched by a log, or new
    added: frozenset[str]  # pools discovered in these blocks (also in `changed`)
    failed: Mapping[str, str]  # pools whose re-read failed (no state now), with the reason
    logs: int  # logs fetched
    calls: int  # eth_calls made for the re-read and for new pools
    emitters: frozenset[str] = frozenset()  # every address that emitted a fetched log
    header: Mapping[str, Any] | None = field(default=None, repr=False)  # `block`'s header


def changed_pools(registry: PoolRegistry, logs: Iterable[RawLog]) -> set[str]:
    """Registered pools whose swap state the `logs` say moved."""
    out: set[str] = set()
    for log in logs:
        if not log.topics:
            continue
        t0 = log.topics[0]
        kind = _POOL_TOPICS.get(t0)
        if kind is not None:
            info = registry.get(log.address)
            if info is not None and info.kind is kind:
                out.add(info.address)
        elif t0 in _VAULT_TOPICS and log.address == BALANCER_VAULT and len(log.topics) > 1:
            info = registry.by_pool_id(log.topics[1])
            if info is not None:
                out.add(info.address)
    return out


class StateSync:
    """The registry and every pool's state at `block`, moved forward by `sync()`."""

    def __init__(
        self,
        w3: Web3,
        registry: PoolRegistry,
        states: dict[str, AnyPoolState],
        *,
        block: int,
        venues: Venues | None = None,
        read_config: ReadConfig | None = None,
        failed: Mapping[str, str] | None = None,
    ) -> None:
        self.w3 = w3
        self.registry = registry
        self.states = states
        self.block = block
        self.venues = venues or Venues()
        self.read_config = read_config or ReadConfig()
        self.failed: dict[str, str] = dict(failed or {})  # pools with no state, and why

    @classmethod
    def start(
        cls,
        w3: Web3,
        *,
        block: int | str | None = None,
        venues: Venues | None = None,
        read_config: ReadConfig | None = None,
    ) -> StateSync:
        """Discover every pool and read them all at `block` (default: the head)."""
        v = venues or Venues()
        number = resolve_block(w3, block)
        registry = discover(w3, block=number, venues=v)
        result = read_states(w3, list(registry), block=number, config=read_config)
        return cls(
            w3,
            registry,
            result.states,
            block=number,
            venues=v,
            read_config=read_config,
            failed=result.failed,
        )

    def tick_counts(self) -> dict[str, int]:
        return {a: len(s.ticks) for a, s in self.states.items() if isinstance(s, V3PoolState)}

    def sync(self, to_block: int | None = None, *, header: bool = False) -> SyncResult:
        """Move every state to `to_block` (default: the head): fetch the logs since `block`,
        add new pools, re-read the pools the logs touched. With `header`, the target block's
        header comes back too, fetched in the same round trip as the logs."""
        target = head(self.w3) if to_block is None else to_block
        if target <= self.block:
            return SyncResult(
                block=self.block,
                changed=frozenset(),
                added=frozenset(),
                failed={},
                logs=0,
                calls=0,
            )
        topics = (*STATE_TOPICS, *CREATION_TOPICS, FLASH_FEE_CHANGED)
        block_header: Mapping[str, Any] | None = None
        logs: list[RawLog] | None = None
        if target - self.block <= self.venues.log_chunk:  # one range: logs + header at once
            calls: list[tuple[str, list[Any]]] = [
                ("eth_getLogs", [log_filter(topics, self.block + 1, target)])
            ]
            if header:
                calls.append(("eth_getBlockByNumber", [block_param(target), False]))
            try:
                replies = batch(self.w3, calls, f"logs of blocks {self.block + 1}-{target}")
            except FlasharbRuntimeError:
                pass  # a range the node refuses: the chunked, splitting path below
            else:
                logs = [raw_log(log) for log in replies[0]]
                block_header = replies[1] if header else None
        if logs is None:
            logs = get_logs(
                self.w3,
                from_block=self.block + 1,
                to_block=target,
                topics=topics,
                chunk=self.venues.log_chunk,
            )
            if header:
                block_header = batch(
                    self.w3,
                    [("eth_getBlockByNumber", [block_param(target), False])],
                    f"header of block {target}",
                )[0]
        creations = [lg for lg in logs if lg.topics and lg.topics[0] in CREATION_TOPICS]
        added = (
            add_created(self.w3, self.registry, creations, self.venues, target) if creations else []
        )
        self.registry.block = target
        changed = changed_pools(self.registry, logs) | set(added)
        result = read_states(
            self.w3,
            [self.registry[a] for a in sorted(changed)],
            block=target,
            config=self.read_config,
            tick_counts=self.tick_counts(),
        )
        for address, state in result.states.items():
            self.states[address] = state
            self.failed.pop(address, None)
            self._refresh_fee(self.registry[address], state)
        for address, reason in result.failed.items():
            self.states.pop(address, None)  # a stale state is worse than none
            self.failed[address] = reason
        self.block = target
        return SyncResult(
            block=target,
            changed=frozenset(changed),
            added=frozenset(added),
            failed=dict(result.failed),
            logs=len(logs),
            calls=result.calls,
            emitters=frozenset(log.address for log in logs),
            header=block_header,
        )

    def _refresh_fee(self, info: PoolInfo, state: AnyPoolState) -> None:
        """A weighted pool's owner may change its fee: keep the registry's copy current."""
        if isinstance(state, WeightedPoolState) and state.swap_fee != info.fee:
            self.registry.add(replace(info, fee=state.swap_fee))
