"""Audit: diamondCut misuse (strangers, duplicate and missing selectors, immutable functions,
failing initializers, half-valid cuts) and the storage layout of every namespaced struct across
a facet upgrade, read slot by slot."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from eth_utils import function_signature_to_4byte_selector as sig
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.rpc import send
from flasharb.execute.deploy import FACETS, facet_args, selectors
from tests.audit.attack import deploy_audit, describe, error_data, mine_attack
from tests.audit.nothing_lost import (
    DIAMOND_SLOT,
    GUARD_SLOT,
    TREASURY_SLOT,
    NothingLost,
    address_key,
    array_data,
    bytes4_key,
    erc7201,
    mapping_slot,
    take,
)

ADD, REPLACE, REMOVE = 0, 1, 2
ZERO = "0x" + "00" * 20
NEW = bytes.fromhex("12345678")  # a selector no facet has


def _cut(
    diamond: Any, sender: str, cuts: list[Any], init: str = ZERO, data: bytes = b""
) -> dict[str, Any]:
    return {
        "from": sender,
        "to": diamond.address,
        "data": diamond.encode_abi("diamondCut", [cuts, init, data]),
    }


def _err(name: str, types: list[str], values: list[Any]) -> str:
    return describe(error_data(f"{name}({','.join(types)})", types, values))


class TestWhoCuts:
    @pytest.mark.parametrize("role", ["stranger", "executor"])
    def test_only_the_owner_cuts(
        self,
        w3: Web3,
        diamond: Any,
        deployment: Any,
        owner: str,
        attacker: str,
        hot_key: str,
        role: str,
        nothing_lost: NothingLost,
    ) -> None:
        who = attacker if role == "stranger" else hot_key
        relay = deploy_audit(w3, "AttackerRelay", attacker)  # a facet that would take over
        tx = _cut(diamond, who, [(relay.address, ADD, [NEW])])
        with nothing_lost.guard():
            mine_attack(w3, tx, f"NotContractOwner(_user={who}, _contractOwner={owner})")


class TestBadCuts:
    """The owner's mistakes: each refused with diamond-1's error, the whole cut undone."""

    @pytest.mark.parametrize(
        "case",
        [
            "add-existing",
            "add-zero-facet",
            "add-eoa-facet",
            "no-selectors",
            "replace-same",
            "replace-missing",
            "replace-to-zero",
            "remove-missing",
            "remove-nonzero-facet",
            "second-cut-invalid",
        ],
    )
    def test_refused(
        self,
        w3: Web3,
        diamond: Any,
        deployment: Any,
        owner: str,
        attacker: str,
        case: str,
        nothing_lost: NothingLost,
    ) -> None:
        loupe = deployment.facets["DiamondLoupeFacet"]
        owner_sel = sig("owner()")
        relay = deploy_audit(w3, "AttackerRelay", attacker).address
        table: dict[str, tuple[list[Any], str]] = {
            "add-existing": (
                [(relay, ADD, [owner_sel])],
                _err("CannotAddFunctionToDiamondThatAlreadyExists", ["bytes4"], [owner_sel]),
            ),
            "add-zero-facet": (
                [(ZERO, ADD, [NEW])],
                _err("CannotAddSelectorsToZeroAddress", ["bytes4[]"], [[NEW]]),
            ),
            "add-eoa-facet": (
                [(attacker, ADD, [NEW])],
                _err("NoBytecodeAtAddress", ["address"], [attacker]),
            ),
            "no-selectors": (
                [(relay, ADD, [])],
                _err("NoSelectorsProvidedForFacetForCut", ["address"], [relay]),
            ),
            "replace-same": (
                [(loupe, REPLACE, [sig("facets()")])],
                _err(
                    "CannotReplaceFunctionWithTheSameFunctionFromTheSameFacet",
                    ["bytes4"],
                    [sig("facets()")],
                ),
            ),
            "replace-missing": (
                [(relay, REPLACE, [NEW])],
                _err("CannotReplaceFunctionThatDoesNotExists", ["bytes4"], [NEW]),
            ),
            "replace-to-zero": (
                [(ZERO, REPLACE, [owner_sel])],
                _err("CannotReplaceFunctionsFromFacetWithZeroAddress", ["bytes4[]"], [[owner_sel]]),
            ),
            "remove-missing": (
                [(ZERO, REMOVE, [NEW])],
                _err("CannotRemoveFunctionThatDoesNotExist", ["bytes4"], [NEW]),
            ),
            "remove-nonzero-facet": (
                [(loupe, REMOVE, [owner_sel])],
                _err("RemoveFacetAddressMustBeZeroAddress", ["address"], [loupe]),
            ),
            "second-cut-invalid": (
                [(relay, ADD, [NEW]), (relay, ADD, [NEW])],
                _err("CannotAddFunctionToDiamondThatAlreadyExists", ["bytes4"], [NEW]),
            ),
        }
        cuts, expected = table[case]
        with nothing_lost.guard(accounts=[relay]):
            mine_attack(w3, _cut(diamond, owner, cuts), expected)


class TestImmutableFunctions:
    """A selector routed to the diamond itself (diamond-1's immutable function) stays."""

    @pytest.mark.parametrize("action", [REPLACE, REMOVE], ids=["replace", "remove"])
    def test_immutable_function_stays(
        self,
        w3: Web3,
        diamond: Any,
        deployment: Any,
        owner: str,
        attacker: str,
        action: int,
        nothing_lost: NothingLost,
    ) -> None:
        send(w3, _cut(diamond, owner, [(deployment.diamond, ADD, [NEW])]))
        relay = deploy_audit(w3, "AttackerRelay", attacker).address
        facet, name = (
            (relay, "CannotReplaceImmutableFunction")
            if action == REPLACE
            else (ZERO, "CannotRemoveImmutableFunction")
        )
        with nothing_lost.guard():
            mine_attack(
                w3, _cut(diamond, owner, [(facet, action, [NEW])]), _err(name, ["bytes4"], [NEW])
            )


class TestInitializers:
    @pytest.mark.parametrize("mode", ["custom-error", "no-data", "eoa"])
    def test_failing_init_undoes_the_cut(
        self,
        w3: Web3,
        diamond: Any,
        deployment: Any,
        owner: str,
        attacker: str,
        mode: str,
        nothing_lost: NothingLost,
    ) -> None:
        init = deploy_audit(w3, "RevertingInit", owner)
        relay = deploy_audit(w3, "AttackerRelay", attacker).address
        cuts = [(relay, ADD, [NEW])]  # valid on its own: must not survive the init's failure
        call: bytes
        target: str
        if mode == "custom-error":
            call, target = sig("initWithError()"), init.address
            expected = "InitRefused(code=7)"
        elif mode == "no-data":
            call, target = sig("initSilently()"), init.address
            expected = _err("InitializationFunctionReverted", ["address", "bytes"], [target, call])
        else:
            call, target = sig("init()"), attacker
            expected = _err("NoBytecodeAtAddress", ["address"], [attacker])
        with nothing_lost.guard():
            mine_attack(w3, _cut(diamond, owner, cuts, target, call), expected)


def _declared_namespaces() -> dict[str, int]:
    """namespace -> SLOT constant, from every `erc7201:` annotation under contracts/storage."""
    out = {}
    for f in sorted((Path(__file__).resolve().parents[2] / "contracts" / "storage").glob("*.sol")):
        text = f.read_text()
        for ns in re.findall(r"erc7201:([\w.]+)", text):
            m = re.search(r"bytes32 internal constant SLOT = (0x[0-9a-fA-F]{64})", text)
            assert m is not None, f"{f.name} declares {ns} but no SLOT constant"
            out[ns] = int(m[1], 16)
    return out


class TestStorageLayout:
    def test_every_namespace_is_at_its_erc7201_slot(self) -> None:
        declared = _declared_namespaces()
        assert declared == {"flasharb.guard": GUARD_SLOT, "flasharb.treasury": TREASURY_SLOT}
        for ns, slot in declared.items():
            assert erc7201(ns) == slot, ns

    def test_layout_survives_a_facet_upgrade(
        self,
        w3: Web3,
        diamond: Any,
        deployment: Any,
        owner: str,
        executor_key: str,
        nothing_lost: NothingLost,
    ) -> None:
        people = [str(a) for a in list(w3.eth.accounts)[5:7]]
        for fn, args in (
            ("setPaused", [True]),
            ("setExecutor", [executor_key, True]),
            ("setNotionalCap", [A.USDC, 123]),
            ("setNotionalCap", [A.DAI, 456]),
            ("setBeneficiaries", [people, [6_000, 4_000]]),
            ("setMaxBribeBps", [2_500]),
            ("setMinProfit", [A.USDC, 789]),
            ("setMinProfit", [A.WETH, 1]),
            ("setMinProfit", [A.DAI, 5]),
            ("setMinProfit", [A.DAI, 0]),
        ):
            send(
                w3, {"from": owner, "to": deployment.diamond, "data": diamond.encode_abi(fn, args)}
            )

        def raw(slot: int) -> int:
            return int.from_bytes(w3.eth.get_storage_at(deployment.diamond, slot), "big")

        def decoded() -> dict[str, Any]:
            word = raw(GUARD_SLOT)
            sel = sig("withdraw(address,address,uint256)")
            route = raw(mapping_slot(bytes4_key(sel), DIAMOND_SLOT))
            return {
                "owner": raw(DIAMOND_SLOT + 3),
                "selectors": raw(DIAMOND_SLOT + 1),
                "withdraw.facet": route & (2**160 - 1),
                "withdraw.position": route >> 160,
                "paused": word & 0xFF,
                "capCount": (word >> 8) & (2**64 - 1),
                "maxBribeBps": (word >> 72) & 0xFFFF,  # issue 14: slot 0's spare bytes
                "minProfitCount": (word >> 88) & (2**64 - 1),
                "rest of slot 0": word >> 152,
                "minProfit.USDC": raw(mapping_slot(address_key(A.USDC), GUARD_SLOT + 3)),
                "executor": raw(mapping_slot(address_key(executor_key), GUARD_SLOT + 1)),
                "cap.USDC": raw(mapping_slot(address_key(A.USDC), GUARD_SLOT + 2)),
                "beneficiaries": raw(TREASURY_SLOT),
                "beneficiary[1]": raw(array_data(TREASURY_SLOT) + 1),
            }

        before = decoded()
        assert before["owner"] == int(owner, 16) and before["paused"] == 1
        assert (before["capCount"], before["executor"], before["cap.USDC"]) == (2, 1, 123)
        assert (before["maxBribeBps"], before["minProfitCount"], before["minProfit.USDC"]) == (
            2_500,
            2,
            789,
        )
        assert before["rest of slot 0"] == 0
        assert before["beneficiary[1]"] == (4_000 << 160) | int(people[1], 16)
        watch = nothing_lost.watch(accounts=[executor_key])
        slots_before = take(w3, watch).values

        probe = deploy_audit(w3, "StorageProbeFacet", owner)
        fresh = {
            n: deploy_audit(w3, n, owner, facet_args(w3, n)).address
            for n in FACETS
            if n != "DiamondCutFacet"
        }
        cuts = [(addr, REPLACE, selectors(n)) for n, addr in fresh.items()]
        send(
            w3,
            _cut(
                diamond,
                owner,
                [*cuts, (probe.address, ADD, [sig("probeLayout(address,address,bytes4)")])],
            ),
        )
        after = decoded()
        changed = {k for k in before if before[k] != after[k]}
        assert changed == {"selectors", "withdraw.facet"}, changed  # +1 selector, new facet
        values = take(w3, watch).values
        moved = {
            k for k in slots_before if k.startswith("storage.") and slots_before[k] != values[k]
        }
        assert moved <= {"storage.ds.selectors.length"} | {
            k for k in values if k.startswith(("storage.ds.route[", "storage.ds.selectors.word"))
        }, moved
        probed = (
            w3.eth.contract(address=deployment.diamond, abi=probe.abi)
            .functions.probeLayout(executor_key, A.USDC, sig("withdraw(address,address,uint256)"))
            .call()
        )
        assert tuple(probed) == (
            owner,
            after["selectors"],
            fresh["TreasuryFacet"],
            after["withdraw.position"],
            True,
            2,
            True,
            123,
            2,
            2_500,
            2,
            789,
        )
        assert after["withdraw.facet"] == int(fresh["TreasuryFacet"], 16)
