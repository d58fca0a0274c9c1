"""Audit (issue 14): the profit of a trade reaches the diamond, whoever sends it.

- A bribe to the block producer is paid only out of profit: after the profit check, never
  above the owner's cap, never on a loss, never into the minimum; in ETH for a WETH route (the
  diamond unwraps it), in the route token otherwise. Exact: the coinbase's balance change is the
  bribe to the wei (plus, for ETH, the transaction's own priority fee), the diamond keeps the
  rest.
- An allowed executor cannot route the profit into a contract it wrote: V2 pairs are derived
  from an allowed factory, so the old route (its own contract as the last hop's pair, minProfit
  0) cannot be written. What it can still do is trade through genuine pairs it owns and ask
  them for less than they pay; the owner's minimum profit per token, which the executor cannot
  lower, bounds that to the profit above the minimum.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any, cast

import pytest
from eth_abi import encode
from eth_utils import to_checksum_address
from web3 import Web3
from web3.types import RPCEndpoint

from flasharb.amm.uniswap_v2 import V2PairState
from flasharb.chain import addresses as A
from flasharb.chain.artifacts import contract, npm_artifact
from flasharb.chain.cheats import balance_of, deal, mine
from flasharb.chain.rpc import contract_at, send
from flasharb.execute.keys import signer
from flasharb.execute.plan import Plan, plan_route
from flasharb.execute.trader import SendPolicy, Trade, Trader
from flasharb.kinds import HopKind
from flasharb.search.cycles import Cycle, Hop
from flasharb.search.exact import size_cycle
from flasharb.search.graph import v2_factory
from flasharb.search.route import BPS, encode_amounts, execute_arb_calldata
from flasharb_testing import routes as R
from tests.audit.attack import deploy_audit, mine_attack
from tests.audit.nothing_lost import NothingLost

ZERO = "0x" + "00" * 20
MAX_BRIBE_BPS = 5_000  # what the owner allows in these tests
FACTORY_ABI = npm_artifact("@uniswap/v2-core/build/UniswapV2Factory.json").abi
PAIR_ABI = npm_artifact("@uniswap/v2-core/build/UniswapV2Pair.json").abi
MINIMUM_LIQUIDITY = 1_000  # UniswapV2Pair locks this much of the first liquidity forever


def _rpc(w3: Web3, method: str, params: list[Any]) -> Any:
    resp = w3.provider.make_request(RPCEndpoint(method), params)
    assert "error" not in resp, resp
    return resp.get("result")


def _set_coinbase(w3: Web3, address: str) -> None:
    """The fee recipient of the blocks mined from now on; one block is mined so the head (which
    the trader simulates on) already names it."""
    _rpc(w3, "anvil_setCoinbase", [address])
    mine(w3)


@pytest.fixture
def coinbase(w3: Web3) -> Iterator[str]:
    """A fresh block producer (the lab's default coinbase is the zero address: nobody to pay)."""
    address = to_checksum_address("0x" + "c0" * 20)
    _set_coinbase(w3, address)
    try:
        yield address
    finally:
        _rpc(w3, "anvil_setCoinbase", [ZERO])


def _owner_tx(w3: Web3, diamond: Any, owner: str, fn: str, *args: Any) -> Any:
    data = diamond.encode_abi(fn, list(args))
    return send(w3, {"from": owner, "to": diamond.address, "data": data}, fn)


def _weth_route(w3: Web3) -> Cycle:
    """The demo's opportunity from the other end: WETH -> USDC on SushiSwap, then the WETH made
    cheap on Uniswap V2 back (a WETH route: its bribe is paid in ETH)."""
    return R.cycle(
        A.WETH,
        (R.pool(w3, "sushiswap", A.WETH, A.USDC), A.USDC),
        (R.pool(w3, "uniswap_v2", A.WETH, A.USDC), A.WETH),
    )


def _sized(w3: Web3, route: Cycle) -> Plan:
    R.shock_v2_weth_usdc(w3)
    return R.sized_plan(w3, route, R.balancer(w3))[0]


def _bribing(w3: Web3, deployment: Any, sender: str, bps: int) -> Trader:
    """A trader whose SendPolicy asks for `bps` of each trade's profit to go to the coinbase."""
    return Trader(w3, deployment, signer(sender), policy=SendPolicy(bribe_bps=bps))


def _tips(w3: Web3, trade: Trade) -> int:
    """What the trade's priority fee paid the coinbase (the base fee is burned)."""
    base_fee = int(w3.eth.get_block(trade.block)["baseFeePerGas"])
    return trade.gas_used * (trade.effective_gas_price - base_fee)


def _eth(w3: Web3, who: str, block: int | str = "latest") -> int:
    return int(w3.eth.get_balance(cast(Any, who), block_identifier=block))


class TestBribes:
    """The share of the profit the executor asks to pay block.coinbase (executeArb's `terms`)."""

    def test_paid_in_eth_out_of_a_weth_routes_profit(
        self,
        w3: Web3,
        deployment: Any,
        diamond: Any,
        owner: str,
        hot_key: str,
        coinbase: str,
    ) -> None:
        plan = _sized(w3, _weth_route(w3))
        gross = plan.predicted_profit
        bps = 2_500
        bribe = gross * bps // BPS
        _owner_tx(w3, diamond, owner, "setMaxBribeBps", MAX_BRIBE_BPS)
        trader = _bribing(w3, deployment, hot_key, bps)
        prepared = R.prepare(trader, plan)
        assert prepared.ok, prepared.refused
        assert prepared.bribe_bps == prepared.to_json()["tx"]["bribe_bps"] == bps
        assert prepared.simulated_profit == gross - bribe  # simulated on the coinbase it pays
        weth_before = balance_of(w3, A.WETH, deployment.diamond)
        eth_before, coinbase_before = _eth(w3, deployment.diamond), _eth(w3, coinbase)
        trade = trader.reconcile(trader.send(prepared))
        assert trade.bribe == bribe > 0
        assert trade.to_json()["bribe"] == str(bribe)
        assert trade.realized_profit == trade.event_profit == gross - bribe
        assert balance_of(w3, A.WETH, deployment.diamond) - weth_before == gross - bribe
        assert _eth(w3, coinbase) - coinbase_before == bribe + _tips(w3, trade)
        assert _eth(w3, deployment.diamond) == eth_before  # unwrapped and passed on, all of it

    def test_paid_in_the_route_token_otherwise(
        self,
        w3: Web3,
        deployment: Any,
        diamond: Any,
        owner: str,
        hot_key: str,
        coinbase: str,
    ) -> None:
        plan = _sized(w3, R.v2_routes(w3)["2-hop"])  # a USDC route
        gross = plan.predicted_profit
        _owner_tx(w3, diamond, owner, "setMaxBribeBps", MAX_BRIBE_BPS)
        trader = _bribing(w3, deployment, hot_key, MAX_BRIBE_BPS)  # exactly the cap
        trade = R.execute(trader, plan)
        bribe = gross * MAX_BRIBE_BPS // BPS
        assert trade.bribe == bribe > 0
        assert balance_of(w3, A.USDC, coinbase) == bribe
        assert trade.realized_profit == trade.event_profit == gross - bribe

    @pytest.mark.parametrize(("cap", "bps"), [(0, 1), (1_000, 1_001)], ids=["no-cap", "one-over"])
    def test_above_the_owners_cap_reverts_before_borrowing(
        self,
        w3: Web3,
        deployment: Any,
        diamond: Any,
        owner: str,
        hot_key: str,
        stocked: Any,
        coinbase: str,
        cap: int,
        bps: int,
        nothing_lost: NothingLost,
    ) -> None:
        plan = _sized(w3, R.v2_routes(w3)["2-hop"])
        if cap:
            _owner_tx(w3, diamond, owner, "setMaxBribeBps", cap)
        tx = plan.call(deployment.diamond, hot_key, 0, w3.eth.block_number + 5, bps)
        with nothing_lost.guard():
            mine_attack(w3, tx, f"BribeAboveCap(bribeBps={bps}, maxBribeBps={cap})")
        assert balance_of(w3, A.USDC, coinbase) == 0

    @pytest.mark.parametrize("whose", ["executor", "owner"])
    def test_never_paid_out_of_the_minimum(
        self,
        w3: Web3,
        deployment: Any,
        diamond: Any,
        owner: str,
        hot_key: str,
        stocked: Any,
        coinbase: str,
        whose: str,
        nothing_lost: NothingLost,
    ) -> None:
        """The minimum (executeArb's argument, or the owner's for the token) is what the diamond
        keeps after the bribe: one wei more and nothing is paid; exactly it and the bribe is."""
        plan = _sized(w3, R.v2_routes(w3)["2-hop"])
        gross = plan.predicted_profit
        bribe = gross * MAX_BRIBE_BPS // BPS
        keep = gross - bribe
        _owner_tx(w3, diamond, owner, "setMaxBribeBps", MAX_BRIBE_BPS)
        block = w3.eth.block_number
        if whose == "owner":
            _owner_tx(w3, diamond, owner, "setMinProfit", A.USDC, keep + 1)
            tx = plan.call(deployment.diamond, hot_key, 0, block + 5, MAX_BRIBE_BPS)
        else:
            tx = plan.call(deployment.diamond, hot_key, keep + 1, block + 5, MAX_BRIBE_BPS)
        with nothing_lost.guard():
            mine_attack(w3, tx, f"InsufficientProfit(profit={keep}, minProfit={keep + 1})")
        assert balance_of(w3, A.USDC, coinbase) == 0
        if whose == "owner":
            _owner_tx(w3, diamond, owner, "setMinProfit", A.USDC, keep)
        else:
            tx = plan.call(deployment.diamond, hot_key, keep, block + 5, MAX_BRIBE_BPS)
        before = balance_of(w3, A.USDC, deployment.diamond)
        receipt = send(w3, tx, "executeArb")
        assert receipt["status"] == 1
        assert balance_of(w3, A.USDC, coinbase) == bribe
        assert balance_of(w3, A.USDC, deployment.diamond) - before == keep

    def test_never_paid_on_a_loss(
        self,
        w3: Web3,
        deployment: Any,
        diamond: Any,
        owner: str,
        hot_key: str,
        stocked: Any,
        coinbase: str,
        nothing_lost: NothingLost,
    ) -> None:
        """No shock: the round trip only pays the pools' fees. The loss reverts the trade, so
        the coinbase gets the reverted transaction's priority fee and not a wei of USDC."""
        plan = R.plan_at(w3, R.v2_routes(w3)["2-hop"], R.usdc(10_000), R.balancer(w3))
        assert plan.predicted_profit < 0
        _owner_tx(w3, diamond, owner, "setMaxBribeBps", MAX_BRIBE_BPS)
        tx = plan.call(deployment.diamond, hot_key, 0, w3.eth.block_number + 5, MAX_BRIBE_BPS)
        before = _eth(w3, coinbase)
        with nothing_lost.guard():
            receipt = mine_attack(
                w3, tx, f"InsufficientProfit(profit={plan.predicted_profit}, minProfit=0)"
            )
        base_fee = int(w3.eth.get_block(receipt["blockNumber"])["baseFeePerGas"])
        tips = receipt["gasUsed"] * (receipt["effectiveGasPrice"] - base_fee)
        assert _eth(w3, coinbase) - before == tips
        assert balance_of(w3, A.USDC, coinbase) == 0

    def test_a_coinbase_that_refuses_eth_gets_nothing(
        self, w3: Web3, deployment: Any, diamond: Any, owner: str, hot_key: str
    ) -> None:
        """A contract coinbase that reverts on ETH (or spends more than the 2,300 gas stipend):
        the bribe is wrapped back, the diamond keeps the whole profit, the trade succeeds."""
        refuser = deploy_audit(w3, "AttackerRelay", owner).address  # no receive(): reverts
        _set_coinbase(w3, refuser)
        try:
            plan = _sized(w3, _weth_route(w3))
            _owner_tx(w3, diamond, owner, "setMaxBribeBps", MAX_BRIBE_BPS)
            before = _eth(w3, refuser)
            trade = R.execute(_bribing(w3, deployment, hot_key, MAX_BRIBE_BPS), plan)
        finally:
            _rpc(w3, "anvil_setCoinbase", [ZERO])
        assert trade.bribe == 0
        assert trade.realized_profit == trade.event_profit == plan.predicted_profit > 0
        assert _eth(w3, refuser) - before == _tips(w3, trade)  # what the protocol credits it
        assert _eth(w3, deployment.diamond) == 0

    def test_no_coinbase_no_bribe(
        self, w3: Web3, deployment: Any, diamond: Any, owner: str, hot_key: str
    ) -> None:
        """The lab's default fee recipient is the zero address: nobody to pay, nothing burned."""
        assert w3.eth.get_block("latest")["miner"] == ZERO
        plan = _sized(w3, R.v2_routes(w3)["2-hop"])
        _owner_tx(w3, diamond, owner, "setMaxBribeBps", MAX_BRIBE_BPS)
        trade = R.execute(_bribing(w3, deployment, hot_key, MAX_BRIBE_BPS), plan)
        assert trade.bribe == 0
        assert trade.realized_profit == plan.predicted_profit > 0

    def test_the_cap_is_a_share_of_the_whole(
        self, w3: Web3, deployment: Any, diamond: Any, owner: str
    ) -> None:
        data = diamond.encode_abi("setMaxBribeBps", [BPS + 1])
        mine_attack(
            w3, {"from": owner, "to": deployment.diamond, "data": data}, "InvalidBps(bps=10001)"
        )
        receipt = _owner_tx(w3, diamond, owner, "setMaxBribeBps", BPS)
        (event,) = diamond.events.MaxBribeSet().process_receipt(receipt)
        assert event["args"]["bps"] == BPS == diamond.functions.maxBribeBps().call()


# ---------------------------------------------------------------- the executor's own pair


def _tx(w3: Web3, sender: str, c: Any, fn: str, *args: Any) -> Any:
    return send(w3, {"from": sender, "to": c.address, "data": c.encode_abi(fn, list(args))}, fn)


def _plain_token(w3: Web3, holder: str) -> str:
    """An ERC-20 without quirks (the zoo's fee-on-transfer token at fee 0), supply to `holder`."""
    args = encode(
        ["string", "string", "uint8", "address", "uint256", "uint256"],
        ["Executor Token", "EXT", 18, holder, 10**30, 0],
    )
    code = contract("FeeOnTransferToken").bytecode + args
    receipt = send(w3, {"from": holder, "data": "0x" + code.hex()}, "deploy EXT")
    return to_checksum_address(str(receipt["contractAddress"]))


def _own_pair(
    w3: Web3, executor: str, factory: str, a: str, amount_a: int, b: str, amount_b: int
) -> Any:
    """A genuine pair of `factory`, created and seeded by `executor`: its only liquidity
    provider (but for the MINIMUM_LIQUIDITY Uniswap locks)."""
    f = contract_at(w3, factory, FACTORY_ABI)
    _tx(w3, executor, f, "createPair", a, b)
    pair = contract_at(w3, f.functions.getPair(a, b).call(), PAIR_ABI)
    for token, amount in ((a, amount_a), (b, amount_b)):
        deal(w3, token, pair.address, balance_of(w3, token, pair.address) + amount)
    _tx(w3, executor, pair, "mint", executor)
    return pair


def _state(w3: Web3, pair: Any, venue: str) -> V2PairState:
    r0, r1, _ = pair.functions.getReserves().call()
    return V2PairState(
        address=pair.address,
        token0=pair.functions.token0().call(),
        token1=pair.functions.token1().call(),
        reserve0=r0,
        reserve1=r1,
        venue=venue,
    )


def _hop(pair: Any, token_in: str, token_out: str, venue: str) -> Hop:
    return Hop(
        pool=pair.address,
        token_in=token_in,
        token_out=token_out,
        fee_pips=3000,
        kind=HopKind.UNISWAP_V2,
        factory=v2_factory(venue),
    )


class TestExecutorOwnedPair:
    """The issue's attack: an allowed executor routes the last V2 hop through its own pair with
    minProfit 0. Before issue 14 the path named the pair, so the executor's own contract could
    take the previous hop's WETH and pay back exactly the loan: the whole profit was the
    executor's. Now the path names a factory, the facet derives the pair."""

    @pytest.fixture
    def attack(self, w3: Web3, deployment: Any, hot_key: str) -> tuple[Plan, Any, int]:
        """USDC -> WETH on Uniswap V2 (cheap after the demo's shock) -> EXT on the executor's
        SushiSwap WETH/EXT pair -> USDC on its Uniswap V2 EXT/USDC pair, both seeded at the fair
        price; sized honestly, then the last hop asked for exactly the loan back (the profit
        stays in the executor's pair). Returns (that plan, the executor's last pair, the honest
        plan's profit)."""
        R.shock_v2_weth_usdc(w3)
        sushi = R.pool(w3, "sushiswap", A.WETH, A.USDC).address
        r_weth, r_usdc = _state(w3, contract_at(w3, sushi, PAIR_ABI), "sushiswap").reserves_for(
            A.WETH
        )
        usdc_per_weth = r_usdc * 10**18 // r_weth  # the fair price, off the shocked pair
        ext = _plain_token(w3, hot_key)
        weth_ext = _own_pair(w3, hot_key, A.SUSHISWAP_FACTORY, A.WETH, 100 * 10**18, ext, 10**23)
        ext_usdc = _own_pair(
            w3, hot_key, A.UNISWAP_V2_FACTORY, ext, 10**23, A.USDC, 100 * usdc_per_weth
        )
        uni = R.pool(w3, "uniswap_v2", A.WETH, A.USDC)
        route = Cycle(
            token=A.USDC,
            hops=(
                R.hop(uni, A.USDC, A.WETH),
                _hop(weth_ext, A.WETH, ext, "sushiswap"),
                _hop(ext_usdc, ext, A.USDC, "uniswap_v2"),
            ),
        )
        states = {
            uni.address: _state(w3, contract_at(w3, uni.address, PAIR_ABI), "uniswap_v2"),
            weth_ext.address: _state(w3, weth_ext, "sushiswap"),
            ext_usdc.address: _state(w3, ext_usdc, "uniswap_v2"),
        }
        sized = size_cycle(route, states)
        honest = plan_route(route, sized.amount_in, R.balancer(w3), states)
        assert honest.predicted_profit > 0
        outs = (*honest.amounts[:-1], honest.amount_in)  # the diamond gets its loan back, no more
        plan = replace(honest, amounts=outs, packed_amounts=encode_amounts(honest.amount_in, outs))
        return plan, ext_usdc, honest.predicted_profit

    def test_the_old_route_cannot_be_written(
        self,
        w3: Web3,
        deployment: Any,
        attacker: str,
        hot_key: str,
        stocked: Any,
        nothing_lost: NothingLost,
    ) -> None:
        """The pre-issue-14 path (41-byte V2 hops naming pairs), the last 'pair' the executor's
        own contract: it no longer parses (the first pair's address byte is read as a factory
        index). In the new format a factory index past the allowed ones is refused the same."""
        R.shock_v2_weth_usdc(w3)
        plan = R.sized_plan(w3, R.v2_routes(w3)["2-hop"], R.balancer(w3))[0]
        own = deploy_audit(w3, "AttackerRelay", hot_key).address
        uni = R.pool(w3, "uniswap_v2", A.WETH, A.USDC).address
        raw = bytes.fromhex
        legacy = (
            raw(A.USDC[2:])
            + b"\x00"
            + raw(uni[2:])
            + raw(A.WETH[2:])
            + b"\x00"
            + raw(own[2:])
            + raw(A.USDC[2:])
        )
        outs = (plan.amounts[0], plan.amount_in)
        amounts = encode_amounts(plan.amount_in, outs)
        block = w3.eth.block_number
        third = plan.path[:42] + b"\x00\x02" + plan.path[44:]  # hop 1 names factory index 2
        with nothing_lost.guard(accounts=[own]):
            for path, error in (
                (legacy, "InvalidRoute(hopIndex=0)"),
                (third, "InvalidRoute(hopIndex=1)"),
            ):
                data = execute_arb_calldata(plan.source.word, path, amounts, 0, block + 5)
                tx = {"from": hot_key, "to": deployment.diamond, "data": "0x" + data.hex()}
                mine_attack(w3, tx, error)

    def test_without_an_owner_minimum_the_profit_stays_in_its_pair(
        self, w3: Web3, deployment: Any, hot_key: str, attack: tuple[Plan, Any, int]
    ) -> None:
        """The residual risk the owner's minimum exists for: through genuine pairs it owns, an
        executor can still ask for less than they pay, and with minProfit 0 the arb's profit is
        left in its pair (it holds all the pair's liquidity but Uniswap's locked 1,000): the
        pair pays back the loan, not the loan plus the profit it would have paid honestly."""
        plan, own, profit = attack
        assert profit > 0
        before_pair = balance_of(w3, A.USDC, own.address)
        before = balance_of(w3, A.USDC, deployment.diamond)
        receipt = send(
            w3, plan.call(deployment.diamond, hot_key, 0, w3.eth.block_number + 5), "executeArb"
        )
        assert receipt["status"] == 1
        assert balance_of(w3, A.USDC, deployment.diamond) == before  # the diamond made nothing
        assert before_pair - balance_of(w3, A.USDC, own.address) == plan.amount_in
        lp = own.functions.balanceOf(hot_key).call()
        assert lp == own.functions.totalSupply().call() - MINIMUM_LIQUIDITY

    def test_the_owner_minimum_holds(
        self,
        w3: Web3,
        deployment: Any,
        diamond: Any,
        owner: str,
        hot_key: str,
        attack: tuple[Plan, Any, int],
        nothing_lost: NothingLost,
    ) -> None:
        """The owner sets a minimum profit for USDC: the executor's minProfit 0 no longer lets
        the arb keep nothing, and leaving the diamond exactly the minimum is the most it can
        divert."""
        plan, own, profit = attack
        minimum = profit // 2
        _owner_tx(w3, diamond, owner, "setMinProfit", A.USDC, minimum)
        assert diamond.functions.minProfit(A.USDC).call() == minimum
        tx = plan.call(deployment.diamond, hot_key, 0, w3.eth.block_number + 5)
        with nothing_lost.guard(accounts=[own.address]):
            mine_attack(w3, tx, f"InsufficientProfit(profit=0, minProfit={minimum})")
        outs = (*plan.amounts[:-1], plan.amount_in + minimum)
        kept = replace(plan, amounts=outs, packed_amounts=encode_amounts(plan.amount_in, outs))
        before = balance_of(w3, A.USDC, deployment.diamond)
        send(w3, kept.call(deployment.diamond, hot_key, 0, w3.eth.block_number + 5), "executeArb")
        assert balance_of(w3, A.USDC, deployment.diamond) - before == minimum
