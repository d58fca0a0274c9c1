"""The one path from opportunity to receipt: prepare (plan, sign, simulate as mined), send
(the signed bytes), reconcile (receipt, realized profit, event).

    trader = Trader(w3, deployment, deployment.trading_signer())   # the executor's key
    prepared = trader.prepare(market.select(top=2), market.head)   # nothing sent
    trades = [trader.reconcile(trader.send(p)) for p in prepared if p.ok]

`flasharb execute` (and `--dry-run`, which stops after `prepare` and shows exactly the signed
transactions `execute` would send: same bytes, same hashes), the demo, `flasharb run`, every
experiment and the backrunner go through this class.

Simulate as mined: every prepared transaction is signed first, then its exact fields (sender,
nonce, gas limit, fee caps, calldata) run in one `eth_simulateV1` request on the block that
will hold them: number = head + 1, timestamp = head + `SendPolicy.slot_seconds` (the lab mines
12 s apart), coinbase = the head's, base fee = the next block's (EIP-1559 from the head), with
validation on, so `tx.gasprice`, `block.basefee`, `block.coinbase`, `block.number` and
`block.timestamp` are what the mined transaction will see; transactions that must land first
(a pending victim) run before them. What the node cannot reproduce: `block.prevrandao` and the
other transactions a real builder puts in the block. A transaction whose simulation reverts, or
whose profit does not pay its gas at the next base fee, is refused: never sent.

The gas limit is `GasModel`'s figure on the exact calldata plus `gas_headroom_pct` and
`gas_margin`, and the simulation runs with exactly that limit: a transaction that fits in
simulation fits when mined. The headroom is wide because a receipt's gas is net of refunds:
a V3 flash around a Balancer hop used 294,929 gas and needed a 365,000 limit (the Vault's,
the pools' and the tokens' storage refunds come back only at the end, up to a fifth of the
gross; and each nested call keeps 1/64 of what it forwards). A simulation that runs out of gas
is tried once more at twice the limit. The worst a sent transaction can cost if it reverts
anyway is `gas_limit * max_fee_per_gas`, shown with every prepared transaction.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from web3 import Web3
from web3.types import RPCEndpoint

from flasharb.chain.addresses import WETH
from flasharb.errors import (
    FlasharbRuntimeError,
    FlasharbValueError,
    NonceClashError,
    TransactionFailed,
)
from flasharb.execute.deploy import Deployment
from flasharb.execute.plan import Plan, plan
from flasharb.execute.revert import decode_revert
from flasharb.search.gas import GasModel, GasShape
from flasharb.search.market import DEFAULT_PRIORITY_FEE_WEI, Head
from flasharb.search.rank import Opportunity
from flasharb.state._rpc import batch, block_param, request

__all__ = [
    "ARB_EXECUTED",
    "ARB_EXECUTED_WITH_BRIBE",
    "BlockContext",
    "Prepared",
    "Reverted",
    "SendPolicy",
    "Trade",
    "TradeReverted",
    "Trader",
]

# issue 17: ArbExecuted(int256 indexed profit) anonymous, no bribe paid: a LOG1 whose one topic is
# the profit, with no data (256 gas less than the profit as a data word). Its signature's hash is
# kept for reference only: no log carries it. Found by `_event` (the diamond's log with one topic
# and no data).
ARB_EXECUTED = keccak(text="ArbExecuted(int256)")
ARB_EXECUTED_WITH_BRIBE = keccak(text="ArbExecutedWithBribe(int256,uint256)")  # profit, bribe
_BALANCE_OF = function_signature_to_4byte_selector("balanceOf(address)")
_RECEIPT_POLL_S = 0.01
OUT_OF_GAS = "out of gas"  # Prepared.error of a simulation that used its whole limit, no data


@dataclass(frozen=True, slots=True, kw_only=True)
class SendPolicy:
    """How the trader prices and bounds what it sends."""

    priority_fee_wei: int = DEFAULT_PRIORITY_FEE_WEI  # the tip: fixed, never a stranger's
    gas_headroom_pct: int = 60  # gas limit = the model's figure on the calldata * (1 + this)
    gas_margin: int = 20_000  # ... + this
    deadline_blocks: int = 2  # executeArb reverts if not mined within this many blocks
    slot_seconds: int = 12  # the next block's timestamp, after the head's (the lab's interval)
    receipt_timeout_s: float = 60.0
    # The most a transaction may cost if it is mined and reverts (gas limit x fee cap), as a
    # fraction of the profit it is expected to make (ETH, net of gas): above it, it is not sent.
    max_loss_bps: int = 5_000
    # Share of the realized profit executeArb pays block.coinbase, in basis points, out of the
    # profit above minProfit and only when the trade succeeds (at most the owner's cap,
    # GuardFacet.setMaxBribeBps, else it reverts BribeAboveCap).
    bribe_bps: int = 0

    def __post_init__(self) -> None:
        if self.priority_fee_wei < 0:
            raise FlasharbValueError(f"priority fee must be >= 0 wei, got {self.priority_fee_wei}")
        if not 0 <= self.max_loss_bps <= 10_000 * 100:
            raise FlasharbValueError(f"max_loss_bps must be in 0..1,000,000: {self.max_loss_bps}")
        if self.deadline_blocks < 1:
            raise FlasharbValueError(f"deadline_blocks must be >= 1: {self.deadline_blocks}")

    def max_fee(self, next_base_fee: int, tip: int) -> int:
        """The fee cap: enough for the base fee of every block up to the deadline (it rises by
        at most 1/8 a block, EIP-1559) plus the tip, and no more: the cap bounds what a
        reverted transaction can cost."""
        cap = next_base_fee
        for _ in range(self.deadline_blocks - 1):
            cap += -(-cap // 8)
        return cap + tip


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockContext:
    """The block a prepared transaction is meant for, as the simulation reproduces it."""

    number: int
    timestamp: int
    coinbase: str
    base_fee: int

    @classmethod
    def after(cls, head: Head, slot_seconds: int) -> BlockContext:
        return cls(
            number=head.number + 1,
            timestamp=head.timestamp + slot_seconds,
            coinbase=head.coinbase,
            base_fee=head.next_base_fee,
        )

    def overrides(self) -> dict[str, str]:
        return {
            "number": hex(self.number),
            "time": hex(self.timestamp),
            "feeRecipient": self.coinbase,
            "baseFeePerGas": hex(self.base_fee),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "timestamp": self.timestamp,
            "coinbase": self.coinbase,
            "base_fee_wei": str(self.base_fee),
            "not_reproduced": ["prevrandao", "other transactions of the block"],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """One signed executeArb and what its simulation as mined said. `ok`: it may be sent."""

    opportunity: Opportunity | None  # None: a hand-built plan (`prepare_plans`)
    plan: Plan
    sender: str
    to: str  # the diamond
    min_profit: int  # executeArb's on-chain guard, in the route token
    deadline_block: int
    bribe_bps: int  # share of the realized profit paid to block.coinbase (basis points)
    nonce: int
    gas_limit: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    gas_predicted: int  # GasModel on the exact calldata
    calldata: bytes = field(repr=False)
    raw_tx: bytes = field(repr=False)
    tx_hash: str
    context: BlockContext
    simulated_profit: int | None = None  # None: the simulation reverted
    simulated_gas: int | None = None
    error: str | None = None  # the decoded revert of the simulation
    refused: str | None = None  # why it is not sent

    @property
    def ok(self) -> bool:
        """It simulated to a profit that pays its gas, within the loss bound: it may be sent."""
        return self.simulated_profit is not None and self.refused is None

    @property
    def worst_case_cost_wei(self) -> int:
        """The most this transaction can cost its sender if it is mined and reverts."""
        return self.gas_limit * self.max_fee_per_gas

    @property
    def effective_gas_price(self) -> int:
        """What it pays per gas in the block it is meant for: min(fee cap, base fee + tip)."""
        return min(self.max_fee_per_gas, self.context.base_fee + self.max_priority_fee_per_gas)

    def to_eth(self, amount: int) -> int | None:
        """`amount` of the route token in ETH wei at the opportunity's price (floored); WETH is
        its own value; None for another token without an opportunity to price it."""
        if self.plan.cycle.token.lower() == WETH.lower():
            return amount
        if self.opportunity is None:
            return None
        return self.opportunity.price.to_eth(amount)

    def to_json(self) -> dict[str, Any]:
        """The `flasharb execute --dry-run --json` shape: route, amounts, profits, the signed
        transaction's fields, its worst case, the simulated block and why it was refused."""
        opp = self.opportunity
        route = [
            {"pool": h.pool, "kind": h.kind.label, "token_in": h.token_in, "token_out": h.token_out}
            for h in self.plan.cycle.hops
        ]
        return {
            "child": self.to,
            "route": route,
            "route_hash": self.plan.route_hash,
            "profit_token": self.plan.cycle.token,
            "flash_source": self.plan.source.label,
            "lender": self.plan.source.lender,
            "amount_in": str(self.plan.amount_in),
            "amounts_out": [str(a) for a in self.plan.amounts],
            "flash_fee": str(self.plan.flash_fee),
            "predicted_profit": str(self.plan.predicted_profit),
            "simulated_profit": None
            if self.simulated_profit is None
            else str(self.simulated_profit),
            "net_profit": None if opp is None else str(opp.net_profit),
            "net_profit_eth": None if opp is None else str(opp.net_profit_eth),
            "gas_estimate": str(self.gas_predicted if opp is None else opp.gas_estimate),
            "gas_predicted": str(self.gas_predicted),
            "gas_simulated": None if self.simulated_gas is None else str(self.simulated_gas),
            "tx": {
                "hash": self.tx_hash,
                "from": self.sender,
                "to": self.to,
                "nonce": self.nonce,
                "gas": self.gas_limit,
                "max_fee_per_gas": str(self.max_fee_per_gas),
                "max_priority_fee_per_gas": str(self.max_priority_fee_per_gas),
                "min_profit": str(self.min_profit),
                "deadline_block": self.deadline_block,
                "bribe_bps": self.bribe_bps,
                "data_keccak": "0x" + keccak(self.calldata).hex(),
            },
            "worst_case_cost_wei": str(self.worst_case_cost_wei),
            "simulated_block": self.context.to_json(),
            "error": self.error,
            "refused": self.refused,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Trade:
    """A sent trade, reconciled against its receipt."""

    prepared: Prepared
    realized_profit: int  # the diamond's balance change in the receipt's block
    event_profit: int | None  # what ArbExecuted reported (signed); None: no event
    bribe: int = 0  # what ArbExecuted says block.coinbase got (ETH for WETH routes, else token)
    gas_used: int
    effective_gas_price: int
    block: int
    index: int  # position in its block

    @property
    def plan(self) -> Plan:
        """The executeArb that was sent."""
        return self.prepared.plan

    @property
    def opportunity(self) -> Opportunity | None:
        """What the market found (None for a hand-built plan)."""
        return self.prepared.opportunity

    @property
    def amount_in(self) -> int:
        """Borrowed (or taken from inventory), in the route token."""
        return self.plan.amount_in

    @property
    def predicted_profit(self) -> int:
        """The plan's out - in - fee, computed with the pool math before anything was sent."""
        return self.plan.predicted_profit

    @property
    def simulated_profit(self) -> int:
        """executeArb's return value in the simulation as mined."""
        assert self.prepared.simulated_profit is not None  # only ok trades are sent
        return self.prepared.simulated_profit

    @property
    def gas_predicted(self) -> int:
        """The gas model's figure on the exact calldata."""
        return self.prepared.gas_predicted

    @property
    def tx_hash(self) -> str:
        """The hash of the signed transaction."""
        return self.prepared.tx_hash

    @property
    def child(self) -> str:
        """The diamond that traded (a child of the master, or the one diamond)."""
        return self.prepared.to

    @property
    def gas_cost_wei(self) -> int:
        """What the sender paid for the gas: gas used x the receipt's effective price."""
        return self.gas_used * self.effective_gas_price

    @property
    def realized_profit_eth(self) -> int | None:
        """The realized profit in ETH wei at the opportunity's own price (WETH is its own);
        None for a hand-built plan in another token: nothing priced it."""
        return self.prepared.to_eth(self.realized_profit)

    @property
    def bribe_eth(self) -> int | None:
        """The bribe in ETH wei: a WETH route pays it in ETH; other tokens at the trade's price."""
        return self.prepared.to_eth(self.bribe)

    def to_json(self) -> dict[str, Any]:
        """The `flasharb execute --json` trade shape (what `Journal.record_trade` takes)."""
        p = self.prepared
        out = p.to_json()
        out.pop("refused", None)
        out.pop("error", None)
        return out | {
            "simulated_profit": str(self.simulated_profit),
            "realized_profit": str(self.realized_profit),
            "realized_profit_eth": _opt(self.realized_profit_eth),
            "event_profit": _opt(self.event_profit),
            "bribe": str(self.bribe),
            "bribe_eth": _opt(self.bribe_eth),
            "gas_used": str(self.gas_used),
            "gas_cost_wei": str(self.gas_cost_wei),
            "effective_gas_price": str(self.effective_gas_price),
            "tx_hash": p.tx_hash,
            "block": self.block,
            "index": self.index,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Reverted:
    """A sent trade mined with status 0: what it cost (its gas is a loss; nothing moved)."""

    prepared: Prepared
    gas_used: int
    effective_gas_price: int
    block: int
    index: int

    @property
    def gas_cost_wei(self) -> int:
        return self.gas_used * self.effective_gas_price

    def to_json(self) -> dict[str, Any]:
        """`Prepared.to_json()` with the receipt's figures (the journal's reverted row)."""
        return self.prepared.to_json() | {
            "tx_hash": self.prepared.tx_hash,
            "block": self.block,
            "index": self.index,
            "gas_used": str(self.gas_used),
            "effective_gas_price": str(self.effective_gas_price),
            "gas_cost_wei": str(self.gas_cost_wei),
        }


class TradeReverted(TransactionFailed):
    """A sent trade was mined and reverted; `reverted` says what its gas cost."""

    def __init__(self, reverted: Reverted) -> None:
        self.reverted = reverted
        super().__init__(
            "executeArb",
            f"status 0 in {reverted.prepared.tx_hash} (block {reverted.block})",
        )


def _opt(value: int | None) -> str | None:
    return None if value is None else str(value)


class Trader:
    """Signs executeArb for a deployed diamond with one key, simulates it as mined, sends it,
    and reconciles it. Keeps its own nonce (read once, then counted)."""

    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        account: LocalAccount,
        *,
        policy: SendPolicy | None = None,
        gas_model: GasModel | None = None,
    ) -> None:
        self.w3 = w3
        self.dep = deployment
        self.account = account
        self.sender = to_checksum_address(account.address)
        self.policy = policy or SendPolicy()
        self.gas_model = gas_model or GasModel()
        self.chain_id = deployment.chain_id
        self._nonce: int | None = None
        self._dust: dict[str, bool] = {}  # route token -> the diamond holds some (gas model)
        self.last_timings: dict[str, float] = {}  # the last prepare: sign, simulate (seconds)

    # ------------------------------------------------------------ nonce

    def _next_nonce(self) -> int:
        if self._nonce is None:
            self._nonce = int(
                request(
                    self.w3,
                    "eth_getTransactionCount",
                    [self.sender, "pending"],
                    f"nonce of {self.sender}",
                ),
                16,
            )
        return self._nonce

    def resync_nonce(self) -> None:
        """Forget the counted nonce (another sender used the key): read it again next time."""
        self._nonce = None

    # ------------------------------------------------------------ prepare

    def _sign(
        self,
        p: Plan,
        opp: Opportunity | None,
        context: BlockContext,
        nonce: int,
        *,
        min_profit: int,
        gas_limit: int | None = None,
        tip: int | None = None,
        bribe_bps: int | None = None,
    ) -> Prepared:
        deadline = context.number - 1 + self.policy.deadline_blocks
        bribe = self.policy.bribe_bps if bribe_bps is None else bribe_bps
        data = p.calldata(max(min_profit, 0), deadline, bribe)
        predicted = self.gas_model.estimate(
            GasShape.of(
                p.cycle,
                source=p.source.kind,
                native_loan=p.source.native,
                batch=p.source.batch,
                ticks_crossed=p.ticks_crossed,
                v4_ticks_crossed=p.v4_ticks_crossed,
                calldata=data,
                cold_balance=not self._dust.get(p.cycle.token, True),
            )
        )
        limit = gas_limit or (
            predicted * (100 + self.policy.gas_headroom_pct) // 100 + self.policy.gas_margin
        )
        tip = self.policy.priority_fee_wei if tip is None else tip
        max_fee = self.policy.max_fee(context.base_fee, tip)
        tx: dict[str, Any] = {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": nonce,
            "to": self.dep.diamond,
            "value": 0,
            "data": data,
            "gas": limit,
            "maxFeePerGas": max_fee,
            "maxPriorityFeePerGas": tip,
        }
        signed = self.account.sign_transaction(cast(Any, tx))
        return Prepared(
            opportunity=opp,
            plan=p,
            sender=self.sender,
            min_profit=max(min_profit, 0),
            deadline_block=deadline,
            bribe_bps=bribe,
            nonce=nonce,
            gas_limit=limit,
            max_fee_per_gas=max_fee,
            max_priority_fee_per_gas=tip,
            gas_predicted=predicted,
            calldata=data,
            raw_tx=bytes(signed.raw_transaction),
            tx_hash="0x" + bytes(signed.hash).hex(),
            context=context,
            to=self.dep.diamond,
        )

    def _call_object(self, p: Prepared) -> dict[str, str]:
        return {
            "from": p.sender,
            "to": self.dep.diamond,
            "data": "0x" + p.calldata.hex(),
            "gas": hex(p.gas_limit),
            "maxFeePerGas": hex(p.max_fee_per_gas),
            "maxPriorityFeePerGas": hex(p.max_priority_fee_per_gas),
            "nonce": hex(p.nonce),
            "value": "0x0",
        }

    def simulate(
        self, prepared: Sequence[Prepared], *, before: Sequence[Mapping[str, str]] = ()
    ) -> list[Prepared]:
        """Run `prepared` (in order, after `before`: e.g. a pending victim) in one
        `eth_simulateV1` on their block, with validation; each comes back with its simulated
        profit and gas, or its decoded revert."""
        if not prepared:
            return []
        context = prepared[0].context
        payload = {
            "blockStateCalls": [
                {
                    "blockOverrides": context.overrides(),
                    "calls": [*map(dict, before), *(self._call_object(p) for p in prepared)],
                }
            ],
            "validation": True,
        }
        blocks = request(
            self.w3, "eth_simulateV1", [payload, block_param(context.number - 1)], "simulation"
        )
        calls = blocks[0]["calls"][len(before) :]
        out = []
        for p, c in zip(prepared, calls, strict=True):
            if int(c["status"], 16) == 1:
                ret = bytes.fromhex(str(c["returnData"])[2:])
                out.append(
                    replace(
                        p,
                        simulated_profit=int.from_bytes(ret[:32], "big", signed=True),
                        simulated_gas=int(c["gasUsed"], 16),
                    )
                )
            else:
                data = _revert_data(c)
                if not data and int(c["gasUsed"], 16) * 100 >= p.gas_limit * 95:
                    # no revert data and the whole limit used: an inner frame ran out of gas
                    out.append(replace(p, error=OUT_OF_GAS, refused="simulation ran out of gas"))
                    continue
                reason = decode_revert(data) if data else "reverted without data"
                out.append(replace(p, error=reason, refused=f"simulation reverted: {reason}"))
        return out

    def prepare(
        self,
        opportunities: Sequence[Opportunity],
        head: Head,
        *,
        before: Sequence[Mapping[str, str]] = (),
        min_profit: int | None = None,
        priority_fee_wei: int | None = None,
    ) -> list[Prepared]:
        """Plan, sign and simulate as mined each opportunity, in order, with consecutive nonces,
        for the block after `head`; `minProfit` is each one's gas cost in its token unless
        `min_profit` is given. Those that revert in simulation or do not pay their gas at the
        next base fee come back refused; if a refused one would leave a nonce gap, the rest are
        signed again with consecutive nonces and simulated again (nothing is sent behind a
        gap)."""
        items = [
            (plan(o), o, o.gas_cost if min_profit is None else min_profit) for o in opportunities
        ]
        return self._prepare(items, head, before=before, tip=priority_fee_wei)

    def prepare_plans(
        self,
        plans: Sequence[Plan],
        head: Head,
        *,
        min_profit: int = 0,
        before: Sequence[Mapping[str, str]] = (),
    ) -> list[Prepared]:
        """`prepare` for hand-built plans (a fixed route, an experiment's shape): no
        opportunity, so no price to value the profit in ETH; `min_profit` (on chain) is the only
        profit guard."""
        return self._prepare([(p, None, min_profit) for p in plans], head, before=before, tip=None)

    def _prepare(
        self,
        items: Sequence[tuple[Plan, Opportunity | None, int]],
        head: Head,
        *,
        before: Sequence[Mapping[str, str]],
        tip: int | None,
    ) -> list[Prepared]:
        context = BlockContext.after(head, self.policy.slot_seconds)
        self._learn_dust({p.cycle.token for p, _, _ in items}, head.number)
        t0 = time.perf_counter()
        nonce = self._next_nonce()
        signed = [
            self._sign(p, o, context, nonce + i, min_profit=guard, tip=tip)
            for i, (p, o, guard) in enumerate(items)
        ]
        t1 = time.perf_counter()
        done = self.simulate(signed, before=before)
        if any(p.error == OUT_OF_GAS for p in done):  # the model fell short: twice the limit
            signed = [
                self._sign(
                    p.plan,
                    p.opportunity,
                    context,
                    p.nonce,
                    min_profit=p.min_profit,
                    gas_limit=2 * p.gas_limit if p.error == OUT_OF_GAS else p.gas_limit,
                    tip=p.max_priority_fee_per_gas,
                    bribe_bps=p.bribe_bps,
                )
                for p in done
            ]
            done = self.simulate(signed, before=before)
        done = self._refuse_unpaid(done)
        self.last_timings = {"sign": t1 - t0, "simulate": time.perf_counter() - t1}
        while True:
            keep = [p for p in done if p.ok]
            refused = [p for p in done if not p.ok]
            if all(p.nonce == nonce + i for i, p in enumerate(keep)):
                return done  # nothing sent will wait behind a nonce gap
            again = [
                self._sign(
                    p.plan,
                    p.opportunity,
                    context,
                    nonce + i,
                    min_profit=p.min_profit,
                    gas_limit=p.gas_limit,
                    tip=p.max_priority_fee_per_gas,
                    bribe_bps=p.bribe_bps,
                )
                for i, p in enumerate(keep)
            ]
            done = self._refuse_unpaid(self.simulate(again, before=before)) + refused

    def _learn_dust(self, tokens: set[str], block: int) -> None:
        """Whether the diamond holds each route token it has not traded yet (one batched read,
        once per token: reconcile keeps it current). A balance written from zero costs the gas
        model's `first_balance_write` more, and the refunds of its writes only come at the end
        of the transaction, so the gas limit must include it or a fresh diamond's first trade
        in a token runs out of gas."""
        unknown = sorted(t for t in tokens if t not in self._dust)
        if not unknown:
            return
        data = "0x" + (_BALANCE_OF + encode(["address"], [self.dep.diamond])).hex()
        held = batch(
            self.w3,
            [("eth_call", [{"to": t, "data": data}, hex(block)]) for t in unknown],
            "the diamond's balances of the route tokens",
        )
        for token, raw in zip(unknown, held, strict=True):
            self._dust[token] = int(raw, 16) > 0

    def _refuse_unpaid(self, prepared: list[Prepared]) -> list[Prepared]:
        """Refuse what does not pay its simulated gas at the block's price, and what risks more
        than `max_loss_bps` of its expected net profit if it reverts (`worst_case_cost_wei`);
        profit valued in ETH at the opportunity's own price. A hand-built plan has no price:
        its on-chain `min_profit` is its only guard."""
        out = []
        for p in prepared:
            if (
                p.ok
                and p.opportunity is not None
                and p.simulated_profit is not None
                and p.simulated_gas is not None
            ):
                profit_eth = p.opportunity.price.to_eth(p.simulated_profit)
                gas_eth = p.simulated_gas * p.effective_gas_price
                net_eth = profit_eth - gas_eth
                if net_eth <= 0:
                    p = replace(
                        p,
                        refused=(
                            f"not sent: at the next block's base fee "
                            f"({p.context.base_fee / 1e9:.3f} gwei) gas costs {gas_eth} wei of "
                            f"ETH, the trade makes {profit_eth}"
                        ),
                    )
                elif p.worst_case_cost_wei * 10_000 > net_eth * self.policy.max_loss_bps:
                    p = replace(
                        p,
                        refused=(
                            f"not sent: if it reverted it could cost {p.worst_case_cost_wei} wei "
                            f"(gas limit {p.gas_limit} x fee cap {p.max_fee_per_gas}), more than "
                            f"{self.policy.max_loss_bps / 100:g}% of the {net_eth} wei it is "
                            "expected to net"
                        ),
                    )
            out.append(p)
        return out

    # ------------------------------------------------------------ send

    def send(self, prepared: Prepared) -> Prepared:
        """Send the signed bytes. If the key's nonce was taken meanwhile (another sender: "nonce
        too low", or its transaction still pending: "replacement transaction underpriced"),
        read it again, re-sign, re-simulate and send once more.

        Raises:
            TransactionFailed: `prepared` is not ok, or the node rejects it.
            NonceClashError: the nonce was taken again after the retry.
        """
        if not prepared.ok:
            raise TransactionFailed("executeArb", prepared.refused or "not simulated")
        for attempt in (1, 2):
            resp = self.w3.provider.make_request(
                RPCEndpoint("eth_sendRawTransaction"), ["0x" + prepared.raw_tx.hex()]
            )
            if "error" not in resp:
                self._nonce = prepared.nonce + 1
                return prepared
            text = str(resp["error"].get("message", resp["error"]))
            if "already known" in text.lower():  # these very bytes are in the pool already
                self._nonce = prepared.nonce + 1
                return prepared
            taken = ("nonce too low", "replacement transaction underpriced")
            if not any(t in text.lower() for t in taken):
                data = resp["error"].get("data")
                reason = decode_revert(data) if isinstance(data, str) else text
                raise TransactionFailed("executeArb", reason)
            if attempt == 2:
                raise NonceClashError(self.sender, prepared.nonce, text)
            self.resync_nonce()
            head = Head.of(batch(self.w3, [("eth_getBlockByNumber", ["latest", False])], "head")[0])
            again = self._prepare(
                [(prepared.plan, prepared.opportunity, prepared.min_profit)],
                head,
                before=(),
                tip=prepared.max_priority_fee_per_gas,
            )[0]
            if not again.ok:
                raise TransactionFailed("executeArb", again.refused or "refused on retry")
            prepared = again
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------ reconcile

    def receipt(self, tx_hash: str, timeout: float | None = None) -> dict[str, Any]:
        """Wait for the receipt of `tx_hash` (polled every 10 ms)."""
        deadline = time.monotonic() + (timeout or self.policy.receipt_timeout_s)
        while True:
            receipt = request(self.w3, "eth_getTransactionReceipt", [tx_hash], "receipt")
            if receipt is not None:
                return dict(receipt)
            if time.monotonic() > deadline:
                raise FlasharbRuntimeError(f"no receipt for {tx_hash} after {timeout} s")
            time.sleep(_RECEIPT_POLL_S)

    def reconcile(self, prepared: Prepared, receipt: Mapping[str, Any] | None = None) -> Trade:
        """The sent trade against its receipt: realized profit (the diamond's balance change in
        the receipt's block, less what the block's other transactions moved in it by their
        logs: two trades of one diamond mined in one block each get their own), the
        ArbExecuted event, gas used.

        Raises:
            TradeReverted: the transaction was mined and reverted (a TransactionFailed that
                carries its receipt's gas: the journal counts it as a loss).
        """
        r = dict(receipt) if receipt is not None else self.receipt(prepared.tx_hash)
        block = _int(r["blockNumber"])
        if _int(r["status"]) != 1:
            raise TradeReverted(
                Reverted(
                    prepared=prepared,
                    gas_used=_int(r["gasUsed"]),
                    effective_gas_price=_int(r["effectiveGasPrice"]),
                    block=block,
                    index=_int(r["transactionIndex"]),
                )
            )
        token = prepared.plan.cycle.token
        data = "0x" + (_BALANCE_OF + encode(["address"], [self.dep.diamond])).hex()
        after, before, count = batch(
            self.w3,
            [
                ("eth_call", [{"to": token, "data": data}, hex(block)]),
                ("eth_call", [{"to": token, "data": data}, hex(block - 1)]),
                ("eth_getBlockTransactionCountByNumber", [hex(block)]),
            ],
            "the diamond's balance around the trade",
        )
        self._dust[token] = int(after, 16) > 0
        realized = int(after, 16) - int(before, 16)
        if int(count, 16) > 1:  # not alone in its block: take out what the others moved
            receipts = request(
                self.w3, "eth_getBlockReceipts", [hex(block)], "the receipts of the trade's block"
            )
            mine = _hex(r["transactionHash"])
            realized -= sum(
                _moved(other, token, self.dep.diamond)
                for other in receipts
                if _hex(other["transactionHash"]) != mine
            )
        event_profit, bribe = _event(r, self.dep.diamond)
        return Trade(
            prepared=prepared,
            realized_profit=realized,
            event_profit=event_profit,
            bribe=bribe,
            gas_used=_int(r["gasUsed"]),
            effective_gas_price=_int(r["effectiveGasPrice"]),
            block=block,
            index=_int(r["transactionIndex"]),
        )

    def execute(
        self, opportunities: Sequence[Opportunity], head: Head
    ) -> tuple[list[Trade], list[tuple[Prepared, str]]]:
        """prepare, send every one that may be sent, reconcile each: (trades, failures with
        their reason; refused ones were never sent)."""
        trades: list[Trade] = []
        failed: list[tuple[Prepared, str]] = []
        for p in self.prepare(opportunities, head):
            if not p.ok:
                failed.append((p, p.refused or "refused"))
                continue
            try:
                trades.append(self.reconcile(self.send(p)))
            except TransactionFailed as exc:
                failed.append((p, exc.reason))
        return trades, failed


def _revert_data(call: Mapping[str, Any]) -> str:
    """The revert data of a failed eth_simulateV1 call ("" when it stopped without any): the
    error's data, or (Anvil 1.7.1) the call's returnData."""
    err = call.get("error")
    data = err.get("data") if isinstance(err, dict) else None
    if not (isinstance(data, str) and len(data) > 2):
        data = call.get("returnData")
    return data if isinstance(data, str) and len(data) > 2 else ""


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


_TRANSFER = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
_DEPOSIT = "0x" + keccak(text="Deposit(address,uint256)").hex()  # WETH9 wraps
_WITHDRAWAL = "0x" + keccak(text="Withdrawal(address,uint256)").hex()  # WETH9 unwraps


def _hex(value: Any) -> str:
    """A hash as lower-case 0x-hex, from a node's string or web3's bytes."""
    return (value if isinstance(value, str) else "0x" + bytes(value).hex()).lower()


def _moved(receipt: Mapping[str, Any], token: str, holder: str) -> int:
    """What `receipt` moved in `holder`'s balance of `token`, by its logs: ERC-20 Transfers to
    and from it, and WETH9's Deposit / Withdrawal when `token` is WETH. A token that moves
    balances without logging them is not seen (a rebasing token: its trades are refused)."""
    token, holder_word = token.lower(), "0x" + holder.lower()[2:].rjust(64, "0")
    total = 0
    for log in receipt.get("logs", []):
        if str(log["address"]).lower() != token or not log["topics"]:
            continue
        topics = [_hex(t) for t in log["topics"]]
        data = _hex(log["data"])
        amount = int(data[:66], 16) if len(data) > 2 else 0  # the one uint256 word
        if topics[0] == _TRANSFER and len(topics) == 3:
            total += amount * ((topics[2] == holder_word) - (topics[1] == holder_word))
        elif token == WETH.lower() and len(topics) == 2 and topics[1] == holder_word:
            total += amount if topics[0] == _DEPOSIT else -amount if topics[0] == _WITHDRAWAL else 0
    return total


def _event(receipt: Mapping[str, Any], diamond: str) -> tuple[int | None, int]:
    """The diamond's `profit` (signed) and `bribe` in `receipt`: ArbExecuted (anonymous: a log of
    the diamond with exactly one topic, the profit, and no data; no bribe) or ArbExecutedWithBribe
    (its signature's topic; data: profit, bribe); (None, 0) when it logged neither. Only the
    diamond's code logs under its address, and no other event of a diamond has one topic and no
    data. The route token is not logged: it is the plan's (the path's first 20 bytes in the
    input)."""
    bribed = "0x" + ARB_EXECUTED_WITH_BRIBE.hex()
    for log in receipt.get("logs", []):
        if to_checksum_address(log["address"]) != diamond:
            continue
        topics = [_hex(t) for t in log["topics"]]
        data = log["data"]
        raw = bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data)
        if len(topics) == 1 and not raw:  # ArbExecuted(int256 indexed profit) anonymous
            return int.from_bytes(bytes.fromhex(topics[0][2:]), "big", signed=True), 0
        if topics and topics[0] == bribed:
            profit = int.from_bytes(raw[0:32], "big", signed=True)
            return profit, int.from_bytes(raw[32:64], "big")
    return None, 0
