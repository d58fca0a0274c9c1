"""`ape run scan`: ranked opportunities on the running fork (same as `flasharb scan`)."""

from __future__ import annotations

import click

from flasharb.chain.rpc import connect, find_rpc_url
from flasharb.report.table import opportunities_table
from flasharb.search.scan import scan
from flasharb.state.tokens import token_info


@click.command()
@click.option("--max-hops", type=click.IntRange(2, 4), default=3, show_default=True)
@click.option("--limit", default=20, show_default=True)
def cli(max_hops: int, limit: int) -> None:
    w3 = connect(find_rpc_url())
    res = scan(w3, max_hops=max_hops)
    shown = {h.token_in for o in res.opportunities[:limit] for h in o.cycle.hops}
    opportunities_table(res, limit, token_info(w3, shown))
