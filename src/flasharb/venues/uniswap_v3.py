"""Uniswap V3 pools of the canonical factory.

- Discovery: the factory's `PoolCreated` logs (tokens, fee and tick spacing are in the event).
- Read (`UniswapV3Reader`): slot0, liquidity, the tick-bitmap words around the current tick's
  word (`ReadConfig.words_per_side` / `window_ticks`) and the liquidityNet of every initialized
  tick in them. Pools of the canonical factory are read through their storage
  (`ReadConfig.v3_slots`, on by default): the same eth_call overrides each pool's code with
  `SLOT_READER_CODE`, and the reader SLOADs exactly the slots the state needs (slot0,
  liquidity, the bitmap words, one slot per initialized tick where the `ticks()` getter reads
  four). On an Anvil fork every distinct account and slot a call touches is a round trip to the
  fork's database: a pool with 6 ticks in a 3-word window takes 12 instead of 31, and its read
  1.5-2x less time. The fast path trusts that a pool of the canonical factory runs the canonical
  code: true on any chain, broken only by an `anvil_setCode` on the pool. Other pools (another
  factory: maybe another storage layout) are read through their getters.
- Sync: `Initialize`, `Swap` (price, tick, in-range liquidity), `Mint`, `Burn` (liquidity,
  ticks); Flash and Collect move balances only.
- Quote: `flasharb.amm.uniswap_v3` (exact, with the ticks crossed); the float models walk the
  initialized ticks as constant-product segments (`V3Curve`, also Uniswap V4's).
- Hop: LibRoute's `KIND_UNISWAP_V3 (1) | tokenOut (20) | fee (3)`: the facet derives the pool
  from the factory, so a pool of another factory is priced, never routed.
- Lending: a pool's `flash` of its balance of either token, fee = its tier rounded up.

ref: v3-core UniswapV3Pool.sol, UniswapV3Factory.sol; v3-periphery PoolAddress.sol
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.amm.uniswap_v3 import V3PoolState
from flasharb.amm.uniswap_v3.tick_bitmap import next_initialized_tick_within_one_word
from flasharb.amm.uniswap_v3.tick_math import MAX_TICK, MIN_TICK, get_sqrt_ratio_at_tick
from flasharb.chain import addresses as A
from flasharb.errors import FlasharbValueError, IncompleteStateError
from flasharb.kinds import HopKind
from flasharb.search.capital import FlashSource, Lender
from flasharb.search.cycles import Hop
from flasharb.search.route import v3_pool_address
from flasharb.search.segments import Point
from flasharb.state._rpc import RawLog, block_param, request
from flasharb.state.events import topic
from flasharb.state.reader import words_per_side
from flasharb.state.registry import PoolInfo, PoolRegistry
from flasharb.state.venue import ReadConfig, ReadContext, Scan, Watch
from flasharb.venues.base import BaseVenue, address_word, balance_read, uint_of, word_address

__all__ = [
    "POOL_CREATED",
    "SLOT_READER_CODE",
    "STATE_TOPICS",
    "UNISWAP_V3",
    "UniswapV3",
    "V3Curve",
    "decode_window",
]

POOL_CREATED = topic("PoolCreated(address,address,uint24,int24,address)")
STATE_TOPICS = (
    topic("Initialize(uint160,int24)"),
    topic("Swap(address,address,int256,int256,uint160,uint128,int24)"),
    topic("Mint(address,address,int24,int24,uint128,uint256,uint256)"),
    topic("Burn(address,int24,int24,uint128,uint256,uint256)"),
)
Q96 = float(2**96)
Q192 = 2**192
_PIPS = 1e6
_GETTERS, _SLOTS = 0, 1  # UniswapV3Reader's modes

SLOT_READER_CODE = bytes.fromhex("5f5b368110600b57365ff35b8035548152602001600156")
"""Code given to a pool, for one eth_call, so that the reader can read its storage: for each
32-byte word of calldata, SLOAD it as a key; return the values, in order.

    00 PUSH0                      i = 0
    01 JUMPDEST                   loop:
    02 CALLDATASIZE DUP2 LT       i < calldatasize ?
    05 PUSH1 0x0b JUMPI           -> body
    08 CALLDATASIZE PUSH0 RETURN  return memory[0, calldatasize)
    0b JUMPDEST                   body:
    0c DUP1 CALLDATALOAD SLOAD    sload(calldata[i])
    0f DUP2 MSTORE                memory[i] = it
    11 PUSH1 0x20 ADD             i += 32
    14 PUSH1 0x01 JUMP            -> loop
