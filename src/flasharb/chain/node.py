"""The lab's chain: an upstream (the replica, or the user's RPC) and an Anvil fork of it.

Fork mode is the only mode: everything flasharb does happens on
`anvil --fork-url UPSTREAM --fork-block-number N`.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
        """The fork's JSON-RPC URL: what `connect`, the CLI (`--rpc-url`) and ape talk to."""
        return self.fork.url

    def stop(self) -> None:
        """Stop the fork, then the upstream if this lab started one (never a user's RPC)."""
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
    on_start: Callable[[str, Anvil], None] | None = None,
) -> Lab:
    """Start an upstream serving `state_path` (unless `fork_url` is given), then a fork of the
    upstream pinned to `fork_block` (default: its head). `on_start(role, anvil)` hears of each
    process as soon as it exists, before it answers (so a record can name it at once)."""

    def spawned(role: str) -> Callable[[Anvil], None] | None:
        return None if on_start is None else (lambda a: on_start(role, a))

    upstream: Anvil | None = None
    if fork_url is None:
        if state_path is None:
            raise FlasharbValueError("give an upstream: --fork-url URL, or a state file to serve")
        upstream = Anvil(
            args=upstream_args(state_path),
            detach=detach,
            log_path=(log_dir / "upstream.log") if log_dir else None,
            on_spawn=spawned("upstream"),
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
            on_spawn=spawned("fork"),
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


LOCK_WAIT = 300  # seconds a second `node up` / `node down` waits for the first (a replica build)


@contextmanager
def node_lock(wait: float = LOCK_WAIT) -> Iterator[None]:
    """One `node up` / `node down` at a time per project: the second waits for the first, then
    sees what it did (a running lab: 'already running'), so no extra anvils are ever started."""
    path = state_dir() / "node.lock"
    with open(path, "a+") as f:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    f.seek(0)
                    holder = f.read().strip() or "?"
                    raise FlasharbRuntimeError(
                        f"another 'flasharb node up/down' (pid {holder}) has held {path} for "
                        f"{wait:.0f} s; wait for it to finish, or stop that process"
                    ) from None
                time.sleep(0.1)
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            f.seek(0)
            f.truncate()
            fcntl.flock(f, fcntl.LOCK_UN)


def _is_our_anvil(pid: int, port: int) -> bool:
    """True if the pid still runs anvil on the recorded port: pids get reused, so check
    before signalling."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(part.endswith(b"anvil") for part in cmdline[:1]) and str(port).encode() in cmdline


def node_up(
    *,
    fork_url: str | None = None,
    fork_block: int | None = None,
    state_path: Path | None = None,
    locked: bool = False,
) -> dict[str, Any]:
    """Start the lab in the background and remember it in .flasharb/node.json (under the
    project's node lock, unless the caller holds it: `locked=True`)."""
    if not locked:
        with node_lock():
            return node_up(
                fork_url=fork_url, fork_block=fork_block, state_path=state_path, locked=True
            )
    rec = record_path()
    if rec.exists():
        old = json.loads(rec.read_text())
        if any(
            pid_alive(p["pid"]) and _is_our_anvil(p["pid"], p["port"]) for p in old["processes"]
        ):
            raise LabRunningError(old.get("rpc_url") or "a port of this project")
        rec.unlink()  # stale record of a lab that is gone
    if fork_url is not None:
        check_mainnet_upstream(fork_url)
    procs: list[dict[str, Any]] = []

    def started(role: str, anvil: Anvil) -> None:  # recorded at once: `node down` finds it
        procs.insert(0, {"role": role, "pid": anvil.pid, "port": anvil.port})
        _write_record({"rpc_url": None, "status": "starting", "processes": procs})

    try:
        lab = start_lab(
            fork_url=fork_url,
            fork_block=fork_block,
            state_path=state_path,
            detach=True,
            log_dir=state_dir(),
            on_start=started,
        )
    except BaseException:
        rec.unlink(missing_ok=True)  # start_lab stopped what it started
        raise
    info = {
        "rpc_url": lab.rpc_url,
        "upstream": lab.upstream_url,
        "fork_block": lab.fork_block,
        "chain_id": lab.chain_id,
        "replica": lab.upstream is not None,
        "processes": procs,
        "started_at": int(time.time()),
    }
    _write_record(info)
    return info


def _write_record(info: dict[str, Any]) -> None:
    rec = record_path()
    tmp = rec.with_suffix(".tmp")
    tmp.write_text(json.dumps(info, indent=2))
    tmp.replace(rec)


class LabRunningError(FlasharbRuntimeError):
    """`node up` while this project's lab runs."""

    exit_code = 2  # the user's call: use the running lab, or stop it first

    def __init__(self, url: str) -> None:
        super().__init__(
            f"a lab is already running at {url}; use it, or stop it with 'flasharb node down'"
        )


def check_mainnet_upstream(url: str) -> None:
    """FlasharbValueError unless `url` answers JSON-RPC as chain 1: the address book is
    mainnet's, so a fork of anything else is refused before an anvil starts."""
    _head, chain_id = _upstream_head(url)
    if chain_id != MAINNET_CHAIN_ID:
        raise FlasharbValueError(
            f"--fork-url {url} serves chain id {chain_id}, not Ethereum mainnet (1); give a "
            "mainnet RPC, or leave --fork-url out to fork the replica"
        )


def node_down(locked: bool = False) -> dict[str, Any]:
    """Stop what `node_up` started (only those processes) and remove the record."""
    if not locked:
        with node_lock():
            return node_down(locked=True)
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
