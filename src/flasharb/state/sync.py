"""Incremental sync: keep every pool's state current by re-reading only the pools that logs say
changed, in one batched call.

`StateSync.start` discovers the pools and reads them all at a block. Each `sync()` then fetches
the logs of the new blocks in one eth_getLogs per `Venues.log_chunk` blocks (every topic at
once, no address filter, so new pools are caught too) and maps them to pools through each
venue's `watches` (`flasharb.state.venue.Watch`): a log from the pool itself, or from a
singleton (the Balancer Vault, the V4 PoolManager) naming the pool's id in its second topic. A
log is only believed from a registered pool or the venue's singleton, and a creation log only
from a venue's creation contracts (`discovery.add_created`). A watched log may also change
what the pool is (`on_log`: an amplification schedule); pools whose quotes move with time alone
(`volatile`) are re-read at every block. The touched pools and the new ones are re-read at the
new head, and the result names them, so the search re-evaluates only their cycles. Reorgs are
not handled: on an Anvil fork there are none (a real chain would need the last few blocks
re-read on a parent-hash mismatch).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from web3 import Web3

from flasharb.errors import FlasharbRuntimeError
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
from flasharb.state.discovery import add_created, discover
from flasharb.state.reader import AnyPoolState, ReadConfig, read_states
from flasharb.state.registry import PoolInfo, PoolRegistry
from flasharb.state.venue import PoolSource, Venues

__all__ = ["StateSync", "SyncResult", "Watches", "changed_pools"]


class Watches:
    """The venues' watched logs as lookups: (topic) -> venues whose pools emit it themselves,
    (emitter, topic) -> venues whose singleton emits it with the pool's id in topic 1."""

    def __init__(self, venues: Venues) -> None:
        self.own: dict[bytes, set[str]] = {}
        self.hosted: dict[tuple[str, bytes], set[str]] = {}
        self.venues = {v.name: v for v in venues}
        for v in venues:
            for w in v.watches():
                if w.emitter is None:
                    self.own.setdefault(w.topic, set()).add(v.name)
                else:
                    self.hosted.setdefault((w.emitter, w.topic), set()).add(v.name)

    @property
    def topics(self) -> tuple[bytes, ...]:
        seen = dict.fromkeys(self.own) | dict.fromkeys(t for _, t in self.hosted)
        return tuple(seen)

    def pool_of(self, registry: PoolRegistry, log: RawLog) -> PoolInfo | None:
        """The registered pool whose state `log` moves, if a venue watches it."""
        if not log.topics:
            return None
        t0 = log.topics[0]
        names = self.own.get(t0)
        if names:
            info = registry.get(log.address)
            if info is not None and info.venue in names:
                return info
        names = self.hosted.get((log.address, t0))
        if names and len(log.topics) > 1:
            info = registry.by_pool_id(log.topics[1])
            if info is not None and info.venue in names:
                return info
        return None


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


def changed_pools(
    registry: PoolRegistry, logs: Iterable[RawLog], venues: Venues | None = None
) -> set[str]:
    """Registered pools whose swap state the `logs` say moved (uids)."""
    watches = Watches(venues if venues is not None else Venues())
    out: set[str] = set()
    for log in logs:
        info = watches.pool_of(registry, log)
        if info is not None:
            out.add(info.uid)
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
        extra_topics: Sequence[bytes] = (),
    ) -> None:
        self.w3 = w3
        self.registry = registry
        self.states = states
        self.block = block
        self.venues = venues if venues is not None else Venues()
        self.read_config = read_config or ReadConfig()
        self.failed: dict[str, str] = dict(failed or {})  # pools with no state, and why
        self.watches = Watches(self.venues)
        # logs fetched with the pools' own, for a caller that follows more than pools (the
        # lenders: a flash fee change); they show in SyncResult.emitters
        self.extra_topics = tuple(extra_topics)

    @classmethod
    def start(
        cls,
        w3: Web3,
        *,
        block: int | str | None = None,
        venues: Venues | None = None,
        read_config: ReadConfig | None = None,
        extra_topics: Sequence[bytes] = (),
    ) -> StateSync:
        """Discover every pool and read them all at `block` (default: the head)."""
        v = venues if venues is not None else Venues()
        number = resolve_block(w3, block)
        registry = discover(w3, block=number, venues=v)
        result = read_states(w3, list(registry), block=number, config=read_config, venues=v)
        return cls(
            w3,
            registry,
            result.states,
            block=number,
            venues=v,
            read_config=read_config,
            failed=result.failed,
            extra_topics=extra_topics,
        )

    def tick_counts(self) -> dict[str, int]:
        """uid -> initialized ticks in its state, for the pools that have ticks."""
        out: dict[str, int] = {}
        for uid, s in self.states.items():
            ticks = getattr(s, "ticks", None)
            if ticks is not None:
                out[uid] = len(ticks)
        return out

    def _venue(self, info: PoolInfo) -> PoolSource | None:
        return self.watches.venues.get(info.venue)

    def sync(self, to_block: int | None = None, *, header: bool = False) -> SyncResult:
        """Move every state to `to_block` (default: the head): fetch the logs since `block`,
        add new pools, re-read the pools the logs touched and the volatile ones. With `header`,
        the target block's header comes back too, fetched in the same round trip as the
        logs."""
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
        creation = self.venues.creation_topics()
        topics = tuple(dict.fromkeys((*self.watches.topics, *creation, *self.extra_topics)))
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
        created = set(creation)
        creations = [lg for lg in logs if lg.topics and lg.topics[0] in created]
        added = (
            add_created(self.w3, self.registry, creations, self.venues, target) if creations else []
        )
        self.registry.block = target
        changed = set(added)
        for log in sorted(logs, key=lambda lg: (lg.block, lg.index)):
            info = self.watches.pool_of(self.registry, log)
            if info is None:
                continue
            changed.add(info.uid)
            venue = self._venue(info)
            moved = venue.on_log(info, log) if venue is not None else None
            if moved is not None:
                self.registry.add(moved)
        volatile = set()
        for uid, state in self.states.items():
            info = self.registry.get(uid)
            venue = self._venue(info) if info is not None else None
            if uid not in changed and venue is not None and venue.volatile(state):
                volatile.add(uid)
        result = read_states(
            self.w3,
            [self.registry[a] for a in sorted(changed | volatile)],
            block=target,
            config=self.read_config,
            tick_counts=self.tick_counts(),
            venues=self.venues,
        )
        for uid, state in result.states.items():
            old = self.states.get(uid)
            self.states[uid] = state
            if uid in volatile and old is not None:
                venue = self._venue(self.registry[uid])
                if venue is not None and not venue.moved(old, state):
                    continue  # re-read for time alone, and its quotes did not move
            changed.add(uid)
            self.failed.pop(uid, None)
            info = self.registry[uid]
            venue = self._venue(info)
            fresh = venue.refreshed(info, state) if venue is not None else None
            if fresh is not None:
                self.registry.add(fresh)  # e.g. a fee the pool's owner changed
        for uid, reason in result.failed.items():
            changed.add(uid)
            self.states.pop(uid, None)  # a stale state is worse than none
            self.failed[uid] = reason
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
