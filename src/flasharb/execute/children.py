"""The trading diamonds of a deployment, by label: the children of a master (issue 17), or the
one diamond of a single deployment (label `diamond`).

A child is what trades and what the journal, the P&L and the circuit breakers attribute to: a
diamond with its own executor key. Each comes as a `Deployment` whose `diamond` and `executor`
are that child's, so one `Trader` per child signs with its own key
(`Trader(w3, dep, signer(dep.executor))`).

The master's registry (`Deployment.children`, `Deployment.child(which)`, see
docs/capital-interface.md) is read when the deployment has one; until then a deployment is one
child.

Capital moves (`capital_moves`) are read from the chain's logs, never inferred: the master's
`Allocated` / `Recalled` (each names its child) and a child's own `Withdrawn` (TreasuryFacet: the
owner took funds out of it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from eth_utils import is_address, keccak, to_checksum_address

from flasharb.errors import FlasharbValueError
from flasharb.execute.deploy import Deployment
from flasharb.paths import state_dir
from flasharb.state._rpc import request

__all__ = [
    "ALLOCATED",
    "RECALLED",
    "SINGLE_LABEL",
    "WITHDRAWN",
    "capital_moves",
    "children",
    "find_child",
    "recorded_labels",
]

ALLOCATED = "0x" + keccak(text="Allocated(address,address,uint256)").hex()  # master -> child
RECALLED = "0x" + keccak(text="Recalled(address,address,uint256)").hex()  # child -> master
WITHDRAWN = "0x" + keccak(text="Withdrawn(address,address,uint256)").hex()  # TreasuryFacet

SINGLE_LABEL = "diamond"  # the label of a single-diamond deployment's one child


def _registry(dep: Deployment) -> tuple[Any, ...]:
    return tuple(getattr(dep, "children", ()) or ())


def children(dep: Deployment) -> list[tuple[str, Deployment]]:
    """(label, the child as a Deployment) for every trading diamond of `dep`, in registry
    order; a single diamond is one child labelled `diamond`."""
    reg = _registry(dep)
    if not reg:
        return [(SINGLE_LABEL, dep)]
    pick: Any = getattr(dep, "child", None)  # Deployment.child(label), with the master
    return [(str(c.label), pick(str(c.label))) for c in reg]


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


def _word_address(topic: str) -> str:
    return to_checksum_address("0x" + topic[-40:])


def capital_moves(
    w3: Any, master: str, kids: Iterable[str], from_block: int, to_block: int
) -> list[dict[str, Any]]:
    """Capital that moved to or from the children `kids` in blocks `from_block..to_block`, one
    per log, in chain order: `{"child", "kind" (allocate | recall | withdraw), "token",
    "amount", "block", "tx_hash", "log_index"}` (the journal's `capital` rows): the `master`'s
    allocations and recalls ("" for none) and the children's withdrawals. One eth_getLogs."""
    kids = {to_checksum_address(k) for k in kids}
    if to_block < from_block or not kids:
        return []
    logs = request(
        w3,
        "eth_getLogs",
        [
            {
                "fromBlock": hex(from_block),
                "toBlock": hex(to_block),
                "address": ([master] if master else []) + sorted(kids),
                "topics": [[ALLOCATED, RECALLED, WITHDRAWN]],
            }
        ],
        "capital moves",
    )
    out = []
    for log in logs:
        emitter = to_checksum_address(log["address"])
        topic, *args = [str(t) for t in log["topics"]]
        if master and emitter == master and topic in (ALLOCATED, RECALLED) and len(args) == 2:
            kind = "allocate" if topic == ALLOCATED else "recall"
            child, token = _word_address(args[0]), _word_address(args[1])
        elif emitter in kids and topic == WITHDRAWN and len(args) == 2:
            kind, child, token = "withdraw", emitter, _word_address(args[0])
        else:
            continue
        out.append(
            {
                "child": child,
                "kind": kind,
                "token": token,
                "amount": int(str(log["data"])[2:66], 16),
                "block": int(log["blockNumber"], 16),
                "tx_hash": log["transactionHash"],
                "log_index": int(log["logIndex"], 16),
            }
        )
    return out
