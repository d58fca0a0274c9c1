"""One scan: read every pool at a block, index the cycles, size and rank them net of gas."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from web3 import Web3

from flasharb.amm.uniswap_v2 import V2PairState
from flasharb.chain import addresses as A
from flasharb.chain.cheats import balance_of
from flasharb.search.cycles import CycleIndex
from flasharb.search.rank import GasModel, Opportunity, rank, token_value_in_eth
from flasharb.search.sizing import simulate
from flasharb.state.v2 import by_address, discover_pairs

DEFAULT_PRIORITY_FEE_WEI = 100_000_000  # 0.1 gwei tip on top of the block's base fee


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanResult:
    block: int
    base_fee_wei: int
    gas_price_wei: int
    pools: list[V2PairState]
    cycles: int
    opportunities: list[Opportunity]

    def to_json(self) -> dict[str, Any]:
        return {
            "block": self.block,
            "gas_price_wei": str(self.gas_price_wei),
            "pools": len(self.pools),
            "cycles": self.cycles,
            "opportunities": [o.to_json() for o in self.opportunities],
        }


def flash_tokens(w3: Web3, block: int) -> dict[str, int]:
    """Tokens the Balancer Vault can lend right now, with how much."""
    out = {}
    for token in A.FLASH_TOKENS:
        if w3.eth.get_code(token, block):  # type: ignore[arg-type]
            held = balance_of(w3, token, A.BALANCER_VAULT, block)
            if held > 0:
                out[token] = held
    return out


def _cap_to_vault(
    opp: Opportunity, states: dict[str, V2PairState], lendable: int
) -> Opportunity | None:
    """The Vault cannot lend more than it holds: size down to what it has, exactly."""
    if opp.amount_in <= lendable:
        return opp
    amounts = simulate(opp.cycle, states, lendable)
    gross = amounts[-1] - lendable
    if gross - opp.flash_fee - opp.gas_cost <= 0:
        return None
    net = gross - opp.flash_fee - opp.gas_cost
    return replace(
        opp,
        amount_in=lendable,
        amount_out=amounts[-1],
        gross_profit=gross,
        net_profit=net,
        net_profit_eth=token_value_in_eth(opp.cycle.token, net, states, A.WETH),
    )


def scan(
    w3: Web3,
    *,
    max_hops: int = 3,
    priority_fee_wei: int = DEFAULT_PRIORITY_FEE_WEI,
    gas_model: GasModel | None = None,
    block: int | None = None,
) -> ScanResult:
    number = block if block is not None else w3.eth.block_number
    header = w3.eth.get_block(number)
    base_fee = int(header.get("baseFeePerGas", 0))
    gas_price = base_fee + priority_fee_wei
    pools = discover_pairs(w3, block=number)
    states = by_address(pools)
    lendable = flash_tokens(w3, number)
    index = CycleIndex.build(pools, lendable.keys(), max_hops=max_hops)
    ranked = rank(
        index, states, weth=A.WETH, gas_price_wei=gas_price, gas_model=gas_model or GasModel()
    )
    capped = [
        c for o in ranked if (c := _cap_to_vault(o, states, lendable[o.cycle.token])) is not None
    ]
    capped.sort(key=lambda o: o.net_profit_eth, reverse=True)
    return ScanResult(
        block=number,
        base_fee_wei=base_fee,
        gas_price_wei=gas_price,
        pools=pools,
        cycles=len(index),
        opportunities=capped,
    )
