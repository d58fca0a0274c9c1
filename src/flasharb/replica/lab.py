"""The replica as the lab's default upstream: build it if needed, serve it, fork it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flasharb.chain.node import Lab, node_up, start_lab
from flasharb.replica.build import default_state_path, ensure_built


def start_replica_lab(
    *, fork_block: int | None = None, detach: bool = False, log_dir: Path | None = None
) -> Lab:
    """An upstream serving the replica (built first if missing or stale) and a fork of it."""
    ensure_built()
    return start_lab(
        state_path=default_state_path(), fork_block=fork_block, detach=detach, log_dir=log_dir
    )


def open_lab(*, fork_url: str | None = None, fork_block: int | None = None) -> Lab:
    """The lab for a script or a test session: an upstream serving the mainnet replica (built
    first if missing or stale) and an Anvil fork of it, or a fork of `fork_url` (your RPC); a
    context manager that stops both anvils.

        with open_lab() as lab:
            w3 = connect(lab.rpc_url)
    """
    if fork_url:
        return start_lab(fork_url=fork_url, fork_block=fork_block)
    return start_replica_lab(fork_block=fork_block)


def lab_up(*, fork_url: str | None = None, fork_block: int | None = None) -> dict[str, Any]:
    """`flasharb node up`: fork `fork_url` if given, else the replica."""
    if fork_url:
        return node_up(fork_url=fork_url, fork_block=fork_block)
    ensure_built()
    return node_up(fork_block=fork_block, state_path=default_state_path())
