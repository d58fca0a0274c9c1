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

from flasharb.chain.anvil import Anvil, answers, pid_alive, rpc_request

pytestmark = pytest.mark.fork

FLASHARB = [sys.executable, "-m", "flasharb.cli"]


def run(args: list[str], state_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    e = {**os.environ, "FLASHARB_STATE_DIR": str(state_dir), **env}
    e.pop("FLASHARB_RPC_URL", None)
    return subprocess.run([*FLASHARB, *args], capture_output=True, text=True, env=e, timeout=120)


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    run(["node", "down"], tmp_path)  # whatever the test did, nothing is left running


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
        assert again.returncode == 1
        assert "already running" in again.stderr and len(again.stderr.strip().splitlines()) == 1

        down = run(["node", "down", "--json"], state_dir)
        assert down.returncode == 0, down.stderr
        assert sorted(p["pid"] for p in json.loads(down.stdout)["stopped"]) == sorted(pids)
        assert not any(pid_alive(p) for p in pids)
        assert not (state_dir / "node.json").exists()


class TestUserUpstream:
    """With --fork-url the fork's upstream is that RPC and no replica is started."""

    def test_fork_of_an_arbitrary_rpc(self, state_dir: Path) -> None:
        with Anvil(args=["--chain-id", "31337"]) as other:
            rpc_request(other.url, "anvil_mine", ["0x5"])
            up = run(
                ["node", "up", "--json", "--fork-url", other.url, "--fork-block", "3"], state_dir
            )
            assert up.returncode == 0, up.stderr
            info = json.loads(up.stdout)
            assert info["upstream"] == other.url
            assert (info["chain_id"], info["fork_block"]) == (31337, 3)
            assert int(rpc_request(info["rpc_url"], "eth_blockNumber"), 16) == 3
            assert [p["role"] for p in processes(state_dir)] == ["fork"]
            down = run(["node", "down", "--json"], state_dir)
            assert [p["role"] for p in json.loads(down.stdout)["stopped"]] == ["fork"]
            assert answers(other.url)  # we never stop what we did not start

    def test_fork_block_beyond_upstream_head_is_refused(self, state_dir: Path) -> None:
        with Anvil() as other:
            up = run(["node", "up", "--fork-url", other.url, "--fork-block", "99"], state_dir)
            assert up.returncode == 2
            assert "--fork-block 99" in up.stderr and len(up.stderr.strip().splitlines()) == 1
            assert not (state_dir / "node.json").exists()


class TestNoNode:
    """Commands that need a chain say how to start one."""

    @pytest.mark.parametrize("cmd", [["scan"], ["deploy"], ["execute", "--dry-run"]], ids=str)
    def test_one_line_error_naming_the_fix(self, state_dir: Path, cmd: list[str]) -> None:
        res = run(cmd, state_dir)
        assert res.returncode == 2
        assert res.stderr.strip().count("\n") == 0
        assert "flasharb node up" in res.stderr
