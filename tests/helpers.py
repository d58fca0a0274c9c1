"""Small test helpers shared by the tiers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from flasharb.execute.revert import decode_revert, revert_data


def call_error(w3: Web3, tx: dict[str, Any]) -> str | None:
    """None if `tx` would succeed as an eth_call now, else the decoded revert."""
    try:
        w3.eth.call(tx)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - any revert is the answer
        data = revert_data(exc)
        return decode_revert(data) if data is not None else str(exc)
    return None


def send_failing(w3: Web3, tx: dict[str, Any], gas: int = 3_000_000) -> dict[str, Any]:
    """Mine `tx` even though it reverts (explicit gas skips estimation); return the receipt."""
    tx_hash = w3.eth.send_transaction({**tx, "gas": gas})  # type: ignore[typeddict-item]
    return dict(w3.eth.wait_for_transaction_receipt(tx_hash))


def run_flasharb(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`flasharb ARGS` in a subprocess in `cwd`, as a user there runs it: the session's
    FLASHARB_STATE_DIR, FLASHARB_PROJECT and FLASHARB_ROOT are dropped unless `env` sets them."""
    e = {**os.environ, **env}
    for k in ("FLASHARB_STATE_DIR", "FLASHARB_PROJECT", "FLASHARB_ROOT"):
        if k not in env:
            e.pop(k, None)
    return subprocess.run(
        [sys.executable, "-m", "flasharb.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=e,
        timeout=300,
    )


def junit_outcomes(report: Path) -> dict[str, str]:
    """What a pytest run wrote with `--junitxml=report`: "classname::name" of every test ->
    passed, failed, error or skipped (read from the report, never from the runner's output)."""
    out = {}
    for case in ET.parse(report).iter("testcase"):
        kinds = {child.tag for child in case} & {"failure", "error", "skipped"}
        outcome = "failed" if "failure" in kinds else "error" if "error" in kinds else None
        out[f"{case.get('classname')}::{case.get('name')}"] = outcome or (
            "skipped" if kinds else "passed"
        )
    return out


class Cli:
    def __init__(self, rpc_url: str, state_dir: Path) -> None:
        self.env = {**os.environ, "FLASHARB_RPC_URL": rpc_url, "FLASHARB_STATE_DIR": str(state_dir)}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "flasharb.cli", *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
        )

    def json(self, *args: str) -> Any:
        res = self.run(*args, "--json")
        assert res.returncode == 0, res.stderr
        return json.loads(res.stdout)

    def error(self, *args: str, code: int = 1) -> str:
        """The one stderr line of a command that fails with exit status `code` (1: a failure,
        2: input the user must change)."""
        res = self.run(*args)
        assert res.returncode == code, (res.returncode, res.stdout, res.stderr)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1, res.stderr
        return lines[0]


def images_loaded(index: Path) -> str:
    """Open `index` in headless Chromium; "images N/M": how many of its images loaded."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("chromium is not installed: run 'make test' (it installs it with apt-get)")
    probe = (  # the verdict goes into the title, which --dump-dom prints
        "<script>window.addEventListener('load',()=>{const i=[...document.images];"
        "document.title='images '+i.filter(x=>x.complete&&x.naturalWidth>0).length"
        "+'/'+i.length;});</script>"
    )
    check = index.with_name("check.html")
    check.write_text(index.read_text().replace("</body>", probe + "</body>"))
    try:
        res = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--allow-file-access-from-files",
                "--virtual-time-budget=10000",
                "--dump-dom",
                check.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        check.unlink()
    assert res.returncode == 0, res.stderr[-2000:]
    start = res.stdout.find("<title>") + len("<title>")
    return res.stdout[start : res.stdout.find("</title>")]
