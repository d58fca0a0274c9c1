"""Encode a route, simulate it with eth_call, send it, and reconcile predicted, simulated and
realized profit and gas to the wei."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError
from web3.logs import DISCARD

from flasharb.chain.cheats import balance_of
from flasharb.chain.rpc import contract_at
from flasharb.errors import FlasharbValueError, TransactionFailed
from flasharb.execute.deploy import Deployment, diamond_abi
from flasharb.execute.revert import decode_revert, revert_data
from flasharb.search.cycles import Cycle
from flasharb.search.rank import Opportunity

HOP_KIND = {"uniswap_v2": 0}  # FlashArbFacet Hop.kind
DEADLINE_BLOCKS = 2  # executeArb reverts if not mined within this many blocks
GAS_HEADROOM_PCT = 25  # gas limit = estimate * (100 + headroom) / 100


@dataclass(frozen=True, slots=True, kw_only=True)
class Trade:
    opportunity: Opportunity
    amount_in: int
    predicted_profit: int  # Python exact math on the state the scan read
    simulated_profit: int  # eth_call of the exact transaction, one block before inclusion
    realized_profit: int  # the diamond's balance change in the receipt's block
    event_profit: int  # what ArbExecuted reported
    gas_estimate: int  # the gas model's figure used for ranking
    gas_used: int
    effective_gas_price: int
    tx_hash: str
    block: int

    def to_json(self) -> dict[str, Any]:
        route = self.opportunity.to_json()["route"]
        return {
            "route": route,
            "profit_token": self.opportunity.cycle.token,
            "amount_in": str(self.amount_in),
            "predicted_profit": str(self.predicted_profit),
            "simulated_profit": str(self.simulated_profit),
            "realized_profit": str(self.realized_profit),
            "gas_estimate": str(self.gas_estimate),
            "gas_used": str(self.gas_used),
            "gas_cost_wei": str(self.gas_used * self.effective_gas_price),
            "tx_hash": self.tx_hash,
            "block": self.block,
        }


def encode_route(cycle: Cycle, amount_in: int) -> tuple[Any, ...]:
    hops = []
    for hop in cycle.hops:
        if hop.kind not in HOP_KIND:
            raise FlasharbValueError(
                f"hop kind {hop.kind!r} is not executable yet (pool {hop.pool})"
            )
        hops.append((HOP_KIND[hop.kind], hop.pool, hop.token_in, hop.token_out, hop.fee_pips))
    return (cycle.token, amount_in, hops)


class Executor:
    """Sends `executeArb` through a deployed diamond, as its owner."""

    def __init__(self, w3: Web3, deployment: Deployment, sender: str | None = None) -> None:
        self.w3 = w3
        self.dep = deployment
        self.sender = sender or deployment.owner
        self.diamond = contract_at(w3, deployment.diamond, diamond_abi())

    def _tx(self, cycle: Cycle, amount_in: int, min_profit: int, deadline: int) -> dict[str, Any]:
        fn = self.diamond.functions.executeArb(encode_route(cycle, amount_in), min_profit, deadline)
        return {"from": self.sender, "to": self.dep.diamond, "data": fn._encode_transaction_data()}

    def simulate(
        self, cycle: Cycle, amount_in: int, min_profit: int = 0, block: int | str = "latest"
    ) -> int:
        """Profit the exact transaction would make (eth_call); TransactionFailed on revert."""
        deadline = self.w3.eth.block_number + DEADLINE_BLOCKS
        tx = self._tx(cycle, amount_in, min_profit, deadline)
        try:
            out = self.w3.eth.call(tx, block)  # type: ignore[arg-type]
        except (ContractCustomError, ContractLogicError, Web3RPCError) as exc:
            raise TransactionFailed(
                "executeArb simulation", decode_revert(revert_data(exc))
            ) from exc
        return int.from_bytes(bytes(out)[:32], "big")

    def execute(self, opp: Opportunity, min_profit: int | None = None) -> Trade:
        """Simulate, send, wait, and reconcile. `min_profit` defaults to the gas cost in tokens."""
        cycle, amount_in = opp.cycle, opp.amount_in
        guard = opp.gas_cost if min_profit is None else min_profit
        simulated = self.simulate(cycle, amount_in, guard)
        head = self.w3.eth.block_number
        tx = self._tx(cycle, amount_in, guard, head + DEADLINE_BLOCKS)
        estimate = self.w3.eth.estimate_gas(tx)  # type: ignore[arg-type]
        tx["gas"] = estimate * (100 + GAS_HEADROOM_PCT) // 100
        try:
            tx_hash = self.w3.eth.send_transaction(tx)  # type: ignore[arg-type]
        except (ContractCustomError, ContractLogicError, Web3RPCError) as exc:
            raise TransactionFailed("executeArb", decode_revert(revert_data(exc))) from exc
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=0.01)
        if receipt["status"] != 1:
            raise TransactionFailed("executeArb", f"status 0 in {tx_hash.hex()}")
        block = receipt["blockNumber"]
        token = cycle.token
        realized = balance_of(self.w3, token, self.dep.diamond, block) - balance_of(
            self.w3, token, self.dep.diamond, block - 1
        )
        events = self.diamond.events.ArbExecuted().process_receipt(receipt, errors=DISCARD)
        event_profit = int(events[0]["args"]["profit"]) if events else -1
        return Trade(
            opportunity=opp,
            amount_in=amount_in,
            predicted_profit=opp.gross_profit - opp.flash_fee,
            simulated_profit=simulated,
            realized_profit=realized,
            event_profit=event_profit,
            gas_estimate=opp.gas_estimate,
            gas_used=receipt["gasUsed"],
            effective_gas_price=receipt["effectiveGasPrice"],
            tx_hash="0x" + tx_hash.hex().removeprefix("0x"),
            block=block,
        )


__all__ = ["Executor", "Trade", "encode_route"]
