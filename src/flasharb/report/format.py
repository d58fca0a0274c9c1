"""Formatting of integer amounts for people; the only place wei become decimals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def units(amount: int | str | None, decimals: int, places: int = 6) -> str:
    if amount is None:
        return "-"
    value = Decimal(int(amount)) / (Decimal(10) ** decimals)
    return f"{value:,.{places}f}"


def route_label(route: list[dict[str, Any]], tokens: dict[str, dict[str, Any]]) -> str:
    def sym(t: str) -> str:
        return str(tokens.get(t, {}).get("symbol", t[:8]))

    short = {"uniswap_v2": "uni2", "sushiswap": "sushi"}
    parts = [sym(route[0]["token_in"])]
    for hop in route:
        venue = short.get(hop.get("venue", ""), hop.get("venue", hop["kind"]))
        parts.append(f"-{venue}-> {sym(hop['token_out'])}")
    return " ".join(parts)
