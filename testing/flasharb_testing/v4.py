"""Uniswap V4 pools on a fork, for the execution tests and the gas bench: find a pool's key from
the PoolManager's Initialize logs, read its exact state with `extsload` (flasharb.amm.uniswap_v4
layout), build route hops through it, quote and size a hand-built route that mixes V4 hops
with the other venues, and move a V4 pool with a swap through the UniversalRouter.

The market does not know V4 pools yet (its V4 venue module is another branch's work): these
reads are test scaffolding, the chain-side twin of tests/test_v4_parity.py's reader. A V4
route's states are keyed by the pool's PoolId in hex (`Hop.pool` of a V4 hop); native ETH is
named by WETH in a route (`Hop.native`), which the pool's quote accepts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from web3 import Web3

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v3.tick_bitmap import word_bounds
from flasharb.amm.uniswap_v4 import NATIVE, PoolKey, V4PoolState
from flasharb.amm.uniswap_v4 import layout as L
from flasharb.chain import addresses as A
from flasharb.errors import FlasharbError, FlasharbValueError, IncompleteStateError
from flasharb.execute.plan import Plan, plan_route
from flasharb.kinds import HopKind
from flasharb.search.capital import FlashSource
from flasharb.search.cycles import Cycle, Hop
from flasharb.search.route import v4_pool_key, v4_zero_for_one
from flasharb.search.sizing import state_for
from flasharb.state.reader import read_states
from flasharb_testing import routes as R

__all__ = [
    "best_amount",
    "cycle",
    "hop",
    "key",
    "keys",
    "plan_at",
    "pool_id",
    "read",
    "sized_plan",
    "states",
]

_EXTSLOAD = function_signature_to_4byte_selector("extsload(bytes32[])")
_INITIALIZE = keccak(text="Initialize(bytes32,address,address,uint24,int24,address,uint160,int24)")
WINDOW = 8  # bitmap words read either side of the price; a swap that needs more reads them all
_KEYS: dict[str, list[PoolKey]] = {}


def pool_id(k: PoolKey) -> str:
    """The state key of a V4 pool: its PoolId in hex."""
    return "0x" + k.pool_id().hex()


def keys(w3: Web3) -> list[PoolKey]:
    """Every pool the PoolManager initialized (its Initialize logs), once per node."""
    endpoint = str(w3.provider.endpoint_uri)  # type: ignore[attr-defined]
    if endpoint not in _KEYS:
        logs = w3.eth.get_logs(
            {
                "address": A.UNISWAP_V4_POOL_MANAGER,
                "topics": [cast(Any, _INITIALIZE)],
                "fromBlock": 0,
                "toBlock": "latest",
            }
        )
        found = []
        for log in logs:
            fee, spacing, hooks, _, _ = decode(
                ["uint24", "int24", "address", "uint160", "int24"], bytes(log["data"])
            )
            found.append(
                PoolKey(
                    currency0=to_checksum_address(bytes(log["topics"][2])[12:]),
                    currency1=to_checksum_address(bytes(log["topics"][3])[12:]),
                    fee=fee,
                    tick_spacing=spacing,
                    hooks=to_checksum_address(hooks),
                )
            )
        _KEYS[endpoint] = found
    return _KEYS[endpoint]


def key(w3: Web3, a: str, b: str, *, fee: int, tick_spacing: int | None = None) -> PoolKey:
    """The hookless V4 pool of currencies `a` and `b` (NATIVE for ETH) at `fee`."""
    want = {to_checksum_address(a), to_checksum_address(b)}
    found = [
        k
        for k in keys(w3)
        if {k.currency0, k.currency1} == want
        and k.fee == fee
        and k.hooks == NATIVE
        and (tick_spacing is None or k.tick_spacing == tick_spacing)
    ]
    if len(found) != 1:
        raise FlasharbValueError(f"{len(found)} hookless V4 pools of {a}/{b} fee {fee}, not 1")
    return found[0]


def _extsload(w3: Web3, slots: Sequence[int], block: int | str) -> list[int]:
    out: list[int] = []
    for start in range(0, len(slots), 3000):
        chunk = [s.to_bytes(32, "big") for s in slots[start : start + 3000]]
        data = "0x" + (_EXTSLOAD + encode(["bytes32[]"], [chunk])).hex()
        tx = cast(Any, {"to": A.UNISWAP_V4_POOL_MANAGER, "data": data})
        raw = w3.eth.call(tx, cast(Any, block))
        out += [int.from_bytes(v, "big") for v in decode(["bytes32[]"], bytes(raw))[0]]
    return out


def read(
    w3: Web3, pool_keys: Sequence[PoolKey], block: int | str = "latest", *, full: bool = False
) -> dict[str, V4PoolState]:
    """Exact states of `pool_keys` (PoolId hex -> state): slot0 and liquidity, the bitmap words
    within WINDOW of the price (all of them with `full`), and the liquidityNet of every
    initialized tick in those words."""
    if not pool_keys:
        return {}
    ids = [k.pool_id() for k in pool_keys]
    heads = _extsload(
        w3, [s for i in ids for s in (L.pool_state_slot(i), L.liquidity_slot(i))], block
    )
    slot0s = [L.decode_slot0(heads[2 * j]) for j in range(len(ids))]
    ranges = []
    for k, s0 in zip(pool_keys, slot0s, strict=True):
        lo, hi = word_bounds(k.tick_spacing)
        here = (s0.tick // k.tick_spacing) >> 8
        ranges.append((lo, hi) if full else (max(lo, here - WINDOW), min(hi, here + WINDOW)))
    words = iter(
        _extsload(
            w3,
            [
                L.tick_bitmap_slot(i, w)
                for i, (lo, hi) in zip(ids, ranges, strict=True)
                for w in range(lo, hi + 1)
            ],
            block,
        )
    )
    bitmaps = [{w: v for w in range(lo, hi + 1) if (v := next(words))} for lo, hi in ranges]
    initialized = [
        [
            (w * 256 + b) * k.tick_spacing
            for w, v in sorted(bm.items())
            for b in range(256)
            if v >> b & 1
        ]
        for k, bm in zip(pool_keys, bitmaps, strict=True)
    ]
    nets = iter(
        _extsload(
            w3,
            [L.tick_info_slot(i, t) for i, ts in zip(ids, initialized, strict=True) for t in ts],
            block,
        )
    )
    return {
        "0x" + i.hex(): V4PoolState(
            key=k,
            sqrt_price_x96=slot0s[j].sqrt_price_x96,
            tick=slot0s[j].tick,
            liquidity=heads[2 * j + 1] & ((1 << 128) - 1),
            lp_fee=slot0s[j].lp_fee,
            protocol_fee=slot0s[j].protocol_fee,
            tick_bitmap=bitmaps[j],
            ticks={t: L.decode_tick_liquidity_net(next(nets)) for t in initialized[j]},
            word_range=ranges[j],
        )
        for j, (i, k) in enumerate(zip(ids, pool_keys, strict=True))
    }


def hop(k: PoolKey, token_in: str, token_out: str) -> Hop:
    """The route hop selling `token_in` for `token_out` in the V4 pool `k`: route tokens, so a
    native pool's ETH side is WETH (the hop says `native`)."""
    native = k.currency0 == NATIVE
    for t in (token_in, token_out):
        currency = NATIVE if native and t == A.WETH else to_checksum_address(t)
        if currency not in (k.currency0, k.currency1):
            raise FlasharbValueError(f"V4 pool {pool_id(k)} does not trade {t}")
    return Hop(
        pool=pool_id(k),
        token_in=to_checksum_address(token_in),
        token_out=to_checksum_address(token_out),
        fee_pips=k.fee,
        kind=HopKind.UNISWAP_V4,
        pool_id=k.pool_id(),
        tick_spacing=k.tick_spacing,
        native=native,
    )


