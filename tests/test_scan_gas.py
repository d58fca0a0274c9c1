"""The search's gas model fitted on fork receipts of the scan's own routes (V2, V3 with ticks
crossed, Balancer hops, Vault and V3 flash loans), and checked against every receipt and
against eth_estimateGas, for each hop kind."""

from __future__ import annotations

from typing import Any

import pytest
from web3 import Web3

from flasharb.chain.cheats import snapshot
from flasharb.execute.executor import Executor
from flasharb.search.gas import GasModel, GasSample
from flasharb.search.scan import scan
from tests.test_scan_execute import _shock_v3_and_balancer

pytestmark = pytest.mark.fork

RECEIPT_TOLERANCE = 0.05  # the fitted model against each receipt's gas used
# eth_estimateGas is the gas limit before refunds (the Vault's and the pools' reentrancy locks
# reset their slots) and the 63/64 call reserve: an upper bound on the gas used, 11-24% above it
# on these routes. The model predicts gas used: at most the estimate, and within this below it.
ESTIMATE_GAP = 0.25
MAX_ROUTES = 24  # executed and fitted: the best route of each hop sequence, ticks and source


def test_fitted_model_matches_estimate_gas_per_hop_kind(w3: Web3, deployment: Any) -> None:
    _shock_v3_and_balancer(w3)
    res = scan(w3, max_hops=3)
    shapes: dict[tuple[tuple[str, ...], int, str], Any] = {}
    for opp in res.opportunities:  # the best route of each hop mix, ticks and source
        kinds = tuple(h.kind for h in opp.cycle.hops)
        if set(kinds) == {"balancer"}:
            continue  # a batch swap: no loan, its own gas shape (ExecGas.per_batch_hop)
        shapes.setdefault((kinds, min(opp.ticks_crossed, 2), opp.flash_source), opp)
        if len(shapes) == MAX_ROUTES:
            break
    ex = Executor(w3, deployment)
    samples, estimates = [], []
    for opp in shapes.values():
        with snapshot(w3):
            source = ex.source_of(opp.cycle.token, opp.flash, opp.amount_in)
            plan = ex.plan(opp.cycle, opp.amount_in, source=source, states=res.states)
            estimate = w3.eth.estimate_gas(ex.tx(plan, 0, w3.eth.block_number + 2))  # type: ignore[arg-type]
            trade = ex.execute(opp, states=res.states)
        samples.append(
            GasSample.of(opp.cycle, trade.gas_used, trade.plan.ticks_crossed, opp.flash_source)
        )
        estimates.append((opp, estimate))
    counts = {
        k: sum(getattr(s, k) > 0 for s in samples)
        for k in ("uniswap_v2_hops", "uniswap_v3_hops", "ticks_crossed", "balancer_hops")
    }
    assert all(counts.values()), (counts, len(samples))
    model = GasModel.fit(samples)
    print(f"\nfitted on {len(samples)} receipts: {model.as_dict()}")
    for (opp, estimate), sample in zip(estimates, samples, strict=True):
        predicted = model.estimate(opp.cycle, opp.ticks_crossed, opp.flash_source)
        kinds = [h.kind for h in opp.cycle.hops]
        print(
            f"  {kinds} ticks={opp.ticks_crossed} {opp.flash_source}: model {predicted} "
            f"used {sample.gas_used} estimateGas {estimate} ({predicted / estimate - 1:+.1%})"
        )
        assert abs(predicted - sample.gas_used) <= RECEIPT_TOLERANCE * sample.gas_used, kinds
        assert (1 - ESTIMATE_GAP) * estimate <= predicted <= estimate, kinds
