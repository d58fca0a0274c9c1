"""`flasharb setup` in this checkout: it finds the project's node toolchain and runs the pinned
anvil and solc for their versions. Where flasharb finds its files without running them:
tests/unit/test_setup.py."""

from __future__ import annotations

import json
from pathlib import Path

from flasharb.chain import toolchain
from tests.helpers import run_flasharb

ROOT = Path(__file__).resolve().parents[2]


class TestToolchain:
    def test_setup_finds_this_checkouts_toolchain(self) -> None:
        res = run_flasharb(["setup", "--json"], cwd=ROOT)
        assert res.returncode == 0, res.stderr
        info = json.loads(res.stdout)
        assert (info["source"], info["toolchain"]) == ("project", str(ROOT))
        assert info["anvil_version"].endswith(toolchain.pinned()[toolchain.ANVIL_PACKAGE])
        assert info["solc_version"].startswith(toolchain.pinned()["solc"] + "+")
