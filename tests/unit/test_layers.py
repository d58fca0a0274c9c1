"""The tree keeps DESIGN.md §2's shape: each layer imports only the layers above it, and the
engine never asks "replica or real"."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "flasharb"
LAYERS = [
    "chain",
    "replica",
    "amm",
    "state",
    "search",
    "execute",
    "journal",
    "report",
    "run",  # flasharb run: the block watcher
    "experiments",  # sweeps on forks, reports rebuilt from the journal
    "audit",  # flasharb audit: the generic attack harness for any contract
    "_cli_support",  # the cli's plumbing (click types, one-line errors, --json output)
    "commands",  # cli commands beside that plumbing: setup, pools, cheat, trace
    "cli",
    "ape_support",  # flasharb inside an Ape project: contract types, the scripts' network
    "pytest_plugin",  # flasharb inside a user's pytest suite: the lab and cheats as fixtures
]
SHARED = {"errors", "paths", "kinds", "__init__"}  # root modules every layer may use
ENGINE = ["amm", "state", "search", "execute", "journal"]


def _layer_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _flasharb_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("flasharb."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("flasharb."):
                    found.add(alias.name.split(".")[1])
    return found


MODULES = sorted(p for p in SRC.rglob("*.py") if _layer_of(p) in LAYERS)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_only_layers_above(path: Path) -> None:
    layer = _layer_of(path)
    allowed = set(LAYERS[: LAYERS.index(layer) + 1]) | SHARED
    assert _flasharb_imports(path) <= allowed, (
        f"{layer} imports {_flasharb_imports(path) - allowed}"
    )


@pytest.mark.parametrize("layer", ENGINE)
def test_engine_does_not_know_about_the_replica(layer: str) -> None:
    for path in (SRC / layer).rglob("*.py"):
        assert "replica" not in _flasharb_imports(path), path
