"""`ape run scan`: ranked opportunities (same as `flasharb scan`), on the lab's fork or on the ape
network given with --network (e.g. ethereum:mainnet-fork:foundry)."""

from __future__ import annotations

import click

from flasharb.ape_support import script_web3
from flasharb.report.table import opportunities_table
from flasharb.search.scan import scan
from flasharb.state.tokens import token_info


@click.command()
@click.option("--max-hops", type=click.IntRange(2, 4), default=3, show_default=True)
@click.option("--limit", default=20, show_default=True)
@click.option("--network", help="An ape network choice (default: the lab 'flasharb node up' runs).")
def cli(max_hops: int, limit: int, network: str | None) -> None:
    with script_web3(network) as w3:
        res = scan(w3, max_hops=max_hops)
        shown = {h.token_in for o in res.opportunities[:limit] for h in o.cycle.hops}
        opportunities_table(res, limit, token_info(w3, shown))
