"""The gas model of one executeArb (`ExecGas`): what a plan's exact calldata will cost."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flasharb.execute.plan import Plan

__all__ = ["ExecGas"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecGas:
    """Gas of one executeArb, fitted (least squares) on 30 receipts of bench/gas.py's routes on
    the replica fork: every source with 2-4 V2 hops, V2/V3 mixes, V3 only, a Balancer hop first
    and last, a Balancer-only batch; fresh blocks, the diamond holding at least 1 wei of every
    token it receives. Every one of those receipts is within 1.9% of its prediction.

        gas = 21000 + calldata + base[source] + sum(per_hop[kind]) + per_tick_crossed * ticks
              + via_diamond * (V3 and Balancer hops after the first: their input lands in the
                diamond, which measures it and pays it out again)
              (+ zero_balance_first_write when the diamond holds none of the route token)

    A Balancer-only cycle is one batchSwap: `per_batch_hop` per hop instead.
    """

    base: Mapping[str, int] = field(
        default_factory=lambda: {
            "balancer_v2": 65_100,  # Vault flashLoan: fee read, balance checks, FlashLoan event
            "uniswap_v3": 87_900,  # pool.flash: balance checks, fee growth writes
            "uniswap_v2": 81_500,  # pair.swap with data: reserves, k check, accumulators
            "inventory": 26_300,  # dispatch, guard, balance checks, event
        }
    )
    per_hop: Mapping[str, int] = field(
        default_factory=lambda: {"uniswap_v2": 50_000, "uniswap_v3": 69_700, "balancer": 82_900}
    )
    per_batch_hop: int = 52_100
    per_tick_crossed: int = 40_500  # initialized ticks crossed, with their cold storage
    via_diamond: int = 24_300
    zero_balance_first_write: int = 17_100  # the diamond's balance written from zero, twice

    def predict(self, plan: Plan, calldata: bytes, *, dust: bool = True) -> int:
        """Gas units for sending `calldata` (the whole executeArb input) for `plan`."""
        total = 21_000 + sum(16 if b else 4 for b in calldata) + self.base[plan.source.kind]
        kinds = [h.kind for h in plan.cycle.hops]
        if set(kinds) == {"balancer"}:
            total += self.per_batch_hop * len(kinds)
        else:
            total += sum(self.per_hop[k] for k in kinds)
            total += self.via_diamond * sum(1 for k in kinds[1:] if k != "uniswap_v2")
        total += self.per_tick_crossed * plan.ticks_crossed
        if not dust:
            total += self.zero_balance_first_write
        return total
