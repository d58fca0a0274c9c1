"""The trading diamonds of a deployment, by label: the children of a master (issue 17), or the
one diamond of a single deployment (label `diamond`).

A child is what trades and what the journal, the P&L and the circuit breakers attribute to: a
diamond with its own executor key. Each comes as a `Deployment` whose `diamond` and `executor`
are that child's, so one `Trader` per child signs with its own key
(`Trader(w3, dep, signer(dep.executor))`).

The master's registry (`Deployment.children`, `Deployment.child(which)`, see
docs/capital-interface.md) is read when the deployment has one; until then a deployment is one
child.
"""

from __future__ import annotations

import json
from typing import Any

from eth_utils import is_address, to_checksum_address

from flasharb.errors import FlasharbValueError
from flasharb.execute.deploy import Deployment
from flasharb.paths import state_dir

__all__ = ["SINGLE_LABEL", "children", "find_child", "recorded_labels"]

SINGLE_LABEL = "diamond"  # the label of a single-diamond deployment's one child


def _registry(dep: Deployment) -> tuple[Any, ...]:
    return tuple(getattr(dep, "children", ()) or ())


def children(dep: Deployment) -> list[tuple[str, Deployment]]:
    """(label, the child as a Deployment) for every trading diamond of `dep`, in registry
    order; a single diamond is one child labelled `diamond`."""
    reg = _registry(dep)
    if not reg:
        return [(SINGLE_LABEL, dep)]
    return [(str(c.label), dep.child(str(c.label))) for c in reg]  # type: ignore[attr-defined]


def find_child(dep: Deployment, which: str) -> tuple[str, Deployment]:
    """The child named `which` (its label or its address).

    Raises:
        FlasharbValueError: no child of `dep` has that label or address.
    """
    want = which.strip()
    for label, child in children(dep):
        if want == label or (is_address(want) and to_checksum_address(want) == child.diamond):
            return label, child
    known = ", ".join(f"{lbl} ({c.diamond})" for lbl, c in children(dep))
    raise FlasharbValueError(f"no child {which!r} in this deployment; its children: {known}")


def recorded_labels() -> dict[str, str]:
    """address -> label from the project's `.flasharb/deployment.json`, without a chain (for
    reports on the journal alone); empty when nothing was deployed from this project."""
    path = state_dir(create=False) / "deployment.json"
    if not path.exists():
        return {}
    raw = json.loads(path.read_text())
    kids = raw.get("children") or []
    if not kids:
        return {to_checksum_address(raw["diamond"]): SINGLE_LABEL}
    return {to_checksum_address(c["address"]): str(c["label"]) for c in kids}
