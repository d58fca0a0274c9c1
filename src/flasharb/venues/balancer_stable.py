"""Balancer V2 ComposableStable pools of the 20230206 factory (composable-stable-pool-v3).

- Discovery (besides the Vault's, `balancer.py`): `getPoolTokens` (the pool's own BPT among its
  tokens), `getBptIndex`, `getRateProviders`, `getSwapFeePercentage` and
  `getAmplificationParameter`, in one batched call. A pool whose amplification is being updated
  needs its schedule, which no view returns: it comes from the pool's last `AmpUpdateStarted`
  log (one log query, for those pools only), kept in the registry entry (`StableMeta`).
- Read (`BalancerStableReader`): the Vault's balances (the BPT's included), the swap fee, the
  amplification and whether it is moving, and per token with a rate provider its rate cache
  (`getTokenRateCache`) and the provider's `getRate()` now: the pool reads the provider at the
  first swap after the cache expires, which may be the next block's. The state is quoted at
  the next block's time (`ReadContext.quote_timestamp`).
- Sync: the Vault's and the pool's fee logs (`balancer.py`), plus `AmpUpdateStarted` /
  `AmpUpdateStopped` (the schedule: `on_log`), `TokenRateCacheUpdated` and
  `TokenRateProviderSet` (a new provider: `on_log`). A pool with a rate provider, or with its
  amplification moving, is re-read every block (`volatile`): its quote moves with time and with
  the provider's rate, which no pool log announces.
- Quote: `flasharb.amm.balancer_stable` (exact); swaps to or from the BPT are joins and exits,
  never routed: the BPT is not a graph token. The float models solve StableMath's invariant
  equation in floats (`StableCurve`), derivatives by implicit differentiation.
- Hop, batch swaps, BAL#400 and the Vault's lending: `balancer.py` (the GENERAL
  specialization changes nothing for the caller).

ref: balancer-v2-monorepo@5082b2869 pkg/pool-stable/contracts/ComposableStablePool.sol,
ComposableStablePoolRates.sol, StablePoolAmplification.sol, StableMath.sol
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector as selector

from flasharb.amm.balancer_stable import AmpState, RateCache, StablePoolState
from flasharb.amm.balancer_stable.stable_math import AMP_PRECISION
from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.chain import addresses as A
from flasharb.errors import FlasharbError, FlasharbValueError
from flasharb.search.segments import Point
from flasharb.state._rpc import RawLog, get_logs
from flasharb.state.discovery import multicall
from flasharb.state.events import topic
from flasharb.state.registry import PoolInfo, PoolRegistry
from flasharb.state.venue import ReadConfig, ReadContext, Scan, Watch
from flasharb.venues.balancer import GET_POOL_TOKENS, GET_SWAP_FEE, BalancerVenue, pool_tokens
from flasharb.venues.base import word_address

__all__ = ["BALANCER_STABLE", "BalancerStable", "StableCurve", "StableMeta"]

AMP_UPDATE_STARTED = topic("AmpUpdateStarted(uint256,uint256,uint256,uint256)")
AMP_UPDATE_STOPPED = topic("AmpUpdateStopped(uint256)")
TOKEN_RATE_CACHE_UPDATED = topic("TokenRateCacheUpdated(uint256,uint256)")
TOKEN_RATE_PROVIDER_SET = topic("TokenRateProviderSet(uint256,address,uint256)")
_GET_BPT_INDEX = selector("getBptIndex()")
_GET_RATE_PROVIDERS = selector("getRateProviders()")
_GET_AMP = selector("getAmplificationParameter()")
_ZERO = "0x" + "00" * 20
_HOP_GAS_BASE = 24_000  # a stable hop beyond the BALANCER figure: a two-token pool (hop_gas_of)
_HOP_GAS_TOKEN = 5_000  # per token beyond two
_HOP_GAS_RATE = 12_000  # per token with a rate provider
_ONE = 1e18
_FAILURES = {
    1: "Vault.getPoolTokens(poolId) reverted or returned malformed data",
    2: "getSwapFeePercentage() reverted",
    3: "getAmplificationParameter() reverted",
    4: "getTokenRateCache(token) reverted",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class StableMeta:
    """What a stable pool's registry entry keeps besides the common fields."""

    bpt_index: int
    providers: tuple[str, ...]  # per registered token; the zero address: no rate provider
    amp_schedule: AmpState | None = None  # the update in progress, from its AmpUpdateStarted


