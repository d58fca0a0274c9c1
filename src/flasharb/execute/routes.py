"""Routes from real pools, for the execution tests and the gas bench: find a fork's pools by venue
and tokens, read their exact states, manufacture an opportunity with a shock, size a route with
the exact pool math, and plan it for FlashArbFacet.

The search engine finds routes by itself; this is the hand-built counterpart, for trades whose
shape is fixed in advance (one per hop kind and capital source, the bench's cases)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from web3 import Web3

from flasharb.amm.pool import PoolState
from flasharb.chain import addresses as A
from flasharb.errors import FlasharbError, FlasharbValueError
from flasharb.execute.executor import Executor, FlashSource, Plan
from flasharb.execute.shock import shock
from flasharb.search.cycles import Cycle, Hop
from flasharb.state.discovery import discover
from flasharb.state.reader import read_states
from flasharb.state.registry import PoolInfo, PoolKind, PoolRegistry

KIND = {PoolKind.V2: "uniswap_v2", PoolKind.V3: "uniswap_v3", PoolKind.WEIGHTED: "balancer"}
GOLDEN_ROUNDS = 200  # integer golden-section steps: far more than any bracket here needs

_REGISTRIES: dict[str, PoolRegistry] = {}


def registry(w3: Web3) -> PoolRegistry:
    """Every pool of the fork (discovered once per node: pools never move, their state does)."""
    key = str(w3.provider.endpoint_uri)  # type: ignore[attr-defined]
    if key not in _REGISTRIES:
        _REGISTRIES[key] = discover(w3)
    return _REGISTRIES[key]


def pool(
    w3: Web3, venue: str, token_a: str, token_b: str, *, fee: int | None = None, n_tokens: int = 2
) -> PoolInfo:
    """The pool of `venue` holding `token_a` and `token_b` (V3: at `fee`; Balancer: with
    `n_tokens` tokens)."""
    found = [
        p
        for p in registry(w3)
        if p.venue == venue
        and token_a in p.tokens
        and token_b in p.tokens
        and (fee is None or p.kind is not PoolKind.V3 or p.fee == fee)
        and (p.kind is not PoolKind.WEIGHTED or len(p.tokens) == n_tokens)
    ]
    if len(found) != 1:
        raise FlasharbValueError(
            f"{len(found)} {venue} pools of {token_a}/{token_b} (fee {fee}) on this fork, not 1"
        )
    return found[0]


def hop(info: PoolInfo, token_in: str, token_out: str) -> Hop:
    """The route hop selling `token_in` for `token_out` in `info`."""
    return Hop(
        pool=info.address,
        token_in=token_in,
        token_out=token_out,
        fee_pips=info.fee if info.kind is not PoolKind.WEIGHTED else 0,
        kind=KIND[info.kind],
    )


def cycle(token: str, *legs: tuple[PoolInfo, str]) -> Cycle:
    """A cycle from `token` through `legs` (pool, token bought)."""
    hops, token_in = [], token
    for info, token_out in legs:
        hops.append(hop(info, token_in, token_out))
        token_in = token_out
    return Cycle(token=token, hops=tuple(hops))


def states(w3: Web3, route: Cycle, block: int | str = "latest") -> dict[str, PoolState]:
    """Exact states of the route's pools (one batched read)."""
    reg = registry(w3)
    res = read_states(w3, [reg[p] for p in route.pools], block=block)
    if res.failed:
        raise FlasharbValueError(f"state reads failed: {res.failed}")
    return dict(res.states)


def profit_at(
    route: Cycle, st: Mapping[str, PoolState], amount: int, source: FlashSource, balancer_fee: int
) -> int | None:
    """Exact profit of `route` at `amount` (None where a pool cannot quote it)."""
    try:
        out = amount
        for h in route.hops:
            out = st[h.pool].quote_exact_in(h.token_in, h.token_out, out)
    except FlasharbError:
        return None
    return out - amount - source.fee(amount, balancer_fee)


def best_amount(
    ex: Executor,
    route: Cycle,
    st: Mapping[str, PoolState],
    source: FlashSource,
    hi: int,
) -> int:
    """The input in [1, hi] that maximizes the exact profit (integer golden-section search on a
    unimodal profit, then the best of the last bracket)."""
    fee = ex.balancer_flash_fee()

    def f(x: int) -> int:
        p = profit_at(route, st, x, source, fee)
        return -(2**255) if p is None else p

    lo = 1
    for _ in range(GOLDEN_ROUNDS):
        if hi - lo <= 8:
            break
        m1 = lo + (hi - lo) * 382 // 1000
        m2 = lo + (hi - lo) * 618 // 1000
        if f(m1) < f(m2):
            lo = m1
        else:
            hi = m2
    return max(range(lo, hi + 1), key=f)


@dataclass(frozen=True, slots=True, kw_only=True)
class Sized:
    """A planned route at its best size."""

    plan: Plan
    states: dict[str, PoolState]


def sized_plan(
    ex: Executor, route: Cycle, source: FlashSource, hi: int, *, min_profit: int = 1
) -> Sized:
    """Read the route's pools, size it exactly, plan it; assert it pays at least `min_profit`."""
    st = states(ex.w3, route)
    amount = best_amount(ex, route, st, source, hi)
    plan = ex.plan(route, amount, source=source, states=st)
    if plan.predicted_profit < min_profit:
        raise FlasharbValueError(
            f"route {route.pools} makes {plan.predicted_profit} at its best size {amount}"
        )
    return Sized(plan=plan, states=st)


def shock_v2_weth_usdc(w3: Web3, weth: int = 500) -> None:
    """The demo's opportunity: `weth` WETH sold into Uniswap V2 WETH/USDC."""
    shock(w3, pool(w3, "uniswap_v2", A.WETH, A.USDC).address, A.WETH, weth * 10**18)


def v2_routes(w3: Web3) -> dict[str, Cycle]:
    """USDC cycles that buy the WETH made cheap on Uniswap V2 WETH/USDC, 2 to 4 V2 hops."""
    uni = pool(w3, "uniswap_v2", A.WETH, A.USDC)
    return {
        "2-hop": cycle(A.USDC, (uni, A.WETH), (pool(w3, "sushiswap", A.WETH, A.USDC), A.USDC)),
        "3-hop": cycle(
            A.USDC,
            (uni, A.WETH),
            (pool(w3, "uniswap_v2", A.WETH, A.DAI), A.DAI),
            (pool(w3, "uniswap_v2", A.USDC, A.DAI), A.USDC),
        ),
        "4-hop": cycle(
            A.USDC,
            (uni, A.WETH),
            (pool(w3, "uniswap_v2", A.WETH, A.DAI), A.DAI),
            (pool(w3, "uniswap_v2", A.DAI, A.USDT), A.USDT),
            (pool(w3, "uniswap_v2", A.USDC, A.USDT), A.USDC),
        ),
    }


def usdc(amount: int) -> int:
    """`amount` whole USDC in base units."""
    return amount * 10**6
