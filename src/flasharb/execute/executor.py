"""Plan a route for FlashArbFacet, simulate it with eth_call, send it, and reconcile predicted,
simulated and realized profit and gas to the wei.

A plan is everything the contract needs and nothing it has to recompute: the packed path (the
route token, then per hop its kind, pool and token out; ref: contracts/libraries/LibRoute.sol),
the exact output of every hop computed here with the pool math of `flasharb.amm` (the contract
asks each V2 pair for exactly that amount, so the pair's own k check guards it, and reverts
when a V3 or Balancer hop pays less), and the capital source (`FlashSource`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, keccak
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError
from web3.logs import DISCARD

from flasharb.amm.uniswap_v2 import V2PairState, checksum_address
from flasharb.amm.uniswap_v3 import V3PoolState
from flasharb.chain import addresses as A
from flasharb.chain.cheats import balance_of
from flasharb.chain.rpc import contract_at
from flasharb.errors import FlasharbValueError, NonceClashError, TradeRefused, TransactionFailed
from flasharb.execute.deploy import Deployment, diamond_abi
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
]

HOP_KIND = {"uniswap_v2": 0, "uniswap_v3": 1, "balancer": 2}  # LibRoute.KIND_*
SOURCE_KIND = {"balancer_v2": 0, "uniswap_v3": 1, "uniswap_v2": 2, "inventory": 3}  # FlashArbFacet
SEARCH_SOURCES = {  # flasharb.search.flash_source.FlashPlan.source -> FlashSource.kind
    "balancer_v2": "balancer_v2",
    "uniswap_v3_flash": "uniswap_v3",
    "uniswap_v2_flash": "uniswap_v2",
    "balancer_batch": "inventory",  # a Balancer-only cycle: one batchSwap moves no capital
    "inventory": "inventory",
}
ZERO_ADDRESS = "0x" + "00" * 20
MAX_HOPS = 4  # LibRoute.MAX_HOPS
MAX_AMOUNT_IN = 2**112 - 1  # LibRoute.MAX_AMOUNT_IN
FEE_DENOMINATOR = 1_000_000  # pips
ONE_18 = 10**18  # Balancer fixed point
DEADLINE_BLOCKS = 2  # executeArb reverts if not mined within this many blocks
GAS_HEADROOM_PCT = 25  # gas limit = estimate * (100 + headroom) / 100
V3_FEES = (100, 500, 3000, 10000)  # lenders tried, cheapest first

_GET_RESERVES = function_signature_to_4byte_selector("getReserves()")
_GET_POOL_ID = function_signature_to_4byte_selector("getPoolId()")
_FEES_COLLECTOR = function_signature_to_4byte_selector("getProtocolFeesCollector()")
_FLASH_FEE_PCT = function_signature_to_4byte_selector("getFlashLoanFeePercentage()")
_GET_POOL = function_signature_to_4byte_selector("getPool(address,address,uint24)")
_TOKEN0 = function_signature_to_4byte_selector("token0()")
_FEE = function_signature_to_4byte_selector("fee()")


class SearchFlashPlan(Protocol):
    """What the executor reads of a search flash plan (flasharb.search.flash_source.FlashPlan)."""

    @property
    def source(self) -> str: ...

    @property
    def lender(self) -> str: ...

    @property
    def fee(self) -> int: ...


class Quoter(Protocol):
    """What the executor needs of a pool state (flasharb.amm.pool.PoolState has it)."""

    def quote_exact_in(self, token_in: str, token_out: str, amount_in: int) -> int:
        """Exact output for selling `amount_in` of `token_in`."""
        ...


# ---------------------------------------------------------------- capital sources


@dataclass(frozen=True, slots=True, kw_only=True)
class FlashSource:
    """Where the borrowed amount comes from, and what it costs.

    balancer_v2: the Vault's flashLoan (fee: the Vault's flash fee, 0 on mainnet); never with a
    Balancer hop (the Vault's reentrancy guard reverts BAL#400). uniswap_v3: `lender`.flash (fee:
    the pool's tier, rounded up). uniswap_v2: a flash swap from pair `lender` (repay
    ceil(amount * 1e6 / (1e6 - fee))). inventory: the diamond's own balance, no loan.
    A lender may not be a pool of the route (it is locked while it lends).
    """

    kind: str = "balancer_v2"
    lender: str = ZERO_ADDRESS  # the V3 pool or V2 pair; unused for balancer_v2 and inventory
    token0: bool = False  # the borrowed token is the lender's token0
    fee_pips: int = 0  # the lender's fee: V3 fee tier, V2 pair fee (hundredths of a bip)

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KIND:
            raise FlasharbValueError(
                f"flash source {self.kind!r} is not one of {', '.join(SOURCE_KIND)}"
            )
        object.__setattr__(self, "lender", checksum_address(self.lender))
        if self.kind in ("uniswap_v3", "uniswap_v2") and self.lender == ZERO_ADDRESS:
            raise FlasharbValueError(f"a {self.kind} flash source needs the lender's address")
        if not 0 <= self.fee_pips < FEE_DENOMINATOR:
            raise FlasharbValueError(f"lender fee must be in [0, 1e6) pips, got {self.fee_pips}")

    @classmethod
    def balancer(cls) -> FlashSource:
        """A Balancer V2 Vault flash loan."""
        return cls(kind="balancer_v2")

    @classmethod
    def inventory(cls) -> FlashSource:
        """The diamond's own balance."""
        return cls(kind="inventory")

    @classmethod
    def uniswap_v3(cls, pool: str, token: str, other: str, fee_pips: int) -> FlashSource:
        """A flash loan of `token` from the V3 `pool` of `token`/`other` at `fee_pips`."""
        return cls(kind="uniswap_v3", lender=pool, token0=_lt(token, other), fee_pips=fee_pips)

    @classmethod
    def uniswap_v2(cls, pair: str, token: str, other: str, fee_pips: int = 3000) -> FlashSource:
        """A flash swap of `token` from the V2-style `pair` of `token`/`other`."""
        return cls(kind="uniswap_v2", lender=pair, token0=_lt(token, other), fee_pips=fee_pips)

    @property
    def word(self) -> int:
        """executeArb's `source`: kind << 248 | token0 << 184 | V2 fee << 160 | lender."""
        return (
            SOURCE_KIND[self.kind] << 248
            | int(self.token0) << 184
            | (self.fee_pips if self.kind == "uniswap_v2" else 0) << 160
            | int(self.lender, 16)
        )

    def fee(self, amount: int, balancer_fee: int = 0) -> int:
        """What the loan of `amount` costs on top of the amount, exactly as the lender computes it.

        ref: Balancer Fees.sol `_calculateFlashLoanFeeAmount` (FixedPoint.mulUp, 1e18 scale:
        `balancer_fee`); UniswapV3Pool.sol `flash` (FullMath.mulDivRoundingUp(amount, fee,
        1e6)); UniswapV2Pair.sol `swap` k check (see LibUniswapV2.flashRepayment).
        """
        if self.kind == "balancer_v2":
            product = amount * balancer_fee
            return 0 if product == 0 else (product - 1) // ONE_18 + 1
        if self.kind == "uniswap_v3":
            return -(-amount * self.fee_pips // FEE_DENOMINATOR)
        if self.kind == "uniswap_v2":
            kept = FEE_DENOMINATOR - self.fee_pips
            return -(-amount * FEE_DENOMINATOR // kept) - amount
        return 0

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "lender": self.lender}


def _lt(a: str, b: str) -> bool:
    return int(a, 16) < int(b, 16)


# ---------------------------------------------------------------- route encoding


def v3_pool_address(token_a: str, token_b: str, fee: int) -> str:
    """The canonical Uniswap V3 pool (v3-periphery PoolAddress.computeAddress)."""
    t0, t1 = sorted((token_a, token_b), key=lambda t: int(t, 16))
    salt = keccak(encode(["address", "address", "uint24"], [t0, t1, fee]))
    factory = bytes.fromhex(A.UNISWAP_V3_FACTORY[2:])
    raw = keccak(b"\xff" + factory + salt + A.UNISWAP_V3_POOL_INIT_CODE_HASH)
    return checksum_address("0x" + raw[12:].hex())


def encode_path(cycle: Cycle, pool_ids: Mapping[str, bytes] | None = None) -> bytes:
    """The packed path of LibRoute: token (20) then per hop kind (1) and
    V2: pair (20) | token_out (20); V3: token_out (20) | fee (3); Balancer: pool id (32) |
    token_out (20). A V3 hop's pool is derived on-chain from its tokens and fee, so it must be
    the canonical factory's pool; a Balancer hop needs the pool's id (`pool_ids`)."""
    if not 1 <= len(cycle.hops) <= MAX_HOPS:
        raise FlasharbValueError(f"FlashArbFacet runs 1 to {MAX_HOPS} hops, not {len(cycle.hops)}")
    out = bytes.fromhex(cycle.token[2:])
    for hop in cycle.hops:
        kind = HOP_KIND.get(hop.kind)
        if kind is None:
            raise FlasharbValueError(f"hop kind {hop.kind!r} is not executable (pool {hop.pool})")
        token_out = bytes.fromhex(hop.token_out[2:])
        if kind == 0:
            out += bytes([kind]) + bytes.fromhex(hop.pool[2:]) + token_out
        elif kind == 1:
            canonical = v3_pool_address(hop.token_in, hop.token_out, hop.fee_pips)
            if canonical != checksum_address(hop.pool):
                raise FlasharbValueError(
                    f"V3 hop via {hop.pool} is not the Uniswap V3 factory's pool for "
                    f"{hop.token_in}/{hop.token_out} at fee {hop.fee_pips} ({canonical})"
                )
            out += bytes([kind]) + token_out + hop.fee_pips.to_bytes(3, "big")
        else:
            pool_id = (pool_ids or {}).get(checksum_address(hop.pool))
            if pool_id is None or len(pool_id) != 32:
                raise FlasharbValueError(f"Balancer hop via {hop.pool}: give its 32-byte pool id")
            out += bytes([kind]) + pool_id + token_out
    return out


def encode_amounts(amount_in: int, amounts_out: Sequence[int]) -> bytes:
    """amountIn then each hop's output, uint128 big-endian each."""
    if not 0 < amount_in <= MAX_AMOUNT_IN:
        raise FlasharbValueError(f"amount_in must be in (0, 2^112), got {amount_in}")
    out = amount_in.to_bytes(16, "big")
    for a in amounts_out:
        if not 0 < a < 2**128:
            raise FlasharbValueError(f"hop output {a} is not a positive uint128")
        out += a.to_bytes(16, "big")
    return out


# ---------------------------------------------------------------- gas


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecGas:
    """Gas of one executeArb, fitted (least squares) on 30 receipts of bench/gas.py's routes on
    the replica fork: every source with 2-4 V2 hops, V2/V3 mixes, V3 only, a Balancer hop first
    and last, a Balancer-only batch; fresh blocks, the diamond holding at least 1 wei of every
    token it receives. Every one of those receipts is within 1.9% of its prediction.

        gas = 21000 + calldata + base[source] + sum(per_hop[kind]) + per_tick_crossed * ticks
              + via_diamond * (V3 and Balancer hops after the first: their input lands in the
                diamond, which measures it and pays it out again)
              (+ zero_balance_first_write when the diamond holds none of the route token)

    A Balancer-only cycle is one batchSwap: `per_batch_hop` per hop instead.
    """

    base: Mapping[str, int] = field(
        default_factory=lambda: {
            "balancer_v2": 65_100,  # Vault flashLoan: fee read, balance checks, FlashLoan event
            "uniswap_v3": 87_900,  # pool.flash: balance checks, fee growth writes
            "uniswap_v2": 81_500,  # pair.swap with data: reserves, k check, accumulators
            "inventory": 26_300,  # dispatch, guard, balance checks, event
        }
    )
    per_hop: Mapping[str, int] = field(
        default_factory=lambda: {"uniswap_v2": 50_000, "uniswap_v3": 69_700, "balancer": 82_900}
    )
    per_batch_hop: int = 52_100
    per_tick_crossed: int = 40_500  # initialized ticks crossed, with their cold storage
    via_diamond: int = 24_300
    zero_balance_first_write: int = 17_100  # the diamond's balance written from zero, twice

    def predict(self, plan: Plan, calldata: bytes, *, dust: bool = True) -> int:
        """Gas units for sending `calldata` (the whole executeArb input) for `plan`."""
        total = 21_000 + sum(16 if b else 4 for b in calldata) + self.base[plan.source.kind]
        kinds = [h.kind for h in plan.cycle.hops]
        if set(kinds) == {"balancer"}:
            total += self.per_batch_hop * len(kinds)
        else:
            total += sum(self.per_hop[k] for k in kinds)
            total += self.via_diamond * sum(1 for k in kinds[1:] if k != "uniswap_v2")
        total += self.per_tick_crossed * plan.ticks_crossed
        if not dust:
            total += self.zero_balance_first_write
        return total


# ---------------------------------------------------------------- plans and trades


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """One executeArb: the route, its exact amounts, the capital source and the prediction."""

    cycle: Cycle
    source: FlashSource
    amount_in: int
    amounts: tuple[int, ...]  # each hop's exact output; amounts[-1] comes back
    flash_fee: int  # owed to the lender on top of amount_in
    path: bytes  # LibRoute packed path
    packed_amounts: bytes  # LibRoute packed amounts
    ticks_crossed: int = 0  # initialized V3 ticks the V3 hops cross (each costs gas)

    @property
    def amount_out(self) -> int:
        return self.amounts[-1]

    @property
    def predicted_profit(self) -> int:
        """The diamond's gain in the route token: out - in - fee (may be negative)."""
        return self.amount_out - self.amount_in - self.flash_fee

    @property
    def loan_data(self) -> bytes:
        """What executeArb hands its lender: source | path length (words) | path | amounts."""
        return (
            self.source.word.to_bytes(32, "big")
            + len(self.path).to_bytes(32, "big")
            + self.path
            + self.packed_amounts
        )

    @property
    def route_hash(self) -> str:
        """keccak256(path): ArbExecuted's routeHash (pools and tokens, not amounts)."""
        return "0x" + keccak(self.path).hex()


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


def _call(w3: Web3, to: str, data: bytes, block: int | str = "latest") -> bytes:
    return bytes(w3.eth.call({"to": to, "data": "0x" + data.hex()}, block))  # type: ignore[typeddict-item,arg-type]


def _read_state(w3: Web3, pool: str, block: int | str) -> Quoter:
    """The exact state of any pool at `block`, read from the chain (lookup, then one read)."""
    from flasharb.state.lookup import identify
    from flasharb.state.reader import read_states

    read = read_states(w3, [identify(w3, pool, block=block)], block=block)
    state = read.states.get(checksum_address(pool))
    if state is None:
        raise FlasharbValueError(f"pool {pool}: {read.failed.get(checksum_address(pool), '?')}")
    return state


class Executor:
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

    # ------------------------------------------------------------ what the chain says

    def balancer_flash_fee(self) -> int:
        """The Vault's flash-loan fee percentage (1e18 = 100%), from its fees collector."""
        if self._balancer_fee is None:
            collector = "0x" + _call(self.w3, A.BALANCER_VAULT, _FEES_COLLECTOR)[12:32].hex()
            raw = _call(self.w3, checksum_address(collector), _FLASH_FEE_PCT)
            self._balancer_fee = int.from_bytes(raw[:32], "big")
        return self._balancer_fee

    def pool_id(self, pool: str) -> bytes:
        """A Balancer pool's id (getPoolId), cached."""
        key = checksum_address(pool)
        if key not in self._pool_ids:
            raw = _call(self.w3, key, _GET_POOL_ID)
            if len(raw) < 32:
                raise FlasharbValueError(f"{pool} has no getPoolId(): not a Balancer pool")
            self._pool_ids[key] = raw[:32]
        return self._pool_ids[key]

    def _v2_state(
        self, pool: str, token_in: str, token_out: str, fee: int, block: int | str
    ) -> V2PairState:
        raw = _call(self.w3, pool, _GET_RESERVES, block)
        if len(raw) < 64:
            raise FlasharbValueError(f"{pool} has no getReserves(): not a V2-style pair")
        t0, t1 = sorted((token_in, token_out), key=lambda t: int(t, 16))
        return V2PairState(
            address=pool,
            token0=t0,
            token1=t1,
            reserve0=int.from_bytes(raw[:32], "big"),
            reserve1=int.from_bytes(raw[32:64], "big"),
            fee_pips=fee,
        )

    def hop_amounts(
        self,
        cycle: Cycle,
        amount_in: int,
        states: Mapping[str, Quoter] | None = None,
        block: int | str = "latest",
    ) -> tuple[tuple[int, ...], int]:
        """The exact output of every hop for `amount_in`, from `states` (pool address -> state
        with quote_exact_in), and the initialized V3 ticks crossed; V2 pairs missing from
        `states` are read at `block`."""
        out: list[int] = []
        ticks = 0
        amount = amount_in
        for hop in cycle.hops:
            state: Quoter | None = (states or {}).get(hop.pool)
            if state is None and states is not None:
                state = states.get(checksum_address(hop.pool))
            if state is None and hop.kind != "uniswap_v2":
                state = _read_state(self.w3, hop.pool, block)  # pass `states` to skip this read
            if state is None:
                state = self._v2_state(hop.pool, hop.token_in, hop.token_out, hop.fee_pips, block)
            if isinstance(state, V3PoolState):
                result = state.swap(_lt(hop.token_in, hop.token_out), amount)
                if not result.filled:
                    raise FlasharbValueError(
                        f"V3 pool {hop.pool} cannot take {amount} of {hop.token_in}: "
                        "it runs out of liquidity first"
                    )
                ticks += result.ticks_crossed
                amount = result.amount_out
            else:
                amount = state.quote_exact_in(hop.token_in, hop.token_out, amount)
            out.append(amount)
        return tuple(out), ticks

    def source_of(self, token: str, flash: SearchFlashPlan, amount: int) -> FlashSource:
        """The FlashSource of a search flash plan lending `amount` of `token`, checked: it must
        charge exactly the plan's fee (a V2 lender is taken at 3000 pips, as every V2-style
        venue here charges)."""
        kind = SEARCH_SOURCES.get(flash.source)
        if kind is None:
            raise FlasharbValueError(f"unknown flash source {flash.source!r} in the search plan")
        if kind == "balancer_v2":
            src = FlashSource.balancer()
        elif kind == "inventory":
            src = FlashSource.inventory()
        else:
            lender = checksum_address(flash.lender)
            token0 = checksum_address("0x" + _call(self.w3, lender, _TOKEN0)[12:32].hex())
            fee = (
                int.from_bytes(_call(self.w3, lender, _FEE)[:32], "big")
                if kind == "uniswap_v3"
                else 3000
            )
            src = FlashSource(kind=kind, lender=lender, token0=token0 == token, fee_pips=fee)
        charged = src.fee(amount, self.balancer_flash_fee() if kind == "balancer_v2" else 0)
        if kind != "inventory" and charged != flash.fee:
            raise FlasharbValueError(
                f"{flash.source} from {flash.lender} charges {charged} on {amount}, the search "
                f"plan says {flash.fee}; pass source= explicitly"
            )
        return src

    def default_source(self, cycle: Cycle, amount_in: int) -> FlashSource:
        """Balancer when it can lend (no Balancer hop, the Vault holds enough); a Balancer-only
        cycle needs no capital (one batchSwap); otherwise the cheapest canonical V3 pool of the
        token that holds enough and is not on the route; else the diamond's inventory."""
        kinds = {h.kind for h in cycle.hops}
        if kinds == {"balancer"}:
            return FlashSource.inventory()
        token = cycle.token
        if "balancer" not in kinds and balance_of(self.w3, token, A.BALANCER_VAULT) >= amount_in:
            return FlashSource.balancer()
        on_route = {checksum_address(p) for p in cycle.pools}
        for fee in V3_FEES:
            for other in (A.WETH, A.USDC, A.USDT, A.DAI, A.WBTC):
                if other == token:
                    continue
                data = _GET_POOL + encode(["address", "address", "uint24"], [token, other, fee])
                pool = checksum_address(
                    "0x" + _call(self.w3, A.UNISWAP_V3_FACTORY, data)[12:32].hex()
                )
                if pool == ZERO_ADDRESS or pool in on_route:
                    continue
                if balance_of(self.w3, token, pool) > amount_in:
                    return FlashSource.uniswap_v3(pool, token, other, fee)
        if balance_of(self.w3, token, self.dep.diamond) >= amount_in:
            return FlashSource.inventory()
        raise FlasharbValueError(
            f"no flash source lends {amount_in} of {token} for this route; fund the diamond "
            "(inventory) or pass source="
        )

    # ------------------------------------------------------------ plan, simulate, send

    def plan(
        self,
        cycle: Cycle,
        amount_in: int,
        *,
        source: FlashSource | None = None,
        states: Mapping[str, Quoter] | None = None,
        block: int | str = "latest",
    ) -> Plan:
        """Exact amounts, encoding and predicted profit of `cycle` at `amount_in`."""
        src = source or self.default_source(cycle, amount_in)
        if src.kind == "balancer_v2" and any(h.kind == "balancer" for h in cycle.hops):
            raise FlasharbValueError(
                "a Balancer hop cannot run inside a Balancer flash loan (the Vault reverts "
                "BAL#400): pick another source"
            )
        if src.kind in ("uniswap_v3", "uniswap_v2") and src.lender in {
            checksum_address(p) for p in cycle.pools
        }:
            raise FlasharbValueError(
                f"lender {src.lender} is on the route: it is locked while it lends"
            )
        amounts, ticks = self.hop_amounts(cycle, amount_in, states, block)
        pool_ids = {
            checksum_address(h.pool): self.pool_id(h.pool)
            for h in cycle.hops
            if h.kind == "balancer"
        }
        fee = src.fee(amount_in, self.balancer_flash_fee() if src.kind == "balancer_v2" else 0)
        return Plan(
            cycle=cycle,
            source=src,
            amount_in=amount_in,
            amounts=amounts,
            flash_fee=fee,
            path=encode_path(cycle, pool_ids),
            packed_amounts=encode_amounts(amount_in, amounts),
            ticks_crossed=ticks,
        )

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
