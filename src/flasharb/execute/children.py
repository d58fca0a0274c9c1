"""The trading diamonds of a deployment, by label: the children of a master (issue 17,
`Deployment.children` / `Deployment.child`, see docs/capital-interface.md), or the one diamond
of a single deployment (label `diamond`).

A child is what trades and what the journal, the P&L and the circuit breakers attribute to: a
diamond with its own executor key. Each comes as the `Deployment` that `Deployment.child` gives
(its `diamond` and `executor` are the child's), so one `Trader` per child signs with its own key
(`Trader(w3, kid, kid.trading_signer())`).

Capital moves (`capital_moves`) are read from the chain's logs, never inferred: the master's
`Allocated` / `Recalled` (each names its child) and a child's own `Withdrawn` (TreasuryFacet: the
owner took funds out of it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eth_utils import is_address, keccak, to_checksum_address

from flasharb.errors import FlasharbValueError
from flasharb.execute.deploy import Deployment, recorded
from flasharb.state._rpc import request

__all__ = [
    "ALLOCATED",
    "RECALLED",
    "SINGLE_LABEL",
    "WITHDRAWN",
    "capital_moves",
    "recorded_labels",
    "trading_diamond",
    "trading_diamonds",
]

ALLOCATED = "0x" + keccak(text="Allocated(address,address,uint256)").hex()  # master -> child
RECALLED = "0x" + keccak(text="Recalled(address,address,uint256)").hex()  # child -> master
WITHDRAWN = "0x" + keccak(text="Withdrawn(address,address,uint256)").hex()  # TreasuryFacet

SINGLE_LABEL = "diamond"  # the label of a single-diamond deployment's one trading diamond


def trading_diamonds(dep: Deployment) -> list[tuple[str, Deployment]]:
    """(label, `dep.child(label)`) for every child of `dep`, in registry order; a single
    diamond is one, labelled `diamond`."""
    if not dep.children:
        return [(SINGLE_LABEL, dep)]
    return [(c.label, dep.child(c.label)) for c in dep.children]


def trading_diamond(dep: Deployment, which: str) -> tuple[str, Deployment]:
    """The trading diamond `which` (a label or an address) as (label, Deployment): a child by
    `Deployment.child`, or a single deployment's diamond (`diamond` or its address).

    Raises:
        FlasharbValueError: `dep` has no such child.
    """
    want = which.strip()
    if dep.children:
        kid = dep.child(want)
        label = next(c.label for c in dep.children if c.address.lower() == kid.diamond.lower())
        return label, kid
    if want == SINGLE_LABEL or (is_address(want) and want.lower() == dep.diamond.lower()):
        return SINGLE_LABEL, dep
    raise FlasharbValueError(
        f"no child {which!r} in this deployment: a single diamond, {SINGLE_LABEL} "
        f"({dep.diamond}); deploy with --children N for children"
    )


def recorded_labels() -> dict[str, str]:
    """address -> label of the project's recorded deployment (`deploy.recorded`), without a
    chain (for reports on the journal alone); empty when nothing was deployed from it."""
    dep = recorded()
    if dep is None:
        return {}
    return {to_checksum_address(kid.diamond): label for label, kid in trading_diamonds(dep)}


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
