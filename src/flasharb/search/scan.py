"""One scan: the body of `flasharb scan`, a `Market` built at a block and read once.

1. Discovery (`state.discovery.discover`): V2-style factories, the Uniswap V3 factory and the
   Balancer Vault, at the block.
2. One batched read of every pool's state (`state.reader.read_states`); pools that fail to read
   are left out and named in `ScanResult.failed`.
3. `CycleIndex` of 2..`max_hops` hops from the tokens the lenders hold (`FLASH_TOKENS`).
4. The `OpportunityBook`: float screen (with the gas floor), exact sizing, a capital source per
   route from the lenders read at the block (Vault balances and flash fee, V3 pools' balances,
   V2 reserves: capital.py), the input re-sized for that source's fee, and the net of flash fee
   and gas on the route's exact calldata (gas.py) at the next block's base fee plus the tip,
   the gas bill converted into the profit token at its deepest WETH pool's price.
5. `selected`: the routes the selection policy (select.py) takes from the list, best first,
   each sharing no pool with those before.

A long-running process keeps the `Market` and calls `update()` per block instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from web3 import Web3

from flasharb.search.capital import Lenders
from flasharb.search.gas import GasModel
from flasharb.search.market import DEFAULT_PRIORITY_FEE_WEI, Market, MarketConfig
from flasharb.search.rank import Opportunity
from flasharb.search.select import select
from flasharb.state.registry import PoolInfo

__all__ = ["DEFAULT_PRIORITY_FEE_WEI", "ScanResult", "scan"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanResult:
    """What one scan saw and found. `opportunities`: every route that nets a profit (or the
    best `limit` of them), best first by net profit in ETH; `selected`: those of them the
    selection policy takes, best first, each sharing no pool with those before (what
    `execute --top K` would send, for K as large as the list)."""

    block: int
    base_fee_wei: int  # of the next block: what a transaction sent now pays
    gas_price_wei: int
    max_hops: int
    pools: list[PoolInfo]  # every pool read, with its venue
    states: dict[str, Any]  # pool address -> exact state at `block`
    failed: dict[str, str] = field(default_factory=dict)  # pool -> why it could not be read
    lenders: Lenders = field(default_factory=Lenders)
    cycles: int
    opportunities: list[Opportunity]
    selected: list[Opportunity]

    @classmethod
    def of(cls, market: Market, limit: int | None = None) -> ScanResult:
        """The market as it stands, as one scan's result: every opportunity, or the best
        `limit` (only what could be among them is sized: `Market.opportunities`)."""
        opportunities = market.opportunities(limit=limit)
        return cls(
            block=market.block,
            base_fee_wei=market.head.next_base_fee,
            gas_price_wei=market.gas_price_wei,
            max_hops=market.config.max_hops,
            pools=[info for info in market.registry if info.uid in market.states],
            states=dict(market.states),
            failed=dict(market.stale),
            lenders=market.lenders,
            cycles=len(market.index),
            opportunities=opportunities,
            selected=select(opportunities, top=max(len(opportunities), 1)),
        )

    def to_json(self, limit: int | None = None) -> dict[str, Any]:
        """DESIGN.md section 5: `{"block", "opportunities": [...]}`, plus the scan's figures;
        each opportunity also says whether the selection policy takes it (`selected`).
        `limit`: only the best `limit` opportunities are encoded."""
        chosen = {id(o) for o in self.selected}
        shown = self.opportunities if limit is None else self.opportunities[:limit]
        return {
            "block": self.block,
            "base_fee_wei": str(self.base_fee_wei),
            "gas_price_wei": str(self.gas_price_wei),
            "max_hops": self.max_hops,
            "pools": len(self.pools),
            "unreadable_pools": dict(self.failed),
            "cycles": self.cycles,
            "opportunities": [{**o.to_json(), "selected": id(o) in chosen} for o in shown],
        }


def scan(
    w3: Web3,
    *,
    max_hops: int | None = None,
    priority_fee_wei: int | None = None,
    gas_model: GasModel | None = None,
    block: int | None = None,
    min_net_profit_eth: int | None = None,
    config: MarketConfig | None = None,
    limit: int | None = None,
) -> ScanResult:
    """Ranked opportunities at `block` (default: the head), net of flash fee and gas, in the
    market of `config` (default: `MarketConfig()`; a project's: `flasharb.config.load_config()
    .market()`); the other keywords, when given, override its fields (defaults: 3 hops, a
    0.1 gwei tip, no minimum profit). `limit`: only the best `limit` opportunities, and only
    the candidates that could be among them sized (`flasharb scan --limit`).

    Raises:
        FlasharbValueError: `max_hops` outside 2..4 or a negative priority fee.
    """
    given: dict[str, Any] = {
        "max_hops": max_hops,
        "priority_fee_wei": priority_fee_wei,
        "min_net_profit_eth": min_net_profit_eth,
        "gas_model": gas_model,
    }
    cfg = replace(config or MarketConfig(), **{k: v for k, v in given.items() if v is not None})
    return ScanResult.of(Market.build(w3, cfg, block=block), limit=limit)