class StableCurve:
    """A stable pool, one direction, in floats: the output of selling x (raw units of the
    token in) is `(B_out - y(u)) / s_out` with `u = B_in + g*s_in*x` the upscaled balance in
    after the swap and `y` solving StableMath's invariant equation
    `y^2 + (S' + D/A - D)*y = D^(n+1) / (A*n^n*P')` (S', P': sum and product of every upscaled
    balance but the one out, `u` included; A the amplification times n; D the invariant, exact
    from the pool's integer math). Derivatives by implicit differentiation of that equation."""

    __slots__ = ("a", "b_in", "d", "g", "n", "others_p", "others_s", "s_in", "s_out", "up_out")

    def __init__(self, state: StablePoolState, token_in: str, token_out: str) -> None:
        factors = state.scaling_factors()
        i, j = state.tokens.index(token_in), state.tokens.index(token_out)
        up = [b * f / _ONE / _ONE for b, f in zip(state.balances, factors, strict=True)]
        keep = [k for k in range(len(up)) if k != state.bpt_index]
        self.n = len(keep)
        self.a = state.amplification() * self.n / AMP_PRECISION
        self.d = float(state.invariant()) / _ONE
        self.s_in, self.s_out = factors[i] / _ONE / _ONE, factors[j] / _ONE / _ONE
        self.g = 1.0 - state.swap_fee / _ONE
        self.b_in = up[i]
        self.up_out = up[j]
        others = [up[k] for k in keep if k not in (i, j)]
        self.others_s = sum(others)
        self.others_p = math.prod(others)

    def at(self, x: float) -> Point | None:
        u = self.b_in + self.g * self.s_in * x  # the token-in balance after the swap
        if u <= 0.0 or self.d <= 0.0:
            return None
        d, a, n = self.d, self.a, self.n
        b = self.others_s + u + d / a - d
        # D^(n+1) / (A n^n P'), as D * (D / (A n^n P')) * D^(n-1): no overflow on the way
        c = d * (d / (a * float(n) ** n * self.others_p * u)) * d ** (n - 1)
        root = math.sqrt(b * b + 4.0 * c)
        y = 2.0 * c / (b + root) if b > 0.0 else (root - b) / 2.0  # no cancellation
        m = 2.0 * y + b  # d/dy of the equation
        dy = -(y + c / u) / m  # dy/du
        dn = -(dy - 2.0 * c / (u * u))  # d/du of the numerator -(y + c/u)
        d2y = (dn * m + (y + c / u) * (2.0 * dy + 1.0)) / (m * m)
        k = self.g * self.s_in
        return (self.up_out - y) / self.s_out, -dy * k / self.s_out, -d2y * k * k / self.s_out


def _pool(state: PoolState) -> StablePoolState:
    if not isinstance(state, StablePoolState):
        raise FlasharbValueError(f"pool {state.uid}: not a Balancer stable pool")
    return state


def _meta(info: PoolInfo) -> StableMeta:
    if not isinstance(info.meta, StableMeta):
        raise FlasharbValueError(f"stable pool {info.uid}: its registry entry has no StableMeta")
    return info.meta


def _schedule(data: bytes) -> AmpState:
    start, end, t0, t1 = decode(["uint256"] * 4, data[:128])
    return AmpState(start_value=start, end_value=end, start_time=t0, end_time=t1)


