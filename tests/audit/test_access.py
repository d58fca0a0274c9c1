"""Audit: who may call what. Every selector the loupe reports, called by a stranger and by an
allowed executor that is not the owner, against an explicit table of what each must answer (a
selector missing from the table fails the test, so a new one is covered the day it is cut in);
then pause, caps, revoked executors, ownership transfer, ether and unknown selectors."""

from __future__ import annotations

from typing import Any, cast

import pytest
from eth_abi import encode
from eth_utils import function_abi_to_4byte_selector
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.rpc import send
from flasharb.execute.deploy import FACETS, facet_functions
from flasharb.execute.plan import Plan
from flasharb_testing import routes as R
from tests.audit.attack import deploy_audit, mine_attack, revert_of, trader_refuses
from tests.audit.nothing_lost import NothingLost

VIEW = "view"  # anyone may call it; it must be declared view/pure and succeed
NOT_OWNER = "NotContractOwner(_user={who}, _contractOwner={owner})"
FLASH_CALLER = "UnauthorizedFlashLoanCaller(caller={who})"
# signature -> (what a stranger gets, what an allowed executor that is not the owner gets)
ACCESS: dict[str, tuple[str, str]] = {
    "diamondCut((address,uint8,bytes4[])[],address,bytes)": (NOT_OWNER, NOT_OWNER),
    "facets()": (VIEW, VIEW),
    "facetFunctionSelectors(address)": (VIEW, VIEW),
    "facetAddresses()": (VIEW, VIEW),
    "facetAddress(bytes4)": (VIEW, VIEW),
    "supportsInterface(bytes4)": (VIEW, VIEW),
    "transferOwnership(address)": (NOT_OWNER, NOT_OWNER),
    "owner()": (VIEW, VIEW),
    "executeArb()": (  # its arguments follow the selector packed: none here
        "NotExecutor(caller={who})",
        "InvalidHopCount(amountsLength=0)",  # past the guard; its empty route is refused
    ),
    "receiveFlashLoan(address[],uint256[],uint256[],bytes)": (FLASH_CALLER, FLASH_CALLER),
    "uniswapV3FlashCallback(uint256,uint256,bytes)": (FLASH_CALLER, FLASH_CALLER),
    "uniswapV2Call(address,uint256,uint256,bytes)": (FLASH_CALLER, FLASH_CALLER),
    "unlockCallback(bytes)": (FLASH_CALLER, FLASH_CALLER),  # the V4 PoolManager's, issue 16
    "uniswapV3SwapCallback(int256,int256,bytes)": (
        "UnauthorizedSwapCallback(caller={who})",
        "UnauthorizedSwapCallback(caller={who})",
    ),
    "DUST()": (VIEW, VIEW),
    "withdraw(address,address,uint256)": (NOT_OWNER, NOT_OWNER),
    "withdrawEth(address,uint256)": (NOT_OWNER, NOT_OWNER),
    "setBeneficiaries(address[],uint16[])": (NOT_OWNER, NOT_OWNER),
    "distribute(address)": (NOT_OWNER, NOT_OWNER),
    "beneficiaries()": (VIEW, VIEW),
    "setPaused(bool)": (NOT_OWNER, NOT_OWNER),
    "setExecutor(address,bool)": (NOT_OWNER, NOT_OWNER),
    "setNotionalCap(address,uint256)": (NOT_OWNER, NOT_OWNER),
    "setMaxBribeBps(uint16)": (NOT_OWNER, NOT_OWNER),
    "setMinProfit(address,uint256)": (NOT_OWNER, NOT_OWNER),
    "paused()": (VIEW, VIEW),
    "isExecutor(address)": (VIEW, VIEW),
    "notionalCap(address)": (VIEW, VIEW),
    "maxBribeBps()": (VIEW, VIEW),
    "minProfit(address)": (VIEW, VIEW),
}


def _abi() -> dict[bytes, dict[str, Any]]:
    out = {}
    for name in FACETS:
        for e in facet_functions(name):  # a fallback-served callback included
            out[function_abi_to_4byte_selector(cast(Any, e))] = e
    return out


def _type(t: dict[str, Any]) -> str:
    if t["type"].startswith("tuple"):
        return "(" + ",".join(_type(c) for c in t["components"]) + ")" + str(t["type"])[5:]
    return str(t["type"])


def _signature(e: dict[str, Any]) -> str:
    return f"{e['name']}({','.join(_type(i) for i in e['inputs'])})"


def _args(e: dict[str, Any], who: str) -> bytes:
    """What an attacker would try: its own address, amount 1, empty arrays and bytes."""

    def value(t: dict[str, Any]) -> Any:
        ty = t["type"]
        if ty.endswith("[]"):
            return []
        if ty == "tuple":
            return tuple(value(c) for c in t["components"])
        if ty == "address":
            return who
        if ty.startswith(("uint", "int")):
            return 10**9 if t["name"] == "terms" else 1  # terms: deadline 10^9, no bribe
        if ty == "bool":
            return True
        if ty.startswith("bytes") and ty != "bytes":
            return b"\x00" * int(ty[5:])
        return b""

    return encode([_type(i) for i in e["inputs"]], [value(i) for i in e["inputs"]])


