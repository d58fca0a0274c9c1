"""The project's configuration file on the replica fork: a disabled venue is never read, a denied
token is in no pool and no cycle, a venue's liquidity floor keeps small pools out (and lets one
in once it holds enough), the file's strategy shapes the market, and `flasharb scan` in a project
folder honours its flasharb.toml (flags over it; a bad file is one line, exit 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_utils import function_signature_to_4byte_selector as selector
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.cheats import balance_of, deal
from flasharb.chain.node import Lab
from flasharb.chain.rpc import connect, send
from flasharb.config import parse_config
from flasharb.execute.shock import shock
from flasharb.search.market import Market, MarketConfig, pool_value_eth
from flasharb.search.valuation import PriceBook
from tests.fork.fault_proxy import FaultProxy
from tests.helpers import Cli

SYNC = selector("sync()")


@pytest.fixture(scope="module")
def plain(session_w3: Web3) -> Market:
    """The market with no configuration (read only: the tests' snapshots do not move it)."""
    return Market.build(session_w3, MarketConfig())


def _tokens_of_cycles(market: Market) -> set[str]:
    return {t for c in market.index.cycles for t in c.tokens}


def _requested(proxy: FaultProxy) -> str:
    return json.dumps(proxy.requests).lower()


def test_a_disabled_venue_is_not_discovered_or_read(lab: Lab, w3: Web3, plain: Market) -> None:
    """Every request the market sends goes through a recording proxy: with SushiSwap disabled,
    none names its factory or any of its pairs; the default market asks about both."""
    sushi = [p.address for p in plain.registry if p.venue == "sushiswap"]
    assert sushi, "the replica has SushiSwap pairs"
    factory = A.SUSHISWAP_FACTORY.lower()[2:]
    config = parse_config({"venues": {"sushiswap": {"enabled": False}}}).market()
    with FaultProxy(lab.rpc_url) as proxy:
        market = Market.build(connect(proxy.url), config)
        asked = _requested(proxy)
    assert not any(p.venue == "sushiswap" for p in market.registry)
    assert not set(sushi) & set(market.states)
    assert not any(p in market.index.graph.pool_index for p in sushi)
    assert factory not in asked
    assert not [p for p in sushi if p.lower()[2:] in asked]
    # the other venues are all there, pool for pool
    others = {p.uid for p in plain.registry if p.venue != "sushiswap"}
    assert {p.uid for p in market.registry} == others
    with FaultProxy(lab.rpc_url) as proxy:  # the control: by default both are read
        Market.build(connect(proxy.url), MarketConfig())
        asked = _requested(proxy)
    assert factory in asked and all(p.lower()[2:] in asked for p in sushi)


def test_denied_token_and_the_files_max_hops(w3: Web3, plain: Market) -> None:
    """DAI denied, max_hops 2: no pool holding DAI is read into the market or enters a cycle,
    every cycle has 2 hops; the default market has both DAI cycles and 3-hop ones."""
    dai_pools = {p.uid for p in plain.registry if A.DAI in p.tokens}
    assert dai_pools and A.DAI in _tokens_of_cycles(plain)
    assert max(len(c.hops) for c in plain.index.cycles) == 3
    config = parse_config({"tokens": {"deny": [A.DAI]}, "strategy": {"max_hops": 2}}).market()
    market = Market.build(w3, config)
    assert market.config.max_hops == 2
    assert {len(c.hops) for c in market.index.cycles} == {2}
    assert A.DAI not in _tokens_of_cycles(market)
    assert not dai_pools & set(market.states)
    assert {u: market.screened[u] for u in dai_pools} == {
        u: f"token {A.DAI} is on the deny list" for u in dai_pools
    }
    assert not any(A.DAI in o.cycle.tokens for o in market.opportunities())


def test_an_allow_list_keeps_other_tokens_out(w3: Web3, plain: Market) -> None:
    allowed = {A.WETH, A.USDC, A.USDT}
    config = parse_config({"tokens": {"allow": sorted(allowed)}}).market()
    market = Market.build(w3, config)
    assert _tokens_of_cycles(market) <= allowed
    kept = {
        p.uid
        for p in plain.registry
        if p.uid in plain.states
        and {A.WETH if t == A.NATIVE_ETH else t for t in p.tokens if t != p.address} <= allowed
    }
    assert set(market.states) == kept and len(kept) >= 3


def _values(market: Market, venue: str) -> dict[str, int]:
    prices = PriceBook(market.states.values(), A.WETH)
    return {
        p.uid: pool_value_eth(market.states[p.uid], prices.get)
        for p in market.registry
        if p.venue == venue and p.uid in market.states
    }


def test_min_liquidity_keeps_small_pools_out_until_they_grow(w3: Web3, plain: Market) -> None:
    """A floor at the median value of the Uniswap V2 pairs: the pairs under it are out of the
    states, the index and the lenders, the other venues are untouched; a small pair whose
    reserves grow past the floor (tokens sent to it, then `sync()`) joins at the next update,
    and leaves again when they shrink."""
    values = _values(plain, "uniswap_v2")
    floor = sorted(values.values())[len(values) // 2]
    small = {u for u, v in values.items() if v < floor}
    assert small and len(small) < len(values)
    config = parse_config({"venues": {"uniswap_v2": {"min_liquidity": floor}}}).market()
    market = Market.build(w3, config)
    v2 = {p.uid for p in market.registry if p.venue == "uniswap_v2"}
    assert v2 & set(market.states) == set(values) - small
    assert set(market.thin) == small
    assert not small & set(market.index.graph.pool_index)
    lent = {ln.source.lender for lenders in market.lenders.by_token.values() for ln in lenders}
    assert not small & lent
    assert set(market.states) - v2 == set(plain.states) - set(values)  # other venues as they were

    # the smallest pair holding WETH grows past the floor: it joins
    pair = min((u for u in small if A.WETH in market.registry[u].tokens), key=values.__getitem__)
    info = market.registry[pair]
    weth_held = balance_of(w3, A.WETH, pair)
    deal(w3, A.WETH, pair, weth_held + floor)
    send(w3, {"from": w3.eth.accounts[0], "to": pair, "data": "0x" + SYNC.hex()}, "sync")
    market.update()
    assert pair in market.states and pair not in market.thin
    assert pair in market.index.graph.pool_index
    assert any(pair in c.pools for c in market.index.cycles)

    # ... and shrinks back under it: it leaves
    for token in info.tokens:
        deal(w3, token, pair, balance_of(w3, token, pair) // 1000)
    send(w3, {"from": w3.eth.accounts[0], "to": pair, "data": "0x" + SYNC.hex()}, "sync")
    market.update()
    assert pair not in market.states and pair in market.thin
    assert pair not in market.index.graph.pool_index


def test_a_v2_venues_fee_from_the_file(w3: Web3) -> None:
    """`fee` sets what a V2-style venue's pairs charge in the market's math: the registry and
    every state of SushiSwap carry it (it must be what the factory's pairs charge: the replica's
    charge 0.30%, so this market's SushiSwap quotes are not the chain's)."""
    config = parse_config({"venues": {"sushiswap": {"fee": 2500}}}).market(screen=False)
    market = Market.build(w3, config)
    sushi = [p for p in market.registry if p.venue == "sushiswap"]
    assert sushi and {p.fee for p in sushi} == {2500}
    assert {market.states[p.uid].fee_pips for p in sushi if p.uid in market.states} == {2500}
    assert {p.fee for p in market.registry if p.venue == "uniswap_v2"} == {3000}


# ---------------------------------------------------------------- the CLI in a project folder


def _scan(cli: Cli, project: Path, *args: str) -> Any:
    return cli.json("--project", str(project), *args, "scan", "--limit", "1000")


def test_cli_scan_honours_the_projects_file(
    cli: Cli, w3: Web3, tmp_path: Path, plain: Market
) -> None:
    """WETH dumped on the Uniswap V2 and the SushiSwap WETH/USDC pairs: without a file the
    scan routes through both; with SushiSwap disabled and 2 hops at most, through neither
    SushiSwap nor 3 pools, at the file's tip."""
    sushi = {p.uid for p in plain.registry if p.venue == "sushiswap"}
    for venue in ("uniswap_v2", "sushiswap"):
        shock(w3, plain.pool(venue, A.WETH, A.USDC).address, A.WETH, 300 * 10**18)
    routed = {h["pool"] for o in _scan(cli, tmp_path)["opportunities"] for h in o["route"]}
    assert routed & sushi, "the control: SushiSwap is routed without a file"
    (tmp_path / "flasharb.toml").write_text(
        '[venues.sushiswap]\nenabled = false\n\n[strategy]\nmax_hops = 2\npriority_fee = "2 gwei"\n'
    )
    data = _scan(cli, tmp_path)
    assert data["max_hops"] == 2
    assert int(data["gas_price_wei"]) - int(data["base_fee_wei"]) == 2 * 10**9
    assert data["opportunities"], "the Uniswap V2 pair still trades against the other venues"
    routes = [o["route"] for o in data["opportunities"]]
    assert all(len(r) <= 2 for r in routes)
    assert not {h["pool"] for r in routes for h in r} & sushi
    assert data["pools"] == len([p for p in plain.registry if p.uid in plain.states]) - len(
        sushi & set(plain.states)
    )
    # a flag overrides the file; --config reads another file
    other = tmp_path / "other.toml"
    other.write_text("[strategy]\nmax_hops = 3\n")
    assert _scan(cli, tmp_path, "--config", str(other))["max_hops"] == 3
    flagged = cli.json("--project", str(tmp_path), "scan", "--max-hops", "3", "--limit", "1")
    assert flagged["max_hops"] == 3


@pytest.mark.parametrize("command", [("scan",), ("execute", "--dry-run"), ("run", "--blocks", "1")])
def test_cli_a_bad_file_is_one_line_exit_2(cli: Cli, tmp_path: Path, command: tuple[str]) -> None:
    (tmp_path / "flasharb.toml").write_text("[venues.uniswap_v3]\nfee = 500\n")
    line = cli.error("--project", str(tmp_path), *command, code=2)
    assert line == (
        f"flasharb: error: {tmp_path / 'flasharb.toml'}: venues.uniswap_v3.fee: uniswap_v3 "
        "reads each pool's fee from the chain; remove it"
    )
