"""Where a route takes its capital, and what that costs, exactly: the one `FlashSource` type
(search ranks with it, the planner encodes it, the journal records it) and the `Lenders` the
market holds.

Rules (they mirror what the chain allows; each venue states its part, `flasharb.search.venue`):

1. The cheapest lender that can lend the amount: the Balancer Vault's flash loan (fee 0 on
   mainnet today) first, then V3 pools, then V2 pairs (each venue's `lenders`).
2. A route with a hop that locks a source cannot borrow from it (`Venue.locks`): the Vault's
   one reentrancy guard covers `flashLoan` and `swap`, so a Balancer hop (any Balancer venue)
   inside a Vault loan's callback reverts with BAL#400. Such a route borrows from a pool that is
   not in the route (its fee counted), whichever is cheapest.
3. A cycle made only of hops of a batching venue needs no loan at all (`Venue.batch`): one
   Balancer `batchSwap` nets the deltas, and the Vault pays out the profit
   (`FlashSource.batch_swap()`).
4. A lender is never a pool of the route (it is locked while it lends). The Uniswap V4
   PoolManager lends inside its `unlock` at no fee and its pools trade in the same unlock (flash
   accounting nets the loan against the route's V4 hops), so a route through V4 pools may
   borrow from it: what it holds of the token (native ETH too, for a WETH route: wrapped by the
   facet).

Everything a source needs is read once by the market (each venue's `lender_reads`: the Vault's
flash fee and balances, the V3 pools' balances; V2 reserves are in the pair states), so choosing
and pricing a source is pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.chain.addresses import BALANCER_VAULT, UNISWAP_V4_POOL_MANAGER
from flasharb.errors import FlasharbError, FlasharbValueError
from flasharb.kinds import SourceKind
from flasharb.search.cycles import Cycle
from flasharb.search.exact import size_cycle, ticks_crossed
from flasharb.search.graph import V2_FACTORY_VENUES
from flasharb.search.sizing import SizedCycle, state_for
from flasharb.search.venue import Venue, builtin, venue_for_hop, venue_of

__all__ = ["ZERO_ADDRESS", "FlashSource", "Funded", "Lender", "Lenders", "at_amount", "fund"]

ZERO_ADDRESS = "0x" + "00" * 20
PIPS = 1_000_000  # Uniswap fees are in hundredths of a bip
ONE_18 = 10**18  # Balancer fixed point


@dataclass(frozen=True, slots=True, kw_only=True)
class FlashSource:
    """The capital source of one executeArb, with everything its fee and encoding need.

    `lender`: the Balancer Vault, the V3 pool or the V2 pair that lends; the zero address for
    the diamond's inventory and a batch swap. `token0`: the borrowed token is the lender's
    token0 (V3 and V2 lenders). `fee_pips`: a V3 lender's tier or a V2 lender's swap fee.
    `fee_percentage`: the Vault's flash fee (1e18 = 100%). `batch`: an all-Balancer cycle run
    as one Vault batchSwap, which borrows nothing (encoded as inventory: no loan, no callback).
    `other`: a V3 or V2 lender's other token, and `factory`: a V2 lender's factory index
    (graph.V2_FACTORY_VENUES): the facet derives the lender from them and the borrowed token,
    never from an address in calldata (issue 14), so `word` carries them, not `lender`.
    `native`: a V4 loan of native ETH for a WETH route (the facet wraps it, and unwraps the
    repayment).
    """

    kind: SourceKind
    lender: str = ZERO_ADDRESS
    token0: bool = False
    fee_pips: int = 0
    fee_percentage: int = 0
    batch: bool = False
    other: str = ZERO_ADDRESS
    factory: int = 0
    native: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", SourceKind.parse(self.kind))
        object.__setattr__(self, "lender", checksum_address(self.lender))
        object.__setattr__(self, "other", checksum_address(self.other))
        if not 0 <= self.factory < len(V2_FACTORY_VENUES):
            raise FlasharbValueError(
                f"V2 factory index must be 0..{len(V2_FACTORY_VENUES) - 1}: {self.factory}"
            )
        if self.kind in (SourceKind.UNISWAP_V3, SourceKind.UNISWAP_V2) and (
            self.lender == ZERO_ADDRESS
        ):
            raise FlasharbValueError(f"a {self.kind.label} loan needs the lender's address")
        if not 0 <= self.fee_pips < PIPS:
            raise FlasharbValueError(f"lender fee must be in [0, 1e6) pips, got {self.fee_pips}")
        if not 0 <= self.fee_percentage <= ONE_18:
            raise FlasharbValueError(f"Vault flash fee must be in [0, 1e18]: {self.fee_percentage}")
        if self.batch and self.kind is not SourceKind.INVENTORY:
            raise FlasharbValueError("a batch swap takes no loan: its source kind is inventory")
        if self.native and self.kind is not SourceKind.UNISWAP_V4:
            raise FlasharbValueError("only the V4 PoolManager lends native ETH")

    # ------------------------------------------------------------ constructors

    @classmethod
    def balancer(cls, fee_percentage: int = 0) -> FlashSource:
        """A Balancer V2 Vault flash loan at the Vault's fee percentage (1e18 = 100%)."""
        return cls(
            kind=SourceKind.BALANCER_V2, lender=BALANCER_VAULT, fee_percentage=fee_percentage
        )

    @classmethod
    def uniswap_v3(
        cls, pool: str, *, token0: bool, fee_pips: int, other: str = ZERO_ADDRESS
    ) -> FlashSource:
        """A flash loan from the V3 `pool` (fee tier `fee_pips`) of its token0 or token1;
        `other` is the pool's other token (the facet derives the pool from it)."""
        return cls(
            kind=SourceKind.UNISWAP_V3, lender=pool, token0=token0, fee_pips=fee_pips, other=other
        )

    @classmethod
    def uniswap_v2(
        cls,
        pair: str,
        *,
        token0: bool,
        fee_pips: int = 3000,
        other: str = ZERO_ADDRESS,
        factory: int = 0,
    ) -> FlashSource:
        """A flash swap from the V2-style `pair` (swap fee `fee_pips`) of factory index
        `factory`; `other` is the pair's other token (the facet derives the pair from them)."""
        return cls(
            kind=SourceKind.UNISWAP_V2,
            lender=pair,
            token0=token0,
            fee_pips=fee_pips,
            other=other,
            factory=factory,
        )

    @classmethod
    def uniswap_v4(cls, *, native: bool = False) -> FlashSource:
        """A flash loan from the Uniswap V4 PoolManager (take, then settle in the same unlock:
        no fee); `native` lends native ETH for a WETH route (wrapped by the facet)."""
        return cls(kind=SourceKind.UNISWAP_V4, lender=UNISWAP_V4_POOL_MANAGER, native=native)

    @classmethod
    def inventory(cls) -> FlashSource:
        """The diamond's own balance: no loan, no callback."""
        return cls(kind=SourceKind.INVENTORY)

    @classmethod
    def batch_swap(cls) -> FlashSource:
        """An all-Balancer cycle as one Vault batchSwap: no capital at all."""
        return cls(kind=SourceKind.INVENTORY, batch=True)

    # ------------------------------------------------------------ fee and encoding

    def fee(self, amount: int) -> int:
        """What borrowing `amount` costs on top of it, exactly as the lender computes it.

        ref: balancer-v2-monorepo pkg/vault/contracts/FlashLoans.sol / Fees.sol
        `_calculateFlashLoanFeeAmount` (FixedPoint.mulUp, 1e18 scale); v3-core
        UniswapV3Pool.sol `flash` (FullMath.mulDivRoundingUp(amount, fee, 1e6)); v2-core
        UniswapV2Pair.sol `swap` K check with the loan repaid in the same token:
        `(r - a + p) * 1e6 - p * fee >= r * 1e6`  <=>  `p >= ceil(a * 1e6 / (1e6 - fee))`
        (FlashArbFacet repays LibUniswapV2.flashRepayment, the same ceiling).
        """
        if amount < 0:
            raise FlasharbValueError(f"loan amount must be >= 0, got {amount}")
        if self.kind is SourceKind.BALANCER_V2:
            product = amount * self.fee_percentage
            return 0 if product == 0 else (product - 1) // ONE_18 + 1
        if self.kind is SourceKind.UNISWAP_V3:
            return -(-amount * self.fee_pips // PIPS)
        if self.kind is SourceKind.UNISWAP_V2:
            return -(-amount * PIPS // (PIPS - self.fee_pips)) - amount
        return 0

    @property
    def rate(self) -> float:
        """The marginal fee per unit borrowed (floats: seeds only)."""
        if self.kind is SourceKind.BALANCER_V2:
            return self.fee_percentage / ONE_18
        if self.kind is SourceKind.UNISWAP_V3:
            return self.fee_pips / PIPS
        if self.kind is SourceKind.UNISWAP_V2:
            return self.fee_pips / (PIPS - self.fee_pips)
        return 0.0

    @property
    def word(self) -> int:
        """executeArb's `source`: kind << 248 | V2 factory index << 192 | lender fee << 160 |
        the lender's other token (a V3 lender's fee is its tier: with the two tokens it names
        the pool). The Vault and inventory are the kind alone (cheaper calldata); a V4 loan is
        the kind and bit 160 set when it lends native ETH.
        ref: contracts/facets/FlashArbFacet.sol `_borrow`."""
        if self.kind is SourceKind.UNISWAP_V3:
            return int(self.kind) << 248 | self.fee_pips << 160 | int(self.other, 16)
        if self.kind is SourceKind.UNISWAP_V2:
            return (
                int(self.kind) << 248
                | self.factory << 192
                | self.fee_pips << 160
                | int(self.other, 16)
            )
        if self.kind is SourceKind.UNISWAP_V4:
            return int(self.kind) << 248 | int(self.native) << 160
        return int(self.kind) << 248

    @property
    def label(self) -> str:
        """The JSON spelling: the kind's label, or `balancer_batch` for a batch swap."""
        return "balancer_batch" if self.batch else self.kind.label

    def to_json(self) -> dict[str, object]:
        """Label, lender and fees, as JSON (the Vault's fee percentage as a decimal string)."""
        return {
            "kind": self.label,
            "lender": self.lender,
            "fee_pips": self.fee_pips,
            "fee_percentage": str(self.fee_percentage),
            **({"native": True} if self.native else {}),
        }


# ---------------------------------------------------------------- lenders


@dataclass(frozen=True, slots=True, kw_only=True)
class Lender:
    """One source that can lend one token, and the most it can lend now."""

    source: FlashSource
    capacity: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Lenders:
    """What can lend each token (EIP-55 addresses), in order of preference: the Vault, then the
    V4 PoolManager (its ERC-20, then for WETH its native ETH), then V3 pools by fee tier (then
    the most held, then address), then V2 pairs likewise."""

    by_token: Mapping[str, tuple[Lender, ...]] = field(default_factory=dict)

    @classmethod
    def from_reads(
        cls,
        states: Iterable[PoolState],
        tokens: Iterable[str],
        reads: Mapping[tuple[str, bytes], bytes],
        venues: Iterable[Venue] | None = None,
    ) -> Lenders:
        """The lenders of `tokens`, each venue's (`Venue.lenders`: the Vault, V3 pools, V2
        pairs, ...) from its pools among `states` and the answers to its `lender_reads`, in
        order of preference (the venues' keys: the Vault, then V3 pools by fee tier, then V2
        pairs; then the most held, then address). A lender offered by several venues (the
        Vault, by every Balancer venue) is listed once."""
        wanted = frozenset(checksum_address(t) for t in tokens)
        found: dict[str, dict[FlashSource, tuple[tuple[object, ...], Lender]]] = {
            t: {} for t in wanted
        }
        for venue, mine in group_by_venue(states, venues):
            for token, key, lender in venue.lenders(mine, wanted, reads):
                if token in found:
                    found[token].setdefault(lender.source, (key, lender))
        return cls(
            by_token={
                t: tuple(ln for _, ln in sorted(v.values(), key=lambda kl: _key(kl[0])))
                for t, v in found.items()
            }
        )

    def of(self, token: str) -> tuple[Lender, ...]:
        return self.by_token.get(token, ())

    def allowed(self, cycle: Cycle) -> list[Lender]:
        """The lenders rule 2 and 4 allow for `cycle` (best first)."""
        pools = set(cycle.pools)
        locked = locked_sources(cycle)
        return [
            lender
            for lender in self.of(cycle.token)
            if lender.source.lender not in pools and lender.source.kind not in locked
        ]

    def choose(self, cycle: Cycle, amount: int) -> FlashSource | None:
        """The cheapest allowed source that can lend `amount` of the cycle's token (ties: the
        order of preference); the batch swap for an all-Balancer cycle; None if none can."""
        if amount <= 0:
            raise FlasharbValueError(f"loan amount must be positive, got {amount}")
        if is_batch(cycle):
            return FlashSource.batch_swap()
        best: tuple[int, int] | None = None
        chosen = None
        for rank, lender in enumerate(self.allowed(cycle)):
            if lender.capacity < amount:
                continue
            key = (lender.source.fee(amount), rank)
            if best is None or key < best:
                best, chosen = key, lender.source
            if key[0] == 0:  # no fee is negative and later ranks lose ties: nothing beats it
                break  # (the Vault, first by preference, is free: 1 fee, not ~50, per cycle)
        return chosen

    def capacity(self, cycle: Cycle) -> int:
        """The most any allowed source can lend of the cycle's token (0: none can)."""
        return max((lender.capacity for lender in self.allowed(cycle)), default=0)

    def replace_pools(self, states: Iterable[PoolState]) -> Lenders:
        """These lenders with the ones that lend from `states` alone (V2 pairs: their new
        reserves, what a pending swap on a pair changes) re-priced; others as they were."""
        tokens = frozenset(self.by_token)
        fresh: dict[tuple[str, FlashSource], int] = {}
        for venue, mine in group_by_venue(states):
            for token, _key, lender in venue.lenders(mine, tokens, {}):
                fresh[(token, lender.source)] = lender.capacity
        moved_pools = {s.address for s in states}
        if not moved_pools:
            return self
        out: dict[str, tuple[Lender, ...]] = {}
        for token, lenders in self.by_token.items():
            moved = []
            for lender in lenders:
                if lender.source.lender in moved_pools and (token, lender.source) in fresh:
                    lender = replace(lender, capacity=max(fresh[(token, lender.source)], 0))
                moved.append(lender)
            out[token] = tuple(moved)
        return Lenders(by_token=out)


def _key(key: tuple[object, ...]) -> tuple[tuple[int, object], ...]:
    """A preference key that sorts whatever its venue put in it (ints before strings)."""
    return tuple((0, k) if isinstance(k, int) else (1, str(k)) for k in key)


def group_by_venue(
    states: Iterable[PoolState], venues: Iterable[Venue] | None = None
) -> list[tuple[Venue, list[PoolState]]]:
    """`venues` (default: the built-in ones) with their pools among `states`: by the state's
    venue name, else by its class; every venue is listed, with or without pools (a venue may
    lend without pools of its own in `states`: the Balancer Vault)."""
    listed = list(venues) if venues is not None else list(builtin())
    rows: dict[str, tuple[Venue, list[PoolState]]] = {v.name: (v, []) for v in listed}
    for state in states:
        row = rows.get(state.venue)
        if row is None:
            fallback = venue_of(state)
            row = rows.setdefault(f"{fallback.name}:{state.venue}", (fallback, []))
        row[1].append(state)
    return list(rows.values())


def locked_sources(cycle: Cycle) -> frozenset[SourceKind]:
    """Capital sources a route through these hops cannot borrow from (BAL#400)."""
    out: frozenset[SourceKind] = frozenset()
    for kind in {h.kind for h in cycle.hops}:
        out |= venue_for_hop(kind).locks
    return out


def is_batch(cycle: Cycle) -> bool:
    """Whether the cycle runs as one batch swap (every hop of a batching venue's kind)."""
    kinds = {h.kind for h in cycle.hops}
    return len(kinds) == 1 and venue_for_hop(next(iter(kinds))).batch


# ---------------------------------------------------------------- funding a sized cycle


@dataclass(frozen=True, slots=True, kw_only=True)
class Funded:
    """A sized cycle at the input its capital source lends, and that source."""

    sized: SizedCycle
    source: FlashSource

    @property
    def fee(self) -> int:
        return 0 if self.source.batch else self.source.fee(self.sized.amount_in)

    @property
    def net_of_fee(self) -> int:
        return self.sized.profit - self.fee


def _output(cycle: Cycle, states: Mapping[str, PoolState], x: int) -> tuple[int, ...] | None:
    amounts = []
    for hop in cycle.hops:
        state = state_for(states, hop)
        try:
            x, _ticks = venue_of(state).swap(state, hop.token_in, hop.token_out, x)
        except FlasharbError:
            return None
        if x <= 0:
            return None
        amounts.append(x)
    return tuple(amounts)


def at_amount(sized: SizedCycle, states: Mapping[str, PoolState], x: int) -> SizedCycle | None:
    """`sized` moved to input `x` (exact amounts and ticks crossed); None if the route
    reverts there."""
    if x == sized.amount_in:
        return sized
    amounts = _output(sized.cycle, states, x) if x > 0 else None
    if amounts is None:
        return None
    v3_ticks, v4_ticks = ticks_crossed(sized.cycle, states, x)
    return replace(
        sized,
        amount_in=x,
        amount_out=amounts[-1],
        profit=amounts[-1] - x,
        amounts=amounts,
        exact=False,
        ticks_crossed=v3_ticks,
        v4_ticks_crossed=v4_ticks,
    )


def _offers(cycle: Cycle, lenders: Lenders) -> list[Lender]:
    """The allowed lenders worth sizing for: per kind and fee, the one that can lend the most
    (a deeper lender of the same price is never worse), cheapest first."""
    best: dict[tuple[SourceKind, int, int], Lender] = {}
    for lender in lenders.allowed(cycle):
        src = lender.source
        key = (src.kind, src.fee_pips, src.fee_percentage)
        if key not in best or lender.capacity > best[key].capacity:
            best[key] = lender
    return sorted(best.values(), key=lambda ln: (ln.source.rate, -ln.capacity))


def _fee_step(funded: Funded, states: Mapping[str, PoolState], cap: int | None) -> Funded:
    """A rounded-up fee is a staircase: every input up to the end of the fee's step pays the
    same fee, so the net can still rise until the step ends (one more unit of input buys at
    least one more unit of output near the optimum). Try the last input of the step (found by
    bisection on the fee alone, within 0.1% of the input), one exact quote."""
    x, fee_of = funded.sized.amount_in, funded.source.fee
    fee = fee_of(x)
    lo, hi = x, min(x + max(x // 1000, 1), cap if cap is not None else 2**255)
    if fee_of(hi) == fee:
        lo = hi
    while hi - lo > 1:  # largest input in [x, hi] still paying `fee`
        mid = (lo + hi) // 2
        if fee_of(mid) == fee:
            lo = mid
        else:
            hi = mid
    if lo == x:
        return funded
    moved = at_amount(funded.sized, states, lo)
    if moved is None:
        return funded
    other = Funded(sized=moved, source=funded.source)
    return other if other.net_of_fee > funded.net_of_fee else funded


def fund(
    sized: SizedCycle,
    states: Mapping[str, PoolState],
    lenders: Lenders,
    *,
    source: FlashSource | None = None,
    keep_loss: bool = False,
) -> Funded | None:
    """The capital source of a sized cycle, and the input that is best net of its fee.

    `sized` maximises gross profit. When the cheapest allowed source lends that input for
    free (the Vault, mostly), that is the answer, with no new quote. Otherwise each allowed
    kind of lender (the Vault, V3 pools per fee tier, V2 pairs per fee: the deepest of each)
    re-sizes the route exactly on `profit(x) - fee(x)` within what it can lend
    (`exact.size_cycle` with the lender's fee and cap), and the best net wins. With `source`,
    only that source is used (its capacity from `lenders` when it is one of them; the
    diamond's inventory is not capped here). None if nothing can lend a profitable input
    (with `keep_loss`, the best input is returned even when the fee eats the profit).
    """
    if sized.amount_in <= 0 or sized.profit <= 0:
        return None
    cycle = sized.cycle
    if is_batch(cycle) and (source is None or source.batch):
        return Funded(sized=sized, source=FlashSource.batch_swap())
    if source is None:
        free = lenders.choose(cycle, sized.amount_in)
        if free is not None and free.fee(sized.amount_in) == 0:
            return Funded(sized=sized, source=free)  # the gross optimum, lent for free
        offers: list[tuple[FlashSource, int | None]] = [
            (ln.source, ln.capacity) for ln in _offers(cycle, lenders)
        ]
    else:
        listed = [ln.capacity for ln in lenders.of(cycle.token) if ln.source == source]
        cap = listed[0] if listed and source.kind is not SourceKind.INVENTORY else None
        offers = [(source, cap)]
    found: list[Funded] = []
    for src, cap in offers:
        if cap is not None and cap <= 0:
            continue
        if src.fee(sized.amount_in) == 0 and (cap is None or cap >= sized.amount_in):
            found.append(Funded(sized=sized, source=src))
            continue
        resized = size_cycle(cycle, states, fee=src.fee, fee_rate=src.rate, cap=cap)
        if resized.amount_in > 0:
            found.append(_fee_step(Funded(sized=resized, source=src), states, cap))
        elif keep_loss:  # no input nets a profit: the gross optimum within the cap, at a loss
            moved = at_amount(sized, states, min(sized.amount_in, cap or sized.amount_in))
            if moved is not None:
                found.append(Funded(sized=moved, source=src))
    found = [f for f in found if f.net_of_fee > 0 or keep_loss]
    return max(found, key=lambda f: (f.net_of_fee, -f.sized.amount_in), default=None)
