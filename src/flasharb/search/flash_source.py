"""Where a route borrows its first token, and what that costs, exactly.

Rules (issue 5; they mirror what the chain allows):

1. Balancer V2 flash loan (fee 0 on mainnet today) by default, up to what the Vault holds.
2. A route that trades a Balancer pool cannot borrow from the Balancer Vault: the Vault's one
   reentrancy guard covers `flashLoan` and `swap`, so a swap inside the loan's callback reverts
   with BAL#400. Such a route borrows from a Uniswap V3 pool that is not in the route (its fee
   counted), or takes a Uniswap V2 flash swap from a pair not in the route, whichever is cheaper.
3. A cycle made only of Balancer pools needs no loan at all: one `batchSwap` nets the deltas, and
   the Vault pays out the profit.

The planner never returns a Balancer loan for a route with a Balancer hop (a test checks every
plan against rule 2, and tests/test_exec_* show the BAL#400 revert on-chain).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from flasharb.amm.pool import PoolState
from flasharb.errors import FlasharbError, FlasharbValueError
from flasharb.search.cycles import Cycle
from flasharb.search.exact import ticks_crossed
from flasharb.search.sizing import SizedCycle, state_for

__all__ = [
    "BALANCER_BATCH",
    "BALANCER_LOAN",
    "INVENTORY",
    "UNISWAP_V2_FLASH",
    "UNISWAP_V3_FLASH",
    "FlashPlan",
    "Funded",
    "Lenders",
    "capacity",
    "fund",
    "plan_flash",
    "v2_flash_fee",
    "v3_flash_fee",
]

BALANCER_LOAN = "balancer_v2"  # Vault.flashLoan
UNISWAP_V3_FLASH = "uniswap_v3_flash"  # UniswapV3Pool.flash
UNISWAP_V2_FLASH = "uniswap_v2_flash"  # UniswapV2Pair.swap with data (flash swap)
BALANCER_BATCH = "balancer_batch"  # Vault.batchSwap over the whole cycle, no loan
INVENTORY = "inventory"  # the diamond's own balance, no loan

_ONE = 10**18  # Balancer's FixedPoint.ONE
_PIPS = 1_000_000  # Uniswap V3 fees are in hundredths of a bip
_BALANCER_KIND = "balancer"


def balancer_flash_fee(amount: int, fee_percentage: int) -> int:
    """Vault flash-loan fee: `FixedPoint.mulUp(amount, percentage)` (1e18 = 100%).

    ref: balancer-v2-monorepo pkg/vault/contracts/Fees.sol `_calculateFlashLoanFeeAmount`
    """
    product = amount * fee_percentage
    return 0 if product == 0 else (product - 1) // _ONE + 1


def v3_flash_fee(amount: int, fee_pips: int) -> int:
    """`FullMath.mulDivRoundingUp(amount, fee, 1e6)`: what `UniswapV3Pool.flash` charges.

    ref: v3-core contracts/UniswapV3Pool.sol `flash`
    """
    return -(-amount * fee_pips // _PIPS)


def v2_flash_fee(amount: int, fee_pips: int = 3000) -> int:
    """Least extra a V2 flash swap of `amount` must repay in the same token.

    ref: v2-core contracts/UniswapV2Pair.sol `swap` K check with amountOut = amountIn' paid back:
    `(r - a + p) * 1e6 - p * fee >= r * 1e6`  <=>  `p >= ceil(a * 1e6 / (1e6 - fee))`.
    """
    return -(-amount * _PIPS // (_PIPS - fee_pips)) - amount


@dataclass(frozen=True, slots=True, kw_only=True)
class Lenders:
    """What each source can lend now, per token (EIP-55 addresses)."""

    vault_balances: Mapping[str, int] = field(default_factory=dict)  # token -> Vault holds
    vault_fee_percentage: int = 0  # ProtocolFeesCollector.getFlashLoanFeePercentage (1e18)
    # token -> [(V3 pool, fee in pips, pool's balance of token)]
    v3_pools: Mapping[str, Sequence[tuple[str, int, int]]] = field(default_factory=dict)
    # token -> [(V2 pair, fee in pips, reserve of token)]
    v2_pairs: Mapping[str, Sequence[tuple[str, int, int]]] = field(default_factory=dict)
    inventory: Mapping[str, int] = field(default_factory=dict)  # the diamond's own balances


@dataclass(frozen=True, slots=True, kw_only=True)
class FlashPlan:
    """The capital source of one route at one amount."""

    source: str  # BALANCER_LOAN, UNISWAP_V3_FLASH, UNISWAP_V2_FLASH, BALANCER_BATCH, INVENTORY
    lender: str  # the Vault, the V3 pool or the V2 pair lending; "" for batch / inventory
    amount: int  # borrowed (0 for a batch swap or inventory)
    fee: int  # owed on top of `amount`, in the route's token

    def to_json(self) -> dict[str, str]:
        return {"source": self.source, "lender": self.lender, "fee": str(self.fee)}


def plan_flash(
    cycle: Cycle, amount: int, lenders: Lenders, *, vault: str, use_inventory: bool = False
) -> FlashPlan | None:
    """The cheapest allowed source that can lend `amount` of `cycle.token`; None if none can.

    Ties prefer the Balancer loan, then V3 (lower fee, then larger balance, then address), then
    V2. `use_inventory` lets the diamond's own balance fund the route (no fee, no callback).
    """
    if amount <= 0:
        raise FlasharbValueError(f"flash amount must be positive, got {amount}")
    kinds = {hop.kind for hop in cycle.hops}
    token, pools = cycle.token, set(cycle.pools)
    if kinds == {_BALANCER_KIND}:
        return FlashPlan(source=BALANCER_BATCH, lender="", amount=0, fee=0)
    if use_inventory and lenders.inventory.get(token, 0) >= amount:
        return FlashPlan(source=INVENTORY, lender="", amount=0, fee=0)
    options: list[tuple[int, int, FlashPlan]] = []  # (fee, preference, plan)
    if _BALANCER_KIND not in kinds and lenders.vault_balances.get(token, 0) >= amount:
        fee = balancer_flash_fee(amount, lenders.vault_fee_percentage)
        options.append(
            (fee, 0, FlashPlan(source=BALANCER_LOAN, lender=vault, amount=amount, fee=fee))
        )
    v3 = sorted(
        (p for p in lenders.v3_pools.get(token, ()) if p[0] not in pools and p[2] >= amount),
        key=lambda p: (p[1], -p[2], p[0].lower()),
    )
    if v3:
        pool, fee_pips, _ = v3[0]
        fee = v3_flash_fee(amount, fee_pips)
        options.append(
            (fee, 1, FlashPlan(source=UNISWAP_V3_FLASH, lender=pool, amount=amount, fee=fee))
        )
    v2 = sorted(
        (p for p in lenders.v2_pairs.get(token, ()) if p[0] not in pools and p[2] > amount),
        key=lambda p: (p[1], -p[2], p[0].lower()),
    )
    if v2:
        pair, fee_pips, _ = v2[0]
        fee = v2_flash_fee(amount, fee_pips)
        options.append(
            (fee, 2, FlashPlan(source=UNISWAP_V2_FLASH, lender=pair, amount=amount, fee=fee))
        )
    if not options:
        return None
    return min(options, key=lambda o: (o[0], o[1]))[2]


# ---------------------------------------------------------------- funding a sized cycle

_GOLDEN = (math.sqrt(5) - 1) / 2
_LOCAL = 16  # inputs tried either side of the golden-section result
_REL_TOL = 1e-7  # golden section stops this wide, relative: costs ~1e-14 of the profit


@dataclass(frozen=True, slots=True, kw_only=True)
class Funded:
    """A sized cycle at the input its capital source can lend, and that source."""

    sized: SizedCycle
    plan: FlashPlan

    @property
    def net_of_fee(self) -> int:
        return self.sized.profit - self.plan.fee


def capacity(cycle: Cycle, lenders: Lenders) -> int:
    """The most any source allowed for `cycle` can lend of its token (0: none can)."""
    token, pools = cycle.token, set(cycle.pools)
    best = 0
    if _BALANCER_KIND not in {hop.kind for hop in cycle.hops}:
        best = lenders.vault_balances.get(token, 0)
    for pool, _, held in lenders.v3_pools.get(token, ()):
        if pool not in pools:
            best = max(best, held)
    for pair, _, reserve in lenders.v2_pairs.get(token, ()):
        if pair not in pools:
            best = max(best, reserve - 1)  # a flash swap must leave the pair something
    return best


def _caps(cycle: Cycle, lenders: Lenders) -> set[int]:
    """What each source lends at most, for this cycle's token."""
    token = cycle.token
    caps = {lenders.vault_balances.get(token, 0)}
    caps.update(held for _, _, held in lenders.v3_pools.get(token, ()))
    caps.update(reserve - 1 for _, _, reserve in lenders.v2_pairs.get(token, ()))
    return {c for c in caps if c > 0}


