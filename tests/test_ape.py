"""`ape test`, with no flags, runs tests_ape/ on the lab's fork (ethereum:mainnet-fork:foundry):
its conftest starts the lab, ape-foundry attaches, and every anvil it started is stopped."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.fork

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _replica_upstreams() -> set[int]:
    """Anvils serving this checkout's replica state (the upstream of a lab started here)."""
    build = str(ROOT / "build").encode()
    found = set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"anvil") and any(build in a for a in argv):
            found.add(int(cmdline.parent.name))
    return found


def test_plain_ape_test(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("APE_", "PYTEST_", "FLASHARB_UPSTREAM", "FLASHARB_RPC"))
    }
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    before = _replica_upstreams()
    res = subprocess.run(
        [str(BIN / "ape"), "test"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert re.search(r"\b7 passed\b", res.stdout), res.stdout[-2000:]
    assert "tests_ape/test_ape_fork.py" in res.stdout and "tests/test_" not in res.stdout
    assert _replica_upstreams() <= before  # the lab it started is gone
