"""`flasharb replica build`, `flasharb node up|down`: the replica and the lab on top of it."""

from __future__ import annotations

from typing import Any

import click

from flasharb._cli_support import _emit, busy, json_option

# ------------------------------------------------------------------ replica


@click.group()
def replica() -> None:
    """The mainnet replica: canonical bytecode at canonical addresses, seeded from data/."""


@replica.command("build")
@click.option("--out", type=click.Path(dir_okay=False), help="State file to write.")
@json_option
def replica_build(out: str | None, as_json: bool) -> None:
    """Build the replica and dump it as an Anvil state file."""
    from pathlib import Path

    from flasharb.replica.build import build

    with busy("building the replica (compile, deploy, seed pools, dump)", as_json):
        res = build(Path(out) if out else None)
    data = res.to_json()

    def human(d: dict[str, Any]) -> None:
        click.echo(
            f"replica: {d['path']} (block {d['block']}, {len(d['tokens'])} tokens, "
            f"{len(d['pools'])} pools, {res.seconds:.2f}s)"
        )

    _emit(data, as_json, human)


# ------------------------------------------------------------------ node


@click.group()
def node() -> None:
    """Start and stop the lab: an upstream and an Anvil fork of it."""


@node.command("up")
@click.option(
    "--fork-url", envvar="FLASHARB_FORK_URL", help="Fork this RPC instead of the replica."
)
@click.option(
    "--fork-block",
    type=click.IntRange(min=0),
    help="Pin the fork to this upstream block (default: head).",
)
@json_option
def node_up(fork_url: str | None, fork_block: int | None, as_json: bool) -> None:
    """Start the upstream (replica unless --fork-url) and the fork; record them in .flasharb/."""
    from flasharb.replica.lab import lab_up

    info = lab_up(fork_url=fork_url, fork_block=fork_block)
    data = {k: info[k] for k in ("rpc_url", "upstream", "fork_block", "chain_id")}
    _emit(
        data,
        as_json,
        lambda d: click.echo(
            f"fork {d['rpc_url']} of {d['upstream']} "
            f"at block {d['fork_block']} (chain {d['chain_id']})"
        ),
    )


@node.command("down")
@json_option
def node_down(as_json: bool) -> None:
    """Stop the lab started by 'node up'."""
    from flasharb.chain.node import node_down as down

    data = down()
    _emit(
        data,
        as_json,
        lambda d: click.echo(
            "stopped "
            + (", ".join(f"{p['role']} (pid {p['pid']})" for p in d["stopped"]) or "nothing")
        ),
    )
