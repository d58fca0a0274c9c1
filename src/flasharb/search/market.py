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

Lenders: each venue names the view calls its lenders need (`Venue.lender_reads`: the Balancer
Vault's flash fee and balances, the Uniswap V4 PoolManager's balances and its ETH, the V3 pools'
balances), all answered by one eth_call of
`PoolDiscoveryReader.calls` (state-override code, nothing deployed); V2 pairs lend their
reserves, which the states already hold. A venue's reads are made again when one of its lender
contracts logged anything in the new blocks (`Venue.lender_logs`), and for the pools whose logs
moved them. Known gap: a plain token transfer to the Vault or a V3 pool (no pool event) changes
what it can lend without the market seeing it until that pool's next event; the trader's
simulation still catches a loan the lender cannot make.

What enters: pools only from the creation contracts of the venues of `MarketConfig.venues`
(discovery believes no other creation event; `Venues` is where a user adds a venue), and, with
`MarketConfig.screen` (the default), only pools whose tokens pass the token screen
(state/screen.py: each token probed once on the fork, as mined and as simulated). A refused
pool stays out of the index, its state is dropped at every update, and `Market.screened` says
why. The same holds for a pool with a token of `MarketConfig.deny_tokens`, or, with
`MarketConfig.allow_tokens`, a token not in it (its own BPT aside; native ETH counts as WETH):
these are left out before the screen, which never probes them.

Minimum liquidity: `MarketConfig.min_liquidity_eth` gives a venue a floor on what its pools
hold, in ETH wei: the sum over the pool's tokens of what it holds near its price
(`Venue.reserves`: a V2 pair's reserves, a Balancer pool's balances, a V3/V4 pool's virtual
reserves of the current range) valued at the mid price of each token's deepest WETH pool
(search/valuation.py; WETH at par, a token no WETH pool prices at 0). A pool under its venue's
floor stays out of the index and the lenders; it is judged again whenever it moves (it joins
once it holds enough, and leaves when it falls under), and `Market.thin` says why it is out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any, cast

from web3 import Web3

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.chain import addresses as A
from flasharb.errors import FlasharbValueError
from flasharb.search.capital import FlashSource, Funded, Lenders, at_amount, fund, group_by_venue
from flasharb.search.cycles import MAX_HOPS, MIN_HOPS, Cycle, CycleIndex
from flasharb.search.exact import size_cycle
from flasharb.search.gas import GasModel
from flasharb.search.graph import routable
from flasharb.search.rank import BookUpdate, Opportunity, OpportunityBook, cost
from flasharb.search.valuation import EthPrice, PriceBook
from flasharb.search.venue import Venue, venue_of
from flasharb.state._rpc import batch, block_param
from flasharb.state.discovery import multicall
from flasharb.state.reader import ReadConfig
from flasharb.state.registry import PoolInfo, PoolRegistry
from flasharb.state.screen import ProbeBlock, TokenScreen
from flasharb.state.sync import StateSync, SyncResult
from flasharb.state.venue import Venues

__all__ = [
    "DEFAULT_PRIORITY_FEE_WEI",
    "Head",
    "Market",
    "MarketConfig",
    "MarketUpdate",
    "next_base_fee",
    "pool_value_eth",
]

