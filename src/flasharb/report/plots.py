"""PNG plots for experiment reports (matplotlib, Agg: no display needed). Values arrive as the
journal holds them (wei as decimal strings); the scale to display units is applied here."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: before pyplot is imported

import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
from matplotlib.figure import Figure  # noqa: E402

__all__ = ["bars", "grouped_lines", "save", "scaled"]


def scaled(value: Any, scale: int) -> float:
    """A journal value (int or decimal string) in display units, for plotting only."""
    return float(Fraction(int(str(value)), scale))


def grouped_lines(
    rows: Sequence[dict[str, Any]],
    *,
    x: str,
    y: str,
    series: str,
    panels: str | None = None,
    panel_values: Sequence[Any] | None = None,
    xlabel: str,
    ylabel: str,
    scale: int = 1,
    panel_title: str = "{}",
) -> Figure:
    """One line per `series` value of y against x, one panel per `panels` value."""
    keys = list(panel_values) if panels and panel_values else [None]
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 3.8), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        sub = [r for r in rows if panels is None or r[panels] == key]
        for name in sorted({str(r[series]) for r in sub}):
            pts = sorted((r[x], scaled(r[y], scale)) for r in sub if str(r[series]) == name)
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if key is not None:
            ax.set_title(panel_title.format(key))
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def bars(
    labels: Sequence[str],
    groups: dict[str, Sequence[float]],
    *,
    ylabel: str,
    title: str = "",
) -> Figure:
    """Grouped bars: one group per label, one bar per key of `groups`."""
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(labels) + 2), 3.8))
    width = 0.8 / max(1, len(groups))
    for i, (name, values) in enumerate(groups.items()):
        ax.bar([j + i * width for j in range(len(labels))], list(values), width, label=name)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(labels))], list(labels), fontsize=8)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def save(fig: Figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=100, metadata={"Software": None})  # no version stamp: stable files
    plt.close(fig)
    tmp.replace(path)
