"""Event topics: `topic(signature)`. Each venue names the events it listens to in its own module
(`flasharb.venues`): creation (`PoolSource.creation`), state (`PoolSource.watches`) and lending
(`Venue.lender_logs`)."""

from __future__ import annotations

from eth_utils import keccak

__all__ = ["topic"]


def topic(signature: str) -> bytes:
    """The first topic of an event: keccak256 of its signature."""
    return keccak(text=signature)