"""
_SLOT_READER_HEX = "0x" + SLOT_READER_CODE.hex()

_FAILURES = {
    (_GETTERS, 1): "slot0() reverted or returned a malformed price/tick",
    (_GETTERS, 2): "liquidity() reverted or did not return a uint128",
    (_GETTERS, 3): "its tick spacing is outside 1..16383",
    (_GETTERS, 4): "tickBitmap(word) reverted",
    (_GETTERS, 5): "ticks(tick) reverted",
    (_SLOTS, 1): "reading slot0 and liquidity from its storage failed",
    (_SLOTS, 3): "its tick spacing is outside 1..16383",
    (_SLOTS, 4): "reading its tick-bitmap words from storage failed",
    (_SLOTS, 5): "reading its ticks from storage failed",
}


def decode_window(
    mv: memoryview, i: int, spacing: int
) -> tuple[int, int, int, int, dict[int, int], dict[int, int], tuple[int, int]]:
    """A tick-based pool's record after its status byte: sqrtPriceX96 (20) | tick (3) |
    liquidity (16) | wordLo (2) | wordHi (2) | per word: bitmap (32) | per set bit:
    liquidityNet (16). Returns (next i, price, tick, liquidity, bitmap, ticks, word range)."""
    fb = int.from_bytes
    sqrt_price = fb(mv[i : i + 20], "big")
    tick = fb(mv[i + 20 : i + 23], "big", signed=True)
    liquidity = fb(mv[i + 23 : i + 39], "big")
    lo = fb(mv[i + 39 : i + 41], "big", signed=True)
    hi = fb(mv[i + 41 : i + 43], "big", signed=True)
    i += 43
    bitmap: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for word in range(lo, hi + 1):
        bits = fb(mv[i : i + 32], "big")
        bitmap[word] = bits
        i += 32
        base = word << 8
        while bits:
            low = bits & -bits
            ticks[(base + low.bit_length() - 1) * spacing] = fb(mv[i : i + 16], "big", signed=True)
            i += 16
            bits ^= low
    return i, sqrt_price, tick, liquidity, bitmap, ticks, (lo, hi)


class V3Curve:
    """A tick-based pool (Uniswap V3, V4), one direction: constant product on the virtual
    reserves of each initialized tick range, the ranges walked lazily from the current price.

    Segment k starts at input `starts[k]` (gross, fee included), having paid `outs[k]`, at
    sqrt price `sqrts[k]` (float, 2^96 removed) with liquidity `liqs[k]`. The last segment is
    open (its end not walked yet) while `open`; once the walk meets the end of the state's
    bitmap window (or MIN/MAX_TICK) the curve ends at `limit`.
    """

    __slots__ = (
        "_bitmap",
        "_liquidity",
        "_spacing",
        "_sqrt_x96",
        "_tick",
        "_ticks",
        "_words",
        "g",
        "limit",
        "liqs",
        "open",
        "outs",
        "sqrts",
        "starts",
        "zero_for_one",
    )

    def __init__(
        self,
        state: V3PoolState,
        zero_for_one: bool,
        *,
        fee_pips: int | None = None,
        tick_spacing: int | None = None,
    ) -> None:
        self._bitmap, self._ticks, self._words = state.tick_bitmap, state.ticks, state.word_range
        self._spacing = state.tick_spacing if tick_spacing is None else tick_spacing
        self.zero_for_one = zero_for_one
        self.g = 1.0 - (state.fee if fee_pips is None else fee_pips) / _PIPS
        self.starts = [0.0]
        self.outs = [0.0]
        self.sqrts = [state.sqrt_price_x96 / Q96]
        self.liqs = [float(state.liquidity)]
        self._tick = state.tick  # slot0.tick at the open segment's start, as the swap keeps it
        self._liquidity = state.liquidity
        self._sqrt_x96 = state.sqrt_price_x96  # the open segment's start price, exactly
        self.open = state.sqrt_price_x96 > 0
        self.limit = math.inf if self.open else 0.0

    def _segment_end(self, sqrt_end_x96: int) -> tuple[float, float]:
        """(input, output) at which the open segment reaches `sqrt_end_x96`; the price move
        is taken from the integers (no cancellation in a narrow segment)."""
        s, liq = self.sqrts[-1], self.liqs[-1]
        moved = abs(sqrt_end_x96 - self._sqrt_x96) / Q96
        s_end = sqrt_end_x96 / Q96
        if self.zero_for_one:  # token0 in: L*(1/s_end - 1/s), token1 out: L*(s - s_end)
            width, out = liq * moved / (s * s_end) / self.g, liq * moved
        else:
            width, out = liq * moved / self.g, liq * moved / (s * s_end)
        return self.starts[-1] + width, self.outs[-1] + out

    def _close(self, sqrt_end_x96: int | None) -> None:
        """The swap cannot go past `sqrt_end_x96` (None: past the open segment's start)."""
        self.open = False
        if sqrt_end_x96 is None:
            self.limit = self.starts[-1]
        else:
            self.limit = self._segment_end(sqrt_end_x96)[0]

    def _extend(self) -> None:
        """Walk to the next initialized tick, as the pool's swap loop steps: close the open
        segment there and open the next one with the tick's liquidityNet applied."""
        zfo = self.zero_for_one
        tick, reached = self._tick, None
        while True:
            try:
                nxt, initialized = next_initialized_tick_within_one_word(
                    self._bitmap, tick, self._spacing, zfo, self._words
                )
            except IncompleteStateError:  # the swap would raise here: the curve ends
                self._close(None if reached is None else get_sqrt_ratio_at_tick(reached))
                return
            if nxt <= MIN_TICK or nxt >= MAX_TICK:  # the price limit: nothing beyond
                self._close(get_sqrt_ratio_at_tick(max(min(nxt, MAX_TICK), MIN_TICK)))
                return
            if initialized:
                break
            tick, reached = (nxt - 1 if zfo else nxt), nxt  # an empty word: same liquidity
        net = self._ticks.get(nxt)
        sqrt_next = get_sqrt_ratio_at_tick(nxt)
        if net is None:  # set in the bitmap, not read: the exact swap raises
            self._close(sqrt_next)
            return
        x_end, y_end = self._segment_end(sqrt_next)
        self._liquidity += -net if zfo else net
        self._tick = nxt - 1 if zfo else nxt
        self._sqrt_x96 = sqrt_next
        self.starts.append(x_end)
        self.outs.append(y_end)
        self.sqrts.append(sqrt_next / Q96)
        self.liqs.append(float(max(self._liquidity, 0)))

    def at(self, x: float) -> Point | None:
        while self.open and x >= self.starts[-1]:
            self._extend()
        if x > self.limit:
            return None
        k = max(bisect_right(self.starts, x) - 1, 0)  # x < 0 (an earlier hop's float error): 0
        s, liq = self.sqrts[k], self.liqs[k]
        if liq <= 0.0:  # no liquidity ahead in the window
            return self.outs[k], 0.0, 0.0
        g = self.g
        net = g * (x - self.starts[k])
        if self.zero_for_one:  # out L*(s - s_new) = L*s^2*net / (L + s*net): no cancellation
            den = liq + net * s
            s_new = liq * s / den
            d1 = g * s_new * s_new
            return self.outs[k] + liq * s * s * net / den, d1, -2.0 * g * d1 * s_new / liq
        s_new = s + net / liq
        d1 = g / (s_new * s_new)
        return self.outs[k] + net / (s * s_new), d1, -2.0 * g * d1 / (liq * s_new)

    def segment_count(self) -> int:
        """Segments walked so far (the open one included)."""
        return len(self.starts)


def tick_edge_params(
    sqrt_price_x96: int, liquidity: int, fee_pips: int, token0_in: bool
) -> tuple[float, float]:
    """(r, c) of a tick-based pool's constant-product stand-in: the virtual reserves of the
    current range, `L*2^96/sqrtP` of token0 and `L*sqrtP/2^96` of token1."""
    if liquidity == 0 or sqrt_price_x96 == 0:
        return 0.0, 0.0  # a swap of any size first crosses to liquidity elsewhere
    sqrt_p = sqrt_price_x96 / Q96
    x_virtual, y_virtual = float(liquidity) / sqrt_p, float(liquidity) * sqrt_p
    r_in, r_out = (x_virtual, y_virtual) if token0_in else (y_virtual, x_virtual)
    if r_in <= 0.0 or r_out <= 0.0 or not (math.isfinite(r_in) and math.isfinite(r_out)):
        return 0.0, 0.0
    g = 1.0 - fee_pips / _PIPS
    return g * r_out / r_in, g / r_in


def tick_weth_quote(
    token0: str, token1: str, sqrt_price_x96: int, liquidity: int, weth: str
) -> Iterable[tuple[str, int, int, int]]:
    """A tick-based pool's mid price against WETH (num/den exact), with the WETH virtual
    reserve of the current range as its depth."""
    if weth in (token0, token1) and sqrt_price_x96 > 0 and liquidity > 0:
        p_num = sqrt_price_x96 * sqrt_price_x96  # token1 wei per token0 wei = p_num / 2^192
        if weth == token1:
            yield token0, p_num, Q192, liquidity * sqrt_price_x96 >> 96
        else:
            yield token1, Q192, p_num, (liquidity << 96) // sqrt_price_x96


def _pool(state: PoolState) -> V3PoolState:
    if not isinstance(state, V3PoolState):
        raise FlasharbValueError(f"pool {state.uid}: not a Uniswap V3 pool")
    return state


@dataclass(frozen=True, slots=True, kw_only=True)
class UniswapV3(BaseVenue):
    """The pools of one Uniswap V3 factory."""

    factory: str

    hop_kind: ClassVar[HopKind | None] = HopKind.UNISWAP_V3
    gas_per_hop: ClassVar[int] = 79_327  # swap, callback transfer, slot0 / fee growth writes
    hop_bytes: ClassVar[int] = 24
    state_types: ClassVar[tuple[type, ...]] = (V3PoolState,)
    reader: ClassVar[str] = "UniswapV3Reader"
    # Read gas (cold account and slot costs dominate; measured on the replica, some room)
    base_gas: ClassVar[int] = 17_000  # cold pool + slot0 + liquidity
    word_gas: ClassVar[int] = 4_000  # per tickBitmap word (one cold slot)
    tick_gas: ClassVar[int] = 12_000  # per initialized tick: ticks() reads four cold slots
    ticks_per_word: ClassVar[int] = 2  # guess when the pool's tick count is not known
    slots_base_gas: ClassVar[int] = 10_000  # storage path: cold pool, two slots, three calls
    slots_word_gas: ClassVar[int] = 3_000  # per bitmap word: one cold slot and its key
    slots_tick_gas: ClassVar[int] = 3_000  # per initialized tick: one cold slot and its key

    def __post_init__(self) -> None:
        object.__setattr__(self, "factory", checksum_address(self.factory))

    @property
    def canonical(self) -> bool:
        """Whether its pools are the canonical factory's (storage layout known, the facet
        derives them)."""
        return self.factory == A.UNISWAP_V3_FACTORY

    # ------------------------------------------------------------ discovery

    def creation(self) -> tuple[tuple[str, ...], tuple[bytes, ...]]:
        return (self.factory,), (POOL_CREATED,)

    def created(self, scan: Scan, registry: PoolRegistry, logs: Sequence[RawLog]) -> list[PoolInfo]:
        out = []
        for log in logs:
            t = log.topics
            if t[0] != POOL_CREATED or len(t) != 4 or len(log.data) < 64:
                continue
            out.append(
                PoolInfo(
                    address=word_address(log.data[32:64]),
                    venue=self.name,
                    kind=self.hop_kind,
                    tokens=(word_address(t[1]), word_address(t[2])),
                    decimals=(),
                    fee=int.from_bytes(t[3], "big"),
                    tick_spacing=int.from_bytes(log.data[:32], "big", signed=True),
                    source=self.factory,
                )
            )
        return out

    def identify(self, scan: Scan, uid: str) -> RawLog | None:
        from eth_abi import encode
        from eth_utils import function_signature_to_4byte_selector as sel

        def call(to: str, data: bytes) -> bytes:
            try:
                params = [{"to": to, "data": "0x" + data.hex()}, block_param(scan.block)]
                out = request(scan.w3, "eth_call", params, "probe")
            except Exception:  # noqa: BLE001 - a revert means "not this kind of pool"
                return b""
            return bytes.fromhex(str(out).removeprefix("0x"))

        got = call(uid, sel("factory()"))
        if len(got) < 32 or word_address(got[:32]) != self.factory:
            return None
        words = [call(uid, sel(f)) for f in ("token0()", "token1()", "fee()", "tickSpacing()")]
        if any(len(w) < 32 for w in words):
            return None
        t0, t1 = word_address(words[0][:32]), word_address(words[1][:32])
        fee = int.from_bytes(words[2][:32], "big")
        pool = call(
            self.factory,
            sel("getPool(address,address,uint24)")
            + encode(["address", "address", "uint24"], [t0, t1, fee]),
        )
        if pool[12:32] != bytes.fromhex(uid[2:]):
            return None  # a contract that names the factory, which does not know it
        return RawLog(
            address=self.factory,
            topics=(POOL_CREATED, address_word(t0), address_word(t1), fee.to_bytes(32, "big")),
            data=words[3][:32] + address_word(uid),
            block=scan.block,
            index=0,
        )

    # ------------------------------------------------------------ read

    def _slots(self, info: PoolInfo, config: ReadConfig) -> bool:
        return config.v3_slots and info.source == A.UNISWAP_V3_FACTORY

    def read_entry(self, info: PoolInfo, config: ReadConfig) -> bytes:
        mode = _SLOTS if self._slots(info, config) else _GETTERS
        return (
            bytes((mode,))
            + bytes.fromhex(info.address[2:])
            + (info.tick_spacing & 0xFFFFFF).to_bytes(3, "big")
            + words_per_side(info, config).to_bytes(2, "big")
        )

    def read_gas(self, info: PoolInfo, config: ReadConfig, ticks: int | None) -> int:
        words = 2 * words_per_side(info, config) + 1
        n_ticks = self.ticks_per_word * words if ticks is None else ticks
        if self._slots(info, config):
            return self.slots_base_gas + words * self.slots_word_gas + n_ticks * self.slots_tick_gas
        return self.base_gas + words * self.word_gas + n_ticks * self.tick_gas

    def read_overrides(self, info: PoolInfo, config: ReadConfig) -> Mapping[str, str]:
        return {info.address: _SLOT_READER_HEX} if self._slots(info, config) else {}

    def decode(
        self, mv: memoryview, i: int, info: PoolInfo, ctx: ReadContext
    ) -> tuple[int, PoolState | str]:
        i, price, tick, liquidity, bitmap, ticks, words = decode_window(mv, i, info.tick_spacing)
        if price == 0:
            return i, f"uniswap_v3 pool {info.address}: not initialized (no price yet)"
        return i, V3PoolState(
            address=info.address,
            token0=info.tokens[0],
            token1=info.tokens[1],
            fee=info.fee,
            tick_spacing=info.tick_spacing,
            sqrt_price_x96=price,
            tick=tick,
            liquidity=liquidity,
            tick_bitmap=bitmap,
            ticks=ticks,
            word_range=words,
            venue=info.venue,
        )

    def read_failure(self, info: PoolInfo, config: ReadConfig, step: int) -> str:
        mode = _SLOTS if self._slots(info, config) else _GETTERS
        return _FAILURES.get((mode, step), f"read step {step} failed")

    # ------------------------------------------------------------ sync

    def watches(self) -> tuple[Watch, ...]:
        return tuple(Watch(t) for t in STATE_TOPICS)

    # ------------------------------------------------------------ search

    def fee_pips(self, state: PoolState) -> int:
        return _pool(state).fee

    def encode_hop(self, hop: Hop) -> bytes:
        canonical = v3_pool_address(hop.token_in, hop.token_out, hop.fee_pips)
        if canonical != checksum_address(hop.pool):
            raise FlasharbValueError(
                f"V3 hop via {hop.pool} is not the Uniswap V3 factory's pool for "
                f"{hop.token_in}/{hop.token_out} at fee {hop.fee_pips} ({canonical})"
            )
        return b"\x01" + bytes.fromhex(hop.token_out[2:]) + hop.fee_pips.to_bytes(3, "big")

    def swap(
        self, state: PoolState, token_in: str, token_out: str, amount_in: int
    ) -> tuple[int, int]:
        pool = _pool(state)
        if pool.sqrt_price_x96 == 0 or amount_in <= 0:
            raise FlasharbValueError(f"uniswap_v3 pool {pool.address}: no price or no input")
        result = pool.swap(token_in == pool.token0, amount_in)
        if not result.filled:  # quote_exact_in raises InsufficientLiquidityError
            from flasharb.errors import InsufficientLiquidityError

            raise InsufficientLiquidityError(
                f"uniswap_v3 pool {pool.address} cannot take {amount_in} of {token_in}"
            )
        return result.amount_out, result.ticks_crossed

    def edge_params(self, state: PoolState, token_in: str, token_out: str) -> tuple[float, float]:
        pool = _pool(state)
        return tick_edge_params(
            pool.sqrt_price_x96, pool.liquidity, pool.fee, token_in == pool.token0
        )

    def curve(self, state: PoolState, token_in: str, token_out: str) -> V3Curve:
        pool = _pool(state)
        return V3Curve(pool, token_in == pool.token0)

    def weth_quotes(self, state: PoolState, weth: str) -> Iterable[tuple[str, int, int, int]]:
        pool = _pool(state)
        return tick_weth_quote(pool.token0, pool.token1, pool.sqrt_price_x96, pool.liquidity, weth)

    def reserves(self, state: PoolState) -> tuple[tuple[str, int], ...]:
        """The virtual reserves of the current range: what it pays near its price."""
        pool = _pool(state)
        if pool.sqrt_price_x96 == 0:
            return ((pool.token0, 0), (pool.token1, 0))
        return (
            (pool.token0, (pool.liquidity << 96) // pool.sqrt_price_x96),
            (pool.token1, pool.liquidity * pool.sqrt_price_x96 >> 96),
        )

    # ------------------------------------------------------------ lending

    def lender_reads(
        self, states: Sequence[PoolState], tokens: frozenset[str]
    ) -> Iterable[tuple[str, bytes]]:
        for state in states:
            pool = _pool(state)
            for token in pool.tokens:
                if token in tokens:
                    yield balance_read(token, pool.address)

    def lenders(
        self,
        states: Sequence[PoolState],
        tokens: frozenset[str],
        reads: Mapping[tuple[str, bytes], bytes],
    ) -> Iterable[tuple[str, tuple[object, ...], Lender]]:
        """Every pool lends its balance of either token (`flash`), at its fee tier; the facet
        derives a V3 lender from the canonical factory, so only its pools lend."""
        if not self.canonical:
            return
        for state in states:
            pool = _pool(state)
            for token in pool.tokens:
                held = uint_of(reads.get(balance_read(token, pool.address)))
                if token in tokens and held > 0:
                    other = pool.token1 if token == pool.token0 else pool.token0
                    src = FlashSource.uniswap_v3(
                        pool.address, token0=token == pool.token0, fee_pips=pool.fee, other=other
                    )
                    key = (1, pool.fee, -held, pool.address.lower())
                    yield token, key, Lender(source=src, capacity=held)


UNISWAP_V3 = UniswapV3(name="uniswap_v3", factory=A.UNISWAP_V3_FACTORY)

PRIORITY = 40
VENUES = (UNISWAP_V3,)
