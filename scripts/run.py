"""`ape run run`: watch the fork's blocks, backrun what clears the guard, journal everything
(same as `flasharb run`; Ctrl-C stops it cleanly)."""

from __future__ import annotations

import sys

import click

from flasharb.run.command import run as run_command


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def cli(args: tuple[str, ...]) -> None:
    """Options as `flasharb run --help` lists them."""
    run_command.main(list(args), prog_name="ape run run", standalone_mode=False)
    sys.exit(0)
