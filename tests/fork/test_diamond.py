"""The diamond: loupe, ERC-165, ownership, and no external entry usable by a stranger."""

from __future__ import annotations

from typing import Any, cast

import pytest
from eth_abi import encode
from eth_utils import function_abi_to_4byte_selector
from web3 import Web3

from flasharb.execute.deploy import FACETS, facet_functions, selectors
from tests.helpers import call_error

# Functions anyone may call because they only read.
READ_ONLY = {
    "facets",
    "facetFunctionSelectors",
    "facetAddresses",
    "facetAddress",
    "supportsInterface",
    "owner",
    "paused",
    "isExecutor",
    "notionalCap",
    "maxBribeBps",
    "minProfit",
    "beneficiaries",
    "DUST",
}
# The access error each guarded entry must give a stranger (default: NotContractOwner).
ACCESS_ERROR = {
    "executeArb": "NotExecutor",
    "receiveFlashLoan": "UnauthorizedFlashLoanCaller",
    "uniswapV3FlashCallback": "UnauthorizedFlashLoanCaller",
    "uniswapV2Call": "UnauthorizedFlashLoanCaller",
    "unlockCallback": "UnauthorizedFlashLoanCaller",  # the Uniswap V4 PoolManager's
    "uniswapV3SwapCallback": "UnauthorizedSwapCallback",
}


def _abi_by_selector() -> dict[bytes, dict[str, Any]]:
    table = {}
    for name in FACETS:
        for e in facet_functions(name):  # a fallback-served callback included
            table[function_abi_to_4byte_selector(cast(Any, e))] = e
    return table


def _plausible_args(entry: dict[str, Any], who: str) -> bytes:
    """Arguments a stranger would send: its own address, amount 1, empty arrays, a 1-hop route."""

    def value(t: dict[str, Any]) -> Any:
        ty = t["type"]
        if ty.endswith("[]"):
            return []
        if ty == "tuple":
            return tuple(value(c) for c in t["components"])
        if ty == "address":
            return who
        if ty.startswith(("uint", "int")):
            return 1
        if ty == "bool":
            return True
        if ty.startswith("bytes") and ty != "bytes":
            return b"\x00" * int(ty[5:])
        return b""

    def typ(t: dict[str, Any]) -> str:
        if t["type"].startswith("tuple"):
            return "(" + ",".join(typ(c) for c in t["components"]) + ")" + str(t["type"])[5:]
        return str(t["type"])

    return encode([typ(i) for i in entry["inputs"]], [value(i) for i in entry["inputs"]])


class TestLoupe:
    """The loupe reports exactly the selectors each facet was cut in with."""

    def test_every_facet_lists_its_selectors(self, diamond: Any, deployment: Any) -> None:
        for name in FACETS:
            listed = diamond.functions.facetFunctionSelectors(deployment.facets[name]).call()
            assert sorted(listed) == sorted(selectors(name)), name
        listed_facets = {addr: sorted(sels) for addr, sels in diamond.functions.facets().call()}
        assert listed_facets == {deployment.facets[n]: sorted(selectors(n)) for n in FACETS}

    def test_facet_address_of_each_selector(self, diamond: Any, deployment: Any) -> None:
        for name in FACETS:
            for sel in selectors(name):
                assert diamond.functions.facetAddress(sel).call() == deployment.facets[name]

    @pytest.mark.parametrize(
        ("iface", "supported"),
        [
            ("01ffc9a7", True),
            ("1f931c1c", True),
            ("48e2b093", True),
            ("7f5828d0", True),
            ("f04f2707", True),
            ("ffffffff", False),
            ("12345678", False),
        ],
        ids=[
            "ERC165",
            "DiamondCut",
            "DiamondLoupe",
            "ERC173",
            "FlashLoanRecipient",
            "invalid",
            "random",
        ],
    )
    def test_supports_interface(self, diamond: Any, iface: str, supported: bool) -> None:
        assert diamond.functions.supportsInterface(bytes.fromhex(iface)).call() is supported

    def test_owner_is_the_deployer(self, diamond: Any, owner: str) -> None:
        assert diamond.functions.owner().call() == owner


class TestStrangers:
    """Every external entry of every facet, taken from the loupe, refuses a stranger."""

    @pytest.mark.parametrize(
        "who", ["attacker", "executor_key"], ids=["stranger", "non-owner-executor"]
    )
    def test_every_mutating_selector_refuses(
        self, w3: Web3, diamond: Any, deployment: Any, request: pytest.FixtureRequest, who: str
    ) -> None:
        caller = request.getfixturevalue(who)
        abi = _abi_by_selector()
        checked = []
        for _facet, sels in diamond.functions.facets().call():
            for sel in sels:
                entry = abi[sel]
                if entry["name"] in READ_ONLY:
                    assert entry["stateMutability"] in ("view", "pure"), entry["name"]
                    continue
                data = sel + _plausible_args(entry, caller)
                err = call_error(
                    w3, {"from": caller, "to": deployment.diamond, "data": "0x" + data.hex()}
                )
                want = ACCESS_ERROR.get(entry["name"], "NotContractOwner")
                assert err is not None and err.startswith(want), (entry["name"], err)
                checked.append(entry["name"])
        assert {
            "diamondCut",
            "transferOwnership",
            "executeArb",
            "receiveFlashLoan",
            "uniswapV3FlashCallback",
            "uniswapV2Call",
            "unlockCallback",
            "uniswapV3SwapCallback",
            "withdraw",
            "setBeneficiaries",
            "distribute",
            "setPaused",
            "setExecutor",
            "setNotionalCap",
            "setMaxBribeBps",
            "setMinProfit",
            "withdrawEth",
        } <= set(checked)

    def test_unknown_selector_reverts(self, w3: Web3, deployment: Any, attacker: str) -> None:
        err = call_error(w3, {"from": attacker, "to": deployment.diamond, "data": "0xdeadbeef"})
        assert err is not None and err.startswith("FunctionNotFound")

    def test_diamond_refuses_ether(self, w3: Web3, deployment: Any, attacker: str) -> None:
        """The diamond takes ETH from WETH only (a bribe's unwrap); anyone else is refused."""
        tx = {"from": attacker, "to": deployment.diamond, "value": 1}
        assert call_error(w3, tx) == f"EtherRefused(sender={attacker})"


class TestOwnership:
    """ERC-173: only the owner hands over, and the old owner loses every power."""

    def test_transfer_moves_every_power(
        self, w3: Web3, diamond: Any, deployment: Any, owner: str, attacker: str
    ) -> None:
        new_owner = list(w3.eth.accounts)[4]
        tx = diamond.functions.transferOwnership(new_owner).transact({"from": owner})
        assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
        assert diamond.functions.owner().call() == new_owner
        data = diamond.encode_abi("transferOwnership", [owner])
        err = call_error(w3, {"from": owner, "to": deployment.diamond, "data": data})
        assert err is not None and err.startswith("NotContractOwner")

    def test_transfer_to_zero_is_refused(
        self, w3: Web3, diamond: Any, deployment: Any, owner: str
    ) -> None:
        data = diamond.encode_abi("transferOwnership", ["0x" + "00" * 20])
        assert (
            call_error(w3, {"from": owner, "to": deployment.diamond, "data": data})
            == "ZeroAddress()"
        )
