"""flasharb's venues, one module each: everything flasharb knows about a kind of pool.

A venue module holds its discovery, batched-read layout and decoding, exact quote and float
models, log-driven sync, hop encoding, gas figures and lending (the interface:
`flasharb.state.venue.PoolSource` and `flasharb.search.venue.Venue`; shared defaults in
`base`), and lists its configured instances in `VENUES`. Nothing outside it names its pools'
kind: the discovery, reader and sync drivers and the search iterate venues.

`builtin()` collects `VENUES` from every module of this package, ordered by `PRIORITY` (highest
first; a module without one gets 0): adding a venue is adding a module (and, for a new kind of
hop, the facet's hop and its reader contract under contracts/readers/venues/).
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from flasharb.state.venue import PoolSource

__all__ = ["builtin"]


@cache
def builtin() -> tuple[PoolSource, ...]:
    """Every venue instance of this package's modules, highest priority first."""
    found: list[tuple[int, int, PoolSource]] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        venues = getattr(module, "VENUES", ())
        priority = int(getattr(module, "PRIORITY", 0))
        found.extend((priority, len(found), v) for v in venues)
    found.sort(key=lambda row: (-row[0], row[1]))
    return tuple(v for _, _, v in found)
