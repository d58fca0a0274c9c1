"""One exception root for flasharb; the CLI catches it and prints one line."""

from __future__ import annotations


class FlasharbError(Exception):
    """Root of every error flasharb raises on purpose."""


class FlasharbValueError(FlasharbError, ValueError):
    """Bad input: a wrong address, an unknown token, an amount out of range."""


class FlasharbRuntimeError(FlasharbError, RuntimeError):
    """Something in the environment failed: a node, a toolchain piece, a transaction."""


class NoNodeError(FlasharbRuntimeError):
    """No chain to talk to."""

    def __init__(self, detail: str = "") -> None:
        msg = (
            "no running fork found (.flasharb/node.json or FLASHARB_RPC_URL); "
            "start one with 'flasharb node up'"
        )
        super().__init__(f"{msg}{': ' + detail if detail else ''}")


class ToolchainError(FlasharbRuntimeError):
    """A pinned tool (anvil, solc shim, node package) is missing."""

    def __init__(self, what: str, path: str) -> None:
        super().__init__(f"{what} not found at {path}; run 'make setup'")


class InsufficientLiquidityError(FlasharbValueError):
    """A swap asks for more than a pool can give (Solidity reverts here)."""


class TransactionFailed(FlasharbRuntimeError):
    """A transaction or eth_call reverted."""

    def __init__(self, what: str, reason: str) -> None:
        self.reason = reason
        super().__init__(f"{what} reverted: {reason}")


class IncompleteStateError(FlasharbRuntimeError):
    """A quote needs pool state that was not read (e.g. a V3 tick-bitmap word outside the window
    read around the current price); re-read the pool with a wider window."""
