"""The planning half of the executor: what the chain says (Balancer's flash fee, pool ids, V2
reserves), the exact output of every hop from pool states, the capital source, and the `Plan`
of a route at an input amount. `Executor` (flasharb.execute.executor) is a `RoutePlanner`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3

from flasharb.amm.uniswap_v2 import V2PairState, checksum_address
from flasharb.amm.uniswap_v3 import V3PoolState
from flasharb.chain import addresses as A
from flasharb.chain.cheats import balance_of
from flasharb.errors import FlasharbValueError
from flasharb.execute.deploy import Deployment
from flasharb.execute.plan import ZERO_ADDRESS, FlashSource, Plan, _lt, encode_amounts, encode_path
from flasharb.search.cycles import Cycle

__all__ = ["SEARCH_SOURCES", "V3_FEES", "Quoter", "RoutePlanner", "SearchFlashPlan"]

SEARCH_SOURCES = {  # flasharb.search.flash_source.FlashPlan.source -> FlashSource.kind
    "balancer_v2": "balancer_v2",
    "uniswap_v3_flash": "uniswap_v3",
    "uniswap_v2_flash": "uniswap_v2",
    "balancer_batch": "inventory",  # a Balancer-only cycle: one batchSwap moves no capital
    "inventory": "inventory",
}
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


class RoutePlanner:
    """Plans `executeArb` routes from the chain and pool states; mixed into `Executor`, whose
    __init__ sets the attributes below."""

    w3: Web3
    dep: Deployment
    _pool_ids: dict[str, bytes]
    _balancer_fee: int | None

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

    # ------------------------------------------------------------ plan

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
