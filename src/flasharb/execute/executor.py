"""Plan a route for FlashArbFacet, simulate it with eth_call, send it, and reconcile predicted,
simulated and realized profit and gas to the wei.

The plan itself (capital source, packed path and amounts) is in `flasharb.execute.plan`, the
planning from pool states in `flasharb.execute.planner`, the gas model in
`flasharb.execute.gas`; their public names are importable from here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError
from web3.logs import DISCARD

from flasharb.chain.cheats import balance_of
from flasharb.chain.rpc import contract_at
from flasharb.errors import NonceClashError, TradeRefused, TransactionFailed
from flasharb.execute.deploy import Deployment, diamond_abi
from flasharb.execute.gas import ExecGas
from flasharb.execute.plan import (
    FEE_DENOMINATOR,
    HOP_KIND,
    MAX_AMOUNT_IN,
    MAX_HOPS,
    ONE_18,
    SOURCE_KIND,
    ZERO_ADDRESS,
    FlashSource,
    Plan,
    encode_amounts,
    encode_path,
    v3_pool_address,
)
from flasharb.execute.planner import SEARCH_SOURCES, V3_FEES, Quoter, RoutePlanner, SearchFlashPlan
from flasharb.execute.revert import decode_revert, revert_data
from flasharb.search.cycles import Cycle
from flasharb.search.rank import Opportunity

__all__ = [
    "ExecGas",
    "Executor",
    "FlashSource",
    "Plan",
    "Trade",
    "encode_amounts",
    "encode_path",
    "v3_pool_address",
    # re-exported from plan and planner, where they moved
    "FEE_DENOMINATOR",
    "HOP_KIND",
    "MAX_AMOUNT_IN",
    "MAX_HOPS",
    "ONE_18",
    "SEARCH_SOURCES",
    "SOURCE_KIND",
    "V3_FEES",
    "ZERO_ADDRESS",
    "Quoter",
    "SearchFlashPlan",
]

DEADLINE_BLOCKS = 2  # executeArb reverts if not mined within this many blocks
GAS_HEADROOM_PCT = 25  # gas limit = estimate * (100 + headroom) / 100


@dataclass(frozen=True, slots=True, kw_only=True)
class Trade:
    opportunity: Opportunity | None  # None when executed from a bare plan
    plan: Plan
    amount_in: int
    predicted_profit: int  # Python exact math on the pool states the plan was made from
    simulated_profit: int  # eth_call of the exact transaction, one block before inclusion
    realized_profit: int  # the diamond's balance change in the receipt's block
    event_profit: int  # what ArbExecuted reported
    gas_estimate: int  # the search's gas model figure used for ranking
    gas_predicted: int  # ExecGas on the exact calldata
    gas_used: int
    effective_gas_price: int
    access_list: bool  # sent with an eth_createAccessList access list
    tx_hash: str
    block: int

    def to_json(self) -> dict[str, Any]:
        route = [
            {"pool": h.pool, "kind": h.kind, "token_in": h.token_in, "token_out": h.token_out}
            for h in self.plan.cycle.hops
        ]
        return {
            "route": route,
            "route_hash": self.plan.route_hash,
            "profit_token": self.plan.cycle.token,
            "flash_source": self.plan.source.kind,
            "lender": self.plan.source.lender,
            "amount_in": str(self.amount_in),
            "amounts_out": [str(a) for a in self.plan.amounts],
            "flash_fee": str(self.plan.flash_fee),
            "predicted_profit": str(self.predicted_profit),
            "simulated_profit": str(self.simulated_profit),
            "realized_profit": str(self.realized_profit),
            "event_profit": str(self.event_profit),
            "gas_estimate": str(self.gas_estimate),
            "gas_predicted": str(self.gas_predicted),
            "gas_used": str(self.gas_used),
            "gas_cost_wei": str(self.gas_used * self.effective_gas_price),
            "access_list": self.access_list,
            "tx_hash": self.tx_hash,
            "block": self.block,
        }


class Executor(RoutePlanner):
    """Sends `executeArb` through a deployed diamond, as its owner or an allowed executor."""

    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        sender: str | None = None,
        gas: ExecGas | None = None,
    ) -> None:
        self.w3 = w3
        self.dep = deployment
        self.sender = sender or deployment.owner
        self.diamond = contract_at(w3, deployment.diamond, diamond_abi())
        self.gas = gas or ExecGas()
        self._pool_ids: dict[str, bytes] = {}
        self._balancer_fee: int | None = None

    # ------------------------------------------------------------ simulate, send

    def calldata(self, plan: Plan, min_profit: int, deadline_block: int) -> bytes:
        """executeArb(source, path, amounts, minProfit, deadlineBlock), ABI-encoded."""
        fn = self.diamond.functions.executeArb(
            plan.source.word, plan.path, plan.packed_amounts, min_profit, deadline_block
        )
        return bytes.fromhex(fn._encode_transaction_data()[2:])

    def tx(self, plan: Plan, min_profit: int, deadline_block: int) -> dict[str, Any]:
        data = self.calldata(plan, min_profit, deadline_block)
        return {"from": self.sender, "to": self.dep.diamond, "data": "0x" + data.hex()}

    def simulate_plan(self, plan: Plan, min_profit: int = 0, block: int | str = "latest") -> int:
        """Profit the exact transaction would make (eth_call); TransactionFailed on revert."""
        tx = self.tx(plan, min_profit, self.w3.eth.block_number + DEADLINE_BLOCKS)
        try:
            out = self.w3.eth.call(tx, block)  # type: ignore[arg-type]
        except (ContractCustomError, ContractLogicError, Web3RPCError) as exc:
            raise TransactionFailed(
                "executeArb simulation", decode_revert(revert_data(exc))
            ) from exc
        return int.from_bytes(bytes(out)[:32], "big")

    def simulate(
        self,
        cycle: Cycle,
        amount_in: int,
        min_profit: int = 0,
        block: int | str = "latest",
        *,
        source: FlashSource | None = None,
        states: Mapping[str, Quoter] | None = None,
    ) -> int:
        """Plan `cycle` at `amount_in` and eth_call it: the profit it would make."""
        plan = self.plan(cycle, amount_in, source=source, states=states, block=block)
        return self.simulate_plan(plan, min_profit, block)

    def access_list(self, tx: Mapping[str, Any]) -> list[dict[str, Any]]:
        """eth_createAccessList for `tx`, less the entry for `tx["to"]`: the recipient is warm
        anyway, so listing it costs 2,400 gas and its slots save 200 each (EIP-2930); four
        slots of the diamond's are read, so the entry would lose 1,600."""
        resp = self.w3.provider.make_request("eth_createAccessList", [dict(tx), "latest"])  # type: ignore[arg-type]
        if "error" in resp:
            raise TransactionFailed("eth_createAccessList", str(resp["error"]))
        to = str(tx["to"]).lower()
        return [e for e in resp["result"]["accessList"] if str(e["address"]).lower() != to]

    def execute(
        self,
        opp: Opportunity,
        min_profit: int | None = None,
        *,
        source: FlashSource | None = None,
        states: Mapping[str, Quoter] | None = None,
        use_access_list: bool = False,
    ) -> Trade:
        """Plan, simulate, send, wait and reconcile `opp`. `min_profit` defaults to the gas
        cost in tokens the search priced in. The capital source is `source`, else the search's
        flash plan if the opportunity carries one (`opp.flash`), else `default_source`."""
        flash: SearchFlashPlan | None = getattr(opp, "flash", None)
        if source is None and flash is not None:
            source = self.source_of(opp.cycle.token, flash, opp.amount_in)
        plan = self.plan(opp.cycle, opp.amount_in, source=source, states=states)
        guard = opp.gas_cost if min_profit is None else min_profit
        return self.execute_plan(
            plan,
            guard,
            opportunity=opp,
            gas_estimate=opp.gas_estimate,
            use_access_list=use_access_list,
        )

    def _refuse_if_gas_eats_profit(self, opp: Opportunity | None, simulated: int, gas: int) -> None:
        """TradeRefused (nothing sent) when the gas at the next block's base fee costs at least
        the simulated profit, valued in ETH at the opportunity's own rate (net_profit_eth /
        net_profit). Without an opportunity there is no rate, and `min_profit` is the guard."""
        net, net_eth = getattr(opp, "net_profit", 0), getattr(opp, "net_profit_eth", 0)
        if net <= 0 or net_eth <= 0:
            return
        base_fee = int(self.w3.eth.get_block("pending").get("baseFeePerGas") or 0)
        gas_price = base_fee + int(self.w3.eth.max_priority_fee)
        profit_eth = simulated * net_eth // net
        if profit_eth <= gas * gas_price:
            raise TradeRefused(
                "executeArb",
                f"not sent: at the next block's base fee ({base_fee / 1e9:.3f} gwei) gas costs "
                f"{gas * gas_price} wei of ETH, the trade makes {profit_eth} (state moved since "
                "the scan; scan again)",
            )

    def _send(self, tx: dict[str, Any], plan: Plan, min_profit: int) -> Any:
        """Send with the account's pending nonce; if another transaction took it first (nonce too
        low), simulate again (it may have moved state) and retry once with a fresh nonce."""
        for attempt in (1, 2):
            tx["nonce"] = self.w3.eth.get_transaction_count(self.sender, "pending")  # type: ignore[arg-type]
            try:
                return self.w3.eth.send_transaction(tx)  # type: ignore[arg-type]
            except (ContractCustomError, ContractLogicError, Web3RPCError) as exc:
                text = str(getattr(exc, "message", None) or exc)
                if "nonce too low" not in text.lower():
                    raise TransactionFailed("executeArb", decode_revert(revert_data(exc))) from exc
                if attempt == 2:
                    raise NonceClashError(self.sender, tx["nonce"], text) from exc
                self.simulate_plan(plan, min_profit)
        raise AssertionError("unreachable")  # pragma: no cover

    def execute_plan(
        self,
        plan: Plan,
        min_profit: int = 0,
        *,
        opportunity: Opportunity | None = None,
        gas_estimate: int = 0,
        use_access_list: bool = False,
    ) -> Trade:
        """Simulate `plan`, send it, wait, and reconcile profit and gas."""
        simulated = self.simulate_plan(plan, min_profit)
        head = self.w3.eth.block_number
        tx = self.tx(plan, min_profit, head + DEADLINE_BLOCKS)
        if use_access_list:
            tx["accessList"] = self.access_list(tx)
        estimate = self.w3.eth.estimate_gas(tx)  # type: ignore[arg-type]
        tx["gas"] = estimate * (100 + GAS_HEADROOM_PCT) // 100
        token, diamond = plan.cycle.token, self.dep.diamond
        dust = balance_of(self.w3, token, diamond) > 0
        predicted_gas = self.gas.predict(plan, bytes.fromhex(tx["data"][2:]), dust=dust)
        self._refuse_if_gas_eats_profit(opportunity, simulated, estimate)
        tx_hash = self._send(tx, plan, min_profit)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=0.01)
        if receipt["status"] != 1:
            raise TransactionFailed("executeArb", f"status 0 in {tx_hash.hex()}")
        block = receipt["blockNumber"]
        realized = balance_of(self.w3, token, diamond, block) - balance_of(
            self.w3, token, diamond, block - 1
        )
        events = self.diamond.events.ArbExecuted().process_receipt(receipt, errors=DISCARD)
        event_profit = int(events[0]["args"]["profit"]) if events else -1
        return Trade(
            opportunity=opportunity,
            plan=plan,
            amount_in=plan.amount_in,
            predicted_profit=plan.predicted_profit,
            simulated_profit=simulated,
            realized_profit=realized,
            event_profit=event_profit,
            gas_estimate=gas_estimate,
            gas_predicted=predicted_gas,
            gas_used=receipt["gasUsed"],
            effective_gas_price=receipt["effectiveGasPrice"],
            access_list=use_access_list,
            tx_hash="0x" + tx_hash.hex().removeprefix("0x"),
            block=block,
        )
