"""`ape test`, with no flags, runs tests_ape/ on the lab's fork (ethereum:mainnet-fork:foundry):
its conftest starts the lab, ape-foundry attaches, and every anvil it started is stopped."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import uuid
from pathlib import Path

from flasharb.chain.node import Lab
from tests.helpers import junit_outcomes

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _anvils_with(marker: str) -> set[int]:
    """Live anvils whose environment carries `marker`: the ones a process given it started (an
    anvil inherits its starter's environment), whatever else runs on the machine meanwhile
    (under pytest-xdist the other worker starts and stops labs of its own)."""
    found = set()
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"anvil") and marker.encode() in environ:
            found.add(int(proc.name))
    return found


def _test_names(folder: Path) -> set[str]:
    """The test functions defined in `folder` (parameters aside)."""
    return {
        node.name
        for path in folder.glob("test_*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


def test_plain_ape_test(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("APE_", "PYTEST_", "FLASHARB_UPSTREAM", "FLASHARB_RPC"))
    }
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    report = tmp_path / "ape-test.xml"
    env["PYTEST_ADDOPTS"] = f"--junitxml={report}"  # a report to read; `ape test` has no flags
    env["FLASHARB_TEST_APE_RUN"] = run = uuid.uuid4().hex  # every anvil it starts inherits it
    res = subprocess.run(
        [str(BIN / "ape"), "test"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    outcomes = junit_outcomes(report)
    assert set(outcomes.values()) == {"passed"}, outcomes
    assert all(t.startswith("tests_ape.") for t in outcomes), outcomes  # none of tests/
    ran = {t.split("::")[1].split("[")[0] for t in outcomes}
    assert ran == _test_names(ROOT / "tests_ape")  # every test of tests_ape/ ran
    assert not _anvils_with(f"FLASHARB_TEST_APE_RUN={run}")  # the lab it started is gone


def test_ape_console_knows_the_canonical_contracts(lab: Lab) -> None:
    """ape_console_extras.py (flasharb.ape_support): Contract(address) has the npm ABIs."""
    env = {
        **os.environ,
        "APE_FOUNDRY_HOST": lab.rpc_url,
        "FLASHARB_UPSTREAM_URL": lab.upstream_url,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
    }
    lines = [
        'print("SYMBOL", Contract("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2").symbol())',
        'print("TOKEN0", Contract("0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc").token0())',
        'print("VAULT", Contract("0xBA12222222228d8Ba445958a75a0704d566BF2C8").WETH())',
        "exit",
    ]
    res = subprocess.run(
        [str(BIN / "ape"), "console", "--network", "ethereum:mainnet-fork:foundry"],
        input="\n".join(lines) + "\n", env=env, cwd=ROOT, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    out = res.stdout + res.stderr
    assert "SYMBOL WETH" in out, out[-3000:]
    assert "TOKEN0 0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48" in out  # USDC sorts first
    assert "VAULT 0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2" in out
