"""Token symbols, human amounts and --rpc-url on the commands that take addresses and wei."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.node import Lab
from tests.helpers import Cli

V2_WETH_USDC = "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc"
V3_WETH_USDC_500 = "0x88e6A0c2dDD26FEEb64F039a2c41296FcB3f5640"


def _quote(cli: Cli, *args: str) -> dict[str, str]:
    return cli.json("quote", "--pool", *args)  # type: ignore[no-any-return]


class TestSymbolsAndUnits:
    """Each human spelling quotes exactly what its base units quote."""

    @pytest.mark.parametrize(
        ("pool", "token", "human", "wei"),
        [
            (V2_WETH_USDC, "WETH", "500ether", 500 * 10**18),
            (V2_WETH_USDC, "weth", "1.5WETH", 15 * 10**17),
            (V3_WETH_USDC_500, "USDC", "2.5e6USDC", 25 * 10**11),
            (V3_WETH_USDC_500, "USDC", "2.5e12", 25 * 10**11),
            (V2_WETH_USDC, "WETH", "20gwei", 20 * 10**9),
        ],
        ids=["ether", "symbol-unit", "sci-symbol-unit", "sci-base-units", "gwei"],
    )
    def test_same_quote_as_base_units(
        self, cli: Cli, pool: str, token: str, human: str, wei: int
    ) -> None:
        address = A.WETH if token.upper() == "WETH" else A.USDC
        by_symbol = _quote(cli, pool, "--token-in", token, "--amount-in", human)
        by_address = _quote(cli, pool, "--token-in", address, "--amount-in", str(wei))
        assert by_symbol["amount_in"] == str(wei)
        assert by_symbol == by_address

    def test_exact_out_in_the_bought_tokens_units(self, cli: Cli) -> None:
        """--amount-out is in the token bought (USDC here), not the token sold."""
        q = _quote(cli, V2_WETH_USDC, "--token-in", "WETH", "--amount-out", "3000USDC")
        assert q["amount_out"] == str(3000 * 10**6) and q["token_out"] == A.USDC

    def test_shock_takes_symbols_and_units(self, cli: Cli) -> None:
        res = cli.json(
            "shock", "--pool", V2_WETH_USDC, "--token-in", "WETH", "--amount-in", "10ether"
        )
        assert res["amount_in"] == str(10 * 10**18) and res["token_in"] == A.WETH


class TestBadAmounts:
    """Exit 2, one line naming the option and the fix; nothing sent."""

    @pytest.mark.parametrize(
        ("amount", "says"),
        [
            ("5USDC", ["--amount-in 5USDC is in USDC", "token is WETH"]),
            ("1xyz", ["'xyz'", "not wei, gwei, ether", "unknown token"]),
            ("1e-19ether", ["finer than one base unit"]),
            ("ten", ["not an amount", "500ether"]),
            ("1.5", ["whole number", "1.5ether"]),
        ],
        ids=["other-tokens-unit", "unknown-unit", "below-one-wei", "not-a-number", "fraction"],
    )
    @pytest.mark.parametrize("cmd", ["quote", "shock"])
    def test_amount(self, cli: Cli, w3: Web3, cmd: str, amount: str, says: list[str]) -> None:
        block = w3.eth.block_number
        line = cli.error(
            cmd, "--pool", V2_WETH_USDC, "--token-in", "WETH", "--amount-in", amount, code=2
        )
        assert all(s in line for s in says), line
        assert w3.eth.block_number == block

    def test_block_beyond_the_head(self, cli: Cli, w3: Web3) -> None:
        head = w3.eth.block_number
        line = cli.error(
            "quote", "--pool", V2_WETH_USDC, "--token-in", "WETH", "--amount-in", "1ether",
            "--block", str(head + 1000), code=2,
        )  # fmt: skip
        assert f"--block {head + 1000}" in line and f"head (block {head})" in line


class TestRpcUrl:
    """--rpc-url picks the fork, over FLASHARB_RPC_URL and .flasharb/node.json."""

    def _run(
        self, tmp_path: Path, *args: str, env_url: str = ""
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "FLASHARB_STATE_DIR": str(tmp_path)}
        env.pop("FLASHARB_RPC_URL", None)
        if env_url:
            env["FLASHARB_RPC_URL"] = env_url
        return subprocess.run(
            [sys.executable, "-m", "flasharb.cli", *args],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip

    @pytest.mark.parametrize(
        "args",
        [
            ["quote", "--pool", V2_WETH_USDC, "--token-in", "WETH", "--amount-in", "1ether"],
            ["pools", "--venue", "uniswap_v2", "--token", "WBTC"],
            ["cheat", "mine", "1"],
            ["scan", "--max-hops", "2"],
        ],
        ids=lambda a: a[0] if a[0] != "cheat" else "cheat-mine",
    )
    def test_rpc_url_beats_the_environment(
        self, lab: Lab, w3: Web3, tmp_path: Path, args: list[str]
    ) -> None:
        ok = self._run(tmp_path, *args, "--rpc-url", lab.rpc_url, "--json",
                       env_url="http://127.0.0.1:9")  # fmt: skip
        assert ok.returncode == 0, ok.stderr
        bad = self._run(tmp_path, *args, "--rpc-url", "http://127.0.0.1:9", env_url=lab.rpc_url)
        assert bad.returncode == 2
        line = bad.stderr.strip()
        assert "\n" not in line and "http://127.0.0.1:9" in line and "--rpc-url" in line
