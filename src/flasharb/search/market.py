"""The market: one long-lived view of the fork, built once, then only updated.

    market = Market.build(w3)            # discover, read every pool, index, lenders, evaluate
    update = market.update()             # the new head's logs -> changed pools -> their cycles
    best = market.select(top=2)          # the one selection policy
    moved = market.evaluate({pool: s})   # a pending swap applied as an overlay: nothing mutated

What it holds: the pool registry and every pool's exact state (`StateSync`), the cycle index,
the `OpportunityBook` (engine, capital choice, costs), the lenders and the head block. An update
fetches the logs of the new blocks and the head's header in one round trip, re-reads only the
pools the logs touched (one batched eth_call) and the lender balances they may have moved
(another), then re-evaluates only the cycles through those pools; everything else in the book
is re-costed at the new gas price, not re-sized. A pool that appears in the logs (a factory's
creation event) joins: the index is rebuilt with it (at the replica's size, milliseconds; it
happens only on blocks that create pools).

Lenders: the Balancer Vault's flash fee and balances, the Uniswap V4 PoolManager's balances
(its ETH too), and the V3 pools' balances, come from one eth_call of
`PoolDiscoveryReader.lenderBalances` (state-override code, nothing deployed); V2 pairs lend
their reserves, which the states already hold. The Vault's balances are read again when the
Vault logged anything in the new blocks; the PoolManager's when the Vault's are, or when it
logged anything itself; a V3 pool's when its own logs moved it.
Known gap: a plain token transfer to the Vault or a V3 pool (no pool event) changes what it can
lend without the market seeing it until that pool's next event; the trader's simulation still
catches a loan the lender cannot make.

What enters: pools only from the factories and the Vault of `MarketConfig.venues` (discovery
believes no other creation event; `Venues` is where a user adds a factory), and, with
`MarketConfig.screen` (the default), only pools whose tokens pass the token screen
(state/screen.py: each token probed once on the fork, as mined and as simulated). A refused
pool stays out of the index, its state is dropped at every update, and `Market.screened` says
why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector as selector
from web3 import Web3

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.amm.uniswap_v3 import V3PoolState
from flasharb.chain import addresses as A
from flasharb.errors import FlasharbValueError
from flasharb.kinds import HopKind
from flasharb.search.capital import FlashSource, Funded, Lenders, at_amount, fund
from flasharb.search.cycles import MAX_HOPS, MIN_HOPS, Cycle, CycleIndex, Hop
from flasharb.search.exact import size_cycle
from flasharb.search.gas import GasModel
from flasharb.search.graph import v2_factory
from flasharb.search.rank import BookUpdate, Opportunity, OpportunityBook, cost
from flasharb.search.select import select
from flasharb.state._rpc import batch, block_param, call_reader
from flasharb.state.discovery import Venues
from flasharb.state.reader import ReadConfig
from flasharb.state.registry import PoolInfo, PoolRegistry
from flasharb.state.screen import ProbeBlock, TokenScreen
from flasharb.state.sync import StateSync, SyncResult

__all__ = [
    "DEFAULT_PRIORITY_FEE_WEI",
    "Head",
    "Market",
    "MarketConfig",
    "MarketUpdate",
    "next_base_fee",
]

DEFAULT_PRIORITY_FEE_WEI = 100_000_000  # 0.1 gwei tip on top of the next block's base fee
_READER = "PoolDiscoveryReader"
_LENDER_BALANCES = selector("lenderBalances(address[],address[])")
_FAILED = 2**256 - 1
_FEE_TIERED = (HopKind.UNISWAP_V3, HopKind.UNISWAP_V4)  # pools of one pair differ by fee
BASE_FEE_MAX_CHANGE_DENOMINATOR = 8  # EIP-1559
ELASTICITY_MULTIPLIER = 2  # EIP-1559


def next_base_fee(base_fee: int, gas_used: int, gas_limit: int) -> int:
    """The base fee of the block after one with these figures (EIP-1559, exact integers).

    ref: EIP-1559 `validate_block` base fee computation (and go-ethereum
    consensus/misc/eip1559 CalcBaseFee, which anvil follows).
    """
    target = gas_limit // ELASTICITY_MULTIPLIER
    if target == 0 or gas_used == target:
        return base_fee
    if gas_used > target:
        delta = max(base_fee * (gas_used - target) // target // BASE_FEE_MAX_CHANGE_DENOMINATOR, 1)
        return base_fee + delta
    delta = base_fee * (target - gas_used) // target // BASE_FEE_MAX_CHANGE_DENOMINATOR
    return base_fee - delta


@dataclass(frozen=True, slots=True, kw_only=True)
class Head:
    """The block the market's states are at."""

    number: int
    timestamp: int
    base_fee: int  # of this block
    gas_used: int
    gas_limit: int
    coinbase: str

    @classmethod
    def of(cls, header: Mapping[str, Any]) -> Head:
        """The head of an `eth_getBlockByNumber` result (hex strings or integers)."""

        def num(key: str) -> int:
            value = header.get(key)
            return int(value, 16) if isinstance(value, str) else int(value or 0)

        return cls(
            number=num("number"),
            timestamp=num("timestamp"),
            base_fee=num("baseFeePerGas"),
            gas_used=num("gasUsed"),
            gas_limit=num("gasLimit"),
            coinbase=checksum_address(str(header.get("miner") or "0x" + "00" * 20)),
        )

    @property
    def next_base_fee(self) -> int:
        """The base fee a transaction sent now pays if it lands in the next block."""
        return next_base_fee(self.base_fee, self.gas_used, self.gas_limit)


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketConfig:
    """What the market searches and how it prices gas."""

    max_hops: int = 3
    priority_fee_wei: int = DEFAULT_PRIORITY_FEE_WEI
    min_net_profit_eth: int = 0  # opportunities must net more than this, in ETH wei
    quarantine_blocks: int = 50  # a route that reverted on chain keeps its pools out this long
    flash_tokens: tuple[str, ...] = A.FLASH_TOKENS  # cycles start and end in these
    gas_model: GasModel = field(default_factory=GasModel)
    venues: Venues = field(default_factory=Venues)  # the only factories / Vault believed
    read_config: ReadConfig | None = None
    screen: bool = True  # leave out pools with a token the token screen refuses
    token_screen: TokenScreen | None = None  # verdicts' source and cache (None: one per market)

    def __post_init__(self) -> None:
        if not MIN_HOPS <= self.max_hops <= MAX_HOPS:
            raise FlasharbValueError(
                f"max_hops must be in {MIN_HOPS}..{MAX_HOPS}, got {self.max_hops}"
            )
        if self.priority_fee_wei < 0:
            raise FlasharbValueError(f"priority fee must be >= 0 wei, got {self.priority_fee_wei}")


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketUpdate:
    """What one `update` did, and how long each phase took (seconds)."""

    block: int
    pools_changed: int
    added: int  # new pools that joined (the index was rebuilt)
    logs: int
    book: BookUpdate | None  # None when nothing changed and nothing was re-evaluated
    sync_s: float  # logs + header + changed states
    lenders_s: float  # lender balances
    evaluate_s: float  # screen, size, fund, cost
    calls: int  # RPC round trips this update made

    @property
    def changed(self) -> bool:
        """Whether any pool moved or joined (False: nothing was re-evaluated)."""
        return self.pools_changed > 0 or self.added > 0


