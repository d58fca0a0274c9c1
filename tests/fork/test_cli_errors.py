"""Bad CLI input: one line on stderr naming the problem and the fix, exit 2, nothing sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3

from flasharb.chain import addresses as A
from tests.helpers import Cli

WETH_USDC = "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc"
EOA = "0x000000000000000000000000000000000000dEaD"
ENS = "0xC18360217D8F7Ab5e7c516566761Ea12Ce7F9D72"  # a replica token with no LINK pair


def _swap(cmd: str, pool: str, token: str, amount: str) -> list[str]:
    return [cmd, "--pool", pool, "--token-in", token, "--amount-in", amount]


class TestAddressesAndTokens:
    """Malformed, mistyped or unknown addresses, for quote and shock."""

    @pytest.mark.parametrize("cmd", ["quote", "shock"])
    @pytest.mark.parametrize(
        ("pool", "token", "says"),
        [
            ("0x1234", A.WETH, ["--pool", "0x1234", "40 hex digits"]),
            (WETH_USDC, "WTFH", ["--token-in", "'WTFH'", "unknown token", "WETH, USDC"]),
            (WETH_USDC.lower().replace("0xb4e", "0xB4E"), A.WETH, ["--pool", "checksum"]),
            (EOA, A.WETH, [EOA, "check the address"]),
            (WETH_USDC, EOA, [EOA, "is not in pool", WETH_USDC]),
            (WETH_USDC, A.DAI, [A.DAI, "is not in pool"]),
        ],
        ids=["short", "unknown-symbol", "bad-checksum", "no-code", "not-a-token", "wrong-token"],
    )
    def test_address(
        self, cli: Cli, w3: Web3, cmd: str, pool: str, token: str, says: list[str]
    ) -> None:
        block = w3.eth.block_number
        line = cli.error(*_swap(cmd, pool, token, "1000"), code=2)
        assert all(s in line for s in says), line
        assert w3.eth.block_number == block  # nothing was sent


class TestAmounts:
    @pytest.mark.parametrize("cmd", ["quote", "shock"])
    @pytest.mark.parametrize(
        ("amount", "says"),
        [
            ("0", "not positive"),
            ("-5", "not positive"),
            ("1.5", "whole number"),
            (str(2**256), "uint256"),
        ],
        ids=["zero", "negative", "fraction", "too-big"],
    )
    def test_amount(self, cli: Cli, cmd: str, amount: str, says: str) -> None:
        line = cli.error(*_swap(cmd, WETH_USDC, A.WETH, amount), code=2)
        assert "--amount-in" in line and says in line and "--help" in line

    @pytest.mark.parametrize(
        "args",
        [
            ["scan", "--limit", "0"],
            ["execute", "--top", "0"],
            ["scan", "--priority-fee-gwei", "-1"],
        ],
        ids=str,
    )
    def test_counts_and_fees(self, cli: Cli, args: list[str]) -> None:
        line = cli.error(*args, code=2)
        assert args[1] in line and "--help" in line


class TestPoolWithoutLiquidity:
    def test_empty_pair(self, cli: Cli, w3: Web3, owner: str) -> None:
        """A pair created on the factory, never funded: quote and shock name it and the fix."""
        data = function_signature_to_4byte_selector("createPair(address,address)") + encode(
            ["address", "address"], [A.LINK, ENS]
        )
        tx = {"from": owner, "to": A.UNISWAP_V2_FACTORY, "data": "0x" + data.hex()}
        pair = Web3.to_checksum_address("0x" + bytes(w3.eth.call(tx))[12:32].hex())  # type: ignore[arg-type]
        w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(tx))  # type: ignore[arg-type]
        for cmd in ("quote", "shock"):
            line = cli.error(*_swap(cmd, pair, A.LINK, "1000"), code=2)
            assert pair in line and "liquidity" in line and "flasharb scan" in line


class TestNoNodeAndUsage:
    @pytest.mark.parametrize(
        "args",
        [
            ["scan"],
            ["deploy"],
            ["execute", "--dry-run"],
            _swap("quote", WETH_USDC, A.WETH, "1"),
            _swap("shock", WETH_USDC, A.WETH, "1"),
        ],
        ids=lambda a: a[0],
    )
    def test_no_running_node(self, tmp_path: Path, args: list[str]) -> None:
        cli = Cli("http://127.0.0.1:9", tmp_path)  # discard port: nothing answers
        line = cli.error(*args, code=2)
        assert "http://127.0.0.1:9" in line and "flasharb node up" in line

    def test_fork_url_that_does_not_answer(self, tmp_path: Path) -> None:
        cli = Cli("", tmp_path)
        line = cli.error("node", "up", "--fork-url", "http://127.0.0.1:9", code=2)
        assert "--fork-url http://127.0.0.1:9" in line and "check the URL" in line
        assert not (tmp_path / "node.json").exists()

    def test_unknown_command_and_missing_option(self, cli: Cli) -> None:
        assert "No such command 'scna'" in cli.error("scna", code=2)
        line = cli.error("quote", "--pool", WETH_USDC, code=2)
        assert "--token-in" in line and "flasharb quote --help" in line
