"""`flasharb pools`: what discovery finds, filtered by venue and token."""

from __future__ import annotations

import pytest
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.state.discovery import discover
from tests.helpers import Cli


def test_every_pool_discovery_finds(cli: Cli, w3: Web3) -> None:
    listed = cli.json("pools")
    found = {p.address: p for p in discover(w3)}
    assert {p["address"] for p in listed["pools"]} == set(found)
    v3 = next(p for p in listed["pools"] if p["venue"] == "uniswap_v3")
    assert v3["fee_pips"] == found[v3["address"]].fee


def test_venue_and_tokens_filter(cli: Cli, w3: Web3) -> None:
    listed = cli.json("pools", "--venue", "sushiswap", "--token", "WETH", "--token", "usdc")
    expected = {
        p.address
        for p in discover(w3)
        if p.venue == "sushiswap" and A.WETH in p.tokens and A.USDC in p.tokens
    }
    assert len(expected) == 1
    assert [p["address"] for p in listed["pools"]] == list(expected)
    assert sorted(listed["pools"][0]["symbols"]) == ["USDC", "WETH"]


def test_table_names_pools_by_symbols(cli: Cli) -> None:
    res = cli.run("pools", "--venue", "balancer", "--token", "BAL")
    assert res.returncode == 0, res.stderr
    assert "BAL/WETH" in res.stdout and "balancer" in res.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--venue", "curve"], ["unknown venue 'curve'", "uniswap_v2"]),
        (["--token", "WTFH"], ["--token", "unknown token 'WTFH'"]),
        (["--token", "0x1234"], ["--token", "40 hex digits"]),
    ],
    ids=["venue", "symbol", "address"],
)
def test_bad_filters(cli: Cli, args: list[str], says: list[str]) -> None:
    line = cli.error("pools", *args, code=2)
    assert all(s in line for s in says), line