DEFAULT_PRIORITY_FEE_WEI = 100_000_000  # 0.1 gwei tip on top of the next block's base fee
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
    venues: Venues = field(default_factory=Venues)  # the only venues read (and contracts believed)
    read_config: ReadConfig | None = None
    screen: bool = True  # leave out pools with a token the token screen refuses
    token_screen: TokenScreen | None = None  # verdicts' source and cache (None: one per market)
    deny_tokens: frozenset[str] = frozenset()  # pools with any of these stay out
    allow_tokens: frozenset[str] | None = None  # None: any token; else pools of these alone
    # venue name -> least ETH wei its pools must hold to enter (module doc); absent: no floor
    min_liquidity_eth: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not MIN_HOPS <= self.max_hops <= MAX_HOPS:
            raise FlasharbValueError(
                f"max_hops must be in {MIN_HOPS}..{MAX_HOPS}, got {self.max_hops}"
            )
        if self.priority_fee_wei < 0:
            raise FlasharbValueError(f"priority fee must be >= 0 wei, got {self.priority_fee_wei}")
        object.__setattr__(
            self, "deny_tokens", frozenset(checksum_address(t) for t in self.deny_tokens)
        )
        if self.allow_tokens is not None:
            allow = frozenset(checksum_address(t) for t in self.allow_tokens)
            object.__setattr__(self, "allow_tokens", allow)
            both = sorted(allow & self.deny_tokens)
            if both:
                raise FlasharbValueError(
                    f"token {both[0]} is both allowed and denied; keep it in one list"
                )
        for venue, floor in self.min_liquidity_eth.items():
            if floor < 0:
                raise FlasharbValueError(
                    f"min liquidity of {venue} must be >= 0 ETH wei, got {floor}"
                )

    def refuses(self, info: PoolInfo) -> str | None:
        """Why the token lists keep `info`'s pool out (None: they let it in)."""
        if not self.deny_tokens and self.allow_tokens is None:
            return None
        for token in info.tokens:
            if token == info.address:
                continue  # a composable pool's own BPT is no token of its trades
            t = A.WETH if token == A.NATIVE_ETH else token
            if t in self.deny_tokens:
                return f"token {t} is on the deny list"
            if self.allow_tokens is not None and t not in self.allow_tokens:
                return f"token {t} is not on the allow list"
        return None


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
        thin: Mapping[str, str] | None = None,
        floor_prices: PriceBook | None = None,
    ) -> None:
        self.w3 = w3
        self.config = config
        self.sync = sync
        self.head = head
        self._lenders_raw = lenders_raw
        self.token_screen = token_screen  # None: the screen is off
        # pools left out for good (the token screen, the token lists), and why
        self.screened: dict[str, str] = dict(screened or {})
        self.thin: dict[str, str] = dict(thin or {})  # pools now under their venue's floor
        self._floor_prices = floor_prices  # what values pools against their floors
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
            w3,
            block=head.number,
            venues=cfg.venues,
            read_config=cfg.read_config,
            extra_topics=_lender_topics(cfg.venues),
        )
        screen = (cfg.token_screen or TokenScreen()) if cfg.screen else None
        screened = _leave_out(screen, w3, list(sync.registry), sync, head, cfg)
        thin: dict[str, str] = {}
        floor_prices = None
        if cfg.min_liquidity_eth:  # priced by every pool let in, those under a floor too
            floor_prices = PriceBook(sync.states.values(), A.WETH)
            _under_floor(cfg, sync, list(sync.states), floor_prices.get, thin)
        raw = _LenderReads.read(
            w3, _venues(cfg.venues), sync.states.values(), cfg.flash_tokens, head.number
        )
        return cls(
            w3,
            cfg,
            sync,
            head,
            lenders_raw=raw,
            token_screen=screen,
            screened=screened,
            thin=thin,
            floor_prices=floor_prices,
        )

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
        if result.added:  # new pools: the token lists, then new tokens probed once
            trips = self.token_screen.round_trips if self.token_screen is not None else 0
            added = [self.registry[a] for a in sorted(result.added)]
            self.screened |= _leave_out(
                self.token_screen, self.w3, added, self.sync, self.head, self.config
            )
            if self.token_screen is not None:
                calls += self.token_screen.round_trips - trips
        for address in self.screened.keys() & result.changed:
            self.states.pop(address, None)  # re-read from its logs: still out
        for address in result.changed:
            self.stale.pop(address, None)
        self.stale.update(result.failed)
        left = False  # a pool of the index fell under its venue's floor
        if self._floor_prices is not None:
            moved = sorted(a for a in result.changed if a in self.states)
            self._floor_prices.update(self.states[a] for a in moved)
            for address in moved:
                self.thin.pop(address, None)  # judged again
            out = _under_floor(self.config, self.sync, moved, self._floor_prices.get, self.thin)
            left = any(a in self.index.graph.pool_index for a in out)
        t1 = perf_counter()
        lenders_changed = self._refresh_lenders(result)
        calls += int(lenders_changed)
        t2 = perf_counter()
        graph = self.index.graph.pool_index
        flipped = any(  # a pool that became routable or stopped being (an amp update's end)
            (a in graph) != routable(self.states[a]) for a in result.changed if a in self.states
        )
        if result.added or flipped or left:
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
        changed = [self.states[a] for a in sorted(result.changed) if a in self.states]
        everything = bool(result.added)  # new pools, new lenders: read them all
        self._lenders_raw, read = self._lenders_raw.refreshed(
            self.w3,
            self.states.values(),
            self.config.flash_tokens,
            self.head.number,
            emitters=result.emitters,
            changed=changed,
            everything=everything,
        )
        self.lenders = self._lenders_raw.lenders(self.states.values(), self._flash_tokens())
        return read

    # ------------------------------------------------------------ reading it

    def opportunities(self, limit: int | None = None) -> list[Opportunity]:
        """Every opportunity netting more than the minimum, best first; routes through a pool
        whose state could not be read at this block, or that is quarantined, are left out.
        `limit`: only the best `limit`, with only what could be among them made exact."""
        out = self.excluded()
        if limit is not None:
            return self.book.opportunities(limit=limit, excluded=out)
        found = self.book.opportunities()
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
        for pool in pools:  # uids: an address, or a V4 pool's 0x-hex PoolId as it is
            uid = checksum_address(pool) if len(pool) == 42 else pool.lower()
            self.quarantined[uid] = (until, reason)
        return until

    def select(self, *, top: int, min_net_profit_eth: int | None = None) -> list[Opportunity]:
        """What to send now: the one selection policy (select.py) over `opportunities()`,
        every pick of `picks`."""
        return list(self.picks(top=top, min_net_profit_eth=min_net_profit_eth))

    def picks(self, *, top: int, min_net_profit_eth: int | None = None) -> Iterator[Opportunity]:
        """The policy's picks one at a time, best first (OpportunityBook.picks): the first is
        known before the second is looked for, so a caller may send it first (the run loop)."""
        guard = self.config.min_net_profit_eth if min_net_profit_eth is None else min_net_profit_eth
        return self.book.picks(top=top, min_net_profit_eth=guard, excluded=self.excluded())

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
        """The pool of `venue` holding `token_a` and `token_b` (at `fee`, in the registry's
        unit: pips, or a Balancer pool's 18-decimal fee; with `n_tokens` tokens besides a pool's
        own BPT).

        Raises:
            FlasharbValueError: none, or more than one, matches.
        """
        found = [
            p
            for p in self.registry
            if p.venue == venue
            and token_a in p.tokens
            and token_b in p.tokens
            and (fee is None or p.fee == fee)
            and sum(1 for t in p.tokens if t != p.address) == n_tokens
        ]
        if len(found) != 1:
            raise FlasharbValueError(
                f"{len(found)} {venue} pools of {token_a}/{token_b} (fee {fee}) on this fork, not 1"
            )
        return found[0]

    def route(self, token: str, *legs: tuple[PoolInfo, str]) -> Cycle:
        """The cycle from `token` through `legs` (pool, token bought), in order, each hop as
        its venue builds it from the pool's state.

        Raises:
            FlasharbValueError: a pool with no state at this block, or of a venue the diamond
                has no hop for.
        """
        hops, token_in = [], checksum_address(token)
        for info, token_out in legs:
            state = self.states.get(info.uid)
            if state is None:
                raise FlasharbValueError(f"pool {info.uid} has no state at block {self.block}")
            hops.append(venue_of(state).hop(state, token_in, checksum_address(token_out)))
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
    screen: TokenScreen | None,
    w3: Web3,
    pools: Sequence[PoolInfo],
    sync: StateSync,
    head: Head,
    config: MarketConfig,
) -> dict[str, str]:
    """Pools of `pools` the token lists of `config` refuse, or with a token `screen` refuses,
    -> why; their states are dropped. The screen never probes the pools the lists refuse."""
    out: dict[str, str] = {}
    for info in pools:
        why = config.refuses(info)
        if why is not None:
            out[info.uid] = why
    rest = [p for p in pools if p.uid not in out]
    if screen is not None and rest:
        at = ProbeBlock(number=head.number, timestamp=head.timestamp, base_fee=head.base_fee)
        out |= screen.leave_out(w3, rest, at)
    for address in out:
        sync.states.pop(address, None)
    return out


