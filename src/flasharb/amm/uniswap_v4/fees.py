"""A v4 pool's swap fee: the LP fee and the protocol fee, composed.

Fees are in pips (hundredths of a bip, 1e6 = 100%). The LP fee is the pool's (`slot0.lpFee`; the
key's fee for a static-fee pool); the protocol fee holds one 12-bit fee per direction (at most
1000 pips = 0.1%), set by the PoolManager's protocol fee controller. The swap takes the
protocol fee from the input first and the LP fee from what is left.

ref: v4-core src/libraries/ProtocolFeeLibrary.sol, src/libraries/LPFeeLibrary.sol
"""

from __future__ import annotations

from flasharb.errors import FlasharbValueError

__all__ = [
    "DYNAMIC_FEE_FLAG",
    "MAX_LP_FEE",
    "MAX_PROTOCOL_FEE",
    "PIPS",
    "calculate_swap_fee",
    "directional_protocol_fee",
]

PIPS = 1_000_000  # ProtocolFeeLibrary.PIPS_DENOMINATOR, SwapMath.MAX_SWAP_FEE
MAX_LP_FEE = 1_000_000  # LPFeeLibrary.MAX_LP_FEE
MAX_PROTOCOL_FEE = 1000  # ProtocolFeeLibrary.MAX_PROTOCOL_FEE: 0.1% per direction
DYNAMIC_FEE_FLAG = 0x800000  # LPFeeLibrary.DYNAMIC_FEE_FLAG: the key's fee of a dynamic-fee pool


def directional_protocol_fee(protocol_fee: int, zero_for_one: bool) -> int:
    """ref: ProtocolFeeLibrary.sol `getZeroForOneFee` (low 12 bits) / `getOneForZeroFee`
    (the 12 bits above)."""
    return protocol_fee & 0xFFF if zero_for_one else protocol_fee >> 12


def calculate_swap_fee(protocol_fee: int, lp_fee: int) -> int:
    """protocolFee + lpFee - protocolFee * lpFee / 1e6 (floored): the fee on the whole input.

    ref: ProtocolFeeLibrary.sol `calculateSwapFee` (inputs masked to 12 and 24 bits, as the
    assembly does); Pool.sol `swap` uses the LP fee alone when the protocol fee is 0.
    """
    if not 0 <= lp_fee <= MAX_LP_FEE:
        raise FlasharbValueError(f"LP fee {lp_fee} pips is not in [0, {MAX_LP_FEE}]")
    p, f = protocol_fee & 0xFFF, lp_fee & 0xFFFFFF
    if p == 0:
        return lp_fee
    return p + f - p * f // PIPS
