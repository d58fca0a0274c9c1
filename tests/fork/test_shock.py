"""`shock` moves any pool of any venue, and the whale receives exactly what the venue quoted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.node import Lab
from flasharb.errors import FlasharbValueError
from flasharb.execute.shock import shock, venue_of
from flasharb.replica.spec import load_spec

V3_WETH_USDC_500 = "0x88e6A0c2dDD26FEEb64F039a2c41296FcB3f5640"
QUOTE_V3 = "quoteExactInputSingle((address,address,uint256,uint24,uint160))"
QUERY_SWAP = "querySwap((bytes32,uint8,address,address,uint256,bytes),(address,bool,address,bool))"


def _call(w3: Web3, to: str, sig: str, types: list[str], args: list[object]) -> bytes:
    data = function_signature_to_4byte_selector(sig) + encode(types, args)
    return bytes(w3.eth.call({"to": to, "data": "0x" + data.hex()}))  # type: ignore[typeddict-item]


def _balancer_pool(w3: Web3, symbols: set[str]) -> tuple[str, bytes]:
    """The address and id of the replica's Balancer pool holding exactly `symbols`."""
    want = {load_spec().token(s).address for s in symbols}
    logs = w3.eth.get_logs(
        {
            "address": A.BALANCER_VAULT,
            "fromBlock": 0,
            "toBlock": "latest",
            "topics": [Web3.keccak(text="PoolRegistered(bytes32,address,uint8)")],
        }
    )
    for log in logs:
        pool_id = bytes(log["topics"][1])
        raw = _call(w3, A.BALANCER_VAULT, "getPoolTokens(bytes32)", ["bytes32"], [pool_id])
        tokens = {
            Web3.to_checksum_address(t)
            for t in decode(["address[]", "uint256[]", "uint256"], raw)[0]
        }
        if tokens == want:
            return Web3.to_checksum_address("0x" + bytes(log["topics"][2])[12:].hex()), pool_id
    raise AssertionError(f"no Balancer pool for {symbols}")


class TestVenues:
    """V3 through the SwapRouter, Balancer through the Vault: paid what was quoted."""

    def test_v3_pool(self, w3: Web3) -> None:
        assert venue_of(w3, V3_WETH_USDC_500) == "uniswap_v3"
        amount = 200 * 10**18
        raw = _call(
            w3,
            A.UNISWAP_V3_QUOTER_V2,
            QUOTE_V3,
            ["(address,address,uint256,uint24,uint160)"],
            [(A.WETH, A.USDC, amount, 500, 0)],
        )
        quoted = decode(["uint256", "uint160", "uint32", "uint256"], raw)[0]
        res = shock(w3, V3_WETH_USDC_500, A.WETH, amount)
        assert (res.venue, res.token_out) == ("uniswap_v3", A.USDC)
        assert res.amount_out == quoted > 0

    def test_balancer_pool_with_token_out(self, w3: Web3) -> None:
        pool, pool_id = _balancer_pool(w3, {"WBTC", "WETH", "USDC"})
        assert venue_of(w3, pool) == "balancer"
        amount = 50 * 10**18
        single = (pool_id, 0, A.WETH, A.WBTC, amount, b"")
        funds = (A.BALANCER_QUERIES, False, A.BALANCER_QUERIES, False)
        raw = _call(
            w3,
            A.BALANCER_QUERIES,
            QUERY_SWAP,
            ["(bytes32,uint8,address,address,uint256,bytes)", "(address,bool,address,bool)"],
            [single, funds],
        )
        quoted = int.from_bytes(raw[:32], "big")
        res = shock(w3, pool, A.WETH, amount, token_out=A.WBTC)
        assert (res.venue, res.token_out) == ("balancer", A.WBTC)
        assert res.amount_out == quoted > 0

    def test_not_a_pool(self, w3: Web3) -> None:
        with pytest.raises(FlasharbValueError, match="not a Uniswap V2/V3 or Balancer pool"):
            shock(w3, A.WETH, A.WETH, 1)

    def test_token_out_not_in_pool(self, w3: Web3) -> None:
        pool, _ = _balancer_pool(w3, {"WBTC", "WETH", "USDC"})
        with pytest.raises(FlasharbValueError, match="--token-out"):
            shock(w3, pool, A.WETH, 1, token_out=A.DAI)


def test_cli_shock_on_a_v3_pool(w3: Web3, lab: Lab, tmp_path: Path) -> None:
    env = {**os.environ, "FLASHARB_RPC_URL": lab.rpc_url, "FLASHARB_STATE_DIR": str(tmp_path)}
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "flasharb.cli",
            "shock",
            "--pool",
            V3_WETH_USDC_500,
            "--token-in",
            A.USDC,
            "--amount-in",
            str(10**12),
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert (
        out["venue"] == "uniswap_v3" and out["token_out"] == A.WETH and int(out["amount_out"]) > 0
    )
