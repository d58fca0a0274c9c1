"""Uniswap V4 pools: entries of the one PoolManager, named by their PoolId.

- Identity: a V4 pool has no contract of its own; its registry uid is its PoolId as 0x-hex
  (66 characters), `PoolInfo.address` the PoolManager (where its tokens sit, what is called),
  `PoolInfo.pool_id` the 32 bytes. No pool is given an address it does not have.
- Discovery: the PoolManager's `Initialize(id, currency0, currency1, fee, tickSpacing, hooks,
  sqrtPriceX96, tick)` logs. Skipped with the reason: pools with hooks (a hook can change a
  swap's amounts, fee and deltas: no exact quote without running it) and dynamic-fee pools (the
  fee is whatever a hook sets, per swap).
- Read (`UniswapV4Reader`): the PoolManager's storage through `extsload(bytes32[])`, three calls a
  pool (slot0 and liquidity, the window's bitmap words, its initialized ticks), the layout of
  `flasharb.amm.uniswap_v4.layout`, the same tick window as V3 (`ReadConfig`).
- Sync: the PoolManager's `Swap`, `ModifyLiquidity` and `ProtocolFeeUpdated` (topic 1 is the
  PoolId); `Donate` moves nothing a swap reads.
- Quote: `flasharb.amm.uniswap_v4` (exact, ticks crossed); the float models are V3's
  (`V3Curve` at the pool's composed fee).
- Native ETH: the search trades it as WETH (one token, one price): a native pool's ETH side is
  WETH in the graph, its hops and quotes (the amm state takes WETH for native ETH), and the
  facet wraps and unwraps around the swap (`Hop.native`). A pool holding both ETH and WETH is
  not routed (it would swap WETH for itself).
- Hop: LibRoute's `KIND_UNISWAP_V4 (3) | tokenOut (20) | fee (3) | tickSpacing (3) | native (1)`:
  the facet builds the hookless PoolKey from the hop's tokens, fee and spacing
  (`route.v4_pool_key`), so a hop's pool id must be that key's.
- Lending: the PoolManager lends what it holds at no fee (take, then settle in the same unlock;
  native ETH for WETH routes: `SourceKind.UNISWAP_V4`).

ref: v4-core src/PoolManager.sol (`initialize`, `swap`, `modifyLiquidity`, events),
src/libraries/StateLibrary.sol, src/libraries/LPFeeLibrary.sol (DYNAMIC_FEE_FLAG)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from eth_utils import function_signature_to_4byte_selector as selector

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.amm.uniswap_v4 import NATIVE, PoolKey, V4PoolState
from flasharb.amm.uniswap_v4.fees import DYNAMIC_FEE_FLAG
from flasharb.chain import addresses as A
from flasharb.errors import FlasharbValueError, InsufficientLiquidityError
from flasharb.kinds import HopKind
from flasharb.search import route
from flasharb.search.capital import FlashSource, Lender
from flasharb.search.cycles import Hop
from flasharb.state._rpc import READER_ADDRESS, RawLog, get_logs
from flasharb.state.events import topic
from flasharb.state.reader import words_per_side
from flasharb.state.registry import PoolInfo, PoolRegistry, id_uid
from flasharb.state.venue import ReadConfig, ReadContext, Scan, Watch
from flasharb.venues.base import BaseVenue, balance_read, uint_of, with_packed, word_address
from flasharb.venues.uniswap_v3 import V3Curve, decode_window, tick_edge_params, tick_weth_quote

__all__ = ["INITIALIZE", "STATE_TOPICS", "UNISWAP_V4", "UniswapV4"]

INITIALIZE = topic("Initialize(bytes32,address,address,uint24,int24,address,uint160,int24)")
STATE_TOPICS = (
    topic("Swap(bytes32,address,int128,int128,uint160,uint128,int24,uint24)"),
    topic("ModifyLiquidity(bytes32,address,int24,int24,int256,bytes32)"),
    topic("ProtocolFeeUpdated(bytes32,uint24)"),
)
_ETH_BALANCE = selector("ethBalanceOf(address)")  # PoolDiscoveryReader's own view
_FAILURES = {
    1: "reading slot0 and liquidity through extsload failed",
    3: "its tick spacing is outside 1..32767",
    4: "reading its tick-bitmap words through extsload failed",
    5: "reading its ticks through extsload failed",
}


def _pool(state: PoolState) -> V4PoolState:
    if not isinstance(state, V4PoolState):
        raise FlasharbValueError(f"pool {state.uid}: not a Uniswap V4 pool")
    return state


def _wrapped(pool: V4PoolState) -> bool:
    """Whether the pool's ETH side trades as WETH (a native pool without WETH in it)."""
    return pool.key.currency0 == NATIVE and pool.key.currency1 != A.WETH


