"""Routes of a fixed shape and the lenders that can fund them, for the hop-gas and
flash-sources experiments: every shape is built from the market's own pools (`Market.pool`,
discovered on the fork, never a hand list of addresses) and buys the WETH a whale made cheap on
Uniswap V2 WETH/USDC.

A shape that starts in WETH is the rotation of a USDC cycle: it sells WETH elsewhere first, then
buys it back on the shocked pair; the first hop's kind is what changes (gas: a V3 or Balancer
hop after the first routes its input through the diamond).

A shape is sized by the engine for the lender it names (`Market.opportunity(cycle, source=)`:
the exact sizing, then the input best net of that lender's fee within what it can lend), and
the lender of each kind comes from the market's `Lenders` (read with the market's states, no
RPC of its own).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from web3 import Web3
from web3.types import RPCEndpoint

from flasharb.amm.balancer_weighted import WeightedPoolState
from flasharb.chain import addresses as A
from flasharb.chain.node import SLOT_SECONDS
from flasharb.errors import FlasharbValueError
from flasharb.execute.shock import shock
from flasharb.kinds import HopKind, SourceKind
from flasharb.search.capital import FlashSource, Lender
from flasharb.search.cycles import Cycle
from flasharb.search.market import Market
from flasharb.search.rank import Opportunity
from flasharb.state.discovery import discover
from flasharb.state.registry import PoolInfo

__all__ = [
    "SHAPES",
    "SOURCES",
    "funded_opportunity",
    "lender",
    "shape",
    "shock_v2_weth_usdc",
    "warm_balancer",
]

SOURCES = tuple(k.label for k in SourceKind)  # balancer_v2, uniswap_v3, uniswap_v2, inventory
_LENDS = 4  # lenders tried per kind before giving up (each deeper than the last one's input)
_WARM_PART = 10**6  # a warm-up swap sells this fraction (1/x) of the pool's balance of a token


def shock_v2_weth_usdc(w3: Web3, weth: int) -> None:
    """`weth` WETH sold into Uniswap V2 WETH/USDC (the pair found by discovery)."""
    pairs = [
        p for p in discover(w3).of_venue("uniswap_v2") if A.WETH in p.tokens and A.USDC in p.tokens
    ]
    if len(pairs) != 1:
        raise FlasharbValueError(f"{len(pairs)} Uniswap V2 WETH/USDC pairs on this fork, not 1")
    shock(w3, pairs[0].address, A.WETH, weth * 10**18)


def warm_balancer(w3: Web3, market: Market, routes: Iterable[Cycle]) -> list[str]:
    """A tiny swap (a millionth of its first token's balance) through each Balancer pool of
    `routes`, so that each has traded within the last two minutes, as an active mainnet pool
    has (a backrun follows the swap that moved the pool). Why: a 20210418 weighted pool keeps
    a TWAP oracle (the 20230206 weighted and the ComposableStable pools keep none) and writes a
    new sample on the first swap two minutes after the last one; on
    the replica that sample lands in a never-written slot of the oracle's 1,024-sample buffer
    (the pools were seeded at genesis, hours of block time earlier), ~22,000 gas that a mainnet
    pool, its buffer long filled, does not pay. The pools swapped, in pool order; the caller
    moves its market forward (`Market.update`) before trading."""
    pools = []
    # one second a block while warming: at the fork's 12 s slots, the first of ten pools
    # warmed would be due a sample again by the last
    w3.provider.make_request(RPCEndpoint("anvil_setBlockTimestampInterval"), [1])
    try:
        for pool in sorted({h.pool for c in routes for h in c.hops if h.kind is HopKind.BALANCER}):
            state = market.states[pool]
            if isinstance(state, WeightedPoolState) and state.version == 1:  # the others: none
                shock(w3, pool, state.tokens[0], state.balances[0] // _WARM_PART, state.tokens[1])
                pools.append(pool)
    finally:
        w3.provider.make_request(RPCEndpoint("anvil_setBlockTimestampInterval"), [SLOT_SECONDS])
    return pools


def _uni(m: Market) -> PoolInfo:
    return m.pool("uniswap_v2", A.WETH, A.USDC)


def _v2(m: Market, venue: str, a: str, b: str) -> PoolInfo:
    return m.pool(venue, a, b)


def _v3(m: Market, a: str, b: str, fee: int) -> PoolInfo:
    return m.pool("uniswap_v3", a, b, fee=fee)


def _bal(m: Market, a: str, b: str) -> PoolInfo:
    return m.pool("balancer", a, b)


def _v4(m: Market, a: str, b: str, fee: int) -> PoolInfo:
    return m.pool("uniswap_v4", a, b, fee=fee)


SHAPES: dict[str, Callable[[Market], Cycle]] = {
    "2-hop V2": lambda m: m.route(
        A.USDC, (_uni(m), A.WETH), (_v2(m, "sushiswap", A.WETH, A.USDC), A.USDC)
    ),
    "3-hop V2": lambda m: m.route(
        A.USDC,
        (_uni(m), A.WETH),
        (_v2(m, "uniswap_v2", A.WETH, A.DAI), A.DAI),
        (_v2(m, "uniswap_v2", A.USDC, A.DAI), A.USDC),
    ),
    "4-hop V2": lambda m: m.route(
        A.USDC,
        (_uni(m), A.WETH),
        (_v2(m, "uniswap_v2", A.WETH, A.DAI), A.DAI),
        (_v2(m, "uniswap_v2", A.DAI, A.USDT), A.USDT),
        (_v2(m, "uniswap_v2", A.USDC, A.USDT), A.USDC),
    ),
    "V2 > V3": lambda m: m.route(A.USDC, (_uni(m), A.WETH), (_v3(m, A.WETH, A.USDC, 500), A.USDC)),
    "V3 > V2": lambda m: m.route(A.WETH, (_v3(m, A.WETH, A.USDC, 500), A.USDC), (_uni(m), A.WETH)),
    "V2 > V3 > V2": lambda m: m.route(
        A.USDC,
        (_uni(m), A.WETH),
        (_v3(m, A.WETH, A.DAI, 500), A.DAI),
        (_v2(m, "uniswap_v2", A.USDC, A.DAI), A.USDC),
    ),
    "V2 > V3 > V3": lambda m: m.route(
        A.USDC,
        (_uni(m), A.WETH),
        (_v3(m, A.WETH, A.DAI, 500), A.DAI),
        (_v3(m, A.DAI, A.USDC, 100), A.USDC),
    ),
    "V2 > Bal": lambda m: m.route(A.USDC, (_uni(m), A.WETH), (_bal(m, A.WETH, A.USDC), A.USDC)),
    "Bal > V2": lambda m: m.route(A.WETH, (_bal(m, A.WETH, A.USDC), A.USDC), (_uni(m), A.WETH)),
    "V2 > V4": lambda m: m.route(A.USDC, (_uni(m), A.WETH), (_v4(m, A.WETH, A.USDC, 500), A.USDC)),
    "V4 > V2": lambda m: m.route(A.WETH, (_v4(m, A.WETH, A.USDC, 500), A.USDC), (_uni(m), A.WETH)),
    "V2 > V4 > V4": lambda m: m.route(
        A.USDC,
        (_uni(m), A.WETH),
        (_v4(m, A.WETH, A.USDT, 500), A.USDT),
        (_v4(m, A.USDC, A.USDT, 100), A.USDC),
    ),
    "V2 > Bal > V2": lambda m: m.route(
        A.USDC,
        (_uni(m), A.WETH),
        (_bal(m, A.WETH, A.DAI), A.DAI),
        (_v2(m, "uniswap_v2", A.USDC, A.DAI), A.USDC),
    ),
}


def shape(market: Market, name: str) -> Cycle:
    build = SHAPES.get(name)
    if build is None:
        raise FlasharbValueError(f"no route shape {name!r}; pick one of {', '.join(SHAPES)}")
    return build(market)


def _lenders(market: Market, kind: SourceKind, route: Cycle) -> list[Lender]:
    """The market's lenders of `route.token` of `kind` that are not on the route (a lender is
    locked while it lends), in the market's order of preference: V3 pools by fee tier, then the
    most held; V2 pairs likewise; the Vault."""
    on_route = set(route.pools)
    return [
        ln
        for ln in market.lenders.of(route.token)
        if ln.source.kind is kind and not ln.source.batch and ln.source.lender not in on_route
    ]


def lender(market: Market, kind: str, route: Cycle, amount: int = 0) -> Lender:
    """The first lender of `kind` (a `SourceKind` label) for `route` that can lend more than
    `amount` (the diamond's inventory: capacity unbounded here, it is dealt what it needs).

    Raises:
        FlasharbValueError: an unknown kind, or no such lender off the route.
    """
    if kind not in SOURCES:
        raise FlasharbValueError(f"capital source {kind!r} is not one of {', '.join(SOURCES)}")
    source_kind = SourceKind.parse(kind)
    if source_kind is SourceKind.INVENTORY:
        return Lender(source=FlashSource.inventory(), capacity=2**112 - 1)
    found = [ln for ln in _lenders(market, source_kind, route) if ln.capacity > amount]
    if not found:
        raise FlasharbValueError(f"no {kind} lender off the route lends {amount} of {route.token}")
    return found[0]


def funded_opportunity(market: Market, route: Cycle, kind: str) -> Opportunity:
    """`route` sized by the engine for the first lender of `kind` that can lend its best input:
    sized for the preferred lender first; if that one's capacity caps the input, for the next
    lender that holds more than that input (as a bot would borrow where the whole trade fits).

    Raises:
        FlasharbValueError: no lender of `kind`, or the route makes no profit at any input.
    """
    amount = 0
    for _ in range(_LENDS):
        chosen = lender(market, kind, route, amount)
        opp = market.opportunity(route, source=chosen.source)
        if opp.amount_in < chosen.capacity:
            return opp
        amount = opp.amount_in
    raise FlasharbValueError(f"no {kind} lender holds enough {route.token} for {route.pools}")
