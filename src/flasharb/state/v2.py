"""Uniswap-V2-style pools only, over discovery and the batched reader
(`flasharb.state.discovery`, `flasharb.state.reader`): for the V2 parity and fork-mode tests.
The search reads every venue itself (`flasharb.search.scan`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from web3 import Web3

from flasharb.amm.uniswap_v2 import V2PairState
from flasharb.chain.addresses import V2_FACTORIES
from flasharb.errors import FlasharbRuntimeError
from flasharb.kinds import HopKind
from flasharb.state._rpc import resolve_block
from flasharb.state.discovery import discover
from flasharb.state.reader import ReadResult, read_states
from flasharb.state.registry import PoolInfo
from flasharb.state.venue import Venues

__all__ = ["by_address", "discover_pairs", "pool_summary", "refresh_reserves"]


def discover_pairs(
    w3: Web3, venues: Sequence[str] = tuple(V2_FACTORIES), block: int | str = "latest"
) -> list[V2PairState]:
    """Every pair of the V2-style `venues` (names: uniswap_v2, sushiswap), with tokens and
    reserves, in venue then allPairs order. A venue whose factory has no code on this chain is
    left out."""
    number = resolve_block(w3, block)
    only = Venues().only(*venues)
    pools = discover(w3, block=number, venues=only).of_kind(HopKind.UNISWAP_V2)
    return _pairs(read_states(w3, pools, block=number), pools)


def refresh_reserves(
    w3: Web3, pools: Sequence[V2PairState], block: int | str = "latest"
) -> list[V2PairState]:
    """The same pools with reserves read at `block`, in as few eth_calls as the gas allows."""
    infos = [
        PoolInfo(
            address=p.address,
            venue=p.venue,
            kind=HopKind.UNISWAP_V2,
            tokens=(p.token0, p.token1),
            decimals=(0, 0),  # not part of a V2 read; V2PairState has none
            fee=p.fee_pips,
            source="",
        )
        for p in pools
    ]
    return _pairs(read_states(w3, infos, block=block), infos)


def _pairs(result: ReadResult, pools: Sequence[PoolInfo]) -> list[V2PairState]:
    if result.failed:
        address, reason = next(iter(result.failed.items()))
        raise FlasharbRuntimeError(f"batched pool read failed for {address}: {reason}")
    out = []
    for p in pools:
        state = result.states[p.uid]
        assert isinstance(state, V2PairState)  # a V2 request decodes to a V2 state
        out.append(state)
    return out


def by_address(pools: Iterable[V2PairState]) -> dict[str, V2PairState]:
    return {p.address: p for p in pools}


def pool_summary(p: V2PairState) -> dict[str, Any]:
    return {
        "pool": p.address,
        "venue": p.venue,
        "token0": p.token0,
        "token1": p.token1,
        "reserve0": str(p.reserve0),
        "reserve1": str(p.reserve1),
    }
