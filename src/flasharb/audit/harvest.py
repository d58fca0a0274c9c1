"""Loan data the target itself would send: every state-changing function is traced as an eth_call
(`debug_traceCall`, nothing is mined) from its owner and from the attacker, with market-shaped
arguments (flasharb.audit.abi.fill); every call the target makes to a lender naming itself as
the borrower is kept: Balancer V2 `Vault.flashLoan`, Uniswap V3 `pool.flash`, Uniswap V2
`pair.swap` with data (a flash swap).

The harness knows nothing of the target's encoding of `userData`; harvesting lets the attacker
replay exactly what the owner's own trade would send, which is what an attacker watching the
mempool or the chain does. A trace that reverts later (the loan is too large, the route loses)
still shows the call to the lender, with its arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector as selector
from eth_utils import to_checksum_address
from web3 import Web3

from flasharb.audit.abi import Fill, Function, Market, fill
from flasharb.chain import addresses as A

__all__ = ["Lender", "LoanCall", "harvest"]

TRACE_GAS = 10_000_000


class Lender(StrEnum):
    """Which lender a loan call goes to."""

    BALANCER = "balancer"  # Vault.flashLoan(recipient, tokens, amounts, userData)
    V3_FLASH = "v3-flash"  # UniswapV3Pool.flash(recipient, amount0, amount1, data)
    V2_FLASH = "v2-flash"  # UniswapV2Pair.swap(amount0Out, amount1Out, to, data)


_SIGNATURES = {
    Lender.BALANCER: "flashLoan(address,address[],uint256[],bytes)",
    Lender.V3_FLASH: "flash(address,uint256,uint256,bytes)",
    Lender.V2_FLASH: "swap(uint256,uint256,address,bytes)",
}
_TYPES = {k: v[v.index("(") + 1 : -1].split(",") for k, v in _SIGNATURES.items()}
_RECIPIENT = {Lender.BALANCER: 0, Lender.V3_FLASH: 0, Lender.V2_FLASH: 2}
_BY_SELECTOR = {selector(sig): lender for lender, sig in _SIGNATURES.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class LoanCall:
    """One call to a lender that names the target as borrower."""

    lender_kind: Lender
    lender: str  # the Vault, the pool or the pair
    args: tuple[Any, ...]  # decoded, in the signature's order
    source: str  # how it was found: "startArb() as owner"

    @property
    def user_data(self) -> bytes:
        return bytes(self.args[-1])

    @property
    def loans(self) -> tuple[tuple[int, int], ...]:
        """(index of the amount in args (list index for Balancer), amount) of each lent amount."""
        if self.lender_kind is Lender.BALANCER:
            return tuple(enumerate(self.args[2]))
        first = 1 if self.lender_kind is Lender.V3_FLASH else 0
        return ((first, self.args[first]), (first + 1, self.args[first + 1]))

    def calldata(self) -> bytes:
        types = _TYPES[self.lender_kind]
        return selector(_SIGNATURES[self.lender_kind]) + encode(types, list(self.args))

    def with_amounts(self, amounts: Sequence[int]) -> LoanCall:
        """The same call lending `amounts` (one per lent amount); a 32-byte word of the data
        equal to an old amount becomes the new one: amounts in the data follow the loan."""
        args = list(self.args)
        data = self.user_data
        if self.lender_kind is Lender.BALANCER:
            args[2] = list(amounts)
            pairs = zip(self.args[2], amounts, strict=True)
        else:
            first = 1 if self.lender_kind is Lender.V3_FLASH else 0
            pairs = zip(self.args[first : first + 2], amounts, strict=True)
            args[first], args[first + 1] = amounts
        for old, new in pairs:
            if old and old != new:
                data = replace_word(data, old.to_bytes(32, "big"), new.to_bytes(32, "big"))
        args[-1] = data
        return replace(self, args=tuple(args))

    def with_data(self, data: bytes) -> LoanCall:
        return replace(self, args=(*self.args[:-1], data))


def replace_word(data: bytes, old: bytes, new: bytes) -> bytes:
    """`data` with every 32-byte-aligned word equal to `old` replaced by `new`."""
    words = [data[i : i + 32] for i in range(0, len(data), 32)]
    return b"".join(new if w == old else w for w in words)


def lender_label(kind: Lender) -> str:
    return {
        Lender.BALANCER: "Vault.flashLoan",
        Lender.V3_FLASH: "V3 pool.flash",
        Lender.V2_FLASH: "V2 pair.swap (flash)",
    }[kind]


def _decode(frame: dict[str, Any], target: str) -> tuple[Lender, str, tuple[Any, ...]] | None:
    raw = frame.get("input") or "0x"
    data = bytes.fromhex(raw[2:])
    kind = _BY_SELECTOR.get(data[:4])
    if kind is None or frame.get("type") not in ("CALL", None):
        return None
    try:
        args = tuple(decode(_TYPES[kind], data[4:]))
    except Exception:  # noqa: BLE001 - a selector clash with a different layout
        return None
    args = tuple(_checksummed(a) for a in args)
    if args[_RECIPIENT[kind]] != target:
        return None
    if kind is Lender.V2_FLASH and not args[-1]:
        return None  # a plain swap, not a flash swap
    if kind is Lender.BALANCER and to_checksum_address(frame["to"]) != A.BALANCER_VAULT:
        return None
    return kind, to_checksum_address(frame["to"]), args


def _checksummed(value: Any) -> Any:
    """Decoded addresses (lowercase from eth_abi) in EIP-55, lists of them too."""
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return to_checksum_address(value)
    if isinstance(value, list | tuple):
        return [_checksummed(v) for v in value]
    return value


def _calls_from(frame: dict[str, Any], target: str) -> list[dict[str, Any]]:
    out = []
    if to_checksum_address(frame.get("from", "0x" + "00" * 20)) == target:
        out.append(frame)
    for child in frame.get("calls", []):
        out.extend(_calls_from(child, target))
    return out


def trace_call(w3: Web3, sender: str, to: str, data: bytes) -> dict[str, Any] | None:
    """The call tree of an eth_call (callTracer); None when the node cannot trace it."""
    tx = {"from": sender, "to": to, "data": "0x" + data.hex(), "gas": hex(TRACE_GAS)}
    resp = w3.provider.make_request(
        "debug_traceCall",  # type: ignore[arg-type]
        [tx, "latest", {"tracer": "callTracer"}],
    )
    result = resp.get("result")
    return result if isinstance(result, dict) else None


def harvest(
    w3: Web3,
    target: str,
    fns: Sequence[Function],
    callers: Sequence[tuple[str, str]],
    market: Market,
) -> list[LoanCall]:
    """Loan calls the target makes when `callers` ((label, address)) call its state-changing,
    non-callback functions with market-shaped arguments; deduplicated, in discovery order."""
    found: dict[bytes, LoanCall] = {}
    for fn in fns:
        if not fn.state_changing or fn.callback:
            continue
        for label, who in callers:
            for variant in (Fill.MARKET_SMALL, Fill.MARKET_LARGE):
                tree = trace_call(w3, who, target, fn.encode(fill(fn, variant, market)))
                if tree is None:
                    continue
                for frame in _calls_from(tree, target):
                    hit = _decode(frame, target)
                    if hit is None:
                        continue
                    kind, lender, args = hit
                    call = LoanCall(
                        lender_kind=kind,
                        lender=lender,
                        args=args,
                        source=f"{fn.name}() as {label}, {variant.value.removeprefix('market-')}",
                    )
                    found.setdefault(call.calldata() + bytes.fromhex(lender[2:]), call)
    return list(found.values())