class Market:
    """One fork's pools, their states, the cycle index, the opportunity book and the lenders;
    built once by `build`, moved forward by `update`."""

    def __init__(
        self,
        w3: Web3,
        config: MarketConfig,
        sync: StateSync,
        head: Head,
        *,
        lenders_raw: _LenderReads,
        token_screen: TokenScreen | None = None,
        screened: Mapping[str, str] | None = None,
    ) -> None:
        self.w3 = w3
        self.config = config
        self.sync = sync
        self.head = head
        self._lenders_raw = lenders_raw
        self.token_screen = token_screen  # None: the screen is off
        self.screened: dict[str, str] = dict(screened or {})  # pools left out, and why
        self.stale: dict[str, str] = dict(sync.failed)  # pools whose state is not current
        self.quarantined: dict[str, tuple[int, str]] = {}  # pool -> (until block, why)
        self.index = self._build_index()
        self.lenders = lenders_raw.lenders(self.states.values(), self._flash_tokens())
        self.book = OpportunityBook(
            self.index,
            self.states,
            weth=A.WETH,
            lenders=self.lenders,
            gas_price_wei=self.gas_price_wei,
            gas_model=config.gas_model,
            min_net_profit_eth=config.min_net_profit_eth,
            block=head.number,
        )

    # ------------------------------------------------------------ building

    @classmethod
    def build(
        cls, w3: Web3, config: MarketConfig | None = None, *, block: int | None = None
    ) -> Market:
        """Discover every pool, read every state, index every cycle, read the lenders and
        evaluate everything, at `block` (default: the head)."""
        cfg = config or MarketConfig()
        tag = block_param(block) if block is not None else "latest"
        header = batch(w3, [("eth_getBlockByNumber", [tag, False])], "reading the head")[0]
        if header is None:
            raise FlasharbValueError(f"block {block} does not exist on this chain yet")
        head = Head.of(header)
        sync = StateSync.start(
            w3, block=head.number, venues=cfg.venues, read_config=cfg.read_config
        )
        screen = (cfg.token_screen or TokenScreen()) if cfg.screen else None
        screened = _leave_out(screen, w3, list(sync.registry), sync, head)
        raw = _LenderReads.read(w3, sync.states.values(), cfg.flash_tokens, head.number)
        return cls(w3, cfg, sync, head, lenders_raw=raw, token_screen=screen, screened=screened)

    def _flash_tokens(self) -> list[str]:
        return [
            self.index.graph.tokens[t] for t in self.index.graph.token_ids(self.config.flash_tokens)
        ]

    def _build_index(self) -> CycleIndex:
        return CycleIndex.build(
            self.states.values(), self.config.flash_tokens, max_hops=self.config.max_hops
        )

    # ------------------------------------------------------------ what it holds

    @property
    def block(self) -> int:
        """The block the market's states are at (`head.number`)."""
        return self.head.number

    @property
    def states(self) -> dict[str, Any]:
        """Every readable pool's exact state at `block` (EIP-55 address -> state)."""
        return self.sync.states

    @property
    def registry(self) -> PoolRegistry:
        """Every pool discovery found (iterable `PoolInfo`s: address, venue, kind, tokens,
        fee), screened-out pools included."""
        return self.sync.registry

    @property
    def gas_price_wei(self) -> int:
        """What a transaction sent now pays per gas: the next block's base fee plus the tip."""
        return self.head.next_base_fee + self.config.priority_fee_wei

    # ------------------------------------------------------------ moving forward

    def update(self, to_block: int | None = None) -> MarketUpdate:
        """Move to `to_block` (default: the head): the logs of the new blocks and the head's
        header (one round trip), the states of the pools they touched (one eth_call), the
        lender balances those pools and the Vault hold (one eth_call, only when they moved),
        then the book re-evaluates the cycles through the changed pools."""
        t0 = perf_counter()
        calls = 0
        result: SyncResult = self.sync.sync(to_block, header=True)
        if result.block == self.head.number and result.header is None:
            return MarketUpdate(
                block=self.head.number,
                pools_changed=0,
                added=0,
                logs=0,
                book=None,
                sync_s=perf_counter() - t0,
                lenders_s=0.0,
                evaluate_s=0.0,
                calls=1,
            )
        calls += 1 + (1 if result.changed else 0)
        if result.header is not None:
            self.head = Head.of(result.header)
        if result.added and self.token_screen is not None:  # new tokens: probed once
            trips = self.token_screen.round_trips
            added = [self.registry[a] for a in sorted(result.added)]
            self.screened |= _leave_out(self.token_screen, self.w3, added, self.sync, self.head)
            calls += self.token_screen.round_trips - trips
        for address in self.screened.keys() & result.changed:
            self.states.pop(address, None)  # re-read from its logs: still out
        for address in result.changed:
            self.stale.pop(address, None)
        self.stale.update(result.failed)
        t1 = perf_counter()
        lenders_changed = self._refresh_lenders(result)
        calls += int(lenders_changed)
        t2 = perf_counter()
        if result.added:
            self.index = self._build_index()
            self.book = OpportunityBook(
                self.index,
                self.states,
                weth=A.WETH,
                lenders=self.lenders,
                gas_price_wei=self.gas_price_wei,
                gas_model=self.config.gas_model,
                min_net_profit_eth=self.config.min_net_profit_eth,
                block=self.head.number,
            )
            book = self.book.last
        else:
            changed = [self.states[a] for a in sorted(result.changed) if a in self.states]
            book = self.book.update(
                changed,
                lenders=self.lenders,
                gas_price_wei=self.gas_price_wei,
                block=self.head.number,
            )
        return MarketUpdate(
            block=self.head.number,
            pools_changed=len(result.changed),
            added=len(result.added),
            logs=result.logs,
            book=book,
            sync_s=t1 - t0,
            lenders_s=t2 - t1,
            evaluate_s=perf_counter() - t2,
            calls=calls,
        )

    def _refresh_lenders(self, result: SyncResult) -> bool:
        """Re-read what the new blocks may have moved of the lenders; True if it read."""
        vault = bool(  # the Vault, or its fees collector (a flash-fee change), logged something
            result.emitters
            & {A.BALANCER_VAULT, A.BALANCER_PROTOCOL_FEES_COLLECTOR, A.UNISWAP_V4_POOL_MANAGER}
        )
        pools = [a for a in sorted(result.changed) if isinstance(self.states.get(a), V3PoolState)]
        if not vault and not pools and not result.added:
            self.lenders = self._lenders_raw.lenders(self.states.values(), self._flash_tokens())
            return False  # V2 reserves are in the states: re-derived above, nothing read
        self._lenders_raw = self._lenders_raw.refreshed(
            self.w3,
            self.states.values(),
            self.config.flash_tokens,
            self.head.number,
            vault=vault or bool(result.added),
            pools=pools,
        )
        self.lenders = self._lenders_raw.lenders(self.states.values(), self._flash_tokens())
        return True

    # ------------------------------------------------------------ reading it

    def opportunities(self) -> list[Opportunity]:
        """Every opportunity netting more than the minimum, best first; routes through a pool
        whose state could not be read at this block, or that is quarantined, are left out."""
        found = self.book.opportunities()
        out = self.excluded()
        if out:
            found = [o for o in found if not any(p in out for p in o.cycle.pools)]
        return found

    def excluded(self) -> set[str]:
        """Pools no route may use now: unreadable at this block, or quarantined."""
        block = self.head.number
        live = {p for p, (until, _) in self.quarantined.items() if until >= block}
        return set(self.stale) | live

    def quarantine(self, pools: Iterable[str], reason: str) -> int:
        """Keep `pools` out of every route for `config.quarantine_blocks` blocks (a route through
        them reverted on chain); returns the last block they are out."""
        until = self.head.number + self.config.quarantine_blocks
        for pool in pools:
            self.quarantined[checksum_address(pool)] = (until, reason)
        return until

    def select(self, *, top: int, min_net_profit_eth: int | None = None) -> list[Opportunity]:
        """What to send now: the one selection policy (select.py) over `opportunities()`."""
        guard = self.config.min_net_profit_eth if min_net_profit_eth is None else min_net_profit_eth
        return select(self.opportunities(), top=top, min_net_profit_eth=guard)

    def evaluate(
        self, moved: Mapping[str, PoolState], *, gas_price_wei: int | None = None
    ) -> list[Opportunity]:
        """Opportunities through the pools of `moved` (hypothetical states, e.g. a pending swap
        applied), best first, at `gas_price_wei` (default: the market's); nothing in the market
        changes."""
        return self.book.evaluate(moved, gas_price_wei=gas_price_wei)

    # ------------------------------------------------------------ routes of a fixed shape

    def pool(
        self, venue: str, token_a: str, token_b: str, *, fee: int | None = None, n_tokens: int = 2
    ) -> PoolInfo:
        """The pool of `venue` holding `token_a` and `token_b` (V3 and V4: at `fee`; Balancer:
        with `n_tokens` tokens).

        Raises:
            FlasharbValueError: none, or more than one, matches.
        """
        found = [
            p
            for p in self.registry
            if p.venue == venue
            and token_a in p.tokens
            and token_b in p.tokens
            and (fee is None or p.kind not in _FEE_TIERED or p.fee == fee)
            and (p.kind is not HopKind.BALANCER or len(p.tokens) == n_tokens)
        ]
        if len(found) != 1:
            raise FlasharbValueError(
                f"{len(found)} {venue} pools of {token_a}/{token_b} (fee {fee}) on this fork, not 1"
            )
        return found[0]

    def route(self, token: str, *legs: tuple[PoolInfo, str]) -> Cycle:
        """The cycle from `token` through `legs` (pool, token bought), in order."""
        hops, token_in = [], checksum_address(token)
        for info, token_out in legs:
            hops.append(
                Hop(
                    pool=info.address,
                    token_in=token_in,
                    token_out=checksum_address(token_out),
                    fee_pips=info.fee if info.kind is not HopKind.BALANCER else 0,
                    kind=info.kind,
                    pool_id=info.pool_id,
                    factory=v2_factory(info.venue) if info.kind is HopKind.UNISWAP_V2 else 0,
                    tick_spacing=info.tick_spacing if info.kind is HopKind.UNISWAP_V4 else 0,
                )
            )
            token_in = checksum_address(token_out)
        return Cycle(token=checksum_address(token), hops=tuple(hops))

    def opportunity(
        self,
        cycle: Cycle,
        *,
        source: FlashSource | None = None,
        amount_in: int | None = None,
        gas_price_wei: int | None = None,
    ) -> Opportunity:
        """`cycle` as an opportunity on the market's states: at `amount_in`, or sized exactly
        (best net of `source`'s fee, within what it can lend; by default the cheapest allowed
        source, as the search would choose). Net profit may be negative.

        Raises:
            FlasharbValueError: the route reverts at that input, no source can fund it, or
                its token has no WETH pool to value it.
        """
        states = self.states
        if amount_in is None:
            sized = size_cycle(cycle, states)
            funded = fund(sized, states, self.lenders, source=source, keep_loss=True)
            if funded is None:
                raise FlasharbValueError(
                    f"route {cycle.pools} makes no profit at any input"
                    + (f" with {source.label}" if source else "")
                )
        else:
            probe = size_cycle(cycle, states)
            moved = at_amount(probe, states, amount_in)
            if moved is None:
                raise FlasharbValueError(f"route {cycle.pools} reverts at input {amount_in}")
            src = source or self.lenders.choose(cycle, amount_in)
            if src is None:
                raise FlasharbValueError(f"no source can lend {amount_in} of {cycle.token}")
            funded = Funded(sized=moved, source=src)
        price = self.book.prices.price(cycle.token)
        gas_price = self.gas_price_wei if gas_price_wei is None else gas_price_wei
        return cost(
            funded,
            price,
            gas_price_wei=gas_price,
            gas_model=self.config.gas_model,
            block=self.head.number,
        )


