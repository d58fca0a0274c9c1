"""The "nothing lost" guard, for any contract: what the target holds and has approved, read before
and after an attack, and what the attack wrote to it, from the node's own state diff.

What is read (batched JSON-RPC, one request per read):
- the target's ETH, and its balance of every watched token (every token of the fork's pools, plus
  the hostile zoo tokens the harness deploys);
- its allowance of each token to every watched spender (the Balancer Vault, the common routers,
  every pool holding the token, the attacker and its contracts, whatever the target itself calls).

What an attack changed comes from `debug_traceTransaction` with the prestate tracer in diff mode
(the node's own record of every account and storage word a transaction changed), so:
- a storage word or the code of the target that changed is seen wherever the slot is;
- only tokens whose storage changed are read again for allowances (a reverted attack reads
  nothing); balances and ETH are always read again (a token may keep balances elsewhere);
- an `Approval(owner=target, spender, value)` log names a spender nobody thought to watch.

ref: tests/audit/nothing_lost.py (the diamond's own guard, which also knows its storage layout).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from web3 import Web3

from flasharb.errors import FlasharbRuntimeError

__all__ = ["Holdings", "StateDiff", "Watch", "read", "state_diff"]

_BALANCE_OF = function_signature_to_4byte_selector("balanceOf(address)")
_ALLOWANCE = function_signature_to_4byte_selector("allowance(address,address)")
APPROVAL_TOPIC = "0x" + keccak(b"Approval(address,address,uint256)").hex()
ETH = "ETH"  # the key of ETH among balances


def _word(address: str) -> bytes:
    return encode(["address"], [address])


# an account with no history on any chain flasharb runs (keccak of a label): what a token says
# it may spend is an allowance nobody gave
NOBODY = to_checksum_address(keccak(b"flasharb.audit: an account that never approved")[12:])


def granted_to_all(
    w3: Web3, pairs: Iterable[tuple[str, str]], block: int | str = "latest"
) -> set[tuple[str, str]]:
    """The (token, spender) pairs whose allowance a token grants every holder, approved or not
    (NOBODY's allowance is not 0): a Balancer pool token lets the Vault spend it without
    approval (ref: balancer-v2-monorepo pkg/pool-utils/contracts/BalancerPoolToken.sol
    `allowance`). Not a standing approval of the target."""
    keys = list(pairs)
    at = hex(block) if isinstance(block, int) else block
    calls = [
        ("eth_call", [{"to": t, "data": "0x" + (_ALLOWANCE + _word(NOBODY) + _word(s)).hex()}, at])
        for t, s in keys
    ]
    return {k for k, raw in zip(keys, _batch(w3, calls), strict=True) if (_int(raw) or 0) > 0}


@dataclass(frozen=True, slots=True, kw_only=True)
class Watch:
    """What the guard reads for one target."""

    target: str
    tokens: tuple[str, ...]
    spenders: Mapping[str, tuple[str, ...]]  # token -> spenders whose allowance is read

    def with_spenders(self, extra: Mapping[str, Iterable[str]]) -> Watch:
        merged = {t: tuple(s) for t, s in self.spenders.items()}
        for token, spenders in extra.items():
            have = merged.get(token, ())
            merged[token] = have + tuple(s for s in spenders if s not in have)
        tokens = self.tokens + tuple(t for t in extra if t not in self.tokens)
        return Watch(target=self.target, tokens=tokens, spenders=merged)


@dataclass(frozen=True, slots=True, kw_only=True)
class Holdings:
    """One read: ETH and token balances of the target, and its allowances."""

    balances: Mapping[str, int]  # token (or ETH) -> balance; a token whose balanceOf fails: absent
    allowances: Mapping[tuple[str, str], int]  # (token, spender) -> allowance

    def updated(self, other: Holdings) -> Holdings:
        return Holdings(
            balances={**self.balances, **other.balances},
            allowances={**self.allowances, **other.allowances},
        )


def _batch(w3: Web3, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
    """Results of one batched request; None for a call that failed (a token without allowance)."""
    if not calls:
        return []
    responses = w3.provider.make_batch_request(list(calls))  # type: ignore[attr-defined]
    if isinstance(responses, dict):  # the node refused the whole batch
        raise FlasharbRuntimeError(f"the node refused a batch of {len(calls)} reads: {responses}")
    return [r.get("result") if "error" not in r else None for r in responses]


def _int(raw: Any) -> int | None:
    if not isinstance(raw, str) or raw in ("0x", ""):
        return None
    return int(raw[:66], 16)  # the first word: what a balanceOf or allowance returns


def read(
    w3: Web3,
    watch: Watch,
    *,
    allowance_tokens: Iterable[str] | None = None,
    with_balances: bool = True,
    block: int | str = "latest",
) -> Holdings:
    """The target's balances (all, unless not `with_balances`) and allowances (of
    `allowance_tokens`, default all), at `block`."""
    target = watch.target
    at = hex(block) if isinstance(block, int) else block
    calls: list[tuple[str, list[Any]]] = []
    keys: list[tuple[str, str | None]] = []
    if with_balances:
        calls.append(("eth_getBalance", [target, at]))
        keys.append((ETH, None))
        for t in watch.tokens:
            data = "0x" + (_BALANCE_OF + _word(target)).hex()
            calls.append(("eth_call", [{"to": t, "data": data}, at]))
            keys.append((t, None))
    for t in watch.tokens if allowance_tokens is None else allowance_tokens:
        for s in watch.spenders.get(t, ()):
            data = "0x" + (_ALLOWANCE + _word(target) + _word(s)).hex()
            calls.append(("eth_call", [{"to": t, "data": data}, at]))
            keys.append((t, s))
    balances: dict[str, int] = {}
    allowances: dict[tuple[str, str], int] = {}
    for (token, spender), raw in zip(keys, _batch(w3, calls), strict=True):
        value = _int(raw)
        if value is None:
            continue
        if spender is None:
            balances[token] = value
        else:
            allowances[(token, spender)] = value
    return Holdings(balances=balances, allowances=allowances)


@dataclass(frozen=True, slots=True, kw_only=True)
class StateDiff:
    """What one mined transaction changed, from the node's prestate diff."""

    touched: frozenset[str]  # accounts whose storage changed (EIP-55)
    target_storage: tuple[tuple[str, str, str], ...] = ()  # (slot, before, after) of the target
    target_code_changed: bool = False
    approvals: tuple[tuple[str, str], ...] = field(default=())  # (token, spender) from logs


