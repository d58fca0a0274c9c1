"""`flasharb trace TX`: the call tree of a failed trade, with names and decoded errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode
from web3 import Web3

from flasharb.chain import addresses as A
from tests.helpers import Cli, send_failing

FLASH_LOAN = "0x5c38449e"  # Vault.flashLoan(address,address[],uint256[],bytes)


@pytest.fixture
def recorded(deployment: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The session's diamond, recorded in the CLI's project as `flasharb deploy` would."""
    from flasharb.execute.deploy import save

    monkeypatch.setenv("FLASHARB_STATE_DIR", str(tmp_path))
    save(deployment)
    return deployment


def _unsolicited_loan(w3: Web3, diamond: str, sender: str) -> str:
    """A stranger asks the Vault to lend WETH to the diamond: its receiveFlashLoan refuses."""
    data = encode(
        ["address", "address[]", "uint256[]", "bytes"], [diamond, [A.WETH], [10**18], b""]
    )
    receipt = send_failing(
        w3, {"from": sender, "to": A.BALANCER_VAULT, "data": FLASH_LOAN + data.hex()}
    )
    assert receipt["status"] == 0
    return "0x" + bytes(receipt["transactionHash"]).hex()


def _frames(call: dict[str, Any]) -> list[dict[str, Any]]:
    return [call, *(f for c in call["calls"] for f in _frames(c))]


def test_failed_trade_tree_names_and_errors(
    cli: Cli, w3: Web3, recorded: Any, attacker: str
) -> None:
    tx = _unsolicited_loan(w3, recorded.diamond, attacker)
    out = cli.json("trace", tx)
    assert (out["status"], out["error"]) == (0, "UnsolicitedFlashLoan()")
    top = out["call"]
    assert top["label"] == "Balancer V2 Vault" and top["from"] == attacker
    assert top["call"].startswith("flashLoan(recipient=flasharb Diamond, tokens=[WETH]")
    frames = _frames(top)
    transfer = next(f for f in frames if f["call"].startswith("transfer("))
    assert transfer["label"] == "WETH" and transfer["error"] == ""
    failing = [f for f in frames if f["error"]]
    assert [f["label"] for f in failing] == [
        "Balancer V2 Vault",
        "flasharb Diamond",
        "FlashArbFacet",
    ]
    assert failing[-1]["type"] == "DELEGATECALL"
    assert all(f["error"] == "UnsolicitedFlashLoan()" for f in failing)


def test_tree_as_text(cli: Cli, w3: Web3, recorded: Any, attacker: str) -> None:
    tx = _unsolicited_loan(w3, recorded.diamond, attacker)
    res = cli.run("trace", tx)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].endswith("reverted: UnsolicitedFlashLoan()")
    assert any(
        "└─ DELEGATECALL FlashArbFacet" in x and "✗ UnsolicitedFlashLoan()" in x for x in lines
    )


def test_a_successful_transaction(cli: Cli, w3: Web3, owner: str) -> None:
    tx = w3.eth.send_transaction({"from": owner, "to": A.WETH, "value": 10**18})
    w3.eth.wait_for_transaction_receipt(tx)
    out = cli.json("trace", "0x" + bytes(tx).hex())
    assert out["status"] == 1 and out["error"] == ""
    assert out["call"]["label"] == "WETH" and out["call"]["value"] == str(10**18)


@pytest.mark.parametrize(
    ("tx", "says"),
    [
        ("0x12", ["TX", "0x and 64 hex digits"]),
        ("0x" + "ab" * 32, ["0x" + "ab" * 32, "is not on this fork", "--rpc-url"]),
    ],
    ids=["malformed", "unknown"],
)
def test_bad_transaction(cli: Cli, tx: str, says: list[str]) -> None:
    line = cli.error("trace", tx, code=2)
    assert all(s in line for s in says), line
