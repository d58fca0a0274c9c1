"""Anvil processes: start one, wait until it answers, stop it; never leave one behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from flasharb.errors import FlasharbRuntimeError, ToolchainError
from flasharb.paths import anvil_bin

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def rpc_request(url: str, method: str, params: list[Any] | None = None, timeout: float = 30) -> Any:
    """One JSON-RPC call with the standard library (no web3 start-up cost)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    req = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        reply = json.loads(resp.read())
    if "error" in reply:
        raise FlasharbRuntimeError(f"{method} on {url} failed: {reply['error'].get('message')}")
    return reply["result"]


def wait_receipt(url: str, tx_hash: str, timeout: float = 60) -> dict[str, Any]:
    """Poll for a receipt: anvil mines right after eth_sendTransaction returns, not before."""
    deadline = time.monotonic() + timeout
    while True:
        receipt = rpc_request(url, "eth_getTransactionReceipt", [tx_hash])
        if receipt is not None:
            return receipt  # type: ignore[no-any-return]
        if time.monotonic() > deadline:
            raise FlasharbRuntimeError(f"no receipt for {tx_hash} on {url} after {timeout:.0f}s")
        time.sleep(0.01)


def answers(url: str, timeout: float = 2) -> bool:
    try:
        rpc_request(url, "eth_chainId", timeout=timeout)
    except (OSError, urllib.error.URLError, FlasharbRuntimeError, ValueError):
        return False
    return True


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child still answers kill(0); reap it if it is ours
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def stop_pid(pid: int, grace: float = 5.0) -> bool:
    """SIGTERM, then SIGKILL after `grace` seconds. True if the process was running."""
    if not pid_alive(pid):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    while pid_alive(pid):
        time.sleep(0.05)
    return True


# Without this, anvil writes mined blocks' whole states to ~/.foundry/anvil/tmp/ once more than
# it holds in memory, and leaves them behind when stopped: suite runs on the replica fork wrote
# gigabytes per anvil and filled the disk. Keep the last states in memory only: eth_call and
# debug_traceTransaction a few blocks back still work; evm_snapshot/evm_revert are unaffected.
KEEP_HISTORY = ["--prune-history", "256"]


@dataclass
class Anvil:
    """One anvil process. Use as a context manager, or `start()`/`stop()`.

    `detach=True` puts it in its own session so it outlives the Python process (`node up`);
    otherwise it is tied to us and stopped on exit of the `with` block.
    """

    args: list[str] = field(default_factory=list)
    port: int = 0
    log_path: Path | None = None
    detach: bool = False
    startup_timeout: float = 30.0
    proc: subprocess.Popen[bytes] | None = None
    # called as soon as the process exists, before it answers (a record can name it at once)
    on_spawn: Callable[[Anvil], None] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> Anvil:
        binary = anvil_bin()
        if not binary.exists():
            raise ToolchainError("anvil (npm @foundry-rs/anvil) not found", str(binary))
        if not self.port:
            self.port = free_port()
        cmd = [str(binary), "--host", HOST, "--port", str(self.port), *self.args]
        if "--prune-history" not in self.args:
            cmd += KEEP_HISTORY
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=self.detach,
            )
        finally:
            if self.log_path:
                log.close()  # type: ignore[union-attr]
        if self.on_spawn is not None:
            self.on_spawn(self)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                where = f"; see {self.log_path}" if self.log_path else ""
                raise FlasharbRuntimeError(
                    f"anvil exited with code {self.proc.returncode} at start-up "
                    f"(args: {' '.join(self.args)}){where}"
                )
            if answers(self.url, timeout=1):
                return self
            time.sleep(0.05)
        self.stop()
        raise FlasharbRuntimeError(
            f"anvil on port {self.port} did not answer within {self.startup_timeout:.0f}s"
        )

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
