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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flasharb.errors import FlasharbValueError
from flasharb.search.cycles import Cycle

__all__ = [
    "BALANCER_BATCH",
    "BALANCER_LOAN",
    "INVENTORY",
    "UNISWAP_V2_FLASH",
    "UNISWAP_V3_FLASH",
    "FlashPlan",
    "Lenders",
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
