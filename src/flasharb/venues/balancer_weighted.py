"""Balancer V2 weighted pools, each quoted with its own deployment's math: the 20210418
WeightedPool and WeightedPool2Tokens (`balancer`, version 1) and the 20230206 WeightedPool
(weighted-pool-v3, `balancer_weighted_v3`, version 3: FixedPoint powers exact for exponents 1, 2
and 4). Two instances of one venue, told apart by the factory that created each pool (a v3 pool
answers the v1 views too: its math is not v1's).

- Discovery (besides the Vault's, `balancer.py`): `getPoolTokens`, `getNormalizedWeights` and
  `getSwapFeePercentage` in one batched call; a pool whose weights do not match its tokens is
  skipped with the reason.
- Read (`BalancerWeightedReader`): the Vault's balances, the weights and the fee, every block.
  Measured and rejected: weights and fee from a cache would save 2 of a pool's ~10 round trips
  (~2 ms for 50 pools), but weights move in some pools (LBPs) and only the sync could say when
  a cached fee is stale. Scaling factors are the decimals' alone (a v3 pool's rate providers
  only touch its protocol yield fees, not swaps).
- Quote: `flasharb.amm.balancer_weighted` at the pool's version; the float curve is
  `B_out*(1 - (B_in/(B_in + g*x))^(w_in/w_out))`, less powUp's error allowance where the pool's
  power is not exact (`POW_ERROR`).

ref: balancer-v2-monorepo pkg/pool-weighted/contracts/WeightedPool.sol (20210418 and
@5082b2869 for 20230206), WeightedMath.sol `_calcOutGivenIn`
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from eth_abi import decode

from flasharb.amm.balancer_weighted import WeightedPoolState
from flasharb.amm.balancer_weighted.fixed_point import FOUR, ONE, TWO, div_down
from flasharb.amm.pool import PoolState
from flasharb.chain import addresses as A
from flasharb.errors import FlasharbValueError
from flasharb.search.segments import Point
from flasharb.state.discovery import multicall
from flasharb.state.registry import PoolInfo, PoolRegistry
from flasharb.state.venue import ReadConfig, ReadContext, Scan
from flasharb.venues.balancer import GET_POOL_TOKENS, GET_SWAP_FEE, BalancerVenue, pool_tokens

__all__ = [
    "BALANCER",
    "BALANCER_WEIGHTED_V3",
    "POW_ERROR",
    "BalancerWeighted",
    "WeightedCurve",
]

POW_ERROR = 1e-14  # FixedPoint.MAX_POW_RELATIVE_ERROR: powUp adds this much of the power
_MAX_IN_RATIO = 0.3  # WeightedMath: at most 30% of the balance in (after the fee)
_GET_WEIGHTS = bytes.fromhex("f89f27ed")  # getNormalizedWeights()
_FAILURES = {
    1: "Vault.getPoolTokens(poolId) reverted or returned malformed data",
    2: "getNormalizedWeights() reverted or has a weight per token missing",
    3: "getSwapFeePercentage() reverted",
}


class WeightedCurve:
    """A Balancer weighted pool, one direction:
    `y = B_out*(1 - (B_in/(B_in + g*x))^rho) - e*B_out*(B_in/(B_in + g*x))^rho`, e the powUp
    error allowance (`POW_ERROR`, 0 where the pool's power is exact)."""

    __slots__ = ("b_in", "b_out", "e", "g", "limit", "rho")

    def __init__(
        self, state: WeightedPoolState, token_in: str, token_out: str, pow_error: float = POW_ERROR
    ) -> None:
        i, j = state.index_of(token_in), state.index_of(token_out)
        self.b_in = float(state.balances[i])  # raw units: the scaling factors cancel
        self.b_out = float(state.balances[j])
        self.g = 1.0 - state.swap_fee / 1e18
        self.rho = state.normalized_weights[i] / state.normalized_weights[j]
        self.e = pow_error
        self.limit = _MAX_IN_RATIO * self.b_in / self.g if self.b_in > 0 and self.b_out > 0 else 0.0

    def at(self, x: float) -> Point | None:
        if x > self.limit:
            return None
        gx = self.g * x
        den = self.b_in + gx
        log_base = -self.rho * math.log1p(gx / self.b_in)
        power = math.exp(log_base)  # (B_in / (B_in + g*x))^rho
        b_out = self.b_out
        y = -b_out * math.expm1(log_base) - self.e * b_out * power
        d1 = self.rho * self.g * b_out * power * (1.0 + self.e) / den
        return y, d1, -(self.rho + 1.0) * self.g * d1 / den


def _pool(state: PoolState) -> WeightedPoolState:
    if not isinstance(state, WeightedPoolState):
        raise FlasharbValueError(f"pool {state.uid}: not a Balancer weighted pool")
    return state


@dataclass(frozen=True, slots=True, kw_only=True)
class BalancerWeighted(BalancerVenue):
    """Weighted pools of some factories, all of one math `version` (1 or 3)."""

    version: int = 1

    state_types: ClassVar[tuple[type, ...]] = (WeightedPoolState,)
    reader: ClassVar[str] = "BalancerWeightedReader"
    base_gas: ClassVar[int] = 25_000  # cold pool, Vault pool lookup, weights, fee
    token_gas: ClassVar[int] = 7_000  # per token: balance slot, token list slot, the weight

    def __post_init__(self) -> None:
        BalancerVenue.__post_init__(self)
        if self.version not in (1, 3):
            raise FlasharbValueError(
                f"venue {self.name}: weighted math version 1 or 3, not {self.version}"
            )

    # ------------------------------------------------------------ discovery

    def probe(
        self, scan: Scan, registry: PoolRegistry, pools: Sequence[tuple[bytes, str]]
    ) -> list[PoolInfo]:
        calls = []
        for pool_id, pool in pools:
            calls += [
                (self.vault, GET_POOL_TOKENS + pool_id),
                (pool, _GET_WEIGHTS),
                (pool, GET_SWAP_FEE),
            ]
        answers = multicall(scan.w3, calls, scan.block)
        out = []
        for n, (pool_id, pool) in enumerate(pools):
            raw_tokens, raw_weights, raw_fee = answers[3 * n : 3 * n + 3]
            tokens = pool_tokens(raw_tokens)
            what = f"Balancer pool {pool}"
            if tokens is None or len(tokens) < 2:
                registry.skip(pool, f"{what}: {len(tokens or [])} tokens registered")
                continue
            if len(raw_weights) < 64 or len(raw_fee) < 32:
                registry.skip(
                    pool,
                    f"{what}: getNormalizedWeights() or getSwapFeePercentage() failed; "
                    "not a weighted pool (no math for it)",
                )
                continue
            (weights,) = decode(["uint256[]"], raw_weights)
            if len(weights) != len(tokens):
                registry.skip(pool, f"{what}: {len(weights)} weights for {len(tokens)} tokens")
                continue
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
                )
            )
        return out

    # ------------------------------------------------------------ read

    def read_entry(self, info: PoolInfo, config: ReadConfig) -> bytes:
        return bytes.fromhex(info.address[2:]) + info.pool_id

    def read_gas(self, info: PoolInfo, config: ReadConfig, ticks: int | None) -> int:
        return self.base_gas + len(info.tokens) * self.token_gas

    def decode(
        self, mv: memoryview, i: int, info: PoolInfo, ctx: ReadContext
    ) -> tuple[int, PoolState | str]:
        fb = int.from_bytes
        n = mv[i]
        i += 1
        balances = tuple(fb(mv[j : j + 32], "big") for j in range(i, i + 32 * n, 32))
        i += 32 * n
        weights = tuple(fb(mv[j : j + 32], "big") for j in range(i, i + 32 * n, 32))
        i += 32 * n
        fee = fb(mv[i : i + 32], "big")
        i += 32
        if n != len(info.tokens):
            return i, (
                f"balancer pool {info.address}: the Vault lists {n} tokens, the registry "
                f"{len(info.tokens)}; rediscover the pool"
            )
        return i, WeightedPoolState(
            address=info.address,
            pool_id=info.pool_id,
            tokens=info.tokens,
            balances=balances,
            decimals=info.decimals,
            normalized_weights=weights,
            swap_fee=fee,
            venue=info.venue,
            version=self.version,
        )

    def read_failure(self, info: PoolInfo, config: ReadConfig, step: int) -> str:
        return _FAILURES.get(step, f"read step {step} failed")

    # ------------------------------------------------------------ search

    @staticmethod
    def _pow_error(state: WeightedPoolState, token_in: str, token_out: str) -> float:
        """powUp's error allowance for this direction: none where a v3 pool's power is exact
        (exponent w_in/w_out of 1, 2 or 4)."""
        if state.version != 3:
            return POW_ERROR
        i, j = state.index_of(token_in), state.index_of(token_out)
        exponent = div_down(state.normalized_weights[i], state.normalized_weights[j])
        return 0.0 if exponent in (ONE, TWO, FOUR) else POW_ERROR

    def edge_params(self, state: PoolState, token_in: str, token_out: str) -> tuple[float, float]:
        pool = _pool(state)
        i, j = pool.index_of(token_in), pool.index_of(token_out)
        w_in, w_out = pool.normalized_weights[i], pool.normalized_weights[j]
        r_in = float(pool.balances[i]) * w_out / w_in
        r_out = float(pool.balances[j])
        if r_in <= 0.0 or r_out <= 0.0 or not (math.isfinite(r_in) and math.isfinite(r_out)):
            return 0.0, 0.0
        g = 1.0 - pool.swap_fee / 1e18
        return g * r_out / r_in, g / r_in

    def curve(self, state: PoolState, token_in: str, token_out: str) -> WeightedCurve:
        pool = _pool(state)
        return WeightedCurve(pool, token_in, token_out, self._pow_error(pool, token_in, token_out))

    def pow_slack(self, state: PoolState, token_out: str) -> float:
        """LogExpMath's error (1e-14 of the power, either way) may put the exact output above
        the curve; bounded by POW_ERROR of the balance out (0 is not claimed even for exact
        powers: the bound is per pool, not per direction)."""
        pool = _pool(state)
        return POW_ERROR * pool.balances[pool.index_of(token_out)]

    def weth_quotes(self, state: PoolState, weth: str) -> Iterable[tuple[str, int, int, int]]:
        pool = _pool(state)
        if weth not in pool.tokens:
            return
        w = pool.index_of(weth)
        b_weth, w_weth = pool.balances[w], pool.normalized_weights[w]
        for i, token in enumerate(pool.tokens):
            b, weight = pool.balances[i], pool.normalized_weights[i]
            if i != w and b > 0 and b_weth > 0:
                yield token, b_weth * weight, b * w_weth, b_weth

    def reserves(self, state: PoolState) -> tuple[tuple[str, int], ...]:
        pool = _pool(state)
        return tuple(zip(pool.tokens, pool.balances, strict=True))


BALANCER = BalancerWeighted(
    name="balancer",
    factories=(A.BALANCER_WEIGHTED_POOL_FACTORY, A.BALANCER_WEIGHTED_POOL_2TOKENS_FACTORY),
    version=1,
)
BALANCER_WEIGHTED_V3 = BalancerWeighted(
    name="balancer_weighted_v3",
    factories=(A.BALANCER_WEIGHTED_POOL_V3_FACTORY,),
    version=3,
    # no TWAP oracle to update (the 20210418 pools the BALANCER figure was fitted on keep one):
    # bench/venue_gas.py, one route through each replica pool, residual over the model: median
    # -12,316 gas (the 20210418 pools': -1,781); a bare Vault.swap, median 91,211 against 103,425
    hop_gas=-12_000,
)

PRIORITY = 30
VENUES = (BALANCER, BALANCER_WEIGHTED_V3)
