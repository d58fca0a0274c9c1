"""`flasharb setup`: install (or find) the pinned node toolchain and say where everything is."""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path
from typing import Any

import click

from flasharb._cli_support import _emit, _kv, json_option

PTH_NAME = "flasharb-toolchain.pth"


@click.command()
@click.option(
    "--into",
    type=click.Path(file_okay=False, path_type=Path),
    help="Install the toolchain into DIR instead of the per-user cache "
    "(then export FLASHARB_TOOLCHAIN=DIR).",
)
@click.option(
    "--ape",
    "for_ape",
    is_flag=True,
    help="Also make Ape use it from this virtualenv: py-solc-x / ape-solidity find solc 0.8.28 "
    "through SOLCX_BINARY_PATH (a .pth file), ape-foundry finds anvil in the venv's bin/.",
)
@json_option
def setup(into: Path | None, for_ape: bool, as_json: bool) -> None:
    """Install the node toolchain (anvil, solcjs, protocol artifacts; `npm ci` of the lock that
    ships with flasharb) into the per-user cache, or find the one already there, and check it."""
    from flasharb.chain import toolchain
    from flasharb.paths import project_dir

    tc = toolchain.install(into) if into else toolchain.ensure(quiet=as_json)
    versions = toolchain.versions(tc)
    data: dict[str, Any] = {
        "toolchain": str(tc.root),
        "source": tc.source,
        "anvil": str(toolchain.anvil_bin()),
        "anvil_version": versions["anvil"],
        "solc": str(tc.shim),
        "solc_version": versions["solc"],
        "solcx_dir": str(toolchain.solcx_dir()),
        "project": str(project_dir()),
    }
    if for_ape:
        data["ape"] = _point_venv(Path(data["solcx_dir"]), Path(data["anvil"]))
    _emit(data, as_json, _kv)


def _point_venv(solcx_dir: Path, anvil: Path) -> dict[str, str]:
    """Write SOLCX_BINARY_PATH (as a default) into this venv's site-packages and link anvil into
    its bin/: both inside the venv flasharb runs from, nothing global."""
    from flasharb.errors import FlasharbValueError

    if sys.prefix == sys.base_prefix:
        raise FlasharbValueError(
            "--ape writes into the virtualenv flasharb runs from, and this is no virtualenv; "
            "run it with a venv's flasharb"
        )
    pth = Path(sysconfig.get_paths()["purelib"]) / PTH_NAME
    pth.write_text(
        "# flasharb setup --ape: py-solc-x / ape-solidity use flasharb's solc shim\n"
        f"import os; os.environ.setdefault('SOLCX_BINARY_PATH', {str(solcx_dir)!r})\n"
    )
    link = Path(sys.prefix) / "bin" / "anvil"
    if link.is_symlink() or not link.exists():
        tmp = link.with_name(f".anvil.{os.getpid()}")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(anvil)
        tmp.replace(link)
    return {"pth": str(pth), "anvil": str(link)}
