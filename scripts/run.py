"""`ape run run`: watch the fork's blocks, backrun what clears the guard, journal everything
(same as `flasharb run`; Ctrl-C stops it cleanly). --network runs it on that ape network."""

from __future__ import annotations

import os
import sys

import click

from flasharb.ape_support import script_web3
from flasharb.run.command import run as run_command


@click.command(context_settings={"ignore_unknown_options": True})
@click.option("--network", help="An ape network choice (default: the lab 'flasharb node up' runs).")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def cli(network: str | None, args: tuple[str, ...]) -> None:
    """Options as `flasharb run --help` lists them."""
    with script_web3(network) as w3:
        if network is not None:  # flasharb run finds its chain through FLASHARB_RPC_URL
            os.environ["FLASHARB_RPC_URL"] = str(w3.provider.endpoint_uri)  # type: ignore[attr-defined]
        run_command.main(list(args), prog_name="ape run run", standalone_mode=False)
    sys.exit(0)
