"""Steps the experiments share: find a venue's deepest WETH pool, and backrun the market as it
stands (scan, execute the pool-disjoint selection, value what was captured in ETH)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from web3 import Web3

from flasharb.amm.balancer_weighted import WeightedPoolState
from flasharb.chain import addresses as A
from flasharb.chain.cheats import balance_of
from flasharb.errors import FlasharbValueError, TransactionFailed
from flasharb.execute.executor import Executor
from flasharb.experiments.base import Context, Metrics
from flasharb.search.rank import select_disjoint, token_value_in_eth
from flasharb.search.scan import scan
from flasharb.state.discovery import discover
from flasharb.state.reader import read_states

__all__ = ["backrun", "deepest_weth_pool"]


def deepest_weth_pool(w3: Web3, venue: str) -> str:
    """The pool of `venue` that holds the most WETH."""
    registry = discover(w3)
    pools = [p for p in registry.of_venue(venue) if A.WETH in p.tokens]
    if not pools:
        raise FlasharbValueError(f"no {venue} pool holds WETH on this fork")
    states = read_states(w3, pools).states

    def held(address: str) -> int:
        s = states.get(address)
        if isinstance(s, WeightedPoolState):
            return s.balances[s.tokens.index(A.WETH)]
        return balance_of(w3, A.WETH, address)

    return max((p.address for p in pools), key=held)


def backrun(ctx: Context, *, priority_fee_wei: int, max_hops: int = 3, top: int = 3) -> Metrics:
    """Scan now, execute up to `top` pool-disjoint opportunities that net a profit, and say what
    was captured: realized profit valued in ETH at the scan's prices, less gas at the scan's gas
    price (base fee + `priority_fee_wei`). Amounts are decimal strings."""
    w3 = ctx.w3
    res = scan(w3, max_hops=max_hops, priority_fee_wei=priority_fee_wei)
    states: Mapping[str, Any] = getattr(res, "states", {})
    chosen = select_disjoint([o for o in res.opportunities if o.net_profit > 0])[:top]
    ex = Executor(w3, ctx.deployment)
    realized_eth = gas_used = reverted = 0
    hops: list[int] = []
    predicted_eth = 0
    for opp in chosen:
        try:
            trade = ex.execute(opp, states=states)
        except TransactionFailed:
            reverted += 1
            continue
        realized_eth += token_value_in_eth(opp.cycle.token, trade.realized_profit, states, A.WETH)
        predicted_eth += opp.net_profit_eth
        gas_used += trade.gas_used
        hops.append(len(opp.cycle.hops))
    gas_cost = gas_used * res.gas_price_wei
    return {
        "block": res.block,
        "gas_price_wei": str(res.gas_price_wei),
        "opportunities": len(res.opportunities),
        "trades": len(hops),
        "reverted": reverted,
        "best_route_hops": max(hops) if hops else 0,
        "route_hops": hops,
        "gas_used": gas_used,
        "gas_cost_wei": str(gas_cost),
        "predicted_net_eth_wei": str(predicted_eth),
        "realized_eth_wei": str(realized_eth),
        "captured_net_eth_wei": str(realized_eth - gas_cost),
    }
