"""Audit: swap and flash callbacks called by strangers, by contracts, by real pools the facet is
not calling (impersonated), after the swap they belonged to, and around pools created in the
same transaction. Each is mined, reverts with its exact error, and nothing is lost."""

from __future__ import annotations

from typing import Any, cast

import pytest
from eth_abi import encode
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.cheats import impersonating
from flasharb.execute.shock import shock
from flasharb.replica import zoo
from flasharb.search.capital import FlashSource
from flasharb.search.route import execute_arb_calldata, v3_pool_address
from flasharb_testing import routes as R
from tests.audit.attack import deploy_audit, mine_attack
from tests.audit.nothing_lost import NothingLost

CALLBACKS = {  # name -> (args, error raised for an unexpected caller)
    "uniswapV3SwapCallback": ([10**9, -1, b""], "UnauthorizedSwapCallback"),
    "uniswapV3FlashCallback": ([10**9, 0, b"\x01"], "UnauthorizedFlashLoanCaller"),
    "uniswapV2Call": (["DIAMOND", 10**9, 0, b"\x01"], "UnauthorizedFlashLoanCaller"),
    "unlockCallback": ([b"\x01" * 64], "UnauthorizedFlashLoanCaller"),  # V4 PoolManager
}
CREATE_POOL = "0xa1671295"  # UniswapV3Factory.createPool(address,address,uint24)


def _callback(diamond: Any, address: str, name: str) -> tuple[str, str]:
    args, error = CALLBACKS[name]
    return diamond.encode_abi(name, [address if a == "DIAMOND" else a for a in args]), error


class TestStrangers:
    @pytest.mark.parametrize("name", list(CALLBACKS))
    def test_from_an_eoa(
        self,
        w3: Web3,
        deployment: Any,
        diamond: Any,
        attacker: str,
        stocked: Any,
        name: str,
        nothing_lost: NothingLost,
    ) -> None:
        data, error = _callback(diamond, deployment.diamond, name)
        with nothing_lost.guard():
            mine_attack(
                w3,
                {"from": attacker, "to": deployment.diamond, "data": data},
                f"{error}(caller={attacker})",
            )

    @pytest.mark.parametrize("name", list(CALLBACKS))
    def test_from_a_contract(
        self,
        w3: Web3,
        deployment: Any,
        diamond: Any,
        attacker: str,
        stocked: Any,
        name: str,
        nothing_lost: NothingLost,
    ) -> None:
        relay = deploy_audit(w3, "AttackerRelay", attacker)
        data, error = _callback(diamond, deployment.diamond, name)
        tx = {
            "from": attacker,
            "to": relay.address,
            "data": relay.encode_abi("relay", [[(deployment.diamond, data)]]),
        }
        with nothing_lost.guard(accounts=[relay.address]):
            mine_attack(w3, tx, f"{error}(caller={relay.address})")


