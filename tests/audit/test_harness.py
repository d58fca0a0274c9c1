"""The audit harness for any contract (flasharb.audit, `flasharb audit`): on the deliberately naive
example (examples/naive_flashloan) it must find the unsolicited-loan, unverified-callback and
standing-approval holes, each reproducible from the transaction it reports; on flasharb's own
diamond it must find nothing, having reached the diamond's own checks; the CLI's --json, exit
codes and bad input."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from click.testing import CliRunner
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from web3 import Web3

from flasharb.audit import AuditReport, Kind, Row, Verdict, run_audit
from flasharb.audit.arena import STRANGER
from flasharb.chain import addresses as A
from flasharb.chain.artifacts import compile_file
from flasharb.chain.cheats import balance_of, deal, impersonating, snapshot
from flasharb.chain.node import Lab
from flasharb.chain.rpc import send
from flasharb.cli import main
from flasharb.execute.deploy import diamond_abi

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "naive_flashloan" / "deploy.py"
MAX = 2**256 - 1
_ALLOWANCE = function_signature_to_4byte_selector("allowance(address,address)")


def _example() -> Any:
    spec = importlib.util.spec_from_file_location("naive_flashloan_deploy", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


deploy_naive = cast(
    Callable[[Web3, str], tuple[str, list[dict[str, Any]]]], _example().deploy_naive
)


def _findings(report: AuditReport, kind: Kind, where: str = "") -> list[Row]:
    return [r for r in report.findings if r.kind is kind and where in f"{r.attack} {r.caller}"]


def _word(address: str) -> bytes:
    return encode(["address"], [address])


def _allowance(w3: Web3, token: str, owner: str, spender: str) -> int:
    data = _ALLOWANCE + encode(["address", "address"], [owner, spender])
    return int.from_bytes(w3.eth.call({"to": token, "data": "0x" + data.hex()}), "big")  # type: ignore[typeddict-item]


@dataclass(frozen=True, slots=True, kw_only=True)
class Audited:
    address: str
    report: AuditReport
    allowances: dict[tuple[str, str], int]  # read from the chain before the audit
    before: tuple[int, ...]  # head, ETH, WETH, the attacker's nonce: before the audit
    after: tuple[int, ...]  # and after it


@pytest.fixture(scope="module")
def naive(session_w3: Web3, owner: str) -> Audited:
    """The naive example deployed and audited through the Python API, inside a snapshot."""
    w3 = session_w3
    with snapshot(w3):
        address, abi = deploy_naive(w3, owner)

        def fingerprint() -> tuple[int, ...]:
            return (
                w3.eth.block_number,
                w3.eth.get_balance(cast(Any, address)),
                balance_of(w3, A.WETH, address),
                w3.eth.get_transaction_count(cast(Any, STRANGER)),
            )

        allowances = {
            (t, s): _allowance(w3, t, address, s)
            for t in (A.WETH, A.USDC, A.DAI, A.USDT)
            for s in (A.UNISWAP_V3_SWAP_ROUTER, A.BALANCER_VAULT)
        }
        before = fingerprint()
        report = run_audit(w3, address, abi)
        return Audited(
            address=address,
            report=report,
            allowances=allowances,
            before=before,
            after=fingerprint(),
        )


class TestNaiveExample:
    """The holes of examples/naive_flashloan/NaiveFlashLoan.sol, by name."""

    def test_unsolicited_balancer_loan(self, naive: Audited) -> None:
        """A stranger asks the Vault to lend to the example with the owner's own loan data; the
        round trip's fees are paid from the example's WETH."""
        rows = _findings(naive.report, Kind.UNSOLICITED_LOAN, "Vault.flashLoan")
        assert rows, naive.report.to_json()["summary"]
        row = rows[0]
        (call, status), *_ = row.txs
        assert (call.sender, call.to, status) == (STRANGER, A.BALANCER_VAULT, 1)
        assert "startArb() as owner" in row.attack
        assert [a for a, d in row.moved if d < 0] == [A.WETH]

    def test_unsolicited_loan_reproduces_from_its_transaction(
        self, w3: Web3, naive: Audited, owner: str
    ) -> None:
        """The reported transaction, mined against a fresh copy of the example holding the
        reported inventory, takes exactly the reported amount."""
        row = _findings(naive.report, Kind.UNSOLICITED_LOAN, "Vault.flashLoan")[0]
        (call, _), *_ = row.txs
        address, _ = deploy_naive(w3, owner)
        data = call.data.replace(_word(naive.address), _word(address))  # the recipient
        for token in (A.WETH, A.USDC):
            deal(w3, token, address, naive.report.inventory[token])
        before = balance_of(w3, A.WETH, address)
        with impersonating(w3, STRANGER, eth=10**18):
            tx = {"from": STRANGER, "to": call.to, "data": "0x" + data.hex(), "gas": 6_000_000}
            receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(cast(Any, tx)))
        assert receipt["status"] == 1
        assert balance_of(w3, A.WETH, address) - before == dict(row.moved)[A.WETH] < 0

    def test_unverified_v2_and_v3_callbacks(self, naive: Audited) -> None:
        """A contract that only claims to be the pool is paid the 'loan' (no callback check)."""
        for name in ("uniswapV2Call", "uniswapV3FlashCallback"):
            rows = _findings(naive.report, Kind.FORGED_CALLBACK, name)
            assert any("look-alike" in r.caller for r in rows), name
            assert all(any(d < 0 for _, d in r.moved) for r in rows), name
        flash = _findings(naive.report, Kind.UNSOLICITED_LOAN, "V2 pair.swap")
        assert flash and all(r.txs[0][0].sender == STRANGER for r in flash)

    def test_standing_approvals_to_the_router(self, naive: Audited) -> None:
        rows = _findings(naive.report, Kind.STANDING_APPROVAL)
        found = {(a.token, a.spender, a.after) for r in rows for a in r.approvals}
        assert found == {(t, A.UNISWAP_V3_SWAP_ROUTER, MAX) for t in (A.WETH, A.USDC, A.DAI)}
        on_chain = {(t, s, v) for (t, s), v in naive.allowances.items() if v}
        assert found == on_chain  # what the chain said before the audit, read independently

    def test_owner_only_functions_hold(self, naive: Audited) -> None:
        """No false alarm: every state-changing selector refuses the stranger."""
        rows = [r for r in naive.report.rows if r.kind is Kind.STRANGER_CALL]
        assert rows and all(r.result is Verdict.SAFE for r in rows)
        assert {r.detail for r in rows if "start" in r.attack} == {'Error("not owner")'}

    def test_the_fork_is_left_as_it_was(self, naive: Audited) -> None:
        assert naive.after == naive.before


LEAKY = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

interface IERC20 {
    function approve(address spender, uint256 amount) external returns (bool);
}

/// Lets anyone write its storage, and make it approve an address no list of spenders names.
contract Leaky {
    address public constant FRIEND = address(uint160(0xF00D));
    uint256 public pokes;

    function poke() external {
        pokes += 1;
    }

    function befriend(address token) external {
        IERC20(token).approve(FRIEND, type(uint256).max);
    }
}
"""
FRIEND = "0x000000000000000000000000000000000000f00D"


