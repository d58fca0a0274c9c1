"""Routes of a fixed shape and the lenders that can fund them, for the hop-gas and
flash-sources experiments: every shape is built from the fork's own pools (discovered, never a
hand list of addresses) and buys the WETH a whale made cheap on Uniswap V2 WETH/USDC.

A shape that starts in WETH is the rotation of a USDC cycle: it sells WETH elsewhere first, then
buys it back on the shocked pair; the first hop's kind is what changes (gas: a V3 or Balancer
hop after the first routes its input through the diamond).
"""

from __future__ import annotations

from collections.abc import Callable

from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.cheats import balance_of
from flasharb.errors import FlasharbValueError
from flasharb.execute import routes as R
from flasharb.execute.executor import Executor, FlashSource, Plan
from flasharb.kinds import HopKind
from flasharb.search.cycles import Cycle
from flasharb.state.registry import PoolInfo

__all__ = ["SEARCH_SOURCE", "SHAPES", "SOURCES", "funded_plan", "lender", "shape", "size_cap"]

SOURCES = ("balancer_v2", "uniswap_v3", "uniswap_v2", "inventory")  # FlashSource kinds
SEARCH_SOURCE = {  # FlashSource kind -> the search's name (GasModel, FlashPlan)
    "balancer_v2": "balancer_v2",
    "uniswap_v3": "uniswap_v3_flash",
    "uniswap_v2": "uniswap_v2_flash",
    "inventory": "inventory",
}


def _uni(w3: Web3) -> PoolInfo:
    return R.pool(w3, "uniswap_v2", A.WETH, A.USDC)


def _v3(w3: Web3, a: str, b: str, fee: int) -> PoolInfo:
    return R.pool(w3, "uniswap_v3", a, b, fee=fee)


def _bal(w3: Web3, a: str, b: str) -> PoolInfo:
    return R.pool(w3, "balancer", a, b)


SHAPES: dict[str, Callable[[Web3], Cycle]] = {
    "2-hop V2": lambda w3: R.v2_routes(w3)["2-hop"],
    "3-hop V2": lambda w3: R.v2_routes(w3)["3-hop"],
    "4-hop V2": lambda w3: R.v2_routes(w3)["4-hop"],
    "V2 > V3": lambda w3: R.cycle(
        A.USDC, (_uni(w3), A.WETH), (_v3(w3, A.WETH, A.USDC, 500), A.USDC)
    ),
    "V3 > V2": lambda w3: R.cycle(
        A.WETH, (_v3(w3, A.WETH, A.USDC, 500), A.USDC), (_uni(w3), A.WETH)
    ),
    "V2 > V3 > V2": lambda w3: R.cycle(
        A.USDC,
        (_uni(w3), A.WETH),
        (_v3(w3, A.WETH, A.DAI, 500), A.DAI),
        (R.pool(w3, "uniswap_v2", A.USDC, A.DAI), A.USDC),
    ),
    "V2 > V3 > V3": lambda w3: R.cycle(
        A.USDC,
        (_uni(w3), A.WETH),
        (_v3(w3, A.WETH, A.DAI, 500), A.DAI),
        (_v3(w3, A.DAI, A.USDC, 100), A.USDC),
    ),
    "V2 > Bal": lambda w3: R.cycle(A.USDC, (_uni(w3), A.WETH), (_bal(w3, A.WETH, A.USDC), A.USDC)),
    "Bal > V2": lambda w3: R.cycle(A.WETH, (_bal(w3, A.WETH, A.USDC), A.USDC), (_uni(w3), A.WETH)),
    "V2 > Bal > V2": lambda w3: R.cycle(
        A.USDC,
        (_uni(w3), A.WETH),
        (_bal(w3, A.WETH, A.DAI), A.DAI),
        (R.pool(w3, "uniswap_v2", A.USDC, A.DAI), A.USDC),
    ),
}


def shape(w3: Web3, name: str) -> Cycle:
    build = SHAPES.get(name)
    if build is None:
        raise FlasharbValueError(f"no route shape {name!r}; pick one of {', '.join(SHAPES)}")
    return build(w3)


def size_cap(token: str) -> int:
    """Upper end of the sizing search: 2,000,000 USDC or 2,000 WETH."""
    return R.usdc(2_000_000) if token == A.USDC else 2_000 * 10**18


def lender(w3: Web3, kind: str, route: Cycle, amount: int = 0) -> FlashSource:
    """The cheapest lender of `route.token` of `kind` that is not on the route (a lender is
    locked while it lends) and holds more than `amount`: for V3 the lowest fee tier, then
    the pool holding the most of the token (V2: the pair holding the most); ties by address.
    Raises FlasharbValueError when there is none."""
    if kind == "balancer_v2":
        return FlashSource.balancer()
    if kind == "inventory":
        return FlashSource.inventory()
    token, on_route = route.token, set(route.pools)
    if kind == "uniswap_v3":
        pools = [p for p in R.registry(w3) if p.kind is HopKind.UNISWAP_V3]
    elif kind == "uniswap_v2":
        pools = [p for p in R.registry(w3) if p.kind is HopKind.UNISWAP_V2]
    else:
        raise FlasharbValueError(f"capital source {kind!r} is not one of {', '.join(SOURCES)}")
    held = [
        (-p.fee, balance_of(w3, token, p.address), p.address.lower(), p)
        for p in pools
        if token in p.tokens and p.address not in on_route
    ]
    held = [h for h in held if h[1] > amount]
    if not held:
        raise FlasharbValueError(f"no {kind} pool off the route lends {amount} of {token}")
    best = max(held, key=lambda t: t[:3])[3]
    other = next(t for t in best.tokens if t != token)
    if kind == "uniswap_v3":
        return FlashSource.uniswap_v3(best.address, token, other, best.fee)
    return FlashSource.uniswap_v2(best.address, token, other, best.fee)


def funded_plan(ex: Executor, route: Cycle, kind: str) -> Plan:
    """`route` sized exactly for the cheapest lender of `kind` that can lend its best input
    (sized for the cheapest lender first; if that one holds too little, for the next)."""
    amount = 0
    for _ in range(4):
        src = lender(ex.w3, kind, route, amount)
        plan = R.sized_plan(ex, route, src, size_cap(route.token)).plan
        if src.kind not in ("uniswap_v3", "uniswap_v2"):
            return plan
        if balance_of(ex.w3, route.token, src.lender) > plan.amount_in:
            return plan
        amount = plan.amount_in
    raise FlasharbValueError(f"no {kind} lender holds enough {route.token} for {route.pools}")
