"""The exception a ported v4-core function raises where the Solidity reverts."""

from __future__ import annotations

from flasharb.errors import FlasharbValueError

__all__ = ["V4Revert"]


class V4Revert(FlasharbValueError):
    """A v4-core revert: `error` is the custom error's name ("PriceLimitAlreadyExceeded",
    "SwapAmountCannotBeZero", ...), or "" for one of the libraries' arithmetic reverts
    (SqrtPriceMath's PriceOverflow / NotEnoughLiquidity, SafeCast, a checked overflow) that the
    shared v3 ports report in v3's terms."""

    def __init__(self, error: str, detail: str) -> None:
        self.error = error
        super().__init__(f"PoolManager.swap reverts {error or '(arithmetic)'}: {detail}")