class TestRealPools:
    """A genuine pool's address is not enough: only the pool the facet is calling right now."""

    @pytest.mark.parametrize(
        ("name", "venue"),
        [
            ("uniswapV3SwapCallback", "uniswap_v3"),
            ("uniswapV3FlashCallback", "uniswap_v3"),
            ("uniswapV2Call", "uniswap_v2"),
        ],
    )
    def test_real_pool_the_facet_is_not_calling(
        self,
        w3: Web3,
        deployment: Any,
        diamond: Any,
        stocked: Any,
        name: str,
        venue: str,
        nothing_lost: NothingLost,
    ) -> None:
        pool = R.pool(w3, venue, A.WETH, A.USDC, fee=500).address
        data, error = _callback(diamond, deployment.diamond, name)
        with impersonating(w3, pool, eth=10**18), nothing_lost.guard():
            mine_attack(
                w3,
                {"from": pool, "to": deployment.diamond, "data": data},
                f"{error}(caller={pool})",
            )

    def test_real_pair_flash_swap_naming_the_diamond(
        self, w3: Web3, deployment: Any, attacker: str, stocked: Any, nothing_lost: NothingLost
    ) -> None:
        pair = R.pool(w3, "uniswap_v2", A.WETH, A.USDC).address
        data = (
            "0x022c0d9f"
            + encode(
                ["uint256", "uint256", "address", "bytes"],
                [10**6, 0, deployment.diamond, b"\x01" * 64],
            ).hex()
        )
        with nothing_lost.guard():
            mine_attack(
                w3,
                {"from": attacker, "to": pair, "data": data},
                f"UnauthorizedFlashLoanCaller(caller={pair})",
            )

    def test_the_pool_of_a_finished_swap_calls_again(
        self, w3: Web3, deployment: Any, diamond: Any, stocked: Any, nothing_lost: NothingLost
    ) -> None:
        """A real arb swaps on two V3 pools; in the next transaction one of them calls the
        callback: transient state is gone, nothing is in flight."""
        v3_3000 = R.pool(w3, "uniswap_v3", A.WETH, A.USDC, fee=3000)
        v3_500 = R.pool(w3, "uniswap_v3", A.WETH, A.USDC, fee=500)
        shock(w3, v3_3000.address, A.WETH, 2_000 * 10**18)
        route = R.cycle(A.USDC, (v3_3000, A.WETH), (v3_500, A.USDC))
        plan, _ = R.sized_plan(w3, route, R.balancer(w3))
        trade = R.execute(R.trader(w3, deployment), plan)
        assert trade.realized_profit > 0
        data, _ = _callback(diamond, deployment.diamond, "uniswapV3SwapCallback")
        pool = v3_500.address
        with impersonating(w3, pool, eth=10**18), nothing_lost.guard():
            mine_attack(
                w3,
                {"from": pool, "to": deployment.diamond, "data": data},
                f"UnauthorizedSwapCallback(caller={pool})",
            )


class TestFreshPools:
    """Pools that did not exist a moment ago."""

    def test_pool_created_in_the_same_transaction(
        self,
        w3: Web3,
        deployment: Any,
        diamond: Any,
        attacker: str,
        stocked: Any,
        zoo_tokens: dict[str, str],
        nothing_lost: NothingLost,
    ) -> None:
        """The attacker creates the canonical V3 pool of its token and WETH, then (same
        transaction) calls the swap callback: the pool is real, the caller is not it."""
        token = zoo_tokens[zoo.FEE_ON_TRANSFER]
        relay = deploy_audit(w3, "AttackerRelay", attacker)
        create = CREATE_POOL + encode(["address", "address", "uint24"], [token, A.WETH, 3000]).hex()
        data, _ = _callback(diamond, deployment.diamond, "uniswapV3SwapCallback")
        calls = [(A.UNISWAP_V3_FACTORY, create), (deployment.diamond, data)]
        tx = {"from": attacker, "to": relay.address, "data": relay.encode_abi("relay", [calls])}
        with nothing_lost.guard(tokens=[token], accounts=[relay.address]):
            mine_attack(w3, tx, f"UnauthorizedSwapCallback(caller={relay.address})")
        assert w3.eth.get_code(cast(Any, v3_pool_address(token, A.WETH, 3000))) == b""  # all undone

    def test_route_through_a_pool_that_does_not_exist_yet(
        self,
        w3: Web3,
        deployment: Any,
        hot_key: str,
        stocked: Any,
        zoo_tokens: dict[str, str],
        nothing_lost: NothingLost,
    ) -> None:
        """A V3 hop's pool is derived, never given: an undeployed one answers nothing and the
        facet stops (a V3 swap must return its two deltas)."""
        token = zoo_tokens[zoo.REBASING]
        assert w3.eth.get_code(cast(Any, v3_pool_address(A.USDC, token, 3000))) == b""
        path = (
            bytes.fromhex(A.USDC[2:])
            + b"\x01"
            + bytes.fromhex(token[2:])
            + (3000).to_bytes(3, "big")
            + b"\x01"
            + bytes.fromhex(A.USDC[2:])
            + (3000).to_bytes(3, "big")
        )
        amounts = b"".join(x.to_bytes(16, "big") for x in (10**9, 1, 1))
        data = execute_arb_calldata(FlashSource.balancer().word, path, amounts, 0, 10**9)
        tx = {"from": hot_key, "to": deployment.diamond, "data": "0x" + data.hex()}
        with nothing_lost.guard(tokens=[token]):
            mine_attack(w3, tx, "reverted without data")