def cycle(token: str, *legs: tuple[Any, str]) -> Cycle:
    """A cycle from `token` through `legs` (a registry PoolInfo or a V4 PoolKey, token bought)."""
    hops, token_in = [], to_checksum_address(token)
    for info, token_out in legs:
        if isinstance(info, PoolKey):
            hops.append(hop(info, token_in, token_out))
        else:
            hops.append(R.hop(info, token_in, token_out))
        token_in = to_checksum_address(token_out)
    return Cycle(token=to_checksum_address(token), hops=tuple(hops))


def states(w3: Web3, route: Cycle, block: int | str = "latest") -> dict[str, PoolState]:
    """Exact states of the route's pools: V4 pools by PoolId hex, the others by address (one
    batched read each)."""
    v4 = {h.pool: v4_pool_key(h) for h in route.hops if h.kind is HopKind.UNISWAP_V4}
    others = sorted({h.pool for h in route.hops if h.kind is not HopKind.UNISWAP_V4})
    out: dict[str, PoolState] = {}
    if others:
        reg = R.registry(w3)
        res = read_states(w3, [reg[p] for p in others], block=block)
        if res.failed:
            raise FlasharbValueError(f"state reads failed: {res.failed}")
        out.update(res.states)
    out.update(read(w3, list(v4.values()), block))
    for h in route.hops:  # a window too narrow for a big swap: read every word of that pool
        state = out[h.pool]
        if isinstance(state, V4PoolState):
            try:
                state.swap(v4_zero_for_one(h), -(2**100))
            except IncompleteStateError:
                out.update(read(w3, [state.key], block, full=True))
            except FlasharbError:
                pass
    return out


