"""A route as FlashArbFacet reads it: LibRoute's packed path and amounts, and the exact
`executeArb` calldata around them.

The search needs these bytes (their calldata gas is part of the one gas model) and the planner
sends them, so the encoding lives here, once; each hop is packed by its venue
(`flasharb.search.venue.Venue.encode_hop`, in `flasharb.venues`):

    path    = token (20) | hop_0 | ... | hop_{n-1}
    V2 hop  = KIND_UNISWAP_V2 (1) | factory (1) | tokenOut (20)  pair = CREATE2(factory, tokens)
    V3 hop  = KIND_UNISWAP_V3 (1) | tokenOut (20) | fee (3)      pool = CREATE2(tokens, fee)
    Bal hop = KIND_BALANCER (1)   | poolId (32) | tokenOut (20)
    V4 hop  = KIND_UNISWAP_V4 (1) | tokenOut (20) | fee (3) | tickSpacing (3) | native (1)
    amounts = amountIn (16) | out_0 (16) | ... | out_{n-1} (16)  uint128 each, big-endian
    terms   = bribeBps << 240 | loss << 128 | deadlineBlock        one word of executeArb's

No pool is named by address: the facet derives V3 pools from the Uniswap V3 factory and V2
pairs from the factory a V2 hop indexes (`V2_FACTORY_VENUES`: 0 Uniswap V2, 1 SushiSwap), so a
route cannot pay a contract the executor wrote (issue 14). The capital source word names a V3
or V2 lender by its other token the same way (`FlashSource.word`). A V4 hop names its pool by
the PoolKey's fee and tick spacing; the facet builds the key with no hooks, so only a hookless
pool can be traded (`v4_pool_key`), and `native` picks the pool whose WETH side is native ETH.

ref: contracts/libraries/LibRoute.sol (the format and its bounds), contracts/facets/
FlashArbFacet.sol `executeArb()`, its arguments packed after the selector (`pack_execute_arb`).
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, keccak

from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.chain import addresses as A
from flasharb.chain.uniswap_v4 import NATIVE, PoolKey
from flasharb.errors import FlasharbValueError
from flasharb.search.cycles import Cycle, Hop
from flasharb.search.graph import V2_FACTORY_VENUES
from flasharb.search.venue import venue_for_hop

__all__ = [
    "BPS",
    "EXECUTE_ARB",
    "MAX_AMOUNT_IN",
    "MAX_ROUTE_HOPS",
    "V2_FACTORY_VENUES",
    "encode_amounts",
    "encode_path",
    "execute_arb_calldata",
    "pack_execute_arb",
    "terms",
    "v2_pair_address",
    "v3_pool_address",
    "v4_pool_key",
]

MAX_ROUTE_HOPS = 4  # LibRoute.MAX_HOPS
MAX_AMOUNT_IN = 2**112 - 1  # LibRoute.MAX_AMOUNT_IN
EXECUTE_ARB = function_signature_to_4byte_selector("executeArb()")  # the arguments follow, packed
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


def encode_path(cycle: Cycle) -> bytes:
    """LibRoute's packed path of `cycle`: the route token, then each hop as its venue packs it
    (`Hop.packed`, or the venue of its kind packs it from its fields: a V3 hop's pool is derived
    on-chain from its tokens and fee, so it must be the canonical factory's pool; a V2 hop's
    pair from its tokens and the factory it indexes; a Balancer hop carries its pool id).

    A V4 hop's pool is the hookless key of its tokens, fee and spacing (`v4_pool_key`); its
    `pool_id` must be that key's id, so a hop read from a pool with hooks (another id) is refused
    here, as the facet could never reach it.

    Raises:
        FlasharbValueError: too many hops, or a hop its venue cannot pack (a V3 hop off the
            canonical factory, a V2 hop of a venue the facet has no factory for, a Balancer
            hop without its 32-byte pool id, a V4 hop whose pool id is not the hookless key's
            or whose fee or spacing is out of range, a hop of a venue the facet has no hop for).
    """
    if not 1 <= len(cycle.hops) <= MAX_ROUTE_HOPS:
        raise FlasharbValueError(
            f"FlashArbFacet runs 1 to {MAX_ROUTE_HOPS} hops, not {len(cycle.hops)}"
        )
    out = bytearray(bytes.fromhex(cycle.token[2:]))
    for hop in cycle.hops:
        out += hop.packed or venue_for_hop(hop.kind).encode_hop(hop)
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
    """`executeArb()` and its packed arguments (`pack_execute_arb`); `terms` packs the deadline,
    the share of the profit paid to block.coinbase and the loss the trade may take (`terms`)."""
    word = terms(deadline_block, bribe_bps, loss_allowance)
    return pack_execute_arb(source_word, path, amounts, min_profit, word)


def pack_execute_arb(
    source_word: int, path: bytes, amounts: bytes, min_profit: int, terms_word: int
) -> bytes:
    """The calldata of `executeArb()`: the selector, then its arguments packed, no ABI head,
    offsets, length words or padding (FlashArbFacet ARGS_*):

        source (32) | minProfit (32) | terms (32) | len(path) (1) | path | amounts

    The amounts are the rest of the calldata. `terms_word` is taken as given (`terms` builds it).

    Raises:
        FlasharbValueError: a word outside uint256, a path of 256 bytes or more.
    """
    for name, value in (("source", source_word), ("minProfit", min_profit), ("terms", terms_word)):
        if not 0 <= value < _WORD:
            raise FlasharbValueError(f"{name} {value} is not a uint256")
    if len(path) > 0xFF:
        raise FlasharbValueError(f"a path is at most 255 bytes, not {len(path)}")
    return b"".join(
        (
            EXECUTE_ARB,
            source_word.to_bytes(32, "big"),
            min_profit.to_bytes(32, "big"),
            terms_word.to_bytes(32, "big"),
            bytes((len(path),)),
            path,
            amounts,
        )
    )