class TestVerdicts:
    """What makes a HOLE besides a loss: a stranger writing storage, an approval to anyone."""

    def test_stranger_writes_and_approvals(self, w3: Web3, owner: str, tmp_path: Path) -> None:
        source = tmp_path / "Leaky.sol"
        source.write_text(LEAKY)
        art = compile_file(source)["Leaky"]
        receipt = send(w3, {"from": owner, "data": "0x" + art.bytecode.hex()}, "deploy Leaky")
        address = str(receipt["contractAddress"])
        report = run_audit(w3, address, art.abi, kinds=(Kind.STRANGER_CALL,))
        holes = {r.attack.split(",")[0]: r for r in report.findings}
        assert set(holes) == {"poke()", "befriend(address)"}
        (slot, before, after), *more = holes["poke()"].storage
        assert not more and int(slot, 16) == 0 and (int(before, 16), int(after, 16)) == (0, 1)
        (approval,) = holes["befriend(address)"].approvals
        assert (approval.token, approval.spender) == (A.WETH, to_checksum_address(FRIEND))
        assert (approval.before, approval.after) == (0, MAX)
        assert w3.eth.get_storage_at(cast(Any, address), 0) == b"\x00" * 32  # all undone


def _diamond_abi_file(tmp_path: Path) -> Path:
    path = tmp_path / "diamond.abi.json"
    path.write_text(json.dumps(diamond_abi()))
    return path


