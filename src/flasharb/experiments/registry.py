"""The experiments by name (`flasharb experiment NAME`)."""

from __future__ import annotations

from flasharb.errors import FlasharbValueError
from flasharb.experiments.base import Experiment

__all__ = ["NAMES", "get"]

NAMES = ("shock-sweep", "staleness", "hop-gas", "flash-sources", "optimizers")


def get(name: str) -> Experiment:
    if name == "shock-sweep":
        from flasharb.experiments.shock_sweep import EXPERIMENT

        return EXPERIMENT
    if name == "staleness":
        from flasharb.experiments.staleness import EXPERIMENT as STALENESS

        return STALENESS
    if name == "hop-gas":
        from flasharb.experiments.hop_gas import EXPERIMENT as HOP_GAS

        return HOP_GAS
    if name == "flash-sources":
        from flasharb.experiments.flash_sources import EXPERIMENT as FLASH_SOURCES

        return FLASH_SOURCES
    if name == "optimizers":
        from flasharb.experiments.optimizers import EXPERIMENT as OPTIMIZERS

        return OPTIMIZERS
    raise FlasharbValueError(f"no experiment {name!r}; pick one of {', '.join(NAMES)}")