def _currency(pool: V4PoolState, token: str) -> str:
    """The pool's currency a route's token names (WETH names native ETH in a native pool)."""
    return NATIVE if token == A.WETH and _wrapped(pool) else token


@dataclass(frozen=True, slots=True, kw_only=True)
class UniswapV4(BaseVenue):
    """The hookless, static-fee pools of one PoolManager."""

    pool_manager: str = A.UNISWAP_V4_POOL_MANAGER

    hop_kind: ClassVar[HopKind | None] = HopKind.UNISWAP_V4
    gas_per_hop: ClassVar[int] = 68_614  # sync, transfer, settle, swap, take (GasModel fit)
    hop_bytes: ClassVar[int] = 28
    state_types: ClassVar[tuple[type, ...]] = (V4PoolState,)
    reader: ClassVar[str] = "UniswapV4Reader"
    base_gas: ClassVar[int] = 14_000  # extsload of slot0 and liquidity (the PoolManager cold)
    word_gas: ClassVar[int] = 3_000  # per bitmap word: one cold slot and its key
    tick_gas: ClassVar[int] = 3_000  # per initialized tick: one cold slot and its key
    ticks_per_word: ClassVar[int] = 2  # guess when the pool's tick count is not known

    def __post_init__(self) -> None:
        object.__setattr__(self, "pool_manager", checksum_address(self.pool_manager))

    # ------------------------------------------------------------ discovery

    def creation(self) -> tuple[tuple[str, ...], tuple[bytes, ...]]:
        return (self.pool_manager,), (INITIALIZE,)

    def created(self, scan: Scan, registry: PoolRegistry, logs: Sequence[RawLog]) -> list[PoolInfo]:
        out = []
        for log in logs:
            t = log.topics
            if t[0] != INITIALIZE or len(t) != 4 or len(log.data) < 160:
                continue
            uid = id_uid(t[1])
            fee = int.from_bytes(log.data[:32], "big")
            spacing = int.from_bytes(log.data[32:64], "big", signed=True)
            hooks = word_address(log.data[64:96])
            c0, c1 = word_address(t[2]), word_address(t[3])
            where = f"uniswap_v4 pool {uid} ({c0}/{c1} fee {fee})"
            if hooks != NATIVE:
                registry.skip(
                    uid,
                    f"{where}: hooks {hooks} can change a swap's amounts, fee and deltas; "
                    "flasharb prices hookless pools only",
                )
                continue
            if fee & DYNAMIC_FEE_FLAG:
                registry.skip(
                    uid, f"{where}: a dynamic fee is set per swap by a hook; no exact quote"
                )
                continue
            out.append(
                PoolInfo(
                    address=self.pool_manager,
                    venue=self.name,
                    kind=self.hop_kind,
                    tokens=(c0, c1),
                    decimals=(),
                    fee=fee,
                    tick_spacing=spacing,
                    pool_id=t[1],
                    hosted_id=uid,
                    source=self.pool_manager,
                )
            )
        return out

    def identify(self, scan: Scan, uid: str) -> RawLog | None:
        if len(uid) != 66:
            return None
        logs = get_logs(
            scan.w3,
            from_block=scan.from_block,
            to_block=scan.block,
            topics=[INITIALIZE],
            address=self.pool_manager,
            chunk=scan.log_chunk,
        )
        return next((lg for lg in logs if len(lg.topics) > 1 and id_uid(lg.topics[1]) == uid), None)

    # ------------------------------------------------------------ read

    def read_entry(self, info: PoolInfo, config: ReadConfig) -> bytes:
        return (
            info.pool_id
            + (info.tick_spacing & 0xFFFFFF).to_bytes(3, "big")
            + words_per_side(info, config).to_bytes(2, "big")
        )

    def read_gas(self, info: PoolInfo, config: ReadConfig, ticks: int | None) -> int:
        words = 2 * words_per_side(info, config) + 1
        n_ticks = self.ticks_per_word * words if ticks is None else ticks
        return self.base_gas + words * self.word_gas + n_ticks * self.tick_gas

    def decode(
        self, mv: memoryview, i: int, info: PoolInfo, ctx: ReadContext
    ) -> tuple[int, PoolState | str]:
        i, price, tick, liquidity, bitmap, ticks, words = decode_window(mv, i, info.tick_spacing)
        protocol_fee = int.from_bytes(mv[i : i + 3], "big")
        lp_fee = int.from_bytes(mv[i + 3 : i + 6], "big")
        i += 6
        if price == 0:
            return i, f"uniswap_v4 pool {info.uid}: not initialized (no price yet)"
        key = PoolKey(
            currency0=info.tokens[0],
            currency1=info.tokens[1],
            fee=info.fee,
            tick_spacing=info.tick_spacing,
        )
        return i, V4PoolState(
            key=key,
            sqrt_price_x96=price,
            tick=tick,
            liquidity=liquidity,
            lp_fee=lp_fee,
            protocol_fee=protocol_fee,
            tick_bitmap=bitmap,
            ticks=ticks,
            word_range=words,
            venue=info.venue,
        )

    def read_failure(self, info: PoolInfo, config: ReadConfig, step: int) -> str:
        return _FAILURES.get(step, f"read step {step} failed")

    # ------------------------------------------------------------ sync

    def watches(self) -> tuple[Watch, ...]:
        return tuple(Watch(t, self.pool_manager) for t in STATE_TOPICS)

    # ------------------------------------------------------------ search

    def graph_tokens(self, state: PoolState) -> tuple[str, ...]:
        pool = _pool(state)
        c0, c1 = pool.key.currency0, pool.key.currency1
        return (A.WETH if _wrapped(pool) else c0, c1)

    def fee_pips(self, state: PoolState) -> int:
        return _pool(state).key.fee  # the key's: what the facet builds the PoolKey with

    def _zero_for_one(self, pool: V4PoolState, token_in: str, token_out: str) -> bool:
        c_in, c_out = _currency(pool, token_in), _currency(pool, token_out)
        if {c_in, c_out} != {pool.key.currency0, pool.key.currency1}:
            raise FlasharbValueError(f"{token_in} -> {token_out} is not a swap of pool {pool.uid}")
        return c_in == pool.key.currency0

    def hop(self, state: PoolState, token_in: str, token_out: str) -> Hop:
        pool = _pool(state)
        hop = Hop(
            pool=pool.uid,
            token_in=token_in,
            token_out=token_out,
            fee_pips=pool.key.fee,
            kind=HopKind.UNISWAP_V4,
            pool_id=pool.pool_id,
            tick_spacing=pool.key.tick_spacing,
            native=_wrapped(pool) and A.WETH in (token_in, token_out),
        )
        return with_packed(self, hop)

    def encode_hop(self, hop: Hop) -> bytes:
        """The facet's packed V4 hop. The facet builds the PoolKey from the hop
        (`route.v4_pool_key`): its pool id must be that key's, so a hooked pool cannot be named.

        Raises:
            FlasharbValueError: a hop that is not the hookless static-fee pool of its tokens,
                fee and spacing.
        """
        key = route.v4_pool_key(hop)
        if not (0 <= hop.fee_pips < 1_000_000 and 1 <= hop.tick_spacing <= 32767):
            raise FlasharbValueError(
                f"V4 hop via {hop.pool}: fee {hop.fee_pips} pips / tick spacing "
                f"{hop.tick_spacing} is not a static-fee pool's key"
            )
        if hop.pool_id != key.pool_id():
            raise FlasharbValueError(
                f"V4 hop via {hop.pool} is not the hookless pool of {key.currency0}/"
                f"{key.currency1} fee {key.fee} spacing {key.tick_spacing} "
                f"(0x{key.pool_id().hex()}): the facet trades pools without hooks only"
            )
        return (
            bytes((int(HopKind.UNISWAP_V4),))
            + bytes.fromhex(hop.token_out[2:])
            + hop.fee_pips.to_bytes(3, "big")
            + hop.tick_spacing.to_bytes(3, "big")
            + bytes((int(hop.native),))
        )

    def swap(
        self, state: PoolState, token_in: str, token_out: str, amount_in: int
    ) -> tuple[int, int]:
        pool = _pool(state)
        if amount_in <= 0:
            raise FlasharbValueError(f"amount_in must be positive, got {amount_in}")
        result = pool.swap(self._zero_for_one(pool, token_in, token_out), -amount_in)
        if not result.filled:
            raise InsufficientLiquidityError(
                f"uniswap_v4 pool {pool.uid} cannot take {amount_in} of {token_in}"
            )
        return result.amount_out, result.ticks_crossed

    def edge_params(self, state: PoolState, token_in: str, token_out: str) -> tuple[float, float]:
        pool = _pool(state)
        zfo = self._zero_for_one(pool, token_in, token_out)
        return tick_edge_params(pool.sqrt_price_x96, pool.liquidity, pool.swap_fee(zfo), zfo)

    def curve(self, state: PoolState, token_in: str, token_out: str) -> V3Curve:
        pool = _pool(state)
        zfo = self._zero_for_one(pool, token_in, token_out)
        return V3Curve(
            pool,  # type: ignore[arg-type]  # the same price, tick and tick maps as a V3 pool
            zfo,
            fee_pips=pool.swap_fee(zfo),
            tick_spacing=pool.key.tick_spacing,
        )

    def weth_quotes(self, state: PoolState, weth: str) -> Iterable[tuple[str, int, int, int]]:
        pool = _pool(state)
        t0, t1 = self.graph_tokens(pool)
        if t0 == t1:
            return ()
        return tick_weth_quote(t0, t1, pool.sqrt_price_x96, pool.liquidity, weth)

    def reserves(self, state: PoolState) -> tuple[tuple[str, int], ...]:
        pool = _pool(state)
        t0, t1 = self.graph_tokens(pool)
        if pool.sqrt_price_x96 == 0:
            return ((t0, 0), (t1, 0))
        return (
            (t0, (pool.liquidity << 96) // pool.sqrt_price_x96),
            (t1, pool.liquidity * pool.sqrt_price_x96 >> 96),
        )

    # ------------------------------------------------------------ lending

    def lender_reads(
        self, states: Sequence[PoolState], tokens: frozenset[str]
    ) -> Iterable[tuple[str, bytes]]:
        """The PoolManager's balance of every borrowable token, and its ETH (for WETH)."""
        for token in sorted(tokens):
            yield balance_read(token, self.pool_manager)
        if A.WETH in tokens:
            yield READER_ADDRESS, _ETH_BALANCE + bytes(12) + bytes.fromhex(self.pool_manager[2:])

    def lenders(
        self,
        states: Sequence[PoolState],
        tokens: frozenset[str],
        reads: Mapping[tuple[str, bytes], bytes],
    ) -> Iterable[tuple[str, tuple[object, ...], Lender]]:
        """The PoolManager lends at no fee what it holds of a token (an ERC-20), and its native
        ETH for WETH routes; it is preferred after the Vault."""
        eth = (READER_ADDRESS, _ETH_BALANCE + bytes(12) + bytes.fromhex(self.pool_manager[2:]))
        for token in sorted(tokens):
            for native, held in (
                (False, uint_of(reads.get(balance_read(token, self.pool_manager)))),
                (True, uint_of(reads.get(eth)) if token == A.WETH else 0),
            ):
                if held > 0:
                    yield (
                        token,
                        (0, 1 + int(native), -held, ""),
                        Lender(source=FlashSource.uniswap_v4(native=native), capacity=held),
                    )

    def lender_logs(self) -> tuple[tuple[str, ...], tuple[bytes, ...]]:
        return (self.pool_manager,), ()


UNISWAP_V4 = UniswapV4(name="uniswap_v4")

PRIORITY = 20
VENUES = (UNISWAP_V4,)
