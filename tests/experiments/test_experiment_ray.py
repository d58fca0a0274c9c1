"""`flasharb experiment hop-gas --ray ADDRESS`: the sweep's points as Ray actor calls on a local
Ray instance (each actor starts its own replica upstream and fork), journaled and reported
exactly as the same sweep on `--workers 2`; Ray and every process it started are gone at the
end, checked by pid."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flasharb.experiments.hop_gas import grid
from tests.experiments.test_experiment_hop_gas import experiment_cli

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'flasharb[ray]'")


def _descendants(pid: int) -> dict[int, str]:
    """pid -> command line of every process below `pid`."""
    out: dict[int, str] = {}
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{p}/task/{t}/children") as f:
                    kids = [int(c) for c in f.read().split()]
            except OSError:
                continue
            for k in kids:
                try:
                    with open(f"/proc/{k}/cmdline", "rb") as f:
                        out[k] = f.read().replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    continue
                todo.append(k)
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"  # a zombie has exited
    except OSError:
        return False


@pytest.fixture
def ray_cluster() -> Iterator[tuple[str, dict[int, str]]]:
    """A local Ray instance started here (its sockets and logs in a temp dir); its address and
    the processes it started. Shut down afterwards, and every one of those pids checked gone."""
    scratch = tempfile.mkdtemp(prefix="fa-ray-")  # short: Ray's socket paths must fit 107 bytes
    info = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _temp_dir=scratch)
    started = {p: cmd for p, cmd in _descendants(os.getpid()).items() if scratch in cmd}
    try:
        assert any("gcs_server" in c for c in started.values()), started
        assert any("raylet" in c for c in started.values()), started
        yield str(info.address_info["gcs_address"]), started
    finally:
        ray.shutdown()
        deadline = time.monotonic() + 30
        while any(_alive(p) for p in started) and time.monotonic() < deadline:
            time.sleep(0.2)
        shutil.rmtree(scratch, ignore_errors=True)
    left = {p: c for p, c in started.items() if _alive(p)}
    assert not left, f"Ray processes left running: {left}"


def test_ray_sweep_equals_the_local_workers_sweep(
    tmp_path: Path, ray_cluster: tuple[str, dict[int, str]]
) -> None:
    address, _ = ray_cluster
    before = {p for p, c in _descendants(os.getpid()).items() if "anvil" in c}  # the session lab's
    journal = str(tmp_path / "j.sqlite")
    common = ("--size", "small", "--journal", journal)
    on_ray: dict[str, Any] = experiment_cli(
        tmp_path,
        "hop-gas",
        *common,
        "--ray",
        address,
        "--workers",
        "2",
        "--out",
        str(tmp_path / "ray"),
    )
    # every actor stopped its anvils: nothing under the test process runs anvil now
    anvils = {
        p: c for p, c in _descendants(os.getpid()).items() if "anvil" in c and p not in before
    }
    assert not anvils, anvils
    local = experiment_cli(
        tmp_path, "hop-gas", *common, "--workers", "2", "--out", str(tmp_path / "local")
    )
    assert on_ray["params"]["ray"] == address and local["params"]["ray"] is None
    assert len(on_ray["rows"]) == len(grid("small")) and all(r["executed"] for r in on_ray["rows"])
    assert on_ray["rows"] == local["rows"]  # same gas, same profit, to the wei
    for f in ("points.csv", "gas_by_route.png", "gas_fit.png"):
        assert (tmp_path / "ray" / f).read_bytes() == (tmp_path / "local" / f).read_bytes(), f
