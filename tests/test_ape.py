"""`ape test` works against the lab's fork (ethereum:mainnet-fork:foundry, ape-config.yaml)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flasharb.chain.node import Lab

pytestmark = pytest.mark.fork

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_ape_test_suite_runs_on_the_fork(lab: Lab) -> None:
    """ape-foundry connects to the running fork (APE_FOUNDRY_HOST); ape's isolation reverts."""
    env = {
        **os.environ,
        "APE_FOUNDRY_HOST": lab.rpc_url,
        "FLASHARB_UPSTREAM_URL": lab.upstream_url,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
    }
    res = subprocess.run(
        [str(BIN / "ape"), "test", "tests_ape", "-o", "addopts=", "-p", "no:cacheprovider",
         "--network", "ethereum:mainnet-fork:foundry", "-q"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert "5 passed" in res.stdout
