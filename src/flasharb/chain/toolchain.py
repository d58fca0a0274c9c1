"""The node toolchain: anvil, solcjs and the canonical protocol artifacts, all npm packages,
pinned by the package-lock.json that ships in the package (flasharb.paths.bundle()).

A toolchain is a folder laid out like a flasharb checkout: `package.json`, `package-lock.json`,
`node_modules/` (installed with `npm ci`, exactly the lock) and `tools/solc/` (the solcjs shim).
The first of these that holds the pinned versions is used:

1. `FLASHARB_TOOLCHAIN`: a folder the user laid out (or `flasharb setup --into DIR` made);
2. the project folder, when it has installed them itself (a flasharb checkout after
   `make setup`);
3. the per-user cache, `<cache>/toolchain-<lock digest>/`: installed there by `flasharb setup`,
   or on first use. One folder per lock, never changed once complete, so projects and venvs
   with the same flasharb share it and a different flasharb gets its own.

Anvil is the pinned binary package unless `FLASHARB_ANVIL` names another one; a user's own
`anvil` on PATH is used only where the pinned package cannot be installed.

py-solc-x and ape-solidity find the compiler through `SOLCX_BINARY_PATH` (a folder holding
`solc-v0.8.28`): `solcx_dir()` is such a folder inside the toolchain, so no global name
(`~/.solcx/...`) is taken over.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flasharb.errors import ToolchainError
from flasharb.paths import bundle, cache_dir, project_dir

SOLC_VERSION = "0.8.28"
ANVIL_PACKAGE = "@foundry-rs/anvil-linux-amd64"
NPM_CI = ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"]
SHIM_FILES = ("solc", "standard-json.js")


@dataclass(frozen=True, slots=True, kw_only=True)
class Toolchain:
    root: Path  # holds node_modules/ and tools/solc/
    source: str  # "FLASHARB_TOOLCHAIN", "project" or "cache"

    @property
    def node_modules(self) -> Path:
        return self.root / "node_modules"

    @property
    def shim(self) -> Path:
        return self.root / "tools" / "solc" / "solc"


def pinned() -> dict[str, str]:
    """npm package -> the exact version the shipped package.json pins (aliases resolved)."""
    deps: dict[str, str] = json.loads((bundle() / "package.json").read_text())["dependencies"]
    return {name: spec.rsplit("@", 1)[1] if spec.startswith("npm:") else spec
            for name, spec in deps.items()}  # fmt: skip


def lock_digest() -> str:
    """What names a cached toolchain: the shipped lock's hash."""
    return hashlib.sha256((bundle() / "package-lock.json").read_bytes()).hexdigest()[:16]


def cache_root() -> Path:
    return cache_dir() / f"toolchain-{lock_digest()}"


@cache
def _missing(root: Path) -> tuple[str, ...]:
    """The pinned packages (and shim files) `root` lacks or holds at another version."""
    out = []
    for name, version in pinned().items():
        try:
            meta = json.loads((root / "node_modules" / name / "package.json").read_text())
        except (OSError, ValueError):
            out.append(f"{name}@{version}")
            continue
        if meta.get("version") != version:
            out.append(f"{name}@{version} (found {meta.get('version')})")
    out += [f"tools/solc/{f}" for f in SHIM_FILES if not (root / "tools" / "solc" / f).is_file()]
    return tuple(out)


def find() -> Toolchain | None:
    """The toolchain to use, or None when none is installed yet."""
    env = os.environ.get("FLASHARB_TOOLCHAIN")
    if env:
        root = Path(env).resolve()
        if missing := _missing(root):
            raise ToolchainError(
                f"FLASHARB_TOOLCHAIN={env} lacks {', '.join(missing[:3])}",
                fix=f"run 'flasharb setup --into {env}', or unset FLASHARB_TOOLCHAIN",
            )
        return Toolchain(root=root, source="FLASHARB_TOOLCHAIN")
    project = project_dir()
    if (project / "node_modules").is_dir() and not _missing(project):
        return Toolchain(root=project, source="project")
    if not _missing(cache_root()):
        return Toolchain(root=cache_root(), source="cache")
    return None


