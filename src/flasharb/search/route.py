"""A route as FlashArbFacet reads it: LibRoute's packed path and amounts, and the exact
`executeArb` calldata around them.

The search needs these bytes (their calldata gas is part of the one gas model) and the planner
sends them, so the encoding lives here, once:

    path    = token (20) | hop_0 | ... | hop_{n-1}
    V2 hop  = KIND_UNISWAP_V2 (1) | factory (1) | tokenOut (20)  pair = CREATE2(factory, tokens)
    V3 hop  = KIND_UNISWAP_V3 (1) | tokenOut (20) | fee (3)      pool = CREATE2(tokens, fee)
    Bal hop = KIND_BALANCER (1)   | poolId (32) | tokenOut (20)
    V4 hop  = KIND_UNISWAP_V4 (1) | tokenOut (20) | fee (3) | tickSpacing (3) | native (1)
    amounts = amountIn (16) | out_0 (16) | ... | out_{n-1} (16)  uint128 each, big-endian
    terms   = bribeBps << 240 | deadlineBlock                     executeArb's last word

No pool is named by address: the facet derives V3 pools from the Uniswap V3 factory and V2
pairs from the factory a V2 hop indexes (`V2_FACTORY_VENUES`: 0 Uniswap V2, 1 SushiSwap), so a
route cannot pay a contract the executor wrote (issue 14). The capital source word names a V3
or V2 lender by its other token the same way (`FlashSource.word`). A V4 hop names its pool by
the PoolKey's fee and tick spacing; the facet builds the key with no hooks, so only a hookless
pool can be traded (`v4_pool_key`), and `native` picks the pool whose WETH side is native ETH.

ref: contracts/libraries/LibRoute.sol (the format and its bounds), contracts/facets/
FlashArbFacet.sol `executeArb(uint256 source, bytes path, bytes amounts, uint256 minProfit,
uint256 terms)`.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, keccak

from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.chain import addresses as A
from flasharb.chain.uniswap_v4 import NATIVE, PoolKey
from flasharb.errors import FlasharbValueError
from flasharb.kinds import HopKind
from flasharb.search.cycles import Cycle, Hop
from flasharb.search.graph import V2_FACTORY_VENUES

__all__ = [
    "BPS",
    "EXECUTE_ARB",
    "MAX_AMOUNT_IN",
    "MAX_ROUTE_HOPS",
    "V2_FACTORY_VENUES",
    "encode_amounts",
    "encode_path",
    "execute_arb_calldata",
    "terms",
    "v2_pair_address",
    "v3_pool_address",
    "v4_pool_key",
    "v4_zero_for_one",
]

MAX_ROUTE_HOPS = 4  # LibRoute.MAX_HOPS
MAX_AMOUNT_IN = 2**112 - 1  # LibRoute.MAX_AMOUNT_IN
EXECUTE_ARB = function_signature_to_4byte_selector(
    "executeArb(uint256,bytes,bytes,uint256,uint256)"
)
BPS = 10_000  # basis points in a whole: the most a bribe may be
_BRIBE_SHIFT = 240  # FlashArbFacet.BRIBE_SHIFT: terms = bribeBps << 240 | loss << 128 | deadline
_LOSS_SHIFT = 128  # FlashArbFacet.LOSS_SHIFT: the loss allowance, 112 bits, above the deadline
_WORD = 2**256


def v3_pool_address(token_a: str, token_b: str, fee: int) -> str:
    """The canonical Uniswap V3 pool (v3-periphery PoolAddress.computeAddress)."""
    t0, t1 = sorted((token_a, token_b), key=lambda t: int(t, 16))
    salt = keccak(encode(["address", "address", "uint24"], [t0, t1, fee]))
    factory = bytes.fromhex(A.UNISWAP_V3_FACTORY[2:])
    raw = keccak(b"\xff" + factory + salt + A.UNISWAP_V3_POOL_INIT_CODE_HASH)
    return checksum_address("0x" + raw[12:].hex())


def v2_pair_address(factory: str, pair_code_hash: bytes, token_a: str, token_b: str) -> str:
    """The pair `factory` deploys for the two tokens (v2-periphery UniswapV2Library.pairFor;
    FlashArbFacet's LibUniswapV2.pairFor): CREATE2 over keccak(token0 | token1)."""
    t0, t1 = sorted((token_a, token_b), key=lambda t: int(t, 16))
    salt = keccak(bytes.fromhex(t0[2:]) + bytes.fromhex(t1[2:]))
    raw = keccak(b"\xff" + bytes.fromhex(factory[2:]) + salt + pair_code_hash)
    return checksum_address("0x" + raw[12:].hex())


def v4_pool_key(hop: Hop) -> PoolKey:
    """The PoolKey FlashArbFacet builds for a V4 hop: the hop's two tokens (WETH as native ETH
    when `hop.native`), its fee and tick spacing, no hooks (LibUniswapV4).

    Raises:
        FlasharbValueError: a native hop without WETH on either side.
    """
    t_in, t_out = checksum_address(hop.token_in), checksum_address(hop.token_out)
    if hop.native:
        if A.WETH not in (t_in, t_out):
            raise FlasharbValueError(
                f"V4 hop {t_in} -> {t_out} is flagged native but neither side is WETH"
            )
        t_in, t_out = (NATIVE if t == A.WETH else t for t in (t_in, t_out))
    c0, c1 = sorted((t_in, t_out), key=lambda t: int(t, 16))
    return PoolKey(currency0=c0, currency1=c1, fee=hop.fee_pips, tick_spacing=hop.tick_spacing)


def v4_zero_for_one(hop: Hop) -> bool:
    """Whether the V4 hop sells its pool's currency0 (native ETH, when `hop.native`, sorts
    first), as FlashArbFacet's LibUniswapV4.swap decides."""
    t_in, t_out = checksum_address(hop.token_in), checksum_address(hop.token_out)
    if hop.native and t_in == A.WETH:
        return True
    if hop.native and t_out == A.WETH:
        return False
    return int(t_in, 16) < int(t_out, 16)


def encode_path(cycle: Cycle) -> bytes:
    """LibRoute's packed path of `cycle`. A V3 hop's pool is derived on-chain from its tokens
    and fee, so it must be the canonical factory's pool; a V2 hop's pair from its tokens and
    the factory it indexes (`Hop.factory`); a Balancer hop carries its pool id.

    A V4 hop's pool is the hookless key of its tokens, fee and spacing (`v4_pool_key`); its
    `pool_id` must be that key's id, so a hop read from a pool with hooks (another id) is refused
    here, as the facet could never reach it.

    Raises:
        FlasharbValueError: too many hops, a V3 hop off the canonical factory, a V2 hop of a
            venue the facet has no factory for, a Balancer hop without its 32-byte pool id, a
            V4 hop whose pool id is not the hookless key's or whose fee or spacing is out of
            range.
    """
    if not 1 <= len(cycle.hops) <= MAX_ROUTE_HOPS:
        raise FlasharbValueError(
            f"FlashArbFacet runs 1 to {MAX_ROUTE_HOPS} hops, not {len(cycle.hops)}"
        )
    out = bytearray(bytes.fromhex(cycle.token[2:]))
    for hop in cycle.hops:
        token_out = bytes.fromhex(hop.token_out[2:])
        if hop.kind is HopKind.UNISWAP_V2:
            if not 0 <= hop.factory < len(V2_FACTORY_VENUES):
                raise FlasharbValueError(
                    f"V2 hop via {hop.pool}: factory index {hop.factory} is not one the diamond "
                    f"trades ({', '.join(V2_FACTORY_VENUES)}); cut in a facet with that factory"
                )
            out += b"\x00" + bytes((hop.factory,)) + token_out
        elif hop.kind is HopKind.UNISWAP_V3:
            canonical = v3_pool_address(hop.token_in, hop.token_out, hop.fee_pips)
            if canonical != checksum_address(hop.pool):
                raise FlasharbValueError(
                    f"V3 hop via {hop.pool} is not the Uniswap V3 factory's pool for "
                    f"{hop.token_in}/{hop.token_out} at fee {hop.fee_pips} ({canonical})"
                )
            out += b"\x01" + token_out + hop.fee_pips.to_bytes(3, "big")
        elif hop.kind is HopKind.BALANCER:
            if len(hop.pool_id) != 32:
                raise FlasharbValueError(f"Balancer hop via {hop.pool}: no 32-byte pool id")
            out += b"\x02" + hop.pool_id + token_out
        elif hop.kind is HopKind.UNISWAP_V4:
            key = v4_pool_key(hop)
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
            out += (
                b"\x03"
                + token_out
                + hop.fee_pips.to_bytes(3, "big")
                + hop.tick_spacing.to_bytes(3, "big")
                + bytes((int(hop.native),))
            )
        else:  # pragma: no cover - HopKind has no other member
            raise FlasharbValueError(f"hop kind {hop.kind!r} is not executable ({hop.pool})")
    return bytes(out)


def encode_amounts(amount_in: int, amounts_out: Sequence[int]) -> bytes:
    """amountIn then each hop's output, uint128 big-endian each."""
    if not 0 < amount_in <= MAX_AMOUNT_IN:
        raise FlasharbValueError(f"amount_in must be in (0, 2^112), got {amount_in}")
    out = bytearray(amount_in.to_bytes(16, "big"))
    for a in amounts_out:
        if not 0 < a < 2**128:
            raise FlasharbValueError(f"hop output {a} is not a positive uint128")
        out += a.to_bytes(16, "big")
    return bytes(out)


def _padded(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 32)


def terms(deadline_block: int, bribe_bps: int = 0, loss_allowance: int = 0) -> int:
    """executeArb's last word: `bribe_bps << 240 | loss_allowance << 128 | deadline_block`
    (FlashArbFacet `terms`). `loss_allowance` is the most the trade may lower the diamond's
    balance of the route token (0, the usual: it must not lose; above 0 it replaces the profit
    floor and must be within the owner's maximum loss for the token, ChildFacet.setMaxLoss).

    Raises:
        FlasharbValueError: a deadline of 2^128 or more, a bribe outside 0..10,000 bps, a loss
            allowance of 2^112 or more.
    """
    if not 0 <= deadline_block < 1 << _LOSS_SHIFT:
        raise FlasharbValueError(f"deadlineBlock {deadline_block} is not below 2^128")
    if not 0 <= bribe_bps <= BPS:
        raise FlasharbValueError(f"bribe must be 0..{BPS} basis points of the profit: {bribe_bps}")
    if not 0 <= loss_allowance <= MAX_AMOUNT_IN:
        raise FlasharbValueError(f"loss allowance {loss_allowance} is not in 0..2^112 - 1")
    return bribe_bps << _BRIBE_SHIFT | loss_allowance << _LOSS_SHIFT | deadline_block


def execute_arb_calldata(
    source_word: int,
    path: bytes,
    amounts: bytes,
    min_profit: int,
    deadline_block: int,
    bribe_bps: int = 0,
    loss_allowance: int = 0,
) -> bytes:
    """`executeArb(source, path, amounts, minProfit, terms)`, ABI-encoded by hand (the layout is
    fixed: five head words, then the two byte strings); `terms` packs the deadline, the share of
    the profit paid to block.coinbase and the loss the trade may take (`terms`)."""
    for name, value in (("source", source_word), ("minProfit", min_profit)):
        if not 0 <= value < _WORD:
            raise FlasharbValueError(f"{name} {value} is not a uint256")
    word = terms(deadline_block, bribe_bps, loss_allowance)
    path_offset = 5 * 32
    amounts_offset = path_offset + 32 + len(_padded(path))
    return b"".join(
        (
            EXECUTE_ARB,
            source_word.to_bytes(32, "big"),
            path_offset.to_bytes(32, "big"),
            amounts_offset.to_bytes(32, "big"),
            min_profit.to_bytes(32, "big"),
            word.to_bytes(32, "big"),
            len(path).to_bytes(32, "big"),
            _padded(path),
            len(amounts).to_bytes(32, "big"),
            _padded(amounts),
        )
    )