class TestEverySelector:
    def test_the_table_covers_exactly_the_loupe(self, diamond: Any) -> None:
        abi = _abi()
        routed = {
            _signature(abi[s]) for _f, sels in diamond.functions.facets().call() for s in sels
        }
        assert routed - ACCESS.keys() == set(), "selectors with no access rule: add them to ACCESS"
        assert ACCESS.keys() - routed == set(), (
            "ACCESS names selectors the diamond no longer routes"
        )

    @pytest.mark.parametrize("role", ["stranger", "executor"])
    def test_every_selector(
        self,
        w3: Web3,
        deployment: Any,
        diamond: Any,
        attacker: str,
        hot_key: str,
        owner: str,
        stocked: Any,
        role: str,
        nothing_lost: NothingLost,
    ) -> None:
        who = attacker if role == "stranger" else hot_key
        abi = _abi()
        checked = 0
        with nothing_lost.guard():
            for _facet, sels in diamond.functions.facets().call():
                for sel in sels:
                    entry = abi[sel]
                    rule = ACCESS[_signature(entry)][role == "executor"]
                    tx = {
                        "from": who,
                        "to": deployment.diamond,
                        "data": "0x" + (sel + _args(entry, who)).hex(),
                    }
                    if rule == VIEW:
                        assert entry["stateMutability"] in ("view", "pure"), entry["name"]
                        assert revert_of(w3, tx) is None, entry["name"]
                    else:
                        mine_attack(w3, tx, rule.format(who=who, owner=owner))
                    checked += 1
        assert checked == len(ACCESS)


def _plan(w3: Web3) -> Plan:
    """The demo's opportunity (500 WETH dumped on Uniswap V2), sized for a Balancer loan."""
    R.shock_v2_weth_usdc(w3)
    return R.sized_plan(w3, R.v2_routes(w3)["2-hop"], R.balancer(w3))[0]


def _owner_tx(w3: Web3, diamond: Any, owner: str, fn: str, *args: Any) -> None:
    send(w3, {"from": owner, "to": diamond.address, "data": diamond.encode_abi(fn, list(args))})


class TestGuards:
    """The owner's switches hold against the owner's own hot key."""

    @pytest.mark.parametrize("role", ["owner", "executor"])
    def test_pause_stops_a_profitable_arb(
        self,
        w3: Web3,
        deployment: Any,
        diamond: Any,
        owner: str,
        hot_key: str,
        stocked: Any,
        role: str,
        nothing_lost: NothingLost,
    ) -> None:
        who = owner if role == "owner" else hot_key
        plan = _plan(w3)
        _owner_tx(w3, diamond, owner, "setPaused", True)
        tx = plan.call(deployment.diamond, who, 0, 10**9)
        with nothing_lost.guard():
            trader_refuses(w3, deployment, plan, who, "ExecutionPaused()")
            mine_attack(w3, tx, "ExecutionPaused()")

    def test_cap_one_below_the_loan(
        self,
        w3: Web3,
        deployment: Any,
        diamond: Any,
        owner: str,
        hot_key: str,
        stocked: Any,
        nothing_lost: NothingLost,
    ) -> None:
        plan = _plan(w3)
        cap = plan.amount_in - 1
        _owner_tx(w3, diamond, owner, "setNotionalCap", A.USDC, cap)
        tx = plan.call(deployment.diamond, hot_key, 0, 10**9)
        expected = f"NotionalCapExceeded(token={A.USDC}, amountIn={plan.amount_in}, cap={cap})"
        with nothing_lost.guard():
            trader_refuses(w3, deployment, plan, hot_key, expected)
            mine_attack(w3, tx, expected)

    def test_revoked_executor(
        self,
        w3: Web3,
        deployment: Any,
        diamond: Any,
        owner: str,
        hot_key: str,
        stocked: Any,
        nothing_lost: NothingLost,
    ) -> None:
        plan = _plan(w3)
        _owner_tx(w3, diamond, owner, "setExecutor", hot_key, False)
        tx = plan.call(deployment.diamond, hot_key, 0, 10**9)
        with nothing_lost.guard():
            trader_refuses(w3, deployment, plan, hot_key, f"NotExecutor(caller={hot_key})")
            mine_attack(w3, tx, f"NotExecutor(caller={hot_key})")


class TestOwnership:
    def test_old_owner_loses_every_power(
        self,
        w3: Web3,
        deployment: Any,
        diamond: Any,
        owner: str,
        stocked: Any,
        nothing_lost: NothingLost,
    ) -> None:
        new_owner = str(list(w3.eth.accounts)[4])
        _owner_tx(w3, diamond, owner, "transferOwnership", new_owner)
        err = NOT_OWNER.format(who=owner, owner=new_owner)
        with nothing_lost.guard():
            for fn, args in (
                ("withdraw", [A.USDC, owner, 10**6]),
                ("setExecutor", [owner, True]),
                ("diamondCut", [[], "0x" + "00" * 20, b""]),
                ("transferOwnership", [owner]),
            ):
                mine_attack(
                    w3,
                    {"from": owner, "to": deployment.diamond, "data": diamond.encode_abi(fn, args)},
                    err,
                )

    def test_renouncing_is_refused(
        self, w3: Web3, deployment: Any, diamond: Any, owner: str, nothing_lost: NothingLost
    ) -> None:
        data = diamond.encode_abi("transferOwnership", ["0x" + "00" * 20])
        with nothing_lost.guard():
            mine_attack(
                w3, {"from": owner, "to": deployment.diamond, "data": data}, "ZeroAddress()"
            )