def state_diff(w3: Web3, tx_hash: str, target: str, logs: Sequence[Any] = ()) -> StateDiff:
    """The prestate diff of `tx_hash` (mined), seen from `target`; `logs` are its receipt's."""
    resp = w3.provider.make_request(
        "debug_traceTransaction",  # type: ignore[arg-type]
        [tx_hash, {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}],
    )
    if "result" not in resp:
        raise FlasharbRuntimeError(
            f"the node cannot trace {tx_hash} (debug_traceTransaction: {resp.get('error')}); "
            "the audit needs an Anvil fork"
        )
    pre: dict[str, Any] = {to_checksum_address(a): s for a, s in resp["result"]["pre"].items()}
    post: dict[str, Any] = {to_checksum_address(a): s for a, s in resp["result"]["post"].items()}
    # a word written back to zero is in "pre" only (geth's diff mode, which Anvil follows)
    touched = frozenset(
        a
        for a in pre.keys() | post.keys()
        if pre.get(a, {}).get("storage") or post.get(a, {}).get("storage")
    )
    mine = post.get(target, {})
    before = pre.get(target, {}).get("storage", {})
    after = mine.get("storage", {})
    zero = "0x" + "00" * 32
    slots = tuple(
        (slot, before.get(slot, zero), after.get(slot, zero))
        for slot in sorted(before.keys() | after.keys())
        if before.get(slot, zero) != after.get(slot, zero)
    )
    approvals = []
    for log in logs:
        topics = [t.hex() if isinstance(t, bytes) else str(t) for t in log["topics"]]
        topics = [t if t.startswith("0x") else "0x" + t for t in topics]
        if len(topics) == 3 and topics[0] == APPROVAL_TOPIC:
            owner = to_checksum_address("0x" + topics[1][-40:])
            if owner == target:
                spender = to_checksum_address("0x" + topics[2][-40:])
                approvals.append((to_checksum_address(log["address"]), spender))
    return StateDiff(
        touched=touched,
        target_storage=slots,
        target_code_changed="code" in mine,
        approvals=tuple(approvals),
    )
