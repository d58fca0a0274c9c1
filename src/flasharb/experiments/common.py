"""Steps the experiments share: find a venue's deepest WETH pool, and backrun the market as it
stands through the one trading path (market, select, trader), valuing what was captured in
ETH."""

from __future__ import annotations

from web3 import Web3

from flasharb.amm.balancer_weighted import WeightedPoolState
from flasharb.chain import addresses as A
from flasharb.chain.cheats import balance_of
from flasharb.errors import FlasharbValueError
from flasharb.execute.trader import SendPolicy, Trader
from flasharb.experiments.base import Context, Metrics
from flasharb.search.market import Market, MarketConfig
from flasharb.state.discovery import discover
from flasharb.state.reader import read_states

__all__ = ["backrun", "deepest_weth_pool", "trader"]


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


def trader(ctx: Context, priority_fee_wei: int | None = None) -> Trader:
    """The worker's trader: the diamond's executor signs (a lab account)."""
    policy = (
        SendPolicy() if priority_fee_wei is None else SendPolicy(priority_fee_wei=priority_fee_wei)
    )
    return Trader(ctx.w3, ctx.deployment, ctx.deployment.trading_signer(), policy=policy)


def backrun(ctx: Context, *, priority_fee_wei: int, max_hops: int = 3, top: int = 3) -> Metrics:
    """Build the market now, send up to `top` pool-disjoint opportunities that net a profit
    (the one selection policy and the one trader), and say what was captured: realized profit
    valued in ETH at the market's prices, less gas at the market's gas price (next base fee +
    `priority_fee_wei`). Amounts are decimal strings."""
    market = Market.build(
        ctx.w3, MarketConfig(max_hops=max_hops, priority_fee_wei=priority_fee_wei)
    )
    chosen = market.select(top=top)
    trades, failed = trader(ctx, priority_fee_wei).execute(chosen, market.head)
    opps = [t.opportunity for t in trades]
    assert all(o is not None for o in opps)  # `execute` sends opportunities, not bare plans
    realized_eth = sum(
        o.price.to_eth(t.realized_profit) for o, t in zip(opps, trades, strict=True) if o
    )
    predicted_eth = sum(o.net_profit_eth for o in opps if o)
    gas_used = sum(t.gas_used for t in trades)
    hops = [len(t.plan.cycle.hops) for t in trades]
    gas_cost = gas_used * market.gas_price_wei
    return {
        "block": market.block,
        "gas_price_wei": str(market.gas_price_wei),
        "opportunities": len(market.opportunities()),
        "trades": len(trades),
        "reverted": len(failed),
        "best_route_hops": max(hops) if hops else 0,
        "route_hops": hops,
        "gas_used": gas_used,
        "gas_cost_wei": str(gas_cost),
        "predicted_net_eth_wei": str(predicted_eth),
        "realized_eth_wei": str(realized_eth),
        "captured_net_eth_wei": str(realized_eth - gas_cost),
    }
