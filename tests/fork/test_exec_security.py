"""The doors of FlashArbFacet a stranger or a hot key might try: callbacks nobody asked for,
loans that never call back, routes through pairs that do not exist or that lie about their
amounts, and a Balancer hop inside a Balancer loan. Each reverts with its own error and moves
nothing. Since issue 14 no pool or lender is named by address: the facet derives them from
their tokens (and V2 factory index, V3 fee), so a route naming an attacker's contract cannot
be written at all; what can be written is a derivation that lands on an address without code."""

from __future__ import annotations

from typing import Any, cast

import pytest
from eth_abi import encode
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.artifacts import contract
from flasharb.chain.cheats import balance_of, deal
from flasharb.chain.rpc import send
from flasharb.execute.deploy import v2_factories
from flasharb.execute.plan import Plan
from flasharb.search.capital import FlashSource
from flasharb.search.cycles import Cycle, Hop
from flasharb.search.graph import v2_factory
from flasharb.search.route import encode_amounts, encode_path, v2_pair_address, v3_pool_address
from flasharb_testing import routes as R
from tests.helpers import call_error, send_failing

TOKENS = (A.WETH, A.USDC, A.DAI, A.USDT)


def _balances(w3: Web3, who: list[str]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {(w, "ETH"): int(w3.eth.get_balance(w)) for w in who}  # type: ignore[arg-type]
    out |= {(w, t): balance_of(w3, t, w) for w in who for t in TOKENS}
    return out


def _mine_and_check_nothing_moved(w3: Web3, tx: dict[str, Any], who: list[str]) -> None:
    """Mine the reverting `tx`: every balance of `who` is unchanged, but the sender's gas."""
    before = _balances(w3, who)
    receipt = send_failing(w3, tx)
    assert receipt["status"] == 0
    after = _balances(w3, who)
    after[(tx["from"], "ETH")] += receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert after == before


def _stocked(w3: Web3, deployment: Any) -> None:
    """The diamond holds inventory worth stealing."""
    for token, amount in ((A.USDC, 10**12), (A.WETH, 10**21), (A.DAI, 10**24)):
        deal(w3, token, deployment.diamond, amount)


def _raw_plan(
    token: str,
    hops: list[Hop],
    amount_in: int,
    outs: list[int],
    source: FlashSource,
) -> Plan:
    """A plan with made-up amounts, for routes no sizing would produce (a Balancer hop carries
    its pool id)."""
    route = Cycle(token=token, hops=tuple(hops))
    return Plan(
        cycle=route,
        source=source,
        amount_in=amount_in,
        amounts=tuple(outs),
        flash_fee=0,
        path=encode_path(route),
        packed_amounts=encode_amounts(amount_in, outs),
    )


class TestUnsolicitedCallbacks:
    """Every callback checks its caller against the lender or pool in flight, from transient
    storage; with nothing in flight nobody passes."""

    @pytest.mark.parametrize(
        ("fn", "args", "error"),
        [
            ("uniswapV3SwapCallback", [10**9, -1, b""], "UnauthorizedSwapCallback"),
            ("uniswapV3FlashCallback", [0, 0, b""], "UnauthorizedFlashLoanCaller"),
            ("uniswapV2Call", ["DIAMOND", 10**9, 0, b"\x01"], "UnauthorizedFlashLoanCaller"),
            ("receiveFlashLoan", [[A.USDC], [10**9], [0], b"\x01"], "UnauthorizedFlashLoanCaller"),
        ],
        ids=["v3-swap", "v3-flash", "v2-flash-swap", "balancer"],
    )
    def test_stranger_calls_a_callback(
        self,
        w3: Web3,
        deployment: Any,
        diamond: Any,
        attacker: str,
        fn: str,
        args: list[Any],
        error: str,
    ) -> None:
        _stocked(w3, deployment)
        args = [deployment.diamond if a == "DIAMOND" else a for a in args]
        tx = {"from": attacker, "to": deployment.diamond, "data": diamond.encode_abi(fn, args)}
        assert call_error(w3, tx) == f"{error}(caller={attacker})"
        _mine_and_check_nothing_moved(w3, tx, [deployment.diamond, attacker])

    def test_pair_flash_swap_naming_the_diamond(
        self, w3: Web3, deployment: Any, attacker: str
    ) -> None:
        """An attacker flash-swaps from a real pair with to = the diamond and crafted data: the
        pair calls uniswapV2Call, which refuses a lender nobody is borrowing from."""
        _stocked(w3, deployment)
        pair = R.pool(w3, "uniswap_v2", A.WETH, A.USDC).address
        data = (
            "0x022c0d9f"
            + encode(
                ["uint256", "uint256", "address", "bytes"],
                [10**6, 0, deployment.diamond, b"\x01" * 64],
            ).hex()
        )
        tx = {"from": attacker, "to": pair, "data": data}
        assert call_error(w3, tx) == f"UnauthorizedFlashLoanCaller(caller={pair})"
        _mine_and_check_nothing_moved(w3, tx, [deployment.diamond, attacker, pair])

    def test_vault_loan_naming_the_diamond(self, w3: Web3, deployment: Any, attacker: str) -> None:
        """Anyone may ask the Vault to lend to any recipient: the diamond accepts only the loan it
        started, with the data it sent (here: a real, profitable-looking route)."""
        _stocked(w3, deployment)
        R.shock_v2_weth_usdc(w3)
        plan, _ = R.sized_plan(w3, R.v2_routes(w3)["2-hop"], R.balancer(w3))
        data = (
            "0x5c38449e"
            + encode(
                ["address", "address[]", "uint256[]", "bytes"],
                [deployment.diamond, [A.USDC], [plan.amount_in], plan.loan_data],
            ).hex()
        )
        tx = {"from": attacker, "to": A.BALANCER_VAULT, "data": data}
        assert call_error(w3, tx) == "UnsolicitedFlashLoan()"
        _mine_and_check_nothing_moved(w3, tx, [deployment.diamond, attacker, A.BALANCER_VAULT])


class TestLoans:
    """What executeArb does with lenders that do not behave."""

    def test_lender_that_never_calls_back(
        self, w3: Web3, deployment: Any, diamond: Any, owner: str, attacker: str
    ) -> None:
        """A V3 lender of USDC/LINK at the 0.01% tier, which the factory never deployed: the
        derived pool is an address without code, the call succeeds, nothing calls back, and
        executeArb refuses to pretend a trade happened. (An attacker's account cannot be named
        as the lender any more: the source word carries the other token, not the lender.)"""
        R.shock_v2_weth_usdc(w3)
        route = R.v2_routes(w3)["2-hop"]
        nowhere = v3_pool_address(A.USDC, A.LINK, 100)
        assert w3.eth.get_code(cast(Any, nowhere)) == b""
        fake = FlashSource.uniswap_v3(
            nowhere, token0=int(A.USDC, 16) < int(A.LINK, 16), fee_pips=100, other=A.LINK
        )
        plan, _ = R.sized_plan(w3, route, fake)
        tx = plan.call(deployment.diamond, owner, 0, w3.eth.block_number + 5)
        assert call_error(w3, tx) == f"FlashLoanNotTaken(lender={nowhere})"
        _mine_and_check_nothing_moved(w3, tx, [deployment.diamond, owner, nowhere])

    def test_balancer_hop_in_balancer_loan_is_refused_before_borrowing(
        self, w3: Web3, deployment: Any, owner: str
    ) -> None:
        bal = R.pool(w3, "balancer", A.WETH, A.USDC)
        uni = R.pool(w3, "uniswap_v2", A.WETH, A.USDC)
        plan = _raw_plan(
            A.USDC,
            [R.hop(uni, A.USDC, A.WETH), R.hop(bal, A.WETH, A.USDC)],
            10**9,
            [10**17, 10**9],
            FlashSource.balancer(),
        )
        tx = plan.call(deployment.diamond, owner, 0, w3.eth.block_number + 5)
        assert call_error(w3, tx) == "BalancerHopInBalancerLoan(hopIndex=1)"

    def test_the_vault_refuses_a_balancer_swap_inside_its_loan(self, w3: Web3, owner: str) -> None:
        """Why the rule exists: the Vault's flashLoan and swap share one reentrancy guard."""
        probe = send(w3, {"from": owner, "data": "0x" + contract("BalReentryProbe").bytecode.hex()})
        address = str(probe["contractAddress"])
        bal = R.pool(w3, "balancer", A.WETH, A.USDC)
        probe_contract = w3.eth.contract(
            address=address, abi=cast(Any, contract("BalReentryProbe").abi)
        )  # type: ignore[call-overload]
        data = probe_contract.encode_abi("run", [A.USDC, 10**9, bal.pool_id, A.WETH])
        assert call_error(w3, {"from": owner, "to": address, "data": data}) == 'Error("BAL#400")'


class TestLyingRoutes:
    """An allowed executor can trade but must not be able to move inventory out: routes whose
    pools or tokens lie revert, and every balance stays where it was."""

    def test_pair_that_does_not_exist_gets_nothing(
        self, w3: Web3, deployment: Any, diamond: Any, owner: str, executor_key: str, attacker: str
    ) -> None:
        """Hop 0 is a SushiSwap DAI/LINK pair, which SushiSwap never created: the derived pair
        is an address without code. The diamond pays it the DAI (a transfer to an empty
        address), its swap does nothing, so hop 1's real Uniswap V2 LINK/DAI pair receives no
        LINK and refuses: the whole transaction reverts, nothing moved. (Hop 0 used to be able
        to name any address, the attacker's included; now only a factory's CREATE2 address.)"""
        _stocked(w3, deployment)
        diamond.functions.setExecutor(executor_key, True).transact({"from": owner})
        sushi = v2_factory("sushiswap")
        missing = Hop(
            pool=v2_pair_address(*v2_factories(w3)[sushi], A.DAI, A.LINK),
            token_in=A.DAI,
            token_out=A.LINK,
            fee_pips=3000,
            factory=sushi,
        )
        assert w3.eth.get_code(cast(Any, missing.pool)) == b""
        uni = R.pool(w3, "uniswap_v2", A.LINK, A.DAI)
        plan = _raw_plan(
            A.DAI,
            [missing, R.hop(uni, A.LINK, A.DAI)],
            10**18,
            [10**17, 10**15],
            FlashSource.inventory(),
        )
        tx = plan.call(deployment.diamond, executor_key, 0, w3.eth.block_number + 5)
        assert call_error(w3, tx) == 'Error("UniswapV2: INSUFFICIENT_INPUT_AMOUNT")'
        _mine_and_check_nothing_moved(
            w3, tx, [deployment.diamond, attacker, executor_key, missing.pool, uni.address]
        )

    def test_token_the_diamond_did_not_receive_is_not_paid(
        self, w3: Web3, deployment: Any, diamond: Any, owner: str, executor_key: str, attacker: str
    ) -> None:
        """This route once said a real USDC/WETH pair delivers DAI, so that hop 1 would be paid
        in DAI from inventory; now a hop's tokens pick its pair (USDC -> DAI is the USDC/DAI
        pair), so the lie left is the amount: hop 0 asks that pair for 1 wei of DAI, hop 1 (a
        V3 DAI/USDC pool) claims 10^9 came out. The diamond measures the DAI that really
        arrived (1 wei), pays the V3 pool exactly that, gets 0 USDC back, and reverts."""
        _stocked(w3, deployment)
        diamond.functions.setExecutor(executor_key, True).transact({"from": owner})
        uni = R.pool(w3, "uniswap_v2", A.DAI, A.USDC)
        v3 = R.pool(w3, "uniswap_v3", A.DAI, A.USDC, fee=100)
        plan = _raw_plan(
            A.USDC,
            [R.hop(uni, A.USDC, A.DAI), R.hop(v3, A.DAI, A.USDC)],
            10**9,
            [1, 10**9],  # the pair pays 1 wei of DAI for 10^9 USDC: its k check passes
            FlashSource.balancer(),
        )
        tx = plan.call(deployment.diamond, executor_key, 0, w3.eth.block_number + 5)
        assert (
            call_error(w3, tx) == "InsufficientOutput(hopIndex=1, amountOut=0, minOut=1000000000)"
        )
        _mine_and_check_nothing_moved(w3, tx, [deployment.diamond, executor_key, uni.address])