def pool_value_eth(state: PoolState, price: Callable[[str], EthPrice | None]) -> int:
    """What the pool holds near its price (`Venue.reserves`), in ETH wei: each token's amount at
    `price(token)` (floored), WETH at par, a token without a price at 0."""
    total = 0
    for token, amount in venue_of(state).reserves(state):
        if token == A.WETH:
            total += amount
            continue
        p = price(token)
        if p is not None:
            total += p.to_eth(amount)
    return total


def _under_floor(
    config: MarketConfig,
    sync: StateSync,
    uids: Sequence[str],
    price: Callable[[str], EthPrice | None],
    thin: dict[str, str],
) -> list[str]:
    """Pools of `uids` worth less than their venue's `min_liquidity_eth`: their states are
    dropped and `thin` says why. Returns them."""
    out = []
    for uid in uids:
        floor = config.min_liquidity_eth.get(sync.registry[uid].venue, 0)
        state = sync.states.get(uid)
        if floor <= 0 or state is None:
            continue
        worth = pool_value_eth(state, price)
        if worth < floor:
            thin[uid] = f"holds {worth} ETH wei near its price, under its venue's floor {floor}"
            sync.states.pop(uid)
            out.append(uid)
    return out


def _venues(venues: Venues) -> list[Venue]:
    return [cast(Venue, v) for v in venues]