def _leave_out(
    screen: TokenScreen | None, w3: Web3, pools: Sequence[PoolInfo], sync: StateSync, head: Head
) -> dict[str, str]:
    """Pools of `pools` with a token `screen` refuses -> why; their states are dropped."""
    if screen is None or not pools:
        return {}
    at = ProbeBlock(number=head.number, timestamp=head.timestamp, base_fee=head.base_fee)
    out = screen.leave_out(w3, pools, at)
    for address in out:
        sync.states.pop(address, None)
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class _LenderReads:
    """What the lenders held at a block: the Vault's flash fee and balances, the V4
    PoolManager's balances (`token -> balance`, its ETH under the zero address), V3 pools'
    balances (`(pool, token) -> balance`)."""

    vault_fee_percentage: int
    vault_balances: Mapping[str, int]
    v3_balances: Mapping[tuple[str, str], int]
    v4_balances: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def read(
        cls, w3: Web3, states: Iterable[PoolState], tokens: Sequence[str], block: int
    ) -> _LenderReads:
        fee, vault, v3, v4 = _read_lenders(w3, states, tokens, block, vault=True, pools=None)
        return cls(vault_fee_percentage=fee, vault_balances=vault, v3_balances=v3, v4_balances=v4)

    def refreshed(
        self,
        w3: Web3,
        states: Iterable[PoolState],
        tokens: Sequence[str],
        block: int,
        *,
        vault: bool,
        pools: Sequence[str],
    ) -> _LenderReads:
        states = list(states)
        fee, vault_balances, v3, v4 = _read_lenders(
            w3, states, tokens, block, vault=vault, pools=set(pools)
        )
        return _LenderReads(
            vault_fee_percentage=fee if vault else self.vault_fee_percentage,
            vault_balances=vault_balances if vault else self.vault_balances,
            v3_balances={**self.v3_balances, **v3},
            v4_balances=v4 if vault else self.v4_balances,
        )

    def lenders(self, states: Iterable[PoolState], tokens: Iterable[str]) -> Lenders:
        return Lenders.from_states(
            states,
            tokens,
            vault_balances=self.vault_balances,
            vault_fee_percentage=self.vault_fee_percentage,
            v3_balances=self.v3_balances,
            v4_balances=self.v4_balances,
        )


