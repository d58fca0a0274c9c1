"""Where flasharb finds its files: the bundle in the package, the project folder, the node
toolchain (`flasharb setup`), and Ape's compiler without a global ~/.solcx link. `flasharb setup`
running the pinned anvil: tests/fork/test_setup.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flasharb import paths
from flasharb.chain import toolchain
from tests.helpers import run_flasharb

ROOT = Path(__file__).resolve().parents[2]


class TestBundle:
    def test_everything_the_package_needs_ships_inside_it(self) -> None:
        b = paths.bundle()
        assert b.parent == Path(paths.__file__).resolve().parent  # inside flasharb/
        for rel in (
            "contracts/Diamond.sol",
            "contracts/facets/FlashArbFacet.sol",
            "data/replica/mainnet.json",
            "tools/solc/solc",
            "tools/solc/standard-json.js",
            "package.json",
            "package-lock.json",
        ):
            assert (b / rel).is_file(), rel
        # the bundle is the checkout's files, not copies that could drift
        assert (b / "package-lock.json").read_bytes() == (ROOT / "package-lock.json").read_bytes()

    def test_shipped_replica_data_from_any_folder(self, tmp_path: Path) -> None:
        from flasharb.replica.spec import spec_path

        old = Path.cwd()
        os.chdir(tmp_path)
        try:
            assert spec_path() == paths.bundle() / "data/replica/mainnet.json"
            mp = pytest.MonkeyPatch()
            mp.setenv("FLASHARB_REPLICA_SPEC", "data/replica/mainnet-v0.json")
            assert spec_path() == paths.bundle() / "data/replica/mainnet-v0.json"
            mp.undo()
        finally:
            os.chdir(old)


class TestProjectFolder:
    def test_nearest_folder_with_state_else_here(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("FLASHARB_PROJECT", raising=False)
        monkeypatch.delenv("FLASHARB_ROOT", raising=False)
        deep = tmp_path / "proj" / "src" / "deep"
        deep.mkdir(parents=True)
        monkeypatch.chdir(deep)
        assert paths.project_dir() == deep
        (tmp_path / "proj" / ".flasharb").mkdir()
        assert paths.project_dir() == tmp_path / "proj"
        monkeypatch.setenv("FLASHARB_PROJECT", str(tmp_path))
        assert paths.project_dir() == tmp_path

    def test_project_option_puts_state_there(self, tmp_path: Path) -> None:
        elsewhere = tmp_path / "elsewhere"
        res = run_flasharb(["--project", str(elsewhere), "node", "down", "--json"], cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout) == {"stopped": []}
        assert (elsewhere / ".flasharb").is_dir()
        assert not (tmp_path / ".flasharb").exists()


class TestToolchain:
    def test_py_solc_x_sees_the_shim_through_solcx_binary_path(self) -> None:
        """What `flasharb setup --ape` points ape-solidity at: a folder, not ~/.solcx."""
        folder = toolchain.solcx_dir()
        assert [p.name for p in folder.iterdir()] == ["solc-v0.8.28"]
        probe = "import solcx; print([str(v) for v in solcx.get_installed_solc_versions()])"
        env = {**os.environ, "SOLCX_BINARY_PATH": str(folder)}
        res = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60
        )
        assert res.stdout.strip() == "['0.8.28']", res.stderr

    def test_empty_places_have_no_toolchain(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("FLASHARB_CACHE_DIR", str(tmp_path / "cache"))
        monkeypatch.delenv("FLASHARB_TOOLCHAIN", raising=False)
        monkeypatch.delenv("FLASHARB_PROJECT", raising=False)
        toolchain._missing.cache_clear()
        assert toolchain.find() is None
        assert "solc@0.8.28" in toolchain._missing(tmp_path)

    def test_first_use_without_npm_is_one_line(self, tmp_path: Path) -> None:
        """Nothing installed, no npm to install with: say so, and how to get it."""
        res = run_flasharb(
            ["setup"], cwd=tmp_path, PATH=str(tmp_path), FLASHARB_CACHE_DIR=str(tmp_path / "c")
        )
        assert res.returncode == 2
        line = res.stderr.strip()
        assert "\n" not in line and "npm" in line and "Node.js" in line, line
        assert not (tmp_path / "c").exists() or not any((tmp_path / "c").iterdir())

    def test_a_wrong_toolchain_folder_is_one_line(self, tmp_path: Path) -> None:
        res = run_flasharb(["setup"], cwd=ROOT, FLASHARB_TOOLCHAIN=str(tmp_path))
        assert res.returncode == 2
        line = res.stderr.strip()
        assert "\n" not in line and f"FLASHARB_TOOLCHAIN={tmp_path}" in line
        assert "flasharb setup --into" in line


def test_plain_pytest_runs_without_apes_runner(pytestconfig: pytest.Config) -> None:
    """The root conftest switches eth-ape's runner off here: no extra anvil for its network."""
    assert pytestconfig.pluginmanager.get_plugin("ape-test") is None
    assert pytestconfig.pluginmanager.get_plugin("ape-fixtures") is None
