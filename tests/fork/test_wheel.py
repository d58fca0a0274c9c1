"""The wheel, installed into a fresh venv outside the checkout, runs the flow in an empty folder
(tools/ci/wheel_smoke.sh: setup, replica build, node up, deploy, shock, scan, node down)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_and_an_empty_folder() -> None:
    res = subprocess.run(
        [str(ROOT / "tools" / "ci" / "wheel_smoke.sh")],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    # the script checks every step itself and exits non-zero on the first that fails
    assert res.returncode == 0, "\n".join(res.stdout.splitlines()[-30:]) + res.stderr[-3000:]
