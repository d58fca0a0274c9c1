"""The lab's chain: an upstream (the replica, or the user's RPC) and an Anvil fork of it.

Fork mode is the only mode: everything flasharb does happens on
`anvil --fork-url UPSTREAM --fork-block-number N`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from flasharb.chain.anvil import Anvil, pid_alive, rpc_request, stop_pid
from flasharb.errors import FlasharbRuntimeError, FlasharbValueError
from flasharb.paths import state_dir

SLOT_SECONDS = 12  # mainnet's slot time: each fork block is 12 s after the last, not wall-clock

FORK_ARGS = [
    "--no-storage-caching",  # never mix replica state into the on-disk cache of real chain 1
    "--hardfork",
    "cancun",
]


def upstream_args(state_path: Path, chain_id: int = 1) -> list[str]:
    return ["--load-state", str(state_path), "--chain-id", str(chain_id), "--hardfork", "cancun"]


def fork_args(upstream: str, fork_block: int) -> list[str]:
    return ["--fork-url", upstream, "--fork-block-number", str(fork_block), *FORK_ARGS]


@dataclass
class Lab:
    """An upstream (optional: None when forking a user's RPC) and the fork on top of it."""

    upstream_url: str
    fork_block: int
    fork: Anvil
    upstream: Anvil | None = None
    chain_id: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rpc_url(self) -> str:
        return self.fork.url

    def stop(self) -> None:
        self.fork.stop()
        if self.upstream is not None:
            self.upstream.stop()

    def __enter__(self) -> Lab:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_lab(
    *,
    fork_url: str | None = None,
    fork_block: int | None = None,
    state_path: Path | None = None,
    detach: bool = False,
    log_dir: Path | None = None,
) -> Lab:
    """Start an upstream serving `state_path` (unless `fork_url` is given), then a fork of the
    upstream pinned to `fork_block` (default: its head)."""
    upstream: Anvil | None = None
    if fork_url is None:
        if state_path is None:
            raise FlasharbValueError("give an upstream: --fork-url URL, or a state file to serve")
        upstream = Anvil(
            args=upstream_args(state_path),
            detach=detach,
            log_path=(log_dir / "upstream.log") if log_dir else None,
        ).start()
        fork_url = upstream.url
    try:
        head, chain_id = _upstream_head(fork_url)
        if fork_block is None:
            fork_block = head
        if not 0 <= fork_block <= head:
            raise FlasharbValueError(
                f"--fork-block {fork_block} is outside the upstream's blocks 0..{head}; "
                "pick one in range"
            )
        fork = Anvil(
            args=fork_args(fork_url, fork_block),
            detach=detach,
            log_path=(log_dir / "fork.log") if log_dir else None,
        ).start()
        try:  # deterministic timestamps make gas (V2 price accumulators) reproducible
            rpc_request(fork.url, "anvil_setBlockTimestampInterval", [SLOT_SECONDS])
        except BaseException:
            fork.stop()
            raise
    except BaseException:
        if upstream is not None:
            upstream.stop()  # never orphan the upstream
        raise
    return Lab(
        upstream_url=fork_url,
        fork_block=fork_block,
        fork=fork,
        upstream=upstream,
        chain_id=chain_id,
    )


def _upstream_head(url: str) -> tuple[int, int]:
    """The upstream's head block and chain id; FlasharbValueError naming the URL when it does
    not answer JSON-RPC (a typo, a stopped node, not an RPC at all)."""
    try:
        return (
            int(rpc_request(url, "eth_blockNumber", timeout=UPSTREAM_TIMEOUT), 16),
            int(rpc_request(url, "eth_chainId", timeout=UPSTREAM_TIMEOUT), 16),
        )
    except FlasharbRuntimeError as exc:
        raise FlasharbValueError(f"--fork-url {url} answered with an error: {exc}") from exc
    except (OSError, ValueError) as exc:  # URLError, refused, timeout, bad scheme, not JSON
        reason = getattr(exc, "reason", None) or exc
        raise FlasharbValueError(
            f"--fork-url {url} does not answer JSON-RPC ({reason}); "
            "check the URL and that the node runs"
        ) from exc


UPSTREAM_TIMEOUT = 30  # seconds for the upstream's first answer


# ---------------------------------------------------------------- the `flasharb node` record


def record_path() -> Path:
    return state_dir() / "node.json"


def _is_our_anvil(pid: int, port: int) -> bool:
    """True if the pid still runs anvil on the recorded port: pids get reused, so check
    before signalling."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(part.endswith(b"anvil") for part in cmdline[:1]) and str(port).encode() in cmdline


def node_up(
    *, fork_url: str | None = None, fork_block: int | None = None, state_path: Path | None = None
) -> dict[str, Any]:
    """Start the lab in the background and remember it in .flasharb/node.json."""
    rec = record_path()
    if rec.exists():
        old = json.loads(rec.read_text())
        if any(
            pid_alive(p["pid"]) and _is_our_anvil(p["pid"], p["port"]) for p in old["processes"]
        ):
            raise FlasharbRuntimeError(
                f"a lab is already running at {old['rpc_url']}; stop it with 'flasharb node down'"
            )
        rec.unlink()  # stale record of a lab that is gone
    lab = start_lab(
        fork_url=fork_url,
        fork_block=fork_block,
        state_path=state_path,
        detach=True,
        log_dir=state_dir(),
    )
    procs = [{"role": "fork", "pid": lab.fork.pid, "port": lab.fork.port}]
    if lab.upstream is not None:
        procs.append({"role": "upstream", "pid": lab.upstream.pid, "port": lab.upstream.port})
    info = {
        "rpc_url": lab.rpc_url,
        "upstream": lab.upstream_url,
        "fork_block": lab.fork_block,
        "chain_id": lab.chain_id,
        "replica": lab.upstream is not None,
        "processes": procs,
        "started_at": int(time.time()),
    }
    tmp = rec.with_suffix(".tmp")
    tmp.write_text(json.dumps(info, indent=2))
    tmp.replace(rec)
    return info


def node_down() -> dict[str, Any]:
    """Stop what `node_up` started (only those processes) and remove the record."""
    rec = record_path()
    if not rec.exists():
        return {"stopped": []}
    info = json.loads(rec.read_text())
    stopped = []
    for p in info["processes"]:
        if _is_our_anvil(p["pid"], p["port"]) and stop_pid(p["pid"]):
            stopped.append({"role": p["role"], "pid": p["pid"], "port": p["port"]})
    rec.unlink()
    return {"stopped": stopped}


# ---------------------------------------------------------------- is this the chain we expect?

MAINNET_CHAIN_ID = 1
EXPECTED_CODE = {  # contracts every command relies on, at their mainnet addresses
    "WETH": "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
    "the Balancer V2 Vault": "0xBA12222222228d8Ba445958a75a0704d566BF2C8",
    "the Uniswap V2 factory": "0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f",
    "the Uniswap V3 factory": "0x1F98431c8aD98523631AE4a59f267346ea31F984",
}


def check_mainnet_fork(w3: Any, url: str) -> None:
    """WrongChainError unless `w3` is chain 1 with the canonical contracts deployed (the replica,
    or a fork of real mainnet): the address book is mainnet's, so anything else fails later
    and less clearly."""
    from flasharb.errors import WrongChainError

    chain_id = int(w3.eth.chain_id)
    if chain_id != MAINNET_CHAIN_ID:
        raise WrongChainError(url, f"serves chain id {chain_id}, not Ethereum mainnet (1)")
    codes = [w3.eth.get_code(address) for address in EXPECTED_CODE.values()]
    missing = [
        f"{name} ({addr})"
        for (name, addr), code in zip(EXPECTED_CODE.items(), codes, strict=True)
        if not code
    ]
    if missing:
        raise WrongChainError(
            url, f"is chain 1 but has no code for {', '.join(missing)}: not a mainnet fork"
        )
