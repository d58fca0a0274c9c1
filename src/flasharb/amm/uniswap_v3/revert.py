"""The exception a ported v3-core function raises where the Solidity reverts."""

from __future__ import annotations

from flasharb.errors import FlasharbValueError

__all__ = ["V3Revert"]


class V3Revert(FlasharbValueError):
    """A v3-core `require` failed: `function` is the Solidity function, `reason` its revert
    string ("T", "R", "SPL", "AS", "LS", "LA", ...) or "" for a bare `require(...)`."""

    def __init__(self, function: str, reason: str, detail: str) -> None:
        self.function = function
        self.reason = reason
        shown = f"'{reason}'" if reason else "(no reason)"
        super().__init__(f"{function} reverts {shown}: {detail}")
