"""The one gas model against fork receipts of the scan's own routes (V2, V3 with ticks crossed,
Balancer hops, a batch swap, Vault and V3 flash loans): the market's best route of each hop
sequence, ticks crossed and source, each sent through the trader from the same snapshot, once
with the diamond holding dust of the route token and once without. Every receipt is within 5%
of the default `GasModel`, the trader's prediction is that model on the receipt's exact shape,
and eth_estimateGas bounds it from above (bench/gas_fit.py runs the same routes, and more, to
fit the defaults)."""

from __future__ import annotations

from typing import Any

from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.cheats import deal, snapshot
from flasharb.execute.shock import shock
from flasharb.experiments.shapes import warm_balancer
from flasharb.kinds import HopKind, SourceKind
from flasharb.search.gas import GasModel, GasShape
from flasharb.search.market import Market, MarketConfig
from flasharb.search.rank import Opportunity
from flasharb_testing import routes as R

RECEIPT_TOLERANCE = 0.05  # the default model against each receipt's gas used
# eth_estimateGas is the gas limit before refunds (the Vault's and the pools' reentrancy locks,
# the Vault's allowance, the diamond's intermediate balances reset their slots) and the 63/64
# call reserve: an upper bound on the gas used. The model predicts gas used: at most the
# estimate, and within this below it.
ESTIMATE_GAP = 0.25
MAX_ROUTES = 24  # executed: the best route of each hop sequence, ticks and source


def _shock_v3_and_balancer(w3: Web3) -> None:
    """3M USDC into Uniswap V3 WETH/USDC 0.3%, 300 WETH into Balancer's WETH/USDC 50/50."""
    v3 = R.pool(w3, "uniswap_v3", A.WETH, A.USDC, fee=3000)
    shock(w3, v3.address, A.USDC, 3_000_000 * 10**6)
    bal = R.pool(w3, "balancer", A.WETH, A.USDC)
    shock(w3, bal.address, A.WETH, 300 * 10**18)


def _routes(market: Market) -> list[Opportunity]:
    found: dict[tuple[tuple[HopKind, ...], int, str], Opportunity] = {}
    for opp in market.opportunities():
        key = (tuple(h.kind for h in opp.cycle.hops), min(opp.ticks_crossed, 2), opp.flash_source)
        found.setdefault(key, opp)
        if len(found) == MAX_ROUTES:
            break
    return list(found.values())


def test_default_model_matches_every_receipt(w3: Web3, deployment: Any) -> None:
    _shock_v3_and_balancer(w3)
    market = Market.build(w3, MarketConfig(max_hops=3))
    if warm_balancer(w3, market, [o.cycle for o in _routes(market)]):
        market.update()  # no TWAP oracle sample due on their Balancer pools (see shapes.py)
    routes = _routes(market)
    model = GasModel()
    seen: list[GasShape] = []
    for opp in routes:
        for dust in (True, False):
            with snapshot(w3):
                for token in {h.token_out for h in opp.cycle.hops}:
                    if dust or token != opp.cycle.token:
                        deal(w3, token, deployment.diamond, 1)
                t = R.trader(w3, deployment)
                prepared = t.prepare([opp], market.head)[0]
                assert prepared.ok, prepared.refused
                call = {"from": t.sender, "to": deployment.diamond, "data": prepared.calldata}
                estimate = w3.eth.estimate_gas(call)  # type: ignore[arg-type]
                trade = t.reconcile(t.send(prepared))
            shape = GasShape.of(
                opp.cycle,
                source=opp.source.kind,
                batch=opp.source.batch,
                ticks_crossed=opp.ticks_crossed,
                calldata=prepared.calldata,
                cold_balance=not dust,
                gas_used=trade.gas_used,
            )
            seen.append(shape)
            predicted = model.estimate(shape)
            what = (opp.flash_source, [h.kind.label for h in opp.cycle.hops], opp.ticks_crossed)
            print(
                f"  {what} dust={dust}: model {predicted} used {trade.gas_used} "
                f"estimateGas {estimate} ({predicted / estimate - 1:+.1%})"
            )
            assert trade.gas_predicted == predicted, what  # the trader reads the cold balance
            assert abs(predicted - trade.gas_used) <= RECEIPT_TOLERANCE * trade.gas_used, what
            assert (1 - ESTIMATE_GAP) * estimate <= predicted <= estimate, what
    # what the routes exercised: every hop kind, ticks, two sources, a batch swap, two walks
    assert {k for s in seen for k in s.kinds} == set(HopKind)
    assert any(s.ticks_crossed > 0 for s in seen)
    assert {s.source for s in seen} >= {SourceKind.BALANCER_V2, SourceKind.UNISWAP_V3}
    assert any(s.batch for s in seen)
    assert any(s.vault_swap and s.via_diamond for s in seen)