def _output(cycle: Cycle, states: Mapping[str, PoolState], x: int) -> tuple[int, ...] | None:
    amounts = []
    for hop in cycle.hops:
        try:
            x = state_for(states, hop).quote_exact_in(hop.token_in, hop.token_out, x)
        except FlasharbError:
            return None
        if x <= 0:
            return None
        amounts.append(x)
    return tuple(amounts)


def _at(
    sized: SizedCycle, states: Mapping[str, PoolState], x: int, lenders: Lenders, vault: str
) -> Funded | None:
    """The cycle funded at input `x` by the cheapest source that can lend it."""
    if x <= 0:
        return None
    amounts = _output(sized.cycle, states, x)
    plan = plan_flash(sized.cycle, x, lenders, vault=vault) if amounts else None
    if amounts is None or plan is None:
        return None
    moved = replace(
        sized,
        amount_in=x,
        amount_out=amounts[-1],
        profit=amounts[-1] - x,
        amounts=amounts,
        exact=sized.exact and x == sized.amount_in,
        ticks_crossed=ticks_crossed(sized.cycle, states, x),
    )
    return Funded(sized=moved, plan=plan)


def fund(
    sized: SizedCycle, states: Mapping[str, PoolState], lenders: Lenders, *, vault: str
) -> Funded | None:
    """The capital source of a sized cycle, and the input that is best net of its fee.

    `sized` maximises gross profit. If no allowed source can lend that much, the input is cut
    to the largest amount one can (the profit is concave in the input: the cap is the best
    feasible point). If the chosen source charges a fee (a V3 flash or a V2 flash swap), the
    input is searched again on `profit(x) - fee(x)`, exactly, below the gross optimum (the fee
    grows with x, so the net optimum is smaller). None if nothing can lend a profitable input.
    """
    if sized.amount_in <= 0 or sized.profit <= 0:
        return None
    cycle = sized.cycle
    if {hop.kind for hop in cycle.hops} == {_BALANCER_KIND}:
        top = sized.amount_in  # one batchSwap: no loan, no cap
    else:
        top = min(sized.amount_in, capacity(cycle, lenders))
    if top <= 0:
        return None
    best = _at(sized, states, top, lenders, vault)
    if best is None or best.plan.fee == 0:
        return best if best is not None and best.net_of_fee > 0 else None
    fee_of = _fee_rule(best.plan, cycle.token, lenders)
    seen: dict[int, float] = {}

    def net(x: int) -> float:
        if x not in seen:
            amounts = _output(cycle, states, x)
            seen[x] = -math.inf if amounts is None else amounts[-1] - x - fee_of(x)
        return seen[x]

    points, step = [top], max(top >> 12, 1)  # the fee moves the optimum down: walk down to it
    while points[-1] > 1:
        points.append(max(top - step, 1))
        if net(points[-1]) <= net(points[-2]):
            break
        step *= 2
    lo, hi = points[-1], points[-3] if len(points) >= 3 else top
    while hi - lo > 2 * _LOCAL and hi - lo > _REL_TOL * hi:  # golden section on the net
        a = hi - int((hi - lo) * _GOLDEN)
        b = lo + int((hi - lo) * _GOLDEN)
        if a >= b:
            break
        if net(a) >= net(b):
            hi = b
        else:
            lo = a
    centre = max(seen, key=lambda x: (net(x), -x))
    for x in range(max(centre - _LOCAL, 1), min(centre + _LOCAL, top) + 1):
        net(x)
    picks = [best, _at(sized, states, max(seen, key=lambda x: (net(x), -x)), lenders, vault)]
    # where the cheapest source changes, the net jumps: try each source's limit too
    picks += [_at(sized, states, cap, lenders, vault) for cap in _caps(cycle, lenders) if cap < top]
    found = [f for f in picks if f is not None and f.net_of_fee > 0]
    return max(found, key=lambda f: (f.net_of_fee, -f.sized.amount_in), default=None)


def _fee_rule(plan: FlashPlan, token: str, lenders: Lenders) -> Callable[[int], int]:
    """The fee `plan`'s lender charges on any amount of `token`."""
    if plan.source == BALANCER_LOAN:
        pct = lenders.vault_fee_percentage
        return lambda x: balancer_flash_fee(x, pct)
    if plan.source == UNISWAP_V3_FLASH:
        pips = next(p[1] for p in lenders.v3_pools.get(token, ()) if p[0] == plan.lender)
        return lambda x: v3_flash_fee(x, pips)
    if plan.source == UNISWAP_V2_FLASH:
        pips = next(p[1] for p in lenders.v2_pairs.get(token, ()) if p[0] == plan.lender)
        return lambda x: v2_flash_fee(x, pips)
    return lambda x: 0
