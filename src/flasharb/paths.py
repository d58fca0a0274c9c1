"""Where flasharb's files are.

Three places, none of them a checkout of flasharb:

- the bundle (`bundle()`): what ships inside the package: `contracts/`, `data/replica/`,
  `tools/solc/` (the solcjs shim) and the npm lock of the node toolchain. In a checkout,
  `src/flasharb/_bundle/` links to the checkout's folders; a wheel carries copies.
- the project (`project_dir()`): the user's folder, where run state (`.flasharb/`), build output
  (`build/`) and reports (`reports/`) go. `FLASHARB_PROJECT` (or `flasharb --project DIR`) says
  where; otherwise the nearest folder from the current one upwards that already has a
  `.flasharb/` (below the home folder), else the current folder.
- the cache (`cache_dir()`): per user, shared by every project: the node toolchain
  (flasharb.chain.toolchain), one folder per lock.
"""

from __future__ import annotations

import os
from pathlib import Path

STATE = ".flasharb"


def bundle() -> Path:
    """The files that ship with the package (contracts, replica data, solc shim, npm lock)."""
    return Path(__file__).resolve().parent / "_bundle"


def project_dir() -> Path:
    """The user's project folder: FLASHARB_PROJECT, else the nearest folder up from here with a
    `.flasharb/` (never the home folder unless we are in it), else the current folder."""
    env = os.environ.get("FLASHARB_PROJECT") or os.environ.get("FLASHARB_ROOT")  # ROOT: old name
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    home = Path.home().resolve()
    for d in (here, *here.parents):
        if d != here and d == home:  # a stray ~/.flasharb must not capture every project
            break
        if (d / STATE).is_dir():
            return d
    return here


def state_dir(create: bool = True) -> Path:
    """Run state of this project (node records, deployments, journal): `.flasharb/`, or
    FLASHARB_STATE_DIR."""
    env = os.environ.get("FLASHARB_STATE_DIR")
    d = Path(env) if env else project_dir() / STATE
    if create:
        d.mkdir(parents=True, exist_ok=True)
    return d


def build_dir() -> Path:
    """Build output of this project (compiled contracts, the replica state file): `build/`, or
    FLASHARB_BUILD_DIR."""
    env = os.environ.get("FLASHARB_BUILD_DIR")
    d = Path(env) if env else project_dir() / "build"
    d.mkdir(parents=True, exist_ok=True)
    return d


def reports_dir() -> Path:
    """Where reports go: `reports/` in the project."""
    return project_dir() / "reports"


def cache_dir() -> Path:
    """The per-user cache: FLASHARB_CACHE_DIR, else $XDG_CACHE_HOME/flasharb or
    ~/.cache/flasharb."""
    env = os.environ.get("FLASHARB_CACHE_DIR")
    if env:
        return Path(env).resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "flasharb"


# The node toolchain lives in flasharb.chain.toolchain; these keep older callers working.


def node_modules() -> Path:
    from flasharb.chain.toolchain import node_modules as _node_modules

    return _node_modules()


def anvil_bin() -> Path:
    from flasharb.chain.toolchain import anvil_bin as _anvil_bin

    return _anvil_bin()


def solc_shim() -> Path:
    from flasharb.chain.toolchain import solc_shim as _solc_shim

    return _solc_shim()
