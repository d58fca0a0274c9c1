"""Counters the parity suites fill in and conftest prints at the end of the run.

Each venue's parity tests call `record(venue, ...)` once per compared case; the terminal summary
shows, per venue, the cases compared, the largest difference in wei (0 is the only passing
value) and, for Uniswap V3, the initialized ticks crossed.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NOTES", "STATS", "VenueStats", "note", "record"]


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
