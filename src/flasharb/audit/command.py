"""`flasharb audit --target ADDRESS --abi FILE`: the generic attacks on any contract deployed on the
fork, a table of what each did (or `--json`).

Exit status: 0 when nothing was found, 1 when the audit found at least one hole, 2 for bad input
(an ABI file that cannot be read or is not a JSON ABI, no contract at the target, no fork).
"""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from typing import Any

import click

from flasharb.audit.attacks import ATTACK_KINDS, Kind

EXIT_HOLES = 1  # the audit ran and found at least one hole


def connect_fork() -> Any:
    """The fork to audit on, checked (it answers, is chain 1, has the mainnet contracts): the one
    place the command looks its chain up."""
    from flasharb.chain.node import check_mainnet_fork
    from flasharb.chain.rpc import connect, find_rpc_url

    url = find_rpc_url()
    w3 = connect(url)
    check_mainnet_fork(w3, url)
    return w3


@click.command("audit")
@click.option("--target", required=True, help="Address of the contract to audit (on the fork).")
@click.option(
    "--abi",
    "abi_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Its ABI: a JSON list of entries, or an artifact with an 'abi' key.",
)
@click.option(
    "--owner",
    help="The account it trusts (default: what its owner() returns); used only to harvest the "
    "loan data its owner's trades would send.",
)
@click.option(
    "--only",
    "only",
    multiple=True,
    type=click.Choice([k.value for k in ATTACK_KINDS]),
    help="Run only these attack families (repeatable); standing approvals are always checked.",
)
@click.option("--all", "show_all", is_flag=True, help="List SAFE attacks in the table too.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def audit_command(
    target: str,
    abi_path: str,
    owner: str | None,
    only: tuple[str, ...],
    show_all: bool,
    as_json: bool,
) -> None:
    """Attack the contract at --target with flash loans it did not ask for, forged callbacks,
    every state-changing selector as a stranger, hostile tokens and ETH, on the fork (each inside
    a snapshot: the fork is left as it was). Exits 1 when a hole is found, 0 when none is."""
    from rich.console import Console

    from flasharb.audit.abi import load_abi
    from flasharb.audit.harness import run_audit
    from flasharb.audit.report import print_report

    abi = load_abi(abi_path)
    w3 = connect_fork()
    kinds = tuple(Kind(k) for k in only) if only else ATTACK_KINDS
    err = Console(stderr=True)
    watching = not as_json and err.is_terminal
    status = err.status("auditing", spinner="dots") if watching else nullcontext()
    with status as spinner:

        def log(msg: str) -> None:
            if spinner is not None:
                spinner.update(f"auditing: {msg}")

        report = run_audit(w3, target, abi, owner=owner, kinds=kinds, log=log)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        print_report(report, all_rows=show_all)
    if report.exit_code:
        sys.exit(EXIT_HOLES)