def _lender_topics(venues: Venues) -> tuple[bytes, ...]:
    return tuple(dict.fromkeys(t for v in _venues(venues) for t in v.lender_logs()[1]))


@dataclass(frozen=True, slots=True, kw_only=True)
class _LenderReads:
    """The answers to every venue's lender reads at a block: (contract, calldata) -> bytes."""

    venues: tuple[Venue, ...]
    answers: Mapping[tuple[str, bytes], bytes]

    @classmethod
    def read(
        cls,
        w3: Web3,
        venues: Sequence[Venue],
        states: Iterable[PoolState],
        tokens: Sequence[str],
        block: int,
    ) -> _LenderReads:
        wanted = frozenset(checksum_address(t) for t in tokens)
        calls = [
            c
            for venue, mine in group_by_venue(states, venues)
            for c in venue.lender_reads(mine, wanted)
        ]
        return cls(venues=tuple(venues), answers=_answer(w3, calls, block))

    def refreshed(
        self,
        w3: Web3,
        states: Iterable[PoolState],
        tokens: Sequence[str],
        block: int,
        *,
        emitters: Iterable[str],
        changed: Sequence[PoolState],
        everything: bool,
    ) -> tuple[_LenderReads, bool]:
        """These answers with what the new blocks may have moved read again: every read of a
        venue whose lender contracts logged (or all, with `everything`), and the reads of the
        changed pools. Also whether anything was read."""
        wanted = frozenset(checksum_address(t) for t in tokens)
        logged = set(emitters)
        calls: list[tuple[str, bytes]] = []
        moved = {s.uid for s in changed}
        for venue, mine in group_by_venue(states, self.venues):
            if everything or logged & set(venue.lender_logs()[0]):
                calls += venue.lender_reads(mine, wanted)
            else:
                ours = [s for s in mine if s.uid in moved]
                if ours:
                    calls += venue.lender_reads(ours, wanted)
        if not calls:
            return self, False
        return _LenderReads(
            venues=self.venues, answers={**self.answers, **_answer(w3, calls, block)}
        ), True

    def lenders(self, states: Iterable[PoolState], tokens: Iterable[str]) -> Lenders:
        return Lenders.from_reads(states, tokens, self.answers, self.venues)


def _answer(
    w3: Web3, calls: Sequence[tuple[str, bytes]], block: int
) -> dict[tuple[str, bytes], bytes]:
    """One eth_call answering every (contract, calldata) view call, each once."""
    unique = list(dict.fromkeys(calls))
    if not unique:
        return {}
    return dict(zip(unique, multicall(w3, unique, block), strict=True))