def _read_lenders(
    w3: Web3,
    states: Iterable[PoolState],
    tokens: Sequence[str],
    block: int,
    *,
    vault: bool,
    pools: set[str] | None,
) -> tuple[int, dict[str, int], dict[tuple[str, str], int], dict[str, int]]:
    """One eth_call: the Vault's flash fee and its balance of each of `tokens` and the V4
    PoolManager's (and its ETH) (when `vault`), and the balance of each V3 pool (all, or those
    in `pools`) in each of those tokens it holds."""
    wanted = {checksum_address(t) for t in tokens}
    pairs: list[tuple[str, str]] = []  # (token, holder)
    if vault:
        pairs += [(t, A.BALANCER_VAULT) for t in sorted(wanted)]
    n_vault = len(pairs)
    if vault:
        pairs += [(t, A.UNISWAP_V4_POOL_MANAGER) for t in [*sorted(wanted), A.NATIVE_ETH]]
    n_v4 = len(pairs) - n_vault
    for state in states:
        if isinstance(state, V3PoolState) and (pools is None or state.address in pools):
            pairs += [(t, state.address) for t in state.tokens if t in wanted]
    if not pairs and not vault:
        return 0, {}, {}, {}
    data = _LENDER_BALANCES + encode(
        ["address[]", "address[]"], [[t for t, _ in pairs], [h for _, h in pairs]]
    )
    raw = call_reader(w3, _READER, data, block)
    fee, balances = decode(["uint256", "uint256[]"], raw)
    values = [0 if b == _FAILED else int(b) for b in balances]
    vault_balances = {t: values[i] for i, (t, _) in enumerate(pairs[:n_vault])}
    v4 = {t: values[n_vault + i] for i, (t, _) in enumerate(pairs[n_vault : n_vault + n_v4])}
    rest = n_vault + n_v4
    v3 = {(h, t): v for (t, h), v in zip(pairs[rest:], values[rest:], strict=True)}
    return (0 if fee == _FAILED else int(fee)), vault_balances, v3, v4
