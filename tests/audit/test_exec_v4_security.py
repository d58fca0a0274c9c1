"""The Uniswap V4 doors of FlashArbFacet a stranger might try (issue 16): unlockCallback called
directly, by a contract posing as the PoolManager, and by the real PoolManager outside an arb
of the diamond's own; and routes that name a pool with hooks. Each is mined, reverts with its
own error, and moves nothing. The PoolManager is a constant and every V4 pool key is built on
chain with no hooks, so a hooked pool cannot be written into a route at all: what a route can
name is the hookless key of the same tokens, fee and spacing."""

from __future__ import annotations

from typing import Any, cast

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from web3 import Web3

from flasharb.amm.uniswap_v3.tick_math import get_sqrt_ratio_at_tick
from flasharb.amm.uniswap_v4 import NATIVE, PoolKey
from flasharb.chain import addresses as A
from flasharb.chain.artifacts import contract
from flasharb.chain.cheats import balance_of, deal, impersonating
from flasharb.chain.rpc import send
from flasharb.errors import FlasharbValueError
from flasharb.execute.plan import Plan
from flasharb.replica.uniswap_v4 import SEEDER
from flasharb.search.capital import FlashSource
from flasharb.search.cycles import Cycle
from flasharb.search.route import encode_amounts, encode_path
from flasharb_testing import routes as R
from flasharb_testing import universal as UR
from flasharb_testing import v4 as V4
from tests.helpers import call_error, send_failing

TOKENS = (A.WETH, A.USDC, A.DAI, A.USDT)
HOOK = to_checksum_address("0x00000000000000000000000000000000000a0080")  # BEFORE_SWAP_FLAG only
UNLOCK_CALLBACK = function_signature_to_4byte_selector("unlockCallback(bytes)")


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


@pytest.fixture
def stocked(w3: Web3, deployment: Any) -> None:
    """The diamond holds inventory worth stealing."""
    for token, amount in ((A.USDC, 10**12), (A.WETH, 10**21), (A.DAI, 10**24)):
        deal(w3, token, deployment.diamond, amount)


def _loan_data(plan: Plan) -> bytes:
    """What executeArb would hand the PoolManager for `plan`: source | path.length | path |
    amounts (Plan.loan_data)."""
    return plan.loan_data


def _v4_plan(w3: Web3) -> Plan:
    """A V4 loan of 1,000 USDC around V2 > V4 (amounts as quoted now)."""
    route = V4.cycle(
        A.USDC,
        (R.pool(w3, "uniswap_v2", A.WETH, A.USDC), A.WETH),
        (V4.key(w3, A.WETH, A.USDC, fee=500), A.USDC),
    )
    return V4.plan_at(w3, route, 1_000 * 10**6, FlashSource.uniswap_v4())


