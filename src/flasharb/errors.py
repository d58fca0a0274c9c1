"""One exception root for flasharb; the CLI catches it and prints one line."""

from __future__ import annotations


class FlasharbError(Exception):
    """Root of every error flasharb raises on purpose."""

    exit_code = 1  # the CLI's exit status: 1 for a failure, 2 for input the user must change


class FlasharbValueError(FlasharbError, ValueError):
    """Bad input: a wrong address, an unknown token, an amount out of range."""

    exit_code = 2


class FlasharbRuntimeError(FlasharbError, RuntimeError):
    """Something in the environment failed: a node, a toolchain piece, a transaction."""


class NoNodeError(FlasharbRuntimeError):
    """No chain to talk to."""

    exit_code = 2  # the fix is the user's: start a node or point FLASHARB_RPC_URL at one

    def __init__(self, detail: str = "") -> None:
        if detail:
            msg = (
                f"{detail}; start a fork with 'flasharb node up' or fix --rpc-url/FLASHARB_RPC_URL"
            )
        else:
            msg = (
                "no running fork found (--rpc-url, FLASHARB_RPC_URL or .flasharb/node.json); "
                "start one with 'flasharb node up'"
            )
        super().__init__(msg)


class ToolchainError(FlasharbRuntimeError):
    """A pinned tool (anvil, solc shim, node package) is missing or broken."""

    exit_code = 2  # the fix is the user's: install the toolchain, or point flasharb at one

    def __init__(self, what: str, where: str = "", fix: str = "run 'flasharb setup'") -> None:
        at = f" ({where})" if where else ""
        super().__init__(f"{what}{at}; {fix}")


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


class RpcTimeoutError(FlasharbRuntimeError):
    """An RPC accepted the request but did not answer in time (a stalled node or proxy)."""

    def __init__(self, url: str, seconds: float, method: str = "") -> None:
        self.url = url
        what = f" {method}" if method else ""
        super().__init__(
            f"RPC at {url} did not answer{what} in {seconds:g} s; check the node "
            "('flasharb node down && flasharb node up') or raise FLASHARB_RPC_TIMEOUT"
        )


class NodeGoneError(NoNodeError):
    """The node stopped answering in the middle of a run (killed, crashed, connection dropped)."""

    def __init__(self, url: str, detail: str) -> None:
        self.url = url
        Exception.__init__(  # skip NoNodeError's message: this one names the URL and the cause
            self,
            f"RPC at {url} stopped answering ({detail}); nothing more was sent. "
            "Restart the lab with 'flasharb node down && flasharb node up'",
        )


class UpstreamGoneError(FlasharbRuntimeError):
    """The fork is up, but the upstream it forks from does not answer."""

    def __init__(self, url: str, detail: str) -> None:
        self.url = url
        super().__init__(
            f"the fork at {url} cannot reach its upstream ({detail}); nothing was sent. "
            "Restart the lab with 'flasharb node down && flasharb node up'"
        )


class WrongChainError(FlasharbRuntimeError):
    """The RPC serves another chain, or a chain without the contracts flasharb expects."""

    exit_code = 2

    def __init__(self, url: str, problem: str) -> None:
        self.url = url
        super().__init__(
            f"RPC at {url} {problem}; point FLASHARB_RPC_URL at a fork of Ethereum mainnet "
            "or start the replica with 'flasharb node up'"
        )


class TradeRefused(TransactionFailed):
    """The pre-send check refused a trade: nothing was sent."""


class NonceClashError(FlasharbRuntimeError):
    """Another transaction from the same account took the nonce, again after a retry."""

    def __init__(self, sender: str, nonce: int, detail: str) -> None:
        super().__init__(
            f"nonce {nonce} of {sender} was taken by another transaction ({detail}) and the "
            "retry clashed too; stop the other sender using this key, then run again"
        )
