"""`ape run execute`: simulate, then send the best K opportunities (same as `flasharb execute`),
journaled in the project's journal; on the lab's fork or the ape network given with --network."""

from __future__ import annotations

import click

from flasharb.ape_support import script_web3
from flasharb.execute.flow import execute_top
from flasharb.journal.store import Journal
from flasharb.report.table import trades_table


@click.command()
@click.option("--top", default=1, show_default=True, help="Execute the best K (disjoint).")
@click.option("--dry-run", is_flag=True, help="Simulate only; send nothing.")
@click.option("--max-hops", type=click.IntRange(2, 4), default=3, show_default=True)
@click.option("--network", help="An ape network choice (default: the lab 'flasharb node up' runs).")
def cli(top: int, dry_run: bool, max_hops: int, network: str | None) -> None:
    with Journal() as journal, script_web3(network) as w3:
        run_id = journal.begin_run("execute", params={"top": top, "dry_run": dry_run})
        data = execute_top(w3, top=top, dry_run=dry_run, max_hops=max_hops, journal=journal)
        journal.end_run(run_id, "done", {"trades": len(data["trades"])})
    trades_table(data)