class TestDiamond:
    def test_nothing_found(self, cli: Any, deployment: Any, tmp_path: Path) -> None:
        """`flasharb audit --json` on flasharb's diamond: exit 0, no finding, every family ran
        and the attacks reached the diamond's own checks."""
        abi = _diamond_abi_file(tmp_path)
        res = cli.run("audit", "--target", deployment.diamond, "--abi", str(abi), "--json")
        assert res.returncode == 0, res.stderr
        data = json.loads(res.stdout)
        assert data["target"] == deployment.diamond
        assert data["findings"] == [] and data["summary"]["holes"] == 0
        assert data["owner"] == deployment.owner
        for kind in (
            "unsolicited-loan",
            "forged-callback",
            "stranger-call",
            "hostile-token",
            "eth",
        ):
            assert sum(data["summary"]["by_kind"][kind].values()) > 0, kind
        details = {(a["kind"], a["detail"]) for a in data["attacks"]}
        assert ("unsolicited-loan", "UnsolicitedFlashLoan()") in details
        pool_refused = [
            a
            for a in data["attacks"]
            if a["caller"].startswith("the real") and "UnauthorizedFlashLoanCaller" in a["detail"]
        ]
        assert pool_refused
        assert all(a["result"] == "SAFE" for a in data["attacks"])


class TestCli:
    def test_holes_exit_1_with_a_table(
        self, cli: Any, w3: Web3, owner: str, tmp_path: Path
    ) -> None:
        address, abi = deploy_naive(w3, owner)
        path = tmp_path / "naive.abi.json"
        path.write_text(json.dumps({"abi": abi}))  # an artifact is accepted too
        res = cli.run(
            "audit", "--target", address, "--abi", str(path), "--only", "unsolicited-loan"
        )
        assert res.returncode == 1, res.stderr
        assert "standing-approval" in res.stdout and "unsolicited-loan" in res.stdout
        assert "holes found (exit 1)" in res.stdout
        assert "stranger-call" not in res.stdout  # --only

    def test_no_contract_at_the_target(self, w3: Web3, lab: Lab, tmp_path: Path) -> None:
        abi = _diamond_abi_file(tmp_path)
        line = _bad_input(lab, "--target", "0x" + "12" * 20, "--abi", str(abi))
        assert "no contract at --target 0x1212" in line and "deploy it first" in line

    @pytest.mark.parametrize(
        ("content", "expected"),
        [
            (None, "cannot read --abi"),
            ("{not json", "is not JSON"),
            ('{"contract": "x"}', "is not a JSON ABI"),
            ('[{"type": "function", "name": "f", "inputs": [{"name": "a"}]}]', "not valid ABI"),
        ],
        ids=["missing-file", "not-json", "not-an-abi", "bad-entry"],
    )
    def test_bad_abi_file(
        self, lab: Lab, deployment: Any, tmp_path: Path, content: str | None, expected: str
    ) -> None:
        path = tmp_path / "abi.json"
        if content is not None:
            path.write_text(content)
        line = _bad_input(lab, "--target", deployment.diamond, "--abi", str(path))
        assert expected in line and str(path) in line


def _bad_input(lab: Lab, *args: str) -> str:
    """The one stderr line of `flasharb audit ARGS`, run in process, which must exit 2."""
    res = CliRunner(mix_stderr=False).invoke(
        main, ["audit", *args], env={"FLASHARB_RPC_URL": lab.rpc_url}
    )
    assert res.exit_code == 2, (res.exit_code, res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("flasharb: error: "), res.stderr
    return lines[0]
