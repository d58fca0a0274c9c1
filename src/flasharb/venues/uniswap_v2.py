"""Uniswap-V2-style pairs: Uniswap V2, and SushiSwap as a second instance of the same venue.

- Discovery: `allPairs` of the factory at the discovery block (`UniswapV2Reader.v2Pairs`, one
  call per `pairs_per_call` pairs), then the factory's `PairCreated` logs.
- Read: `getReserves` (`UniswapV2Reader`); the fee is the venue's (`fee`, pips), not read.
  Measured and rejected: reading the reserves slot through a slot reader costs what
  `getReserves()` costs (the pair's account is loaded either way).
- Sync: `Sync` follows every mint, burn, swap and sync.
- Quote: `flasharb.amm.uniswap_v2` (exact), a Moebius curve for the float models.
- Hop: LibRoute's `KIND_UNISWAP_V2 (1) | factory index (1) | tokenOut (20)`: the facet derives the
  pair from the factory it indexes (`graph.V2_FACTORY_VENUES`), so a pair of a venue the facet
  has no factory for is priced, never routed.
- Lending: a flash swap of a pair's reserve (less the 1 wei it must keep), repaid with its fee.

ref: v2-core UniswapV2Pair.sol, UniswapV2Factory.sol; v2-periphery UniswapV2Library.sol
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector as selector

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import FEE_DENOMINATOR, V2PairState, checksum_address
from flasharb.chain import addresses as A
from flasharb.errors import FlasharbValueError
from flasharb.kinds import HopKind
from flasharb.search.capital import FlashSource, Lender
from flasharb.search.cycles import Hop
from flasharb.search.graph import V2_FACTORY_VENUES, v2_factory
from flasharb.search.segments import Point
from flasharb.state._rpc import RawLog, block_param, call_reader, request
from flasharb.state.events import topic
from flasharb.state.registry import PoolInfo, PoolRegistry
from flasharb.state.venue import ReadConfig, ReadContext, Scan, Watch
from flasharb.venues.base import BaseVenue, address_word, word_address

__all__ = ["PAIR_CREATED", "SUSHISWAP", "SYNC", "UNISWAP_V2", "UniswapV2", "V2Curve"]

PAIR_CREATED = topic("PairCreated(address,address,address,uint256)")
SYNC = topic("Sync(uint112,uint112)")
_V2_PAIRS = selector("v2Pairs(address,uint256,uint256)")
_FAILED_ADDRESS = "0x" + "ff" * 20  # the reader's FAILED, as an address
_PIPS = 1e6


class V2Curve:
    """A V2 pair, one direction: `y = g*R_out*x / (R_in + g*x)`."""

    __slots__ = ("g", "k", "limit", "r_in")

    def __init__(self, state: V2PairState, token_in: str) -> None:
        r_in, r_out = state.reserves_for(token_in)
        self.g = (FEE_DENOMINATOR - state.fee_pips) / FEE_DENOMINATOR
        self.r_in = float(r_in)
        self.k = self.g * float(r_out)
        self.limit = math.inf if r_in > 0 and r_out > 0 else 0.0

    def at(self, x: float) -> Point | None:
        if x > self.limit:
            return None
        den = self.r_in + self.g * x
        if den <= 0.0:
            return 0.0, 0.0, 0.0
        d1 = self.k * self.r_in / (den * den)
        return self.k * x / den, d1, -2.0 * self.g * d1 / den


def _pair(state: PoolState) -> V2PairState:
    if not isinstance(state, V2PairState):
        raise FlasharbValueError(f"pool {state.uid}: not a V2-style pair")
    return state


@dataclass(frozen=True, slots=True, kw_only=True)
class UniswapV2(BaseVenue):
    """A Uniswap-V2-style factory's pairs, at one swap fee."""

    factory: str
    fee: int = 3000  # pips: 0.30% on Uniswap V2 and SushiSwap

    hop_kind: ClassVar[HopKind | None] = HopKind.UNISWAP_V2
    gas_per_hop: ClassVar[int] = 49_168  # pair.swap and its transfer out (GasModel fit)
    hop_bytes: ClassVar[int] = 22
    state_types: ClassVar[tuple[type, ...]] = (V2PairState,)
    reader: ClassVar[str] = "UniswapV2Reader"
    read_gas_estimate: ClassVar[int] = 9_000  # cold pair + getReserves (one cold slot)

    def __post_init__(self) -> None:
        object.__setattr__(self, "factory", checksum_address(self.factory))
        if not 0 <= self.fee < FEE_DENOMINATOR:
            raise FlasharbValueError(f"venue {self.name}: fee {self.fee} pips is not in [0, 1e6)")

    # ------------------------------------------------------------ discovery

    def creation(self) -> tuple[tuple[str, ...], tuple[bytes, ...]]:
        return (self.factory,), (PAIR_CREATED,)

    def enumerate(self, scan: Scan, registry: PoolRegistry) -> list[PoolInfo]:
        code = request(
            scan.w3, "eth_getCode", [self.factory, block_param(scan.block)], "factory code"
        )
        if len(code) <= 2:
            registry.absent[self.name] = f"factory {self.factory} has no code at block {scan.block}"
            return []
        rows: list[tuple[str, str, str]] = []
        start, total = 0, 1
        while start < total:
            end = start + scan.pairs_per_call
            data = _V2_PAIRS + encode(["address", "uint256", "uint256"], [self.factory, start, end])
            raw = call_reader(scan.w3, self.reader, data, scan.block)
            total, pairs, t0s, t1s = decode(["uint256", "address[]", "address[]", "address[]"], raw)
            rows.extend(zip(pairs, t0s, t1s, strict=True))
            start = end
        return self._infos(registry, rows)

    def created(self, scan: Scan, registry: PoolRegistry, logs: Sequence[RawLog]) -> list[PoolInfo]:
        rows = [
            (word_address(log.data[:32]), word_address(log.topics[1]), word_address(log.topics[2]))
            for log in logs
            if log.topics[0] == PAIR_CREATED and len(log.topics) == 3 and len(log.data) >= 32
        ]
        return self._infos(registry, rows)

    def _infos(
        self, registry: PoolRegistry, rows: Iterable[tuple[str, str, str]]
    ) -> list[PoolInfo]:
        out = []
        for pair, t0, t1 in rows:
            address = checksum_address(pair)
            if _FAILED_ADDRESS in (t0.lower(), t1.lower()):
                registry.skip(address, f"{self.name} pair {address}: token0() or token1() failed")
                continue
            out.append(
                PoolInfo(
                    address=address,
                    venue=self.name,
                    kind=self.hop_kind,
                    tokens=(checksum_address(t0), checksum_address(t1)),
                    decimals=(),
                    fee=self.fee,
                    source=self.factory,
                )
            )
        return out

    def identify(self, scan: Scan, uid: str) -> RawLog | None:
        w3 = scan.w3

        def call(to: str, data: bytes) -> bytes:
            try:
                out = request(
                    w3,
                    "eth_call",
                    [{"to": to, "data": "0x" + data.hex()}, block_param(scan.block)],
                    "probe",
                )
            except Exception:  # noqa: BLE001 - a revert means "not this kind of pool"
                return b""
            return bytes.fromhex(str(out).removeprefix("0x"))

        got = call(uid, selector("factory()"))
        if len(got) < 32 or word_address(got[:32]) != self.factory:
            return None
        t0, t1 = call(uid, selector("token0()")), call(uid, selector("token1()"))
        if len(t0) < 32 or len(t1) < 32:
            return None
        a, b = word_address(t0[:32]), word_address(t1[:32])
        pair = call(
            self.factory, selector("getPair(address,address)") + encode(["address"] * 2, [a, b])
        )
        if pair[12:32] != bytes.fromhex(uid[2:]):
            return None  # a contract that names the factory, which does not know it
        data = address_word(uid) + bytes(32)
        return RawLog(
            address=self.factory,
            topics=(PAIR_CREATED, address_word(a), address_word(b)),
            data=data,
            block=scan.block,
            index=0,
        )

    # ------------------------------------------------------------ read

    def read_entry(self, info: PoolInfo, config: ReadConfig) -> bytes:
        return bytes.fromhex(info.address[2:])

    def read_gas(self, info: PoolInfo, config: ReadConfig, ticks: int | None) -> int:
        return self.read_gas_estimate

    def decode(
        self, mv: memoryview, i: int, info: PoolInfo, ctx: ReadContext
    ) -> tuple[int, PoolState | str]:
        fb = int.from_bytes
        state = V2PairState(
            address=info.address,
            token0=info.tokens[0],
            token1=info.tokens[1],
            reserve0=fb(mv[i : i + 14], "big"),
            reserve1=fb(mv[i + 14 : i + 28], "big"),
            fee_pips=info.fee,
            venue=info.venue,
        )
        return i + 28, state

    def read_failure(self, info: PoolInfo, config: ReadConfig, step: int) -> str:
        return "getReserves() reverted or did not return two uint112 reserves"

    # ------------------------------------------------------------ sync

    def watches(self) -> tuple[Watch, ...]:
        return (Watch(SYNC),)

    # ------------------------------------------------------------ search

    def fee_pips(self, state: PoolState) -> int:
        return _pair(state).fee_pips

    def _hop_fields(self, state: PoolState) -> tuple[bytes, int]:
        return b"", v2_factory(state.venue)

    def encode_hop(self, hop: Hop) -> bytes:
        if not 0 <= hop.factory < len(V2_FACTORY_VENUES):
            raise FlasharbValueError(
                f"V2 hop via {hop.pool}: factory index {hop.factory} is not one the diamond "
                f"trades ({', '.join(V2_FACTORY_VENUES)}); cut in a facet with that factory"
            )
        return b"\x00" + bytes((hop.factory,)) + bytes.fromhex(hop.token_out[2:])

    def edge_params(self, state: PoolState, token_in: str, token_out: str) -> tuple[float, float]:
        pair = _pair(state)
        if token_in == pair.token0:
            r_in, r_out = float(pair.reserve0), float(pair.reserve1)
        else:
            r_in, r_out = float(pair.reserve1), float(pair.reserve0)
        if r_in <= 0.0 or r_out <= 0.0:
            return 0.0, 0.0
        g = 1.0 - pair.fee_pips / _PIPS
        return g * r_out / r_in, g / r_in

    def curve(self, state: PoolState, token_in: str, token_out: str) -> V2Curve:
        return V2Curve(_pair(state), token_in)

    def weth_quotes(self, state: PoolState, weth: str) -> Iterable[tuple[str, int, int, int]]:
        pair = _pair(state)
        if weth in (pair.token0, pair.token1):
            reserve_weth, reserve_token = pair.reserves_for(weth)
            if reserve_weth > 0 and reserve_token > 0:
                yield pair.other(weth), reserve_weth, reserve_token, reserve_weth

    def reserves(self, state: PoolState) -> tuple[tuple[str, int], ...]:
        pair = _pair(state)
        return ((pair.token0, pair.reserve0), (pair.token1, pair.reserve1))

    # ------------------------------------------------------------ lending

    def lenders(
        self,
        states: Sequence[PoolState],
        tokens: frozenset[str],
        reads: Mapping[tuple[str, bytes], bytes],
    ) -> Iterable[tuple[str, tuple[object, ...], Lender]]:
        """Every pair of a factory the facet has (it derives the lender from it) lends its
        reserve of a token, less the 1 wei a flash swap must leave."""
        for state in states:
            pair = _pair(state)
            index = v2_factory(pair.venue)
            if index < 0:
                continue
            for token in pair.tokens:
                reserve = pair.reserves_for(token)[0]
                if token in tokens and reserve > 1:
                    other = pair.token1 if token == pair.token0 else pair.token0
                    src = FlashSource.uniswap_v2(
                        pair.address,
                        token0=token == pair.token0,
                        fee_pips=pair.fee_pips,
                        other=other,
                        factory=index,
                    )
                    key = (2, pair.fee_pips, -reserve, pair.address.lower())
                    yield token, key, Lender(source=src, capacity=reserve - 1)


UNISWAP_V2 = UniswapV2(name="uniswap_v2", factory=A.UNISWAP_V2_FACTORY)
SUSHISWAP = UniswapV2(name="sushiswap", factory=A.SUSHISWAP_FACTORY)


PRIORITY = 50  # discovered, read and listed first
VENUES = (UNISWAP_V2, SUSHISWAP)
