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

    parts = [sym(route[0]["token_in"])]
    for hop in route:
        parts.append(f"-[{hop.get('venue', hop['kind'])} {hop['pool'][:8]}]-> {sym(hop['token_out'])}")
    return " ".join(parts)
