"""The CLI's lazy command table (flasharb.cli.LAZY): each entry names a real command with the
same name and one-line help, `flasharb --help` lists exactly what the loaded commands would, no
command is left out of the table, and `--help` / `--version` import none of the commands."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import click
import pytest

import flasharb
from flasharb._cli_support import LazyGroup
from flasharb.cli import LAZY, main


def _real(name: str) -> click.Command:
    module, _, attribute = LAZY[name][0].partition(":")
    cmd = getattr(importlib.import_module(module), attribute)
    assert isinstance(cmd, click.Command), f"{LAZY[name][0]} is not a click command"
    return cmd


@pytest.mark.parametrize("name", sorted(LAZY))
def test_each_entry_is_the_real_command_with_its_help(name: str) -> None:
    cmd = _real(name)
    assert cmd.name == name
    # the stand-in `--help` lists is click.Command(name, help=...): the same text only when the
    # command has no short_help of its own and is not hidden
    assert cmd.short_help is None and not cmd.hidden
    assert LAZY[name][1] == cmd.get_short_help_str(10**6), (
        f"LAZY[{name!r}] help is stale; set it to {cmd.get_short_help_str(10**6)!r}"
    )


def _listing(group: click.Group, width: int) -> str:
    ctx = click.Context(group, info_name="flasharb")
    formatter = click.HelpFormatter(width=width)
    group.format_commands(ctx, formatter)
    return formatter.getvalue()


@pytest.mark.parametrize("width", [40, 60, 80, 120])
def test_help_lists_what_the_loaded_commands_would(width: int) -> None:
    lazy = LazyGroup(name="flasharb", lazy=LAZY)
    loaded = click.Group(name="flasharb", commands={n: _real(n) for n in LAZY})
    eager = {n: c for n, c in main.commands.items() if n not in LAZY}
    for cmd in eager.values():
        lazy.add_command(cmd)
        loaded.add_command(cmd)
    assert _listing(lazy, width) == _listing(loaded, width)
    assert not lazy.commands.keys() & LAZY.keys(), "listing the commands imported one"


def _defined_commands() -> dict[str, str]:
    """Every top-level click command defined in flasharb (a module whose source has
    `@click.command` or `@click.group`, flasharb.cli aside), by name: module:attribute."""
    root = Path(flasharb.__file__).parent
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*.py")):
        text = path.read_text()
        if path.name == "cli.py" or not ("@click.command" in text or "@click.group" in text):
            continue
        name = ".".join(("flasharb", *path.relative_to(root).with_suffix("").parts))
        commands = {
            a: v
            for a, v in vars(importlib.import_module(name)).items()
            if isinstance(v, click.Command)
        }
        nested = {
            id(sub)
            for v in commands.values()
            if isinstance(v, click.Group)
            for sub in v.commands.values()
        }
        for attribute, cmd in commands.items():
            callback = cmd.callback
            defined_in = name if callback is None else inspect.unwrap(callback).__module__
            if id(cmd) not in nested and defined_in == name:  # not a re-export
                found[str(cmd.name)] = f"{name}:{attribute}"
    return found


def test_the_table_is_every_command_defined_outside_the_cli() -> None:
    defined = _defined_commands()
    table = {n: target for n, (target, _) in LAZY.items()}
    assert table == defined, (
        f"LAZY is out of date: missing {sorted(defined.keys() - table.keys())}, "
        f"extra {sorted(table.keys() - defined.keys())}, "
        f"moved {sorted(n for n in table.keys() & defined.keys() if table[n] != defined[n])}"
    )


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_help_and_version_import_no_command(args: list[str]) -> None:
    modules = sorted({target.partition(":")[0] for target, _ in LAZY.values()})
    probe = (
        "import sys\n"
        "from flasharb.cli import main\n"
        "try:\n"
        f"    main({args!r}, prog_name='flasharb')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in {[*modules, 'web3', 'eth_abi', 'numpy']!r} if m in sys.modules))"
    )
    res = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert res.stdout.strip().splitlines()[-1] == "[]", res.stdout
