"""Terminal tables (rich) for scans and trades."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from flasharb.report.format import route_label, units

console = Console(width=None if Console().is_terminal else 150)  # pipes and CI logs get full rows


def opportunities_table(
    res: Any, limit: int = 20, tokens: dict[str, dict[str, Any]] | None = None
) -> None:
    """The ranked routes; `tokens` (address -> symbol, decimals: flasharb.state.tokens
    .token_info) turns base units into token amounts, 18 decimals where a token is missing."""
    from flasharb.report.format import units as u

    t = Table(
        title=f"opportunities at block {res.block} (gas price {res.gas_price_wei / 1e9:.3f} gwei, "
        f"{len(res.pools)} pools, {res.cycles} cycles)"
    )
    for col in ("#", "route", "amount in", "gross", "gas (est)", "net", "net (ETH)"):
        t.add_column(col, justify="right" if col not in ("route",) else "left")
    tokens = tokens if tokens is not None else getattr(res, "tokens", {})
    for i, o in enumerate(res.opportunities[:limit], 1):
        j = o.to_json()
        dec = tokens.get(o.cycle.token, {}).get("decimals", 18)
        t.add_row(
            str(i),
            route_label(j["route"], tokens),
            u(o.amount_in, dec),
            u(o.gross_profit, dec),
            f"{o.gas_estimate:,}",
            u(o.net_profit, dec),
            u(o.net_profit_eth, 18),
        )
    console.print(t)
    if not res.opportunities:
        console.print("no opportunity clears gas at this block")


def trades_table(data: dict[str, Any]) -> None:
    tokens = data.get("tokens", {})
    t = Table(title="trades" + (" (dry run)" if data.get("dry_run") else ""))
    for col in ("route", "amount in", "predicted", "simulated", "realized", "gas used", "tx"):
        t.add_column(col, justify="left" if col in ("route", "tx") else "right")
    for tr in data["trades"]:
        token = tr["route"][0]["token_in"]
        dec = tokens.get(token, {}).get("decimals", 18)
        sym = tokens.get(token, {}).get("symbol", "")
        t.add_row(
            route_label(tr["route"], tokens),
            f"{units(tr['amount_in'], dec, 2)} {sym}",
            units(tr.get("predicted_profit"), dec, dec),
            units(tr.get("simulated_profit"), dec, dec),
            units(tr.get("realized_profit"), dec, dec),
            f"{int(tr['gas_used']):,}" if tr.get("gas_used") else "-",
            (tr.get("tx_hash") or "-")[:12],
        )
    console.print(t)
    for s in data.get("skipped", []):
        console.print(f"[yellow]skipped[/yellow] {route_label(s['route'], tokens)}: {s['reason']}")
    for s in data.get("reverted", []):
        console.print(f"[red]reverted[/red] {route_label(s['route'], tokens)}: {s['reason']}")