@dataclass(frozen=True, slots=True, kw_only=True)
class BalancerStable(BalancerVenue):
    """ComposableStable pools of some factories."""

    state_types: ClassVar[tuple[type, ...]] = (StablePoolState,)
    reader: ClassVar[str] = "BalancerStableReader"
    base_gas: ClassVar[int] = 30_000  # cold pool, Vault pool lookup, fee, amplification
    token_gas: ClassVar[int] = 5_000  # per token: balance slot, token list slot
    rate_gas: ClassVar[int] = 25_000  # per rate token: the cache slot, the provider's chain

    # ------------------------------------------------------------ discovery

    def probe(
        self, scan: Scan, registry: PoolRegistry, pools: Sequence[tuple[bytes, str]]
    ) -> list[PoolInfo]:
        views = (_GET_BPT_INDEX, _GET_RATE_PROVIDERS, GET_SWAP_FEE, _GET_AMP)
        calls = []
        for pool_id, pool in pools:
            calls += [(self.vault, GET_POOL_TOKENS + pool_id), *((pool, v) for v in views)]
        answers = multicall(scan.w3, calls, scan.block)
        out, moving = [], []
        for n, (pool_id, pool) in enumerate(pools):
            raw_tokens, raw_bpt, raw_providers, raw_fee, raw_amp = answers[5 * n : 5 * n + 5]
            tokens = pool_tokens(raw_tokens)
            what = f"Balancer stable pool {pool}"
            if tokens is None or pool not in tokens or len(tokens) < 3:
                registry.skip(pool, f"{what}: the Vault lists no BPT and two tokens besides it")
                continue
            if min(len(raw_bpt), len(raw_fee)) < 32 or len(raw_providers) < 64 or len(raw_amp) < 96:
                registry.skip(pool, f"{what}: a ComposableStable view failed (no math for it)")
                continue
            (providers,) = decode(["address[]"], raw_providers)
            if len(providers) != len(tokens):
                registry.skip(
                    pool, f"{what}: {len(providers)} rate providers, {len(tokens)} tokens"
                )
                continue
            meta = StableMeta(
                bpt_index=int.from_bytes(raw_bpt[:32], "big"),
                providers=tuple(checksum_address(p) for p in providers),
            )
            if int.from_bytes(raw_amp[32:64], "big"):
                moving.append(pool)
            out.append(
                PoolInfo(
                    address=pool,
                    venue=self.name,
                    kind=self.hop_kind,
                    tokens=tuple(tokens),
                    decimals=(),
                    fee=int.from_bytes(raw_fee[:32], "big"),
                    pool_id=pool_id,
                    source=self.vault,
                    meta=meta,
                )
            )
        if moving:  # an amplification update in progress: its schedule from its last log
            logs = get_logs(
                scan.w3,
                from_block=scan.from_block,
                to_block=scan.block,
                topics=[AMP_UPDATE_STARTED],
                address=moving,
                chunk=scan.log_chunk,
            )
            last = {log.address: log for log in sorted(logs, key=lambda lg: (lg.block, lg.index))}
            out = [
                replace(i, meta=replace(_meta(i), amp_schedule=_schedule(last[i.address].data)))
                if i.address in last
                else i
                for i in out
            ]
        return out

    # ------------------------------------------------------------ read

    def _rated(self, info: PoolInfo) -> list[tuple[int, str, str]]:
        """(index, token, provider) of the tokens with a rate provider."""
        meta = _meta(info)
        return [
            (k, t, p)
            for k, (t, p) in enumerate(zip(info.tokens, meta.providers, strict=True))
            if p != _ZERO and k != meta.bpt_index
        ]

    def read_entry(self, info: PoolInfo, config: ReadConfig) -> bytes:
        rated = self._rated(info)
        return (
            bytes.fromhex(info.address[2:])
            + info.pool_id
            + bytes((len(rated),))
            + b"".join(bytes.fromhex(t[2:]) + bytes.fromhex(p[2:]) for _, t, p in rated)
        )

    def read_gas(self, info: PoolInfo, config: ReadConfig, ticks: int | None) -> int:
        return (
            self.base_gas
            + len(info.tokens) * self.token_gas
            + len(self._rated(info)) * self.rate_gas
        )

    def decode(
        self, mv: memoryview, i: int, info: PoolInfo, ctx: ReadContext
    ) -> tuple[int, PoolState | str]:
        fb = int.from_bytes
        n = mv[i]
        i += 1
        balances = tuple(fb(mv[j : j + 32], "big") for j in range(i, i + 32 * n, 32))
        i += 32 * n
        fee = fb(mv[i : i + 32], "big")
        amp = fb(mv[i + 32 : i + 64], "big")
        updating = mv[i + 64] == 1
        m = mv[i + 65]
        i += 66
        caches: list[RateCache | None] = [None] * len(info.tokens)
        for k, _token, _provider in self._rated(info)[:m]:
            rate, old, duration, expires = (
                fb(mv[j : j + 32], "big") for j in range(i, i + 128, 32)
            )
            now = fb(mv[i + 129 : i + 161], "big") if mv[i + 128] == 1 else None
            caches[k] = RateCache(
                rate=rate, old_rate=old, duration=duration, expires=expires, provider_rate=now
            )
            i += 161
        where = f"balancer_stable pool {info.address}"
        if n != len(info.tokens):
            return i, f"{where}: the Vault lists {n} tokens, the registry {len(info.tokens)}"
        meta = _meta(info)
        if not updating:
            schedule = AmpState.fixed(amp)
        elif meta.amp_schedule is not None and meta.amp_schedule.value_at(ctx.timestamp) == amp:
            schedule = meta.amp_schedule
        else:
            return i, (
                f"{where}: its amplification is being updated and the update's schedule "
                "(AmpUpdateStarted) is not known; rediscover the pool"
            )
        try:
            state = StablePoolState(
                address=info.address,
                pool_id=info.pool_id,
                tokens=info.tokens,
                balances=balances,
                decimals=info.decimals,
                swap_fee=fee,
                amp=schedule,
                rate_caches=tuple(caches),
                timestamp=ctx.quote_timestamp,
                venue=info.venue,
            )
        except FlasharbError as exc:
            return i, f"{where}: {exc}"
        return i, state

    def read_failure(self, info: PoolInfo, config: ReadConfig, step: int) -> str:
        return _FAILURES.get(step, f"read step {step} failed")

    # ------------------------------------------------------------ sync

    def watches(self) -> tuple[Watch, ...]:
        own = (AMP_UPDATE_STARTED, AMP_UPDATE_STOPPED, TOKEN_RATE_CACHE_UPDATED)
        return (
            *BalancerVenue.watches(self),
            *(Watch(t) for t in own),
            Watch(TOKEN_RATE_PROVIDER_SET),
        )

    def on_log(self, info: PoolInfo, log: RawLog) -> PoolInfo | None:
        meta = _meta(info)
        t0 = log.topics[0]
        if t0 == AMP_UPDATE_STARTED and len(log.data) >= 128:
            return replace(info, meta=replace(meta, amp_schedule=_schedule(log.data)))
        if t0 == AMP_UPDATE_STOPPED:
            return replace(info, meta=replace(meta, amp_schedule=None))
        if t0 == TOKEN_RATE_PROVIDER_SET and len(log.topics) == 3:
            index = int.from_bytes(log.topics[1], "big")
            if index < len(meta.providers):
                providers = list(meta.providers)
                providers[index] = word_address(log.topics[2])
                return replace(info, meta=replace(meta, providers=tuple(providers)))
        return None

    def moved(self, old: PoolState, new: PoolState) -> bool:
        """Quotes differ: balances, fee, amplification or a cache moved, or the amplification or
        a rate the pool uses at its quote time did (a provider's rate alone, behind a fresh
        cache, moves nothing)."""
        a, b = _pool(old), _pool(new)

        def fixed(s: StablePoolState) -> StablePoolState:
            caches = tuple(
                None if c is None else replace(c, provider_rate=None) for c in s.rate_caches
            )
            return replace(s, timestamp=0, rate_caches=caches)

        if fixed(a) != fixed(b):
            return True
        try:
            return a.amplification() != b.amplification() or a.rates() != b.rates()
        except FlasharbError:  # a rate the old read could not give: say it moved
            return True

    def volatile(self, state: PoolState) -> bool:
        """A pool with a rate provider (its rate changes with no pool log, its cache expires
        with time) or with its amplification moving (the quote moves with the block's time):
        re-read at every block, in the same batched call, and reported changed only when its
        quotes moved (`moved`). The others change only with the logs their sync follows."""
        pool = _pool(state)
        return any(c is not None for c in pool.rate_caches) or pool.amp.end_time > pool.timestamp

    # ------------------------------------------------------------ search

    def hop_gas_of(self, state: PoolState) -> int:
        """StableMath's two Newton loops over every token, scaling, and each rate cache read
        (and its provider's rate when it expires), beyond the BALANCER figure (fitted on the
        20210418 weighted pools): `_HOP_GAS_BASE` + `_HOP_GAS_TOKEN` per token beyond two +
        `_HOP_GAS_RATE` per rate provider. Measured by bench/venue_gas.py (one route
        through each pool, residual over the model): a 3-token pool 28,515 gas, a 2-token pool
        with a rate provider 39,061; a bare Vault.swap through each replica pool: 2 tokens 129-135k,
        3 tokens 139k, 4 tokens 152k, against 103k for a 20210418 2-token pool."""
        pool = _pool(state)
        n = len(pool.tokens) - 1
        rated = sum(c is not None for c in pool.rate_caches)
        return _HOP_GAS_BASE + _HOP_GAS_TOKEN * max(n - 2, 0) + _HOP_GAS_RATE * rated

    def graph_tokens(self, state: PoolState) -> tuple[str, ...]:
        """Every token but the BPT (a swap to or from it is a join or an exit); none while the
        amplification moves: the pool is priced, not routed (open: its charge during an update
        is not reconciled with the math to the wei yet, tests/test_balancer_2023_parity.py
        `test_amplification_update`, a strict xfail)."""
        pool = _pool(state)
        if pool.amp.start_value != pool.amp.end_value and pool.timestamp < pool.amp.end_time:
            return ()
        return tuple(t for k, t in enumerate(pool.tokens) if k != pool.bpt_index)

    def curve(self, state: PoolState, token_in: str, token_out: str) -> StableCurve:
        return StableCurve(_pool(state), token_in, token_out)

    def edge_params(self, state: PoolState, token_in: str, token_out: str) -> tuple[float, float]:
        try:
            point = self.curve(state, token_in, token_out).at(0.0)
        except (FlasharbError, ArithmeticError, ValueError):
            return 0.0, 0.0
        if point is None or point[1] <= 0.0 or not math.isfinite(point[1]):
            return 0.0, 0.0
        _, r, d2 = point
        return r, max(-d2 / (2.0 * r), 0.0)

    def pow_slack(self, state: PoolState, token_out: str) -> float:
        """The float invariant carries ~1e-16 of the balances' error: allow 1e-12 of the
        balance out (the bound only widens)."""
        pool = _pool(state)
        return 1e-12 * pool.balances[pool.tokens.index(token_out)]

    def weth_quotes(self, state: PoolState, weth: str) -> Iterable[tuple[str, int, int, int]]:
        pool = _pool(state)
        tokens = [t for k, t in enumerate(pool.tokens) if k != pool.bpt_index]
        if weth not in tokens:
            return
        held = pool.balances[pool.tokens.index(weth)]
        for token in tokens:
            if token == weth or held <= 0:
                continue
            try:
                point = StableCurve(replace(pool, swap_fee=0), token, weth).at(0.0)
            except (FlasharbError, ArithmeticError, ValueError):
                continue
            if point is not None and point[1] > 0.0 and math.isfinite(point[1]):
                yield token, round(point[1] * 10**18), 10**18, held

    def reserves(self, state: PoolState) -> tuple[tuple[str, int], ...]:
        pool = _pool(state)
        return tuple(
            (t, b)
            for k, (t, b) in enumerate(zip(pool.tokens, pool.balances, strict=True))
            if k != pool.bpt_index
        )


BALANCER_STABLE = BalancerStable(
    name="balancer_stable",
    factories=(A.BALANCER_COMPOSABLE_STABLE_POOL_V3_FACTORY,),
    hop_gas=_HOP_GAS_BASE,  # the least: a two-token pool without rate providers
)

PRIORITY = 25
VENUES = (BALANCER_STABLE,)
