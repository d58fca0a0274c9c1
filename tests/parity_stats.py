"""Counters the parity suites fill in and conftest prints at the end of the run.

Each venue's parity tests call `record(venue, ...)` once per compared case; the terminal summary
shows, per venue, the cases compared, the largest difference in wei (0 is the only passing
value) and, for Uniswap V3, the initialized ticks crossed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["NOTES", "STATS", "VenueStats", "export", "merge", "note", "record"]


@dataclass(slots=True)
class VenueStats:
    cases: int = 0
    exact_in: int = 0
    exact_out: int = 0
    reverts_matched: int = 0  # cases where Python raised exactly where the contract reverted
    ticks_crossed: int = 0  # Uniswap V3: initialized ticks crossed, summed over cases
    max_ticks_in_one_swap: int = 0
    max_wei_diff: int = 0


STATS: dict[str, VenueStats] = {}


def record(
    venue: str,
    *,
    exact_in: bool,
    wei_diff: int = 0,
    reverted: bool = False,
    ticks_crossed: int = 0,
) -> None:
    """Count one compared case of `venue` (e.g. "uniswap_v2", "uniswap_v3", "balancer")."""
    s = STATS.setdefault(venue, VenueStats())
    s.cases += 1
    if exact_in:
        s.exact_in += 1
    else:
        s.exact_out += 1
    s.reverts_matched += int(reverted)
    s.ticks_crossed += ticks_crossed
    s.max_ticks_in_one_swap = max(s.max_ticks_in_one_swap, ticks_crossed)
    s.max_wei_diff = max(s.max_wei_diff, abs(wei_diff))


# Free-form lines a parity suite wants printed after the counters (e.g. a comparison table).
NOTES: list[str] = []


def note(line: str) -> None:
    """Print `line` in the parity summary at the end of the run."""
    NOTES.append(line)


# Under pytest-xdist each worker counts the cases it ran; the controller prints the summary.


def export() -> dict[str, Any]:
    """What this process counted, as plain data a pytest-xdist worker sends to the controller."""
    return {"stats": {venue: asdict(s) for venue, s in STATS.items()}, "notes": list(NOTES)}


def merge(counted: dict[str, Any]) -> None:
    """Add what a worker counted (`export()` there) to this process's counters."""
    for venue, fields in counted["stats"].items():
        s, w = STATS.setdefault(venue, VenueStats()), VenueStats(**fields)
        s.cases += w.cases
        s.exact_in += w.exact_in
        s.exact_out += w.exact_out
        s.reverts_matched += w.reverts_matched
        s.ticks_crossed += w.ticks_crossed
        s.max_ticks_in_one_swap = max(s.max_ticks_in_one_swap, w.max_ticks_in_one_swap)
        s.max_wei_diff = max(s.max_wei_diff, w.max_wei_diff)
    NOTES.extend(counted["notes"])
