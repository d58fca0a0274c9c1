"""Where the project's files are: the repo root, node_modules, build output, run state."""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The project checkout: FLASHARB_ROOT, else the checkout this package was installed from."""
    env = os.environ.get("FLASHARB_ROOT")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[2]


def node_modules() -> Path:
    return repo_root() / "node_modules"


def build_dir() -> Path:
    d = repo_root() / "build"
    d.mkdir(exist_ok=True)
    return d


def state_dir() -> Path:
    """Run state of this checkout (node records, deployments): `.flasharb/`."""
    d = Path(os.environ.get("FLASHARB_STATE_DIR", repo_root() / ".flasharb"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def anvil_bin() -> Path:
    return node_modules() / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"


def solc_shim() -> Path:
    return repo_root() / "tools" / "solc" / "solc"