def _amounts(route: Cycle, st: Mapping[str, PoolState], x: int) -> list[int] | None:
    out = []
    for h in route.hops:
        try:
            x = state_for(st, h).quote_exact_in(h.token_in, h.token_out, x)
        except FlasharbError:
            return None
        if x <= 0:
            return None
        out.append(x)
    return out


def best_amount(
    route: Cycle, st: Mapping[str, PoolState], source: FlashSource, *, hi: int | None = None
) -> int:
    """The input that maximises out - in - fee on `st` (exact quotes; the profit of these routes
    is unimodal in the input): bracket by doubling, then a ternary search on integers. 0 if no
    input profits."""

    def net(x: int) -> int:
        amounts = _amounts(route, st, x)
        return -(2**255) if amounts is None else amounts[-1] - x - source.fee(x)

    top = hi or 2**112 - 1
    powers = [1 << k for k in range(top.bit_length()) if 1 << k <= top]
    nets = [net(x) for x in powers]  # the best power of two brackets the optimum
    k = max(range(len(powers)), key=lambda i: nets[i])
    lo, hi_ = powers[max(k - 1, 0)], min(top, powers[k] * 2)
    while hi_ - lo > 2:
        m1, m2 = lo + (hi_ - lo) // 3, hi_ - (hi_ - lo) // 3
        if net(m1) < net(m2):
            lo = m1 + 1
        else:
            hi_ = m2
    best = max(range(lo, hi_ + 1), key=net)
    return best if net(best) > 0 else 0


def sized_plan(
    w3: Web3, route: Cycle, source: FlashSource, *, min_profit: int = 1, cap: int | None = None
) -> tuple[Plan, dict[str, PoolState]]:
    """Read the route's pools (V4 ones too), size it exactly for `source` (within `cap`), plan
    it; FlasharbValueError unless it pays at least `min_profit`."""
    st = states(w3, route)
    amount = best_amount(route, st, source, hi=cap)
    if amount <= 0:
        raise FlasharbValueError(f"route {route.pools} makes no profit at any input")
    p = plan_route(route, amount, source, st)
    if p.predicted_profit < min_profit:
        raise FlasharbValueError(f"route {route.pools} makes {p.predicted_profit} at {amount}")
    return p, st


def plan_at(w3: Web3, route: Cycle, amount_in: int, source: FlashSource) -> Plan:
    """`route` (V4 hops too) at `amount_in` from `source`, quoted on the fork's current states."""
    return plan_route(route, amount_in, source, states(w3, route))
