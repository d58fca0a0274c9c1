"""Issue 17's access table: every selector the loupe reports on a master and on a child diamond,
called by each role that must not move capital (a stranger, a child's own executor, another
child's executor, the risk guardian, and on the master an allocator), against an explicit table
of what each must answer (a selector missing from the table fails the test, as in
tests/audit/test_access.py). Nothing any of them sends moves a wei."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
from eth_abi import encode
from eth_utils import function_abi_to_4byte_selector, to_checksum_address
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.artifacts import contract
from flasharb.chain.cheats import deal
from flasharb.execute.deploy import (
    CHILD_FACETS,
    MASTER_FACETS,
    Deployment,
    deploy_capital,
    facet_functions,
)
from tests.audit.attack import mine_attack, revert_of

VIEW = "view"  # anyone may call it; declared view/pure, and it succeeds
OK = "ok"  # this role may call it (the risk guardian's pause)
NOT_OWNER = "NotContractOwner(_user={who}, _contractOwner={owner})"
FLASH_CALLER = "UnauthorizedFlashLoanCaller(caller={who})"
SWAP_CALLER = "UnauthorizedSwapCallback(caller={who})"
NOT_MASTER = "NotMaster(caller={who}, master={master})"
NOT_GUARDIAN = "NotRiskGuardian(caller={who})"
NOT_EXECUTOR = "NotExecutor(caller={who})"

CHILD_ROLES = ("stranger", "own executor", "other executor", "risk")
MASTER_ROLES = ("stranger", "child executor", "risk", "allocator")


def _same(rule: str, n: int) -> tuple[str, ...]:
    return (rule,) * n


# signature -> what each of CHILD_ROLES gets
CHILD: dict[str, tuple[str, ...]] = {
    "diamondCut((address,uint8,bytes4[])[],address,bytes)": _same(NOT_OWNER, 4),
    "facets()": _same(VIEW, 4),
    "facetFunctionSelectors(address)": _same(VIEW, 4),
    "facetAddresses()": _same(VIEW, 4),
    "facetAddress(bytes4)": _same(VIEW, 4),
    "supportsInterface(bytes4)": _same(VIEW, 4),
    "transferOwnership(address)": _same(NOT_OWNER, 4),
    "owner()": _same(VIEW, 4),
    "executeArb()": (  # its arguments follow the selector packed: none here
        NOT_EXECUTOR,
        "InvalidHopCount(amountsLength=0)",  # past the guard; its empty route is refused
        NOT_EXECUTOR,
        NOT_EXECUTOR,
    ),
    "receiveFlashLoan(address[],uint256[],uint256[],bytes)": _same(FLASH_CALLER, 4),
    "uniswapV3FlashCallback(uint256,uint256,bytes)": _same(FLASH_CALLER, 4),
    "uniswapV2Call(address,uint256,uint256,bytes)": _same(FLASH_CALLER, 4),
    "uniswapV3SwapCallback(int256,int256,bytes)": _same(SWAP_CALLER, 4),
    "unlockCallback(bytes)": _same(FLASH_CALLER, 4),  # the V4 PoolManager's, issue 16
    "DUST()": _same(VIEW, 4),
    "withdraw(address,address,uint256)": _same(NOT_OWNER, 4),
    "withdrawEth(address,uint256)": _same(NOT_OWNER, 4),
    "setBeneficiaries(address[],uint16[])": _same(NOT_OWNER, 4),
    "distribute(address)": _same(NOT_OWNER, 4),
    "beneficiaries()": _same(VIEW, 4),
    "setPaused(bool)": _same(NOT_OWNER, 4),  # resuming: the owner only, the guardian too
    "setExecutor(address,bool)": _same(NOT_OWNER, 4),
    "setNotionalCap(address,uint256)": _same(NOT_OWNER, 4),
    "setMaxBribeBps(uint16)": _same(NOT_OWNER, 4),
    "setMinProfit(address,uint256)": _same(NOT_OWNER, 4),
    "paused()": _same(VIEW, 4),
    "isExecutor(address)": _same(VIEW, 4),
    "notionalCap(address)": _same(VIEW, 4),
    "maxBribeBps()": _same(VIEW, 4),
    "minProfit(address)": _same(VIEW, 4),
    "recallToMaster(address,uint256)": _same(NOT_MASTER, 4),
    "setMaster(address)": _same(NOT_OWNER, 4),
    "pause()": (NOT_GUARDIAN, NOT_GUARDIAN, NOT_GUARDIAN, OK),
    "setRiskGuardian(address)": _same(NOT_OWNER, 4),
    "setMaxLoss(address,uint256)": _same(NOT_OWNER, 4),
    "master()": _same(VIEW, 4),
    "riskGuardian()": _same(VIEW, 4),
    "maxLoss(address)": _same(VIEW, 4),
}

# signature -> what each of MASTER_ROLES gets (the arguments name the caller, not a child)
MASTER: dict[str, tuple[str, ...]] = {
    "diamondCut((address,uint8,bytes4[])[],address,bytes)": _same(NOT_OWNER, 4),
    "facets()": _same(VIEW, 4),
    "facetFunctionSelectors(address)": _same(VIEW, 4),
    "facetAddresses()": _same(VIEW, 4),
    "facetAddress(bytes4)": _same(VIEW, 4),
    "supportsInterface(bytes4)": _same(VIEW, 4),
    "transferOwnership(address)": _same(NOT_OWNER, 4),
    "owner()": _same(VIEW, 4),
    "DUST()": _same(VIEW, 4),
    "withdraw(address,address,uint256)": _same(NOT_OWNER, 4),
    "withdrawEth(address,uint256)": _same(NOT_OWNER, 4),
    "setBeneficiaries(address[],uint16[])": _same(NOT_OWNER, 4),
    "distribute(address)": _same(NOT_OWNER, 4),
    "beneficiaries()": _same(VIEW, 4),
    "allocate(address,address,uint256)": (
        "NotAllocator(caller={who})",
        "NotAllocator(caller={who})",
        "NotAllocator(caller={who})",
        "NotAChild(child={who})",  # an allocator, but it named no child
    ),
    "recall(address,address,uint256)": (
        "NotAllocator(caller={who})",
        "NotAllocator(caller={who})",
        "NotAllocator(caller={who})",
        "NotAChild(child={who})",
    ),
    "registerChild(address,string,address)": _same(NOT_OWNER, 4),
    "removeChild(address)": _same(NOT_OWNER, 4),
    "setAllocator(address,bool)": _same(NOT_OWNER, 4),
    "children()": _same(VIEW, 4),
    "isChild(address)": _same(VIEW, 4),
    "isAllocator(address)": _same(VIEW, 4),
}


@pytest.fixture(scope="module")
def capital(session_w3: Web3, owner: str) -> Iterator[Deployment]:
    """A master and two children; their generated keys impersonated to mine attacks from."""
    dep = deploy_capital(session_w3, owner, 2, record=False)
    keys = [dep.risk, *(c.executor for c in dep.children)]
    for k in keys:
        session_w3.provider.make_request("anvil_impersonateAccount", [k])  # type: ignore[arg-type]
    yield dep
    for k in keys:
        session_w3.provider.make_request("anvil_stopImpersonatingAccount", [k])  # type: ignore[arg-type]


def _type(t: dict[str, Any]) -> str:
    if t["type"].startswith("tuple"):
        return "(" + ",".join(_type(c) for c in t["components"]) + ")" + str(t["type"])[5:]
    return str(t["type"])


def _signature(e: dict[str, Any]) -> str:
    return f"{e['name']}({','.join(_type(i) for i in e['inputs'])})"


def _abi(names: tuple[str, ...]) -> dict[bytes, dict[str, Any]]:
    out = {}
    for name in names:
        for e in facet_functions(name):  # a fallback-served callback included
            out[function_abi_to_4byte_selector(cast(Any, e))] = e
    return out


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
            return 10**9 if t["name"] == "terms" else 1
        if ty == "bool":
            return t["name"] != "paused_"  # setPaused(false): a resume
        if ty == "string":
            return "x"
        if ty.startswith("bytes") and ty != "bytes":
            return b"\x00" * int(ty[5:])
        return b""

    return encode([_type(i) for i in e["inputs"]], [value(i) for i in e["inputs"]])


def _balances(w3: Web3, accounts: list[str]) -> list[int]:
    erc20: Any = contract("ReplicaERC20").abi
    c = w3.eth.contract(address=to_checksum_address(A.USDC), abi=erc20)
    return [int(c.functions.balanceOf(a).call()) for a in accounts]


def _check_every_selector(
    w3: Web3,
    address: str,
    table: dict[str, tuple[str, ...]],
    roles: tuple[str, ...],
    who_is: dict[str, str],
    abi: dict[bytes, dict[str, Any]],
    context: dict[str, str],
) -> int:
    loupe: Any = contract("DiamondLoupeFacet").abi
    facets = w3.eth.contract(address=to_checksum_address(address), abi=loupe).functions.facets()
    routed = {_signature(abi[s]): s for _f, sels in facets.call() for s in sels}
    assert routed.keys() - table.keys() == set(), "selectors with no access rule: add them"
    assert table.keys() - routed.keys() == set(), "the table names selectors no longer routed"
    checked = 0
    for role in roles:
        who = who_is[role]
        for sig, sel in routed.items():
            entry = abi[sel]
            rule = table[sig][roles.index(role)]
            tx = {"from": who, "to": address, "data": "0x" + (sel + _args(entry, who)).hex()}
            if rule == VIEW:
                assert entry["stateMutability"] in ("view", "pure"), sig
                assert revert_of(w3, tx) is None, sig
            elif rule == OK:
                assert revert_of(w3, tx) is None, f"{role} may call {sig}"
            else:
                mine_attack(w3, tx, rule.format(who=who, **context))
            checked += 1
    return checked


class TestEverySelector:
    def test_child(self, w3: Web3, capital: Deployment, owner: str, attacker: str) -> None:
        here, other = capital.children
        deal(w3, A.USDC, here.address, 10**12)
        deal(w3, A.USDC, capital.master, 10**12)
        watched = [here.address, capital.master, attacker, here.executor, capital.risk]
        before = _balances(w3, watched)
        roles = {
            "stranger": attacker,
            "own executor": here.executor,
            "other executor": other.executor,
            "risk": capital.risk,
        }
        checked = _check_every_selector(
            w3,
            here.address,
            CHILD,
            CHILD_ROLES,
            roles,
            _abi((*CHILD_FACETS, "FlashArbFacet")),
            {"owner": owner, "master": capital.master},
        )
        assert checked == len(CHILD) * len(CHILD_ROLES)
        assert _balances(w3, watched) == before

    def test_master(self, w3: Web3, capital: Deployment, owner: str, attacker: str) -> None:
        allocator = str(w3.eth.accounts[6])
        master: Any = w3.eth.contract(
            address=to_checksum_address(capital.master), abi=contract("MasterFacet").abi
        )
        master.functions.setAllocator(allocator, True).transact({"from": owner})
        deal(w3, A.USDC, capital.master, 10**12)
        for c in capital.children:
            deal(w3, A.USDC, c.address, 10**12)
        watched = [capital.master, *(c.address for c in capital.children), attacker, allocator]
        before = _balances(w3, watched)
        roles = {
            "stranger": attacker,
            "child executor": capital.children[0].executor,
            "risk": capital.risk,
            "allocator": allocator,
        }
        checked = _check_every_selector(
            w3,
            capital.master,
            MASTER,
            MASTER_ROLES,
            roles,
            _abi(MASTER_FACETS),
            {"owner": owner},
        )
        assert checked == len(MASTER) * len(MASTER_ROLES)
        assert _balances(w3, watched) == before


class TestCapitalMoves:
    """The moves of capital the issue names, each tried by every role that must not make it."""

    @pytest.mark.parametrize("role", ["stranger", "own executor", "other executor", "risk"])
    def test_nobody_but_the_owner_moves_capital(
        self, w3: Web3, capital: Deployment, owner: str, attacker: str, role: str
    ) -> None:
        here, other = capital.children
        who = {
            "stranger": attacker,
            "own executor": here.executor,
            "other executor": other.executor,
            "risk": capital.risk,
        }[role]
        deal(w3, A.USDC, here.address, 10**12)
        deal(w3, A.USDC, capital.master, 10**12)
        abi: Any = [*contract("MasterFacet").abi, *contract("TreasuryFacet").abi]
        abi += [*contract("GuardFacet").abi, *contract("ChildFacet").abi]
        m = w3.eth.contract(address=to_checksum_address(capital.master), abi=abi)
        c = w3.eth.contract(address=to_checksum_address(here.address), abi=abi)
        not_owner = NOT_OWNER.format(who=who, owner=owner)
        attempts = (
            (
                capital.master,
                m.encode_abi("allocate", [here.address, A.USDC, 10**6]),
                f"NotAllocator(caller={who})",
            ),
            (
                capital.master,
                m.encode_abi("recall", [here.address, A.USDC, 10**6]),
                f"NotAllocator(caller={who})",
            ),
            (capital.master, m.encode_abi("withdraw", [A.USDC, who, 10**6]), not_owner),
            (
                here.address,
                c.encode_abi("recallToMaster", [A.USDC, 10**6]),
                NOT_MASTER.format(who=who, master=capital.master),
            ),
            (here.address, c.encode_abi("withdraw", [A.USDC, who, 10**6]), not_owner),
            (here.address, c.encode_abi("setNotionalCap", [A.USDC, 1]), not_owner),
            (here.address, c.encode_abi("setMaxLoss", [A.USDC, 10**12]), not_owner),
            (here.address, c.encode_abi("setPaused", [False]), not_owner),
            (here.address, c.encode_abi("setExecutor", [who, True]), not_owner),
            (capital.master, m.encode_abi("setAllocator", [who, True]), not_owner),
        )
        before = _balances(w3, [here.address, capital.master, who])
        for to, data, expected in attempts:
            mine_attack(w3, {"from": who, "to": to, "data": data}, expected)
        assert _balances(w3, [here.address, capital.master, who]) == before