class TestUnlockCallback:
    """unlockCallback pays out of the diamond only inside the diamond's own unlock."""

    def test_stranger_calls_it(
        self, w3: Web3, deployment: Any, attacker: str, stocked: None
    ) -> None:
        data = UNLOCK_CALLBACK + encode(["bytes"], [_loan_data(_v4_plan(w3))])
        tx = {"from": attacker, "to": deployment.diamond, "data": "0x" + data.hex()}
        assert call_error(w3, tx) == f"UnauthorizedFlashLoanCaller(caller={attacker})"
        _mine_and_check_nothing_moved(w3, tx, [deployment.diamond, attacker])

    def test_a_contract_posing_as_the_pool_manager(
        self, w3: Web3, deployment: Any, attacker: str, stocked: None
    ) -> None:
        """A contract that answers like the PoolManager calls back with a route it made up."""
        relay = send(
            w3, {"from": attacker, "data": "0x" + contract("AttackerRelay").bytecode.hex()}
        )
        address = str(relay["contractAddress"])
        r = w3.eth.contract(address=address, abi=cast(Any, contract("AttackerRelay").abi))  # type: ignore[call-overload]
        inner = UNLOCK_CALLBACK + encode(["bytes"], [_loan_data(_v4_plan(w3))])
        tx = {
            "from": attacker,
            "to": address,
            "data": r.encode_abi("relay", [[(deployment.diamond, inner)]]),
        }
        assert call_error(w3, tx) == f"UnauthorizedFlashLoanCaller(caller={address})"
        _mine_and_check_nothing_moved(w3, tx, [deployment.diamond, attacker, address])

    @pytest.mark.parametrize("loan", [True, False], ids=["loan-data", "route-data"])
    def test_the_real_pool_manager_outside_an_arb(
        self, w3: Web3, deployment: Any, stocked: None, loan: bool
    ) -> None:
        """The genuine PoolManager (impersonated: it only ever calls back whoever called
        unlock, never the diamond unasked) with a V4 loan's data, or with the data of a
        route's own unlock: nothing is in flight, so nothing is accepted."""
        data = _loan_data(_v4_plan(w3))
        if not loan:
            data = bytes(32) + data[32:]  # source word 0: the route's own unlock
        pm = A.UNISWAP_V4_POOL_MANAGER
        with impersonating(w3, pm, eth=10**18):
            tx = {
                "from": pm,
                "to": deployment.diamond,
                "data": "0x" + (UNLOCK_CALLBACK + encode(["bytes"], [data])).hex(),
            }
            assert call_error(w3, tx) == "UnsolicitedFlashLoan()"
            _mine_and_check_nothing_moved(w3, tx, [deployment.diamond, pm])

    def test_executor_cannot_borrow_native_eth_for_a_token_route(
        self, w3: Web3, deployment: Any, owner: str, stocked: None
    ) -> None:
        """The native bit of a V4 loan is for WETH routes only: the facet refuses it before
        unlocking (the planner refuses to write it)."""
        plan = _v4_plan(w3)
        word = FlashSource.uniswap_v4(native=True).word
        with pytest.raises(FlasharbValueError, match="WETH routes only"):
            V4.plan_at(w3, plan.cycle, plan.amount_in, FlashSource.uniswap_v4(native=True))
        data = bytearray(plan.calldata(0, w3.eth.block_number + 5))
        data[4:36] = word.to_bytes(32, "big")
        tx = {"from": owner, "to": deployment.diamond, "data": "0x" + bytes(data).hex()}
        assert call_error(w3, tx) == f"InvalidFlashSource(source={word})"
        _mine_and_check_nothing_moved(w3, tx, [deployment.diamond, owner])


def _hooked(w3: Web3, owner: str, fee: int, spacing: int) -> PoolKey:
    """A DAI/USDC pool with CountingHook at HOOK, $1M of liquidity around 1:1 (the replica's
    seeder initializes it and adds the position, paid by `owner`)."""
    w3.provider.make_request(  # type: ignore[arg-type]
        "anvil_setCode", [HOOK, "0x" + contract("CountingHook").deployed_bytecode.hex()]
    )
    key = PoolKey(currency0=A.DAI, currency1=A.USDC, fee=fee, tick_spacing=spacing, hooks=HOOK)
    deal(w3, A.DAI, owner, 10**24)
    deal(w3, A.USDC, owner, 10**12)
    approve = function_signature_to_4byte_selector("approve(address,uint256)")
    for token in (A.DAI, A.USDC):
        send(
            w3,
            {
                "from": owner,
                "to": token,
                "data": "0x"
                + (approve + encode(["address", "uint256"], [SEEDER, 2**256 - 1])).hex(),
            },
        )
    tick = -276324 // spacing * spacing  # 1 DAI (18 decimals) = 1 USDC (6): price 1e-12
    lo, hi = tick - 100 * spacing, tick + 100 * spacing
    seed = function_signature_to_4byte_selector(
        "seed((address,address,uint24,int24,address),uint160,(int24,int24,uint128)[])"
    )
    args = encode(
        ["(address,address,uint24,int24,address)", "uint160", "(int24,int24,uint128)[]"],
        [key.as_tuple(), get_sqrt_ratio_at_tick(tick), [(lo, hi, 10**15)]],
    )
    send(w3, {"from": owner, "to": SEEDER, "data": "0x" + (seed + args).hex()})
    return key


def _hook_calls(w3: Web3) -> int:
    raw = w3.eth.call(
        cast(
            Any, {"to": HOOK, "data": "0x" + function_signature_to_4byte_selector("calls()").hex()}
        )
    )
    return int.from_bytes(bytes(raw), "big")


