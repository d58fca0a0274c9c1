"""Two trades of one diamond in one token, mined in one block (a chain that mines on a timer,
not per transaction): each trade's realized profit is its own, not the block's sum."""

from __future__ import annotations

from typing import Any

from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.anvil import rpc_request
from flasharb.execute.shock import shock
from flasharb.execute.trader import Trader
from flasharb.search.market import Market
from flasharb_testing import routes as R


def _url(w3: Web3) -> str:
    return str(w3.provider.endpoint_uri)  # type: ignore[attr-defined]


def test_two_trades_in_one_block_each_realize_their_own(w3: Web3, deployment: Any) -> None:
    for venue in ("uniswap_v2", "sushiswap"):  # two dislocations apart
        shock(w3, R.pool(w3, venue, A.WETH, A.USDC).address, A.WETH, 300 * 10**18)
    market = Market.build(w3)
    found = market.opportunities()
    first, second = next(
        (a, b)
        for i, a in enumerate(found)
        for b in found[i + 1 :]
        if a.cycle.token == b.cycle.token and set(a.cycle.pools).isdisjoint(b.cycle.pools)
    )
    trader = Trader(w3, deployment, deployment.trading_signer())
    prepared = trader.prepare([first, second], market.head)
    assert all(p.ok for p in prepared), [p.refused for p in prepared]
    rpc_request(_url(w3), "evm_setAutomine", [False])
    try:
        sent = [trader.send(p) for p in prepared]
        rpc_request(_url(w3), "evm_mine")
    finally:
        rpc_request(_url(w3), "evm_setAutomine", [True])
    trades = [trader.reconcile(p) for p in sent]
    assert trades[0].block == trades[1].block  # one block, one diamond, one token
    for trade in trades:
        assert trade.realized_profit == trade.predicted_profit == trade.event_profit
    assert trades[0].realized_profit != trades[1].realized_profit  # not the block's sum twice
