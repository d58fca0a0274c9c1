"""Audit: a market that lies. A token honest only when `tx.gasprice == 0` passes every eth_call
(Anvil runs them at a gas price of zero) and reverts every mined transfer. The attacker pairs it
with WETH on the real Uniswap V2 and SushiSwap factories at two prices 30% apart: without the
screen the pair is the market's best opportunity, an eth_call of the trade shows a profit, and
the trade mined reverts and costs its gas. With the screen (the default) the pairs never enter
the market, whether they exist at the build or appear mid-run; with the screen off, the trader's
simulation as mined (validation on, the real fee caps) still refuses the trade, and nothing is
sent. Pools come only from known factories: the attacker's own factory is not believed unless
the user adds it to `Venues`."""

from __future__ import annotations

from typing import Any, cast

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector as selector
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.artifacts import npm_artifact
from flasharb.chain.cheats import deal
from flasharb.chain.rpc import contract_at, send
from flasharb.replica import zoo
from flasharb.search.market import Market, MarketConfig
from flasharb.state.discovery import Venues
from flasharb.state.screen import Quirk
from flasharb.venues.uniswap_v2 import UniswapV2
from flasharb_testing import routes as R
from tests.helpers import send_failing

UNIT = 10**18
FACTORY = npm_artifact("@uniswap/v2-core/build/UniswapV2Factory.json")
PAIR_ABI = npm_artifact("@uniswap/v2-core/build/UniswapV2Pair.json").abi
WETH_ABI = npm_artifact("canonical-weth/build/contracts/WETH9.json").abi
# (factory, token seeded, WETH seeded): the token 30% dearer on SushiSwap
SEEDS = (
    (A.UNISWAP_V2_FACTORY, 1_000 * UNIT, 10 * UNIT),
    (A.SUSHISWAP_FACTORY, 1_000 * UNIT, 13 * UNIT),
)


def _call(w3: Web3, sender: str, to: str, sig: str, types: list[str], args: list[Any]) -> None:
    data = selector(sig) + encode(types, args)
    send(w3, {"from": sender, "to": to, "data": "0x" + data.hex()}, sig)


def _pair_of(w3: Web3, factory: str, a: str, b: str) -> str:
    raw = w3.eth.call(
        {
            "to": factory,
            "data": "0x"
            + (selector("getPair(address,address)") + encode(["address", "address"], [a, b])).hex(),
        }
    )
    return Web3.to_checksum_address("0x" + bytes(raw)[12:32].hex())


def gas_price_aware_pairs(w3: Web3, attacker: str) -> tuple[str, str, str]:
    """The attacker's token and its two WETH pairs (Uniswap V2, SushiSwap), created with the
    real factories and seeded as tests/fork/test_market.py seeds one: the tokens are minted into the
    pair (a mint is not a transfer, so the token's trap does not fire), then `mint`."""
    token = zoo.deploy_zoo(w3, attacker, names=[zoo.GAS_PRICE_AWARE])[zoo.GAS_PRICE_AWARE]
    weth = contract_at(w3, A.WETH, WETH_ABI)
    send(
        w3,
        {
            "from": attacker,
            "to": A.WETH,
            "data": weth.encode_abi("deposit", []),
            "value": 30 * UNIT,
        },
    )
    pairs = []
    for factory, token_amount, weth_amount in SEEDS:
        _call(
            w3, attacker, factory, "createPair(address,address)", ["address"] * 2, [token, A.WETH]
        )
        pair = _pair_of(w3, factory, token, A.WETH)
        zoo.mint(w3, token, attacker, pair, token_amount)
        _call(
            w3,
            attacker,
            A.WETH,
            "transfer(address,uint256)",
            ["address", "uint256"],
            [pair, weth_amount],
        )
        _call(w3, attacker, pair, "mint(address)", ["address"], [attacker])
        pairs.append(pair)
    return token, pairs[0], pairs[1]


def _through(market: Market, pools: set[str]) -> list[Any]:
    return [o for o in market.opportunities() if pools & set(o.cycle.pools)]