def ensure(quiet: bool = False) -> Toolchain:
    """The toolchain, installed into the cache first if there is none (once per lock)."""
    found = find()
    if found is not None:
        return found
    _npm()  # before saying anything: no npm is one line, not a promise and an error
    if not quiet:
        print(
            f"flasharb: installing the node toolchain (npm ci: anvil, solcjs, protocol artifacts) "
            f"into {cache_root()}; once per flasharb version",
            file=sys.stderr,
        )
    return install(cache_root())


def install(root: Path) -> Toolchain:
    """`npm ci` of the shipped lock into `root` (plus the solc shim), atomically: a folder is
    either complete or absent, and concurrent installs wait for each other."""
    npm = _npm()
    root = root.resolve()
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f".{root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second installer waits, then finds it done
        _missing.cache_clear()
        if not _missing(root):
            return Toolchain(root=root, source=_source_of(root))
        tmp = root.with_name(f"{root.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "tools" / "solc").mkdir(parents=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(bundle() / name, tmp / name)
        for name in SHIM_FILES:
            shutil.copyfile(bundle() / "tools" / "solc" / name, tmp / "tools" / "solc" / name)
        (tmp / "tools" / "solc" / "solc").chmod(0o755)
        res = subprocess.run(
            [npm, *NPM_CI[1:]], cwd=tmp, capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        if res.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            last = (res.stderr.strip().splitlines() or ["no output"])[-1]
            raise ToolchainError(
                f"npm ci into {root} failed ({last})", fix="check access to the npm registry"
            )
        if root.exists():  # an incomplete folder from an interrupted older install
            shutil.rmtree(root)
        tmp.rename(root)
        _missing.cache_clear()
    return Toolchain(root=root, source=_source_of(root))


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise ToolchainError(
            "npm (Node.js 18+) is not on PATH",
            fix="install Node.js with npm (e.g. 'apt-get install nodejs npm'), "
            "then run 'flasharb setup'",
        )
    return npm


def _source_of(root: Path) -> str:
    return "cache" if root == cache_root().resolve() else "FLASHARB_TOOLCHAIN"


# ---------------------------------------------------------------- the tools in it


def node_modules() -> Path:
    return ensure().node_modules


def anvil_bin() -> Path:
    """FLASHARB_ANVIL, else the pinned anvil, else (no pinned build for this platform) the
    `anvil` on PATH."""
    env = os.environ.get("FLASHARB_ANVIL")
    if env:
        return Path(env)
    try:
        pinned_bin = ensure().node_modules / ANVIL_PACKAGE / "bin" / "anvil"
    except ToolchainError:
        on_path = shutil.which("anvil")
        if on_path is None:
            raise
        return Path(on_path)
    if not pinned_bin.exists() and (on_path := shutil.which("anvil")):
        return Path(on_path)
    return pinned_bin


def solc_shim() -> Path:
    return ensure().shim


def solcx_dir() -> Path:
    """A folder for SOLCX_BINARY_PATH holding only `solc-v0.8.28` (a link to the shim): point
    py-solc-x / ape-solidity at it and they see solc 0.8.28 installed, and download nothing."""
    tc = ensure()
    d = tc.node_modules / ".solcx"
    link = d / f"solc-v{SOLC_VERSION}"
    target = Path("..") / ".." / "tools" / "solc" / "solc"  # relative: valid wherever it is seen
    if not (link.is_symlink() and Path(os.readlink(link)) == target):
        d.mkdir(exist_ok=True)
        tmp = d / f".solc-v{SOLC_VERSION}.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(target)
        tmp.replace(link)
    return d


def versions(tc: Toolchain) -> dict[str, str]:
    """What the installed tools say they are (runs them: anvil --version, the shim --version)."""
    anvil = subprocess.run(
        [str(anvil_bin()), "--version"], capture_output=True, text=True, timeout=60
    )
    solc = subprocess.run([str(tc.shim), "--version"], capture_output=True, text=True, timeout=60)
    if anvil.returncode != 0 or solc.returncode != 0:
        bad = "anvil" if anvil.returncode != 0 else "the solc shim"
        out = (anvil if anvil.returncode != 0 else solc).stderr.strip().splitlines() or [""]
        raise ToolchainError(f"{bad} does not run ({out[-1]})", str(tc.root))
    return {
        "anvil": anvil.stdout.strip().splitlines()[0],
        "solc": solc.stdout.strip().splitlines()[-1].removeprefix("Version: "),
    }
