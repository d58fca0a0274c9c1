"""Faults under the CLI: an RPC that stalls or drops connections, the fork or its upstream killed
mid-run, the wrong chain, a chain without the mainnet contracts. Each ends in one line naming
the URL and what to do, a non-zero exit, and no anvil left running."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flasharb.chain.anvil import Anvil, pid_alive
from flasharb.chain.node import Lab
from flasharb.replica.lab import start_replica_lab
from tests.fork.fault_proxy import FaultProxy
from tests.helpers import Cli

TIMEOUT_S = "2"  # FLASHARB_RPC_TIMEOUT for the stalled RPC


def _cli(url: str, tmp_path: Path) -> Cli:
    cli = Cli(url, tmp_path)
    cli.env["FLASHARB_RPC_TIMEOUT"] = TIMEOUT_S
    return cli


def _one_line(cli: Cli, *args: str) -> tuple[int, str]:
    res = cli.run(*args)
    lines = res.stderr.strip().splitlines()
    assert res.returncode != 0, res.stdout
    assert len(lines) == 1, res.stderr
    return res.returncode, lines[0]


@pytest.fixture
def own_lab() -> Iterator[Lab]:
    """A lab of this test's own (its anvils may be killed); both stopped and gone afterwards."""
    running = start_replica_lab()
    pids = [running.fork.pid, *([running.upstream.pid] if running.upstream else [])]
    try:
        yield running
    finally:
        running.stop()
        assert not any(pid_alive(p) for p in pids), "an anvil outlived its lab"


class TestStalledOrDroppingRpc:
    """A proxy in front of the session fork holds or drops requests."""

    @pytest.mark.parametrize("after", [0, 4], ids=["at-once", "mid-run"])
    def test_stall_times_out_in_one_line(self, lab: Lab, tmp_path: Path, after: int) -> None:
        with FaultProxy(lab.rpc_url, mode="stall", after=after) as proxy:
            code, line = _one_line(_cli(proxy.url, tmp_path), "scan")
        assert code == 1
        assert proxy.url in line and "did not answer" in line and f"{TIMEOUT_S} s" in line
        assert "flasharb node" in line

    @pytest.mark.parametrize("after", [0, 4], ids=["at-once", "mid-run"])
    def test_dropped_connection_in_one_line(self, lab: Lab, tmp_path: Path, after: int) -> None:
        with FaultProxy(lab.rpc_url, mode="drop", after=after) as proxy:
            code, line = _one_line(_cli(proxy.url, tmp_path), "scan")
        assert code in (1, 2)  # 2 when nothing ever answered: no node
        assert proxy.url in line and "flasharb node up" in line


class TestKilledMidRun:
    """An anvil of the lab dies while a command runs: killed (by pid) from the proxy, at the
    fifth request the command makes."""

    def test_fork_killed(self, own_lab: Lab, tmp_path: Path) -> None:
        def kill(n: int, methods: list[str]) -> None:
            if n == 5:
                own_lab.fork.stop()

        with FaultProxy(own_lab.rpc_url, hook=kill) as proxy:
            _, line = _one_line(_cli(proxy.url, tmp_path), "scan")
        assert proxy.seen >= 5
        assert proxy.url in line and "stopped answering" in line and "flasharb node" in line

    def test_upstream_killed(self, own_lab: Lab, tmp_path: Path) -> None:
        assert own_lab.upstream is not None

        def kill(n: int, methods: list[str]) -> None:
            if n == 5 and own_lab.upstream is not None:
                own_lab.upstream.stop()

        with FaultProxy(own_lab.rpc_url, hook=kill) as proxy:
            _, line = _one_line(_cli(proxy.url, tmp_path), "scan")
        assert "upstream" in line and "flasharb node" in line


class TestWrongChain:
    """An RPC that is not a mainnet fork is refused before anything is read or sent."""

    @pytest.mark.parametrize("cmd", [["scan"], ["deploy"], ["execute", "--dry-run"]], ids=str)
    def test_other_chain_id(self, tmp_path: Path, cmd: list[str]) -> None:
        with Anvil(args=["--chain-id", "31337"]) as other:
            code, line = _one_line(_cli(other.url, tmp_path), *cmd)
            assert int(other.proc.poll() is None)  # type: ignore[union-attr]
        assert code == 2
        assert "chain id 31337" in line and "FLASHARB_RPC_URL" in line

    def test_chain_1_without_the_contracts(self, tmp_path: Path) -> None:
        with Anvil(args=["--chain-id", "1"]) as empty:
            code, line = _one_line(_cli(empty.url, tmp_path), "scan")
        assert code == 2
        assert "no code for WETH" in line and "0xBA12222222228d8Ba445958a75a0704d566BF2C8" in line
