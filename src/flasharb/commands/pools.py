"""`flasharb pools`: the pools discovery finds on the fork, by venue and token."""

from __future__ import annotations

from typing import Any

import click

from flasharb._cli_support import TOKEN, _emit, _w3, json_option, rpc_url_option


@click.command()
@click.option("--venue", help="Only this venue (uniswap_v2, sushiswap, uniswap_v3, balancer, ...).")
@click.option(
    "--token",
    "tokens",
    type=TOKEN,
    multiple=True,
    help="Only pools holding this token (address or symbol); repeat for pools holding all.",
)
@rpc_url_option
@json_option
def pools(venue: str | None, tokens: tuple[str, ...], as_json: bool) -> None:
    """Every pool flasharb can trade, discovered from the factories and the Vault on the fork."""
    from flasharb.errors import FlasharbValueError
    from flasharb.report import known
    from flasharb.state.discovery import discover
    from flasharb.state.venue import Venues

    venues = list(Venues().names)
    if venue is not None and venue not in venues:
        raise FlasharbValueError(f"unknown venue {venue!r}: give one of {', '.join(venues)}")
    registry = discover(_w3())
    rows = [
        p
        for p in registry
        if (venue is None or p.venue == venue) and all(t in p.tokens for t in tokens)
    ]
    data: dict[str, Any] = {
        "block": registry.block,
        "pools": [
            {
                "address": p.uid,
                "venue": p.venue,
                "kind": str(p.kind),
                "tokens": list(p.tokens),
                "symbols": [known.symbol(t) for t in p.tokens],
                "fee_pips": _fee_pips(p),
            }
            for p in rows
        ],
    }
    _emit(data, as_json, _table)


def _fee_pips(p: Any) -> int:
    """The fee in pips (hundredths of a bip): V2/V3/V4 keep it so (at most 1e6); Balancer's is
    18-decimal (at least MIN_SWAP_FEE_PERCENTAGE, 1e12)."""
    return int(p.fee) // 10**12 if p.fee > 10**6 else int(p.fee)


def _table(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(data['pools'])} pools at block {data['block']}")
    for col in ("pool", "venue", "tokens", "fee"):
        table.add_column(col, justify="right" if col == "fee" else "left")
    for p in data["pools"]:
        fee = p["fee_pips"]
        table.add_row(p["address"], p["venue"], "/".join(p["symbols"]), f"{fee / 10**4:g}%")
    Console().print(table)
