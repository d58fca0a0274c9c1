"""What one executeArb is: the capital source (`FlashSource`), LibRoute's packed path and
amounts, and the `Plan` that carries them.

A plan is everything the contract needs and nothing it has to recompute: the packed path (the
route token, then per hop its kind, pool and token out; ref: contracts/libraries/LibRoute.sol),
the exact output of every hop computed here with the pool math of `flasharb.amm` (the contract
asks each V2 pair for exactly that amount, so the pair's own k check guards it, and reverts
when a V3 or Balancer hop pays less), and the capital source (`FlashSource`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from eth_abi import encode
from eth_utils import keccak

from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.chain import addresses as A
from flasharb.errors import FlasharbValueError
from flasharb.search.cycles import Cycle

__all__ = [
    "FEE_DENOMINATOR",
    "HOP_KIND",
    "MAX_AMOUNT_IN",
    "MAX_HOPS",
    "ONE_18",
    "SOURCE_KIND",
    "ZERO_ADDRESS",
    "FlashSource",
    "Plan",
    "encode_amounts",
    "encode_path",
    "v3_pool_address",
]

HOP_KIND = {"uniswap_v2": 0, "uniswap_v3": 1, "balancer": 2}  # LibRoute.KIND_*
SOURCE_KIND = {"balancer_v2": 0, "uniswap_v3": 1, "uniswap_v2": 2, "inventory": 3}  # FlashArbFacet
ZERO_ADDRESS = "0x" + "00" * 20
MAX_HOPS = 4  # LibRoute.MAX_HOPS
MAX_AMOUNT_IN = 2**112 - 1  # LibRoute.MAX_AMOUNT_IN
FEE_DENOMINATOR = 1_000_000  # pips
ONE_18 = 10**18  # Balancer fixed point


# ---------------------------------------------------------------- capital sources


@dataclass(frozen=True, slots=True, kw_only=True)
class FlashSource:
    """Where the borrowed amount comes from, and what it costs.

    balancer_v2: the Vault's flashLoan (fee: the Vault's flash fee, 0 on mainnet); never with a
    Balancer hop (the Vault's reentrancy guard reverts BAL#400). uniswap_v3: `lender`.flash (fee:
    the pool's tier, rounded up). uniswap_v2: a flash swap from pair `lender` (repay
    ceil(amount * 1e6 / (1e6 - fee))). inventory: the diamond's own balance, no loan.
    A lender may not be a pool of the route (it is locked while it lends).
    """

    kind: str = "balancer_v2"
    lender: str = ZERO_ADDRESS  # the V3 pool or V2 pair; unused for balancer_v2 and inventory
    token0: bool = False  # the borrowed token is the lender's token0
    fee_pips: int = 0  # the lender's fee: V3 fee tier, V2 pair fee (hundredths of a bip)

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KIND:
            raise FlasharbValueError(
                f"flash source {self.kind!r} is not one of {', '.join(SOURCE_KIND)}"
            )
        object.__setattr__(self, "lender", checksum_address(self.lender))
        if self.kind in ("uniswap_v3", "uniswap_v2") and self.lender == ZERO_ADDRESS:
            raise FlasharbValueError(f"a {self.kind} flash source needs the lender's address")
        if not 0 <= self.fee_pips < FEE_DENOMINATOR:
            raise FlasharbValueError(f"lender fee must be in [0, 1e6) pips, got {self.fee_pips}")

    @classmethod
    def balancer(cls) -> FlashSource:
        """A Balancer V2 Vault flash loan."""
        return cls(kind="balancer_v2")

    @classmethod
    def inventory(cls) -> FlashSource:
        """The diamond's own balance."""
        return cls(kind="inventory")

    @classmethod
    def uniswap_v3(cls, pool: str, token: str, other: str, fee_pips: int) -> FlashSource:
        """A flash loan of `token` from the V3 `pool` of `token`/`other` at `fee_pips`."""
        return cls(kind="uniswap_v3", lender=pool, token0=_lt(token, other), fee_pips=fee_pips)

    @classmethod
    def uniswap_v2(cls, pair: str, token: str, other: str, fee_pips: int = 3000) -> FlashSource:
        """A flash swap of `token` from the V2-style `pair` of `token`/`other`."""
        return cls(kind="uniswap_v2", lender=pair, token0=_lt(token, other), fee_pips=fee_pips)

    @property
    def word(self) -> int:
        """executeArb's `source`: kind << 248 | token0 << 184 | V2 fee << 160 | lender."""
        return (
            SOURCE_KIND[self.kind] << 248
            | int(self.token0) << 184
            | (self.fee_pips if self.kind == "uniswap_v2" else 0) << 160
            | int(self.lender, 16)
        )

    def fee(self, amount: int, balancer_fee: int = 0) -> int:
        """What the loan of `amount` costs on top of the amount, exactly as the lender computes it.

        ref: Balancer Fees.sol `_calculateFlashLoanFeeAmount` (FixedPoint.mulUp, 1e18 scale:
        `balancer_fee`); UniswapV3Pool.sol `flash` (FullMath.mulDivRoundingUp(amount, fee,
        1e6)); UniswapV2Pair.sol `swap` k check (see LibUniswapV2.flashRepayment).
        """
        if self.kind == "balancer_v2":
            product = amount * balancer_fee
            return 0 if product == 0 else (product - 1) // ONE_18 + 1
        if self.kind == "uniswap_v3":
            return -(-amount * self.fee_pips // FEE_DENOMINATOR)
        if self.kind == "uniswap_v2":
            kept = FEE_DENOMINATOR - self.fee_pips
            return -(-amount * FEE_DENOMINATOR // kept) - amount
        return 0

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "lender": self.lender}


def _lt(a: str, b: str) -> bool:
    return int(a, 16) < int(b, 16)


# ---------------------------------------------------------------- route encoding


def v3_pool_address(token_a: str, token_b: str, fee: int) -> str:
    """The canonical Uniswap V3 pool (v3-periphery PoolAddress.computeAddress)."""
    t0, t1 = sorted((token_a, token_b), key=lambda t: int(t, 16))
    salt = keccak(encode(["address", "address", "uint24"], [t0, t1, fee]))
    factory = bytes.fromhex(A.UNISWAP_V3_FACTORY[2:])
    raw = keccak(b"\xff" + factory + salt + A.UNISWAP_V3_POOL_INIT_CODE_HASH)
    return checksum_address("0x" + raw[12:].hex())


def encode_path(cycle: Cycle, pool_ids: Mapping[str, bytes] | None = None) -> bytes:
    """The packed path of LibRoute: token (20) then per hop kind (1) and
    V2: pair (20) | token_out (20); V3: token_out (20) | fee (3); Balancer: pool id (32) |
    token_out (20). A V3 hop's pool is derived on-chain from its tokens and fee, so it must be
    the canonical factory's pool; a Balancer hop needs the pool's id (`pool_ids`)."""
    if not 1 <= len(cycle.hops) <= MAX_HOPS:
        raise FlasharbValueError(f"FlashArbFacet runs 1 to {MAX_HOPS} hops, not {len(cycle.hops)}")
    out = bytes.fromhex(cycle.token[2:])
    for hop in cycle.hops:
        kind = HOP_KIND.get(hop.kind)
        if kind is None:
            raise FlasharbValueError(f"hop kind {hop.kind!r} is not executable (pool {hop.pool})")
        token_out = bytes.fromhex(hop.token_out[2:])
        if kind == 0:
            out += bytes([kind]) + bytes.fromhex(hop.pool[2:]) + token_out
        elif kind == 1:
            canonical = v3_pool_address(hop.token_in, hop.token_out, hop.fee_pips)
            if canonical != checksum_address(hop.pool):
                raise FlasharbValueError(
                    f"V3 hop via {hop.pool} is not the Uniswap V3 factory's pool for "
                    f"{hop.token_in}/{hop.token_out} at fee {hop.fee_pips} ({canonical})"
                )
            out += bytes([kind]) + token_out + hop.fee_pips.to_bytes(3, "big")
        else:
            pool_id = (pool_ids or {}).get(checksum_address(hop.pool))
            if pool_id is None or len(pool_id) != 32:
                raise FlasharbValueError(f"Balancer hop via {hop.pool}: give its 32-byte pool id")
            out += bytes([kind]) + pool_id + token_out
    return out


def encode_amounts(amount_in: int, amounts_out: Sequence[int]) -> bytes:
    """amountIn then each hop's output, uint128 big-endian each."""
    if not 0 < amount_in <= MAX_AMOUNT_IN:
        raise FlasharbValueError(f"amount_in must be in (0, 2^112), got {amount_in}")
    out = amount_in.to_bytes(16, "big")
    for a in amounts_out:
        if not 0 < a < 2**128:
            raise FlasharbValueError(f"hop output {a} is not a positive uint128")
        out += a.to_bytes(16, "big")
    return out


# ---------------------------------------------------------------- plans


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """One executeArb: the route, its exact amounts, the capital source and the prediction."""

    cycle: Cycle
    source: FlashSource
    amount_in: int
    amounts: tuple[int, ...]  # each hop's exact output; amounts[-1] comes back
    flash_fee: int  # owed to the lender on top of amount_in
    path: bytes  # LibRoute packed path
    packed_amounts: bytes  # LibRoute packed amounts
    ticks_crossed: int = 0  # initialized V3 ticks the V3 hops cross (each costs gas)

    @property
    def amount_out(self) -> int:
        return self.amounts[-1]

    @property
    def predicted_profit(self) -> int:
        """The diamond's gain in the route token: out - in - fee (may be negative)."""
        return self.amount_out - self.amount_in - self.flash_fee

    @property
    def loan_data(self) -> bytes:
        """What executeArb hands its lender: source | path length (words) | path | amounts."""
        return (
            self.source.word.to_bytes(32, "big")
            + len(self.path).to_bytes(32, "big")
            + self.path
            + self.packed_amounts
        )

    @property
    def route_hash(self) -> str:
        """keccak256(path): ArbExecuted's routeHash (pools and tokens, not amounts)."""
        return "0x" + keccak(self.path).hex()