class TestHookedPools:
    """A pool with hooks is never traded: the planner refuses a hop read from one, and the
    facet's key for the same tokens, fee and spacing has no hooks."""

    def test_the_hook_is_live(self, w3: Web3, owner: str) -> None:
        """The test's hooked pool calls its hook on a swap (a user's swap through the
        UniversalRouter): a count of 0 after a route means the route never touched it."""
        key = _hooked(w3, owner, 77, 7)
        UR.permit2_approve(w3, owner, A.DAI)
        swap = [
            UR.v4_exact_in_single(key, True, 10**18),
            UR.settle_all(A.DAI, 10**18),
            UR.take_all(A.USDC),
        ]
        before = balance_of(w3, A.USDC, owner)
        UR.execute(w3, owner, [UR.v4_swap(swap)])
        assert _hook_calls(w3) == 1 and balance_of(w3, A.USDC, owner) > before

    def test_a_hop_read_from_a_hooked_pool_is_refused(self, w3: Web3, owner: str) -> None:
        key = _hooked(w3, owner, 77, 7)
        hop = V4.hop(
            PoolKey(currency0=key.currency0, currency1=key.currency1, fee=77, tick_spacing=7),
            A.USDC,
            A.DAI,
        )
        hooked = type(hop)(
            **{
                **{f: getattr(hop, f) for f in hop.__slots__},
                "pool_id": key.pool_id(),
                "pool": V4.pool_id(key),
            }
        )  # type: ignore[attr-defined]
        route = Cycle(
            token=A.USDC, hops=(hooked, V4.hop(V4.key(w3, A.USDC, A.DAI, fee=10), A.DAI, A.USDC))
        )
        with pytest.raises(FlasharbValueError, match="pools without hooks only"):
            encode_path(route)

    def test_a_route_naming_a_hooked_pools_parameters_reverts(
        self, w3: Web3, deployment: Any, owner: str, stocked: None
    ) -> None:
        """The only pool of DAI/USDC at fee 77 / spacing 7 has a hook: the facet's hookless key
        of those parameters names a pool that was never initialized, and the PoolManager
        refuses it. The hook is never called; nothing moves."""
        _hooked(w3, owner, 77, 7)
        hookless = PoolKey(currency0=A.DAI, currency1=A.USDC, fee=77, tick_spacing=7)
        route = Cycle(
            token=A.USDC,
            hops=(
                V4.hop(hookless, A.USDC, A.DAI),
                V4.hop(V4.key(w3, A.USDC, A.DAI, fee=10), A.DAI, A.USDC),
            ),
        )
        plan = Plan(
            cycle=route,
            source=FlashSource.uniswap_v4(),
            amount_in=10**9,
            amounts=(10**21, 10**9),
            flash_fee=0,
            path=encode_path(route),
            packed_amounts=encode_amounts(10**9, [10**21, 10**9]),
        )
        tx = plan.call(deployment.diamond, owner, 0, w3.eth.block_number + 5)
        assert call_error(w3, tx) == "PoolNotInitialized()"
        _mine_and_check_nothing_moved(
            w3, tx, [deployment.diamond, owner, A.UNISWAP_V4_POOL_MANAGER]
        )
        assert _hook_calls(w3) == 0

    def test_a_hooked_twin_is_never_touched(self, w3: Web3, deployment: Any, owner: str) -> None:
        """A hooked DAI/USDC pool with the same fee and spacing as the replica's hookless one:
        a route through "DAI/USDC 0.001% spacing 1" trades the hookless pool, to the wei as
        quoted, and the hook counts no call."""
        _hooked(w3, owner, 10, 1)
        R.shock_v2_weth_usdc(w3)
        route = V4.cycle(
            A.USDC,
            (R.pool(w3, "uniswap_v2", A.WETH, A.USDC), A.WETH),
            (V4.key(w3, NATIVE, A.DAI, fee=500), A.DAI),
            (V4.key(w3, A.USDC, A.DAI, fee=10, tick_spacing=1), A.USDC),
        )
        plan, _ = V4.sized_plan(w3, route, R.balancer(w3))
        trade = R.execute(R.trader(w3, deployment), plan)
        assert trade.realized_profit == plan.predicted_profit > 0
        assert _hook_calls(w3) == 0