class TestScreenOn:
    """The default market never holds the pairs, so no trade through them exists to send."""

    def test_pairs_present_at_build_stay_out(self, w3: Web3, attacker: str) -> None:
        token, uni, sushi = gas_price_aware_pairs(w3, attacker)
        market = Market.build(w3)
        assert {uni, sushi} <= set(market.registry.uids())  # real factories: discovered
        assert not {uni, sushi} & set(market.states)
        for pair in (uni, sushi):
            assert f"token {token} refused" in market.screened[pair]
            assert Quirk.GAS_PRICE.value in market.screened[pair]
        assert set(market.screened) == {uni, sushi}  # nothing else is left out
        assert not _through(market, {uni, sushi})
        assert market.token_screen is not None
        verdict = market.token_screen.verdicts(w3, {token: [uni]})[token]  # kept: not probed again
        assert not verdict.ok and verdict.has(Quirk.GAS_PRICE)

    def test_pairs_created_mid_run_stay_out(self, w3: Web3, attacker: str) -> None:
        market = Market.build(w3)
        token, uni, sushi = gas_price_aware_pairs(w3, attacker)
        update = market.update()
        assert update.added == 2 and {uni, sushi} <= set(market.screened)
        assert not {uni, sushi} & set(market.states)
        assert not _through(market, {uni, sushi})
        zoo.mint(w3, token, attacker, uni, 500 * UNIT)  # the pair's price moves: its Sync log
        _call(w3, attacker, uni, "sync()", [], [])
        update = market.update()
        assert update.pools_changed >= 1  # the sync re-read it...
        assert uni not in market.states and not _through(market, {uni, sushi})  # ...still out


class TestScreenOff:
    """Without the screen the pair is the best opportunity and an eth_call says it pays; the
    trader's simulation as mined refuses it, so nothing is sent. Mined anyway, it reverts."""

    def test_trader_refuses_what_eth_call_approves(
        self, w3: Web3, attacker: str, owner: str, deployment: Any
    ) -> None:
        token, uni, sushi = gas_price_aware_pairs(w3, attacker)
        market = Market.build(w3, MarketConfig(screen=False))
        best = market.opportunities()[0]
        assert {uni, sushi} <= set(best.cycle.pools), "the trap is the top opportunity"
        assert best.net_profit > 0
        trader = R.trader(w3, deployment)
        nonce = w3.eth.get_transaction_count(cast(Any, trader.sender))
        block = w3.eth.block_number
        (prepared,) = trader.prepare([best], market.head)
        assert not prepared.ok and prepared.refused is not None
        assert prepared.error == 'Error("UniswapV2: TRANSFER_FAILED")', prepared.error
        # what a bot that simulates with eth_call sees: the same calldata pays at gas price 0
        tx = {
            "from": trader.sender,
            "to": deployment.diamond,
            "data": "0x" + prepared.calldata.hex(),
        }
        profit = int.from_bytes(bytes(w3.eth.call(cast(Any, tx))), "big")
        assert profit >= best.net_profit > 0
        trades, failed = trader.execute([best], market.head)
        assert trades == [] and [p.tx_hash for p, _ in failed] == [prepared.tx_hash]
        assert w3.eth.get_transaction_count(cast(Any, trader.sender)) == nonce  # nothing sent
        assert w3.eth.block_number == block
        # sent anyway (as that bot would), it is mined, reverts, and the sender pays the gas
        receipt = send_failing(w3, tx | {"from": owner}, gas=prepared.gas_limit)
        assert receipt["status"] == 0 and receipt["gasUsed"] * receipt["effectiveGasPrice"] > 0

    def test_the_verdict_is_journaled_and_shown(self, w3: Web3, attacker: str, cli: Any) -> None:
        token, _, _ = gas_price_aware_pairs(w3, attacker)
        rows = {r["token"]: r for r in cli.json("tokens", "--probe")["tokens"]}
        assert not rows[token]["ok"]
        assert {f["quirk"] for f in rows[token]["flags"]} == {
            "gas_price_dependent",
            "transfer_reverts",
        }
        assert [t for t, r in rows.items() if not r["ok"]] == [token]  # refused ones come first
        assert cli.json("tokens")["tokens"][0] == rows[token]  # read back from the journal


class TestOnlyKnownFactories:
    """The attacker's own Uniswap-V2 factory (the real bytecode, another address): its pairs
    are not discovered unless the user names the factory in `Venues`."""

    def test_unknown_factory_is_not_believed_until_configured(
        self, w3: Web3, attacker: str
    ) -> None:
        code = FACTORY.bytecode + encode(["address"], [attacker])
        receipt = send(w3, {"from": attacker, "data": "0x" + code.hex(), "gas": 5_000_000})
        factory = Web3.to_checksum_address(str(receipt["contractAddress"]))
        _call(
            w3, attacker, factory, "createPair(address,address)", ["address"] * 2, [A.USDC, A.WETH]
        )
        pair = _pair_of(w3, factory, A.USDC, A.WETH)
        deal(w3, A.WETH, pair, 10 * UNIT)
        deal(w3, A.USDC, pair, 40_000 * 10**6)
        _call(w3, attacker, pair, "mint(address)", ["address"], [attacker])
        default = Market.build(w3)
        assert pair not in default.registry and pair not in default.states
        attackers = UniswapV2(name="attackers_v2", factory=factory)  # a user's configured venue
        venues = Venues(venues=(*Venues().venues, attackers))
        trusted = Market.build(w3, MarketConfig(venues=venues))
        assert trusted.registry[pair].venue == "attackers_v2" and pair in trusted.states
        assert trusted.screened == {}
