"""The market's routes executed as planned: every venue, the market's own states and capital
source, predicted == simulated == realized to the wei; a route through a Balancer pool never
borrows from the Vault (BAL#400): the search picks another lender, and the chain refuses the
Vault loan for that very route. `execute --dry-run` shows exactly what `execute` then sends."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.execute.flow import execute_top
from flasharb.execute.plan import plan
from flasharb.execute.shock import shock
from flasharb.kinds import HopKind, SourceKind
from flasharb.search.capital import FlashSource
from flasharb.search.market import Market
from flasharb_testing import routes as R
from tests.helpers import call_error

FLASH_LOAN = Web3.keccak(text="FlashLoan(address,address,uint256,uint256)")  # Vault events
SWAP = Web3.keccak(text="Swap(bytes32,address,address,uint256,uint256)")


def _shock_v3_and_balancer(w3: Web3) -> None:
    """3M USDC into Uniswap V3 WETH/USDC 0.3%, 300 WETH into Balancer's WETH/USDC 50/50."""
    v3 = R.pool(w3, "uniswap_v3", A.WETH, A.USDC, fee=3000)
    shock(w3, v3.address, A.USDC, 3_000_000 * 10**6)
    bal = R.pool(w3, "balancer", A.WETH, A.USDC)
    shock(w3, bal.address, A.WETH, 300 * 10**18)


@pytest.fixture
def shocked(w3: Web3) -> Market:
    _shock_v3_and_balancer(w3)
    market = Market.build(w3)
    assert market.opportunities(), "the shocks must leave something on the table"
    return market


def _kinds(opp: Any) -> set[HopKind]:
    return {h.kind for h in opp.cycle.hops}


class TestExecuteTheMarket:
    """What the market predicts is what the chain pays."""

    def test_top_route_realizes_the_prediction(
        self, w3: Web3, deployment: Any, shocked: Market
    ) -> None:
        top = shocked.opportunities()[0]
        assert _kinds(top) & {HopKind.UNISWAP_V3, HopKind.BALANCER}, "the shocked pools lead"
        out = execute_top(w3, top=1, deployment=deployment)
        (trade,) = out["trades"]
        assert trade["route"] == [  # venue is added by execute_top
            {**h, "venue": trade["route"][i]["venue"]} for i, h in enumerate(top.to_json()["route"])
        ]
        predicted = top.gross_profit - top.flash_fee
        assert predicted > 0
        assert trade["flash_source"] == top.source.label
        assert trade["lender"] == top.source.lender
        assert int(trade["predicted_profit"]) == predicted
        assert int(trade["simulated_profit"]) == predicted
        assert int(trade["realized_profit"]) == predicted
        assert int(trade["event_profit"]) == predicted

    def test_balancer_hop_borrows_elsewhere_and_the_vault_would_revert(
        self, w3: Web3, deployment: Any, shocked: Market
    ) -> None:
        found = shocked.opportunities()
        for opp in found:  # the capital rule, on every route found
            if HopKind.BALANCER in _kinds(opp):
                assert opp.source.kind is not SourceKind.BALANCER_V2
        mixed = [o for o in found if HopKind.BALANCER in _kinds(o) and len(_kinds(o)) > 1]
        assert mixed, "the Balancer shock opens routes through other venues"
        opp = mixed[0]
        vault_loan = replace(plan(opp), source=FlashSource.balancer(), flash_fee=0)
        err = call_error(w3, vault_loan.call(deployment.diamond, deployment.owner, 0, 10**9))
        hop = next(i for i, h in enumerate(opp.cycle.hops) if h.kind is HopKind.BALANCER)
        # the facet refuses it up front; inside the loan the Vault's reentrancy guard would
        # revert BAL#400 (tests/fork/test_exec_security.py calls the Vault that way)
        assert err == f"BalancerHopInBalancerLoan(hopIndex={hop})"
        trader = R.trader(w3, deployment)
        (trade,), failed = trader.execute([opp], shocked.head)
        assert not failed
        predicted = opp.gross_profit - opp.flash_fee
        assert trade.plan.source == opp.source and opp.source.kind is not SourceKind.BALANCER_V2
        # the cheapest other lender: the V4 PoolManager, free inside its unlock (issue 16)
        assert opp.source.kind is SourceKind.UNISWAP_V4
        assert trade.plan.flash_fee == opp.flash_fee == opp.source.fee(opp.amount_in) == 0
        assert trade.predicted_profit == trade.simulated_profit == predicted
        assert trade.realized_profit == trade.event_profit == predicted

    def test_balancer_only_cycle_is_a_batch_swap(
        self, w3: Web3, deployment: Any, shocked: Market
    ) -> None:
        only = [o for o in shocked.opportunities() if _kinds(o) == {HopKind.BALANCER}]
        assert only, "two Balancer WETH/USDC pools, one shocked"
        opp = only[0]
        assert opp.source.batch and opp.source.label == "balancer_batch" and opp.flash_fee == 0
        (trade,), failed = R.trader(w3, deployment).execute([opp], shocked.head)
        assert not failed
        predicted = opp.gross_profit
        assert trade.predicted_profit == trade.simulated_profit == predicted
        assert trade.realized_profit == trade.event_profit == predicted
        receipt = w3.eth.get_transaction_receipt(trade.tx_hash)  # type: ignore[arg-type]
        topics = [lg["topics"][0] for lg in receipt["logs"] if lg["address"] == A.BALANCER_VAULT]
        assert FLASH_LOAN not in topics and SWAP in topics  # swaps, and no loan at all


class TestDryRunIsWhatIsSent:
    """`execute --top 2 --dry-run` then `execute --top 2`: the same trades, the same signed
    transactions (hash, nonce, gas, fees, calldata), in the same order."""

    def test_dry_run_previews_exactly(self, w3: Web3, cli: Any) -> None:
        R.shock_v2_weth_usdc(w3, 500)
        _shock_v3_and_balancer(w3)
        cli.json("deploy")
        dry = cli.json("execute", "--top", "2", "--dry-run")
        assert dry["dry_run"] and len(dry["trades"]) == 2, dry
        assert w3.eth.get_transaction_count(dry["sender"]) == dry["trades"][0]["tx"]["nonce"]
        sent = cli.json("execute", "--top", "2")
        assert not sent["dry_run"] and not sent["skipped"]
        keys = ("route", "amount_in", "amounts_out", "flash_source", "lender", "predicted_profit")
        for preview, trade in zip(dry["trades"], sent["trades"], strict=True):
            assert {k: preview[k] for k in keys} == {k: trade[k] for k in keys}
            assert preview["tx"] == trade["tx"]  # hash, nonce, gas, fee caps, calldata hash
            assert preview["tx_hash"] == trade["tx_hash"]
            assert preview["simulated_profit"] == trade["simulated_profit"]
            assert (
                trade["realized_profit"] == trade["simulated_profit"] == trade["predicted_profit"]
            )
            tx = w3.eth.get_transaction(trade["tx_hash"])  # type: ignore[arg-type]
            assert tx["gas"] == preview["tx"]["gas"] and tx["nonce"] == preview["tx"]["nonce"]
            assert "0x" + bytes(tx["input"]).hex() != "0x"
        assert len(sent["trades"]) == 2
