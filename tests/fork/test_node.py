"""`flasharb node up/down`: the lab starts, is recorded, answers, and stops without orphans."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flasharb.chain.anvil import Anvil, answers, pid_alive, rpc_request, stop_pid

FLASHARB = [sys.executable, "-m", "flasharb.cli"]


def run(args: list[str], state_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    e = {**os.environ, "FLASHARB_STATE_DIR": str(state_dir), **env}
    e.pop("FLASHARB_RPC_URL", None)
    return subprocess.run([*FLASHARB, *args], capture_output=True, text=True, env=e, timeout=120)


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    run(["node", "down"], tmp_path)  # whatever the test did, nothing is left running
    for pid in anvils_logging_to(tmp_path):  # not even what a failing test left unrecorded
        stop_pid(pid)


def anvils_logging_to(state_dir: Path) -> list[int]:
    """Pids of the live processes whose stdout is a log file in `state_dir`: the anvils a
    `node up` of that project started (they log there), wherever their pids were recorded."""
    found = []
    for fd in Path("/proc").glob("[0-9]*/fd/1"):
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(state_dir)) and target.endswith(".log"):
            found.append(int(fd.parts[2]))
    return [pid for pid in found if pid_alive(pid)]


def processes(state_dir: Path) -> list[dict[str, Any]]:
    return json.loads((state_dir / "node.json").read_text())["processes"]  # type: ignore[no-any-return]


class TestReplicaLab:
    """Without --fork-url the upstream is the replica."""

    def test_up_records_and_down_stops_both(self, state_dir: Path) -> None:
        up = run(["node", "up", "--json"], state_dir)
        assert up.returncode == 0, up.stderr
        info = json.loads(up.stdout)
        assert set(info) == {"rpc_url", "upstream", "fork_block", "chain_id"}
        assert info["chain_id"] == 1
        assert answers(info["rpc_url"]) and answers(info["upstream"])
        assert int(rpc_request(info["rpc_url"], "eth_blockNumber"), 16) == info["fork_block"]
        pids = [p["pid"] for p in processes(state_dir)]
        assert len(pids) == 2 and all(pid_alive(p) for p in pids)

        again = run(["node", "up"], state_dir)
        assert again.returncode == 2
        assert "already running" in again.stderr and len(again.stderr.strip().splitlines()) == 1

        down = run(["node", "down", "--json"], state_dir)
        assert down.returncode == 0, down.stderr
        assert sorted(p["pid"] for p in json.loads(down.stdout)["stopped"]) == sorted(pids)
        assert not any(pid_alive(p) for p in pids)
        assert not (state_dir / "node.json").exists()


class TestUserUpstream:
    """With --fork-url the fork's upstream is that RPC and no replica is started."""

    def test_fork_of_a_mainnet_rpc(self, state_dir: Path) -> None:
        with Anvil(args=["--chain-id", "1"]) as other:
            rpc_request(other.url, "anvil_mine", ["0x5"])
            up = run(
                ["node", "up", "--json", "--fork-url", other.url, "--fork-block", "3"], state_dir
            )
            assert up.returncode == 0, up.stderr
            info = json.loads(up.stdout)
            assert info["upstream"] == other.url
            assert (info["chain_id"], info["fork_block"]) == (1, 3)
            assert int(rpc_request(info["rpc_url"], "eth_blockNumber"), 16) == 3
            assert [p["role"] for p in processes(state_dir)] == ["fork"]
            down = run(["node", "down", "--json"], state_dir)
            assert [p["role"] for p in json.loads(down.stdout)["stopped"]] == ["fork"]
            assert answers(other.url)  # we never stop what we did not start

    def test_non_mainnet_upstream_is_refused_up_front(self, state_dir: Path) -> None:
        """A chain-31337 RPC: one line naming the chain id, exit 2, no anvil started."""
        with Anvil(args=["--chain-id", "31337"]) as other:
            up = run(["node", "up", "--fork-url", other.url], state_dir)
            assert up.returncode == 2, up.stderr
            line = up.stderr.strip()
            assert "\n" not in line and "chain id 31337" in line and other.url in line, line
            assert not (state_dir / "node.json").exists()
            assert anvils_logging_to(state_dir) == []

    def test_fork_block_beyond_upstream_head_is_refused(self, state_dir: Path) -> None:
        with Anvil(args=["--chain-id", "1"]) as other:
            up = run(["node", "up", "--fork-url", other.url, "--fork-block", "99"], state_dir)
            assert up.returncode == 2
            assert "--fork-block 99" in up.stderr and len(up.stderr.strip().splitlines()) == 1
            assert not (state_dir / "node.json").exists()
            assert anvils_logging_to(state_dir) == []


class TestConcurrentUp:
    """Two `node up` at once in one project: one lab, the other waits for it and says so."""

    def test_second_up_waits_then_refuses(self, state_dir: Path) -> None:
        env = {**os.environ, "FLASHARB_STATE_DIR": str(state_dir)}
        env.pop("FLASHARB_RPC_URL", None)
        procs = [
            subprocess.Popen(
                [*FLASHARB, "node", "up"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            for _ in range(2)
        ]
        results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
        assert sorted(code for code, _, _ in results) == [0, 2], results
        refused = next(err for code, _, err in results if code == 2)
        assert "already running" in refused and len(refused.strip().splitlines()) == 1
        recorded = sorted(p["pid"] for p in processes(state_dir))
        assert sorted(anvils_logging_to(state_dir)) == recorded  # two anvils, both recorded
        down = run(["node", "down", "--json"], state_dir)
        assert sorted(p["pid"] for p in json.loads(down.stdout)["stopped"]) == recorded
        assert anvils_logging_to(state_dir) == []


class TestKilledUp:
    """A `node up` killed half-way leaves its anvils named in the record: `node down` stops them."""

    @pytest.mark.parametrize("spawned", [1, 2], ids=["during-upstream", "during-fork"])
    def test_down_stops_what_a_killed_up_started(self, state_dir: Path, spawned: int) -> None:
        """Killed once `spawned` anvils exist (recorded at spawn, before they answer)."""
        import signal
        import time

        env = {**os.environ, "FLASHARB_STATE_DIR": str(state_dir)}
        env.pop("FLASHARB_RPC_URL", None)
        up = subprocess.Popen([*FLASHARB, "node", "up"], env=env, stderr=subprocess.DEVNULL)
        rec = state_dir / "node.json"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                info = json.loads(rec.read_text())
                if info.get("status") == "starting" and len(info["processes"]) == spawned:
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.005)
        else:
            up.kill()
            pytest.fail("node up never recorded a starting lab")
        up.send_signal(signal.SIGKILL)  # no cleanup of any kind
        up.wait()
        assert len(anvils_logging_to(state_dir)) == spawned  # they outlived it
        down = run(["node", "down", "--json"], state_dir)
        assert down.returncode == 0, down.stderr
        assert json.loads(down.stdout)["stopped"]
        assert anvils_logging_to(state_dir) == []
        assert not rec.exists()


class TestNoNode:
    """Commands that need a chain say how to start one."""

    @pytest.mark.parametrize("cmd", [["scan"], ["deploy"], ["execute", "--dry-run"]], ids=str)
    def test_one_line_error_naming_the_fix(self, state_dir: Path, cmd: list[str]) -> None:
        res = run(cmd, state_dir)
        assert res.returncode == 2
        assert res.stderr.strip().count("\n") == 0
        assert "flasharb node up" in res.stderr
