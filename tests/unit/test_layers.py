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
    "venues",  # one module per venue: discovery, reads, sync, quotes, hops, gas, lending
    "config",  # the project's flasharb.toml: venues, token lists, strategy -> MarketConfig
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
ENGINE = ["amm", "state", "search", "venues", "execute", "journal"]


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


def test_only_the_plugin_loader_names_the_venues_package_below_it() -> None:
    """The state and search layers find the venues by loading `flasharb.venues` by name
    (`flasharb.state.venue.builtin_venues`): a plug-in load in one place, never an import."""
    below = [p for p in MODULES if LAYERS.index(_layer_of(p)) < LAYERS.index("venues")]
    naming = sorted(str(p.relative_to(SRC)) for p in below if _names_venues(p))
    assert naming == ["state/venue.py"]


def _names_venues(path: Path) -> bool:
    """A string in the code (not a docstring) that names the venues package."""
    tree = ast.parse(path.read_text())
    docs = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return any(
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith("flasharb.venues")
        and id(node) not in docs
        for node in ast.walk(tree)
    )