class TestDiamondDoor:
    def test_ether_is_refused(
        self, w3: Web3, deployment: Any, attacker: str, nothing_lost: NothingLost
    ) -> None:
        """The diamond takes ETH from WETH only (a bribe's unwrap, passed on to the coinbase)."""
        with nothing_lost.guard():
            mine_attack(
                w3,
                {"from": attacker, "to": deployment.diamond, "value": 10**18},
                f"EtherRefused(sender={attacker})",
            )

    def test_unknown_selector(
        self, w3: Web3, deployment: Any, attacker: str, nothing_lost: NothingLost
    ) -> None:
        with nothing_lost.guard():
            mine_attack(
                w3,
                {"from": attacker, "to": deployment.diamond, "data": "0xdeadbeef"},
                "FunctionNotFound(_functionSelector=0xdeadbeef)",
            )


def _force_feed(w3: Web3, sender: str, to: str, wei: int) -> None:
    """Send `wei` to `to` the way no contract can refuse: a contract created with the value
    that SELFDESTRUCTs into `to` in its constructor (init code PUSH20 <to> SELFDESTRUCT)."""
    init = b"\x73" + bytes.fromhex(to[2:]) + b"\xff"
    receipt = send(w3, {"from": sender, "data": "0x" + init.hex(), "value": wei}, "force-feed")
    assert w3.eth.get_code(receipt["contractAddress"]) == b""  # created and destroyed at once


class TestEther:
    """ETH the diamond cannot refuse (SELFDESTRUCT) comes back out to the owner, and only to
    the owner: a stranger and the executor key get the owner error."""

    FED = 3 * 10**18

    @pytest.fixture
    def fed(self, w3: Web3, deployment: Any, attacker: str) -> int:
        before = w3.eth.get_balance(deployment.diamond)
        _force_feed(w3, attacker, deployment.diamond, self.FED)
        assert w3.eth.get_balance(deployment.diamond) - before == self.FED
        return int(w3.eth.get_balance(deployment.diamond))

    @pytest.mark.parametrize("role", ["stranger", "executor"])
    def test_only_the_owner_recovers_force_fed_eth(
        self,
        w3: Web3,
        deployment: Any,
        diamond: Any,
        owner: str,
        attacker: str,
        hot_key: str,
        stocked: Any,
        fed: int,
        role: str,
        nothing_lost: NothingLost,
    ) -> None:
        who = attacker if role == "stranger" else hot_key
        with nothing_lost.guard():
            for fn, args in (
                ("withdrawEth", [who, fed]),
                ("withdrawEth", [who, 2**256 - 1]),
                ("withdraw", [A.USDC, who, 10**6]),
                ("withdraw", [A.WETH, who, 2**256 - 1]),
            ):
                mine_attack(
                    w3,
                    {"from": who, "to": deployment.diamond, "data": diamond.encode_abi(fn, args)},
                    NOT_OWNER.format(who=who, owner=owner),
                )
        recipient = str(list(w3.eth.accounts)[5])
        before = w3.eth.get_balance(recipient)
        receipt = send(
            w3,
            {
                "from": owner,
                "to": deployment.diamond,
                "data": diamond.encode_abi("withdrawEth", [recipient, 2**256 - 1]),
            },
        )
        assert w3.eth.get_balance(recipient) - before == fed
        assert w3.eth.get_balance(deployment.diamond) == 0
        (event,) = diamond.events.EthWithdrawn().process_receipt(receipt)
        assert (event["args"]["to"], event["args"]["amount"]) == (recipient, fed)

    def test_withdraw_eth_refuses_what_it_cannot_do(
        self,
        w3: Web3,
        deployment: Any,
        diamond: Any,
        owner: str,
        fed: int,
        nothing_lost: NothingLost,
    ) -> None:
        refuser = deploy_audit(w3, "AttackerRelay", owner).address  # no receive(): reverts

        def tx(*args: Any) -> dict[str, Any]:
            data = diamond.encode_abi("withdrawEth", list(args))
            return {"from": owner, "to": deployment.diamond, "data": data}

        with nothing_lost.guard():
            mine_attack(w3, tx(owner, 0), f"InvalidEthAmount(balance={fed}, amount=0)")
            mine_attack(
                w3, tx(owner, fed + 1), f"InvalidEthAmount(balance={fed}, amount={fed + 1})"
            )
            mine_attack(w3, tx("0x" + "00" * 20, fed), "ZeroAddress()")
            mine_attack(w3, tx(refuser, fed), f"EthTransferFailed(to={refuser}, amount={fed})")
