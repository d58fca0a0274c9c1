"""What an experiment is, and how its points run: in this process, on N local forks in
parallel (`--workers N`), or on a Ray cluster (`--ray ADDRESS`).

An experiment is a grid of points (plain JSON parameters) and a function that measures one
point on a fork with a diamond deployed. Every point runs inside an `evm_snapshot` that is
reverted afterwards, so points are independent and their order does not matter. Metrics are
JSON with integers as decimal strings (wei), so they go into the journal unchanged and every
figure of the report is rebuilt from the journal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3

from flasharb.execute.deploy import Deployment

__all__ = ["Context", "Experiment", "Figure", "Metrics", "Params"]

Params = dict[str, Any]
Metrics = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Context:
    """One worker's fork: its web3, the diamond on it, and the owner that sends trades."""

    w3: Web3
    deployment: Deployment
    rpc_url: str


@dataclass(frozen=True, slots=True)
class Figure:
    """One plot an experiment's `plots` wrote into the report directory, with its caption."""

    file: str  # PNG name inside the report directory
    caption: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Experiment:
    """An experiment: a grid of points, how to measure one point on a fork, and how to turn the
    journaled points into table rows and plots. `flasharb experiment` and `run_experiment` run
    it; `register_experiment` names it in this process, `module:attribute` everywhere."""

    name: str
    title: str
    question: str  # what the experiment answers, one sentence for the report
    grid: Callable[[str], list[Params]]  # size ("small" | "full") -> points
    run_point: Callable[[Context, Params], Metrics]
    rows: Callable[[Sequence[dict[str, Any]]], list[dict[str, Any]]]  # points -> table rows
    plots: Callable[[Sequence[dict[str, Any]], Path], list[Figure]]  # rows -> PNGs written
    notes: str = ""  # how to read the figures; what is modelled rather than measured
