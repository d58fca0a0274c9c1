"""The token screen: every token is probed once on the fork before its pools enter the market.

A token passes when a transfer out of a pool that holds it, and a transfer back, behave as an
ERC-20 the facet and the pools' exact math rely on: the amount sent is what the sender loses
and what the recipient gets, `transfer` returns true (or nothing, as USDT: flagged, still ok),
nothing changes when `tx.gasprice` is not zero, and no balance moves with time alone.

How (pure RPC, nothing on the fork changes):

1. One eth_call of `PoolDiscoveryReader.lenderBalances` (state-override code) reads each
   candidate holder's balance (the pools of the token; the Vault for Balancer pools); the probe
   sends `balance // 1009` from the one that holds most (an odd fraction: share rounding shows).
2. One HTTP batch of `eth_simulateV1` requests, two per chunk of `CHUNK` tokens, each starting
   from the same block: one with validation on and real fee caps (`tx.gasprice` = the block's
   base fee + `PROBE_TIP_WEI`, as a mined transaction pays), one with validation off
   (`tx.gasprice == 0`, as Anvil's eth_call and eth_estimateGas run). Each token gets its own
   simulated block: balances of the holder H and a fresh recipient R; H sends `amount` to R;
   balances; R sends `amount // 2` back; balances; R tries to send more than it holds (must
   revert; ZRX-style tokens return false instead: flagged, still ok). A last block, a day
   later by a `time` override, reads every holder's balance again: it must not have moved.
   The holders' code is overridden to empty (a validating node only takes transactions from an
   account without code) and H and R get ETH for gas by a balance override.
3. The two runs' observations (each call's status and return data) must be identical: a
   difference is behaviour that depends on the gas price, the one thing a simulation at
   `tx.gasprice == 0` cannot see. The other checks read the priced run: what will be mined.

Two round trips for any number of tokens, whatever the verdicts. Verdicts are kept per lab
(`flasharb.chain.rpc.lab_id`) and token by a `TokenScreen`, in memory and optionally in a
`VerdictStore` (the journal), so each token is probed once per lab.

Each token gets its own simulated block because a block's gas limit bounds the calls in it
(ten calls of up to 500,000 gas). On the replica: 26 tokens, 2 round trips (3 with the head),
about 30-60 ms on a shared 2-core machine (`flasharb tokens --probe --json` prints both).

Rejected without measuring: finding each token's balance slot and overriding a probe
account's balance (chain/cheats.py `find_balance_slot` writes storage to find it, a rebasing
token keeps shares, not amounts, in that slot, and a proxy's slot is the implementation's);
a pool's real balance needs no guess.
Known blind spots: a quirk armed later (an owner switch flipped after the probe: probe again
with `flasharb tokens --probe`), a hook that only fires for some callers or recipients, and a
token whose balance moves on an owner's or oracle's call rather than with time.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector as selector
from eth_utils import keccak
from web3 import Web3

from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.chain.addresses import BALANCER_VAULT
from flasharb.chain.addresses import NATIVE_ETH as NATIVE
from flasharb.chain.rpc import lab_id
from flasharb.errors import FlasharbRuntimeError
from flasharb.kinds import HopKind
from flasharb.state._rpc import batch, block_param, call_reader
from flasharb.state.registry import PoolInfo

__all__ = [
    "CHUNK",
    "PROBE_TIP_WEI",
    "Flag",
    "ProbeBlock",
    "ProbeResult",
    "Quirk",
    "TokenScreen",
    "TokenVerdict",
    "VerdictStore",
    "holders_of",
    "probe_tokens",
]

PROBE_TIP_WEI = 10**9  # 1 gwei: the priced run's tip, so tx.gasprice > 0 whatever the base fee
CHUNK = 100  # tokens per eth_simulateV1 (one block each, plus the day-later block: < 256)
DAY_SECONDS = 86_400
SLOT_SECONDS = 12
AMOUNT_DIVISOR = 1009  # the probe sends this fraction of the holder's balance (prime: odd)
MAX_HOLDERS = 8  # candidate holders read per token
READ_GAS = 100_000  # gas limit of a balanceOf in the simulation
TRANSFER_GAS = 500_000  # ... of a transfer (a hook token may call out)
PROBE_ETH = 10**30  # wei given to H and R for gas in the priced run
_FAILED = 2**256 - 1
_READER = "PoolDiscoveryReader"
_LENDER_BALANCES = selector("lenderBalances(address[],address[])")
_BALANCE_OF = selector("balanceOf(address)")
_TRANSFER = selector("transfer(address,uint256)")
# The fresh recipient: no account of any chain has keys to it or a balance in it.
RECIPIENT = checksum_address("0x" + keccak(text="flasharb.screen.recipient")[-20:].hex())


class Quirk(StrEnum):
    """What the probe can find; `.bad` ones keep the token's pools out of the market."""

    TRANSFER_REVERTS = "transfer_reverts"  # a plain transfer within the balance reverted
    RETURNS_FALSE = "returns_false"  # a transfer within the balance returned false
    BAD_RETURN = "non_standard_return"  # neither true, false nor nothing
    NO_RETURN = "no_return_value"  # USDT-style: nothing returned (the facet handles it)
    FALSE_ON_FAILURE = "returns_false_on_failure"  # ZRX-style: false instead of a revert
    FEE_ON_TRANSFER = "fee_on_transfer"  # the recipient got less than the amount
    BALANCE_MISMATCH = "balance_mismatch"  # the sender lost other than the amount, or more came
    GAS_PRICE = "gas_price_dependent"  # behaves differently when tx.gasprice > 0
    REBASING = "rebasing"  # a balance moved with time alone
    UNPROBED = "unprobed"  # no holder with a balance to probe from

    @property
    def bad(self) -> bool:
        return self not in (Quirk.NO_RETURN, Quirk.FALSE_ON_FAILURE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Flag:
    """One finding, with the figures that show it."""

    quirk: Quirk
    reason: str

    @property
    def bad(self) -> bool:
        return self.quirk.bad

    def to_json(self) -> dict[str, Any]:
        return {"quirk": self.quirk.value, "bad": self.bad, "reason": self.reason}


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenVerdict:
    """What the probe found about one token at `block`; `ok`: its pools may enter the market."""

    token: str  # EIP-55
    flags: tuple[Flag, ...]
    block: int  # the block probed at (the simulation ran on the blocks after it)
    holder: str | None = None  # who the probe sent from (None: no holder had a balance)
    amount: int = 0  # what it sent

    @property
    def ok(self) -> bool:
        return not any(f.bad for f in self.flags)

    @property
    def reason(self) -> str:
        """Why the token is refused ("" when ok): its bad flags, joined."""
        return "; ".join(f"{f.quirk.value}: {f.reason}" for f in self.flags if f.bad)

    def has(self, quirk: Quirk) -> bool:
        return any(f.quirk is quirk for f in self.flags)

    def to_json(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "ok": self.ok,
            "flags": [f.to_json() for f in self.flags],
            "block": self.block,
            "holder": self.holder,
            "amount": str(self.amount),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TokenVerdict:
        return cls(
            token=checksum_address(str(data["token"])),
            flags=tuple(
                Flag(quirk=Quirk(f["quirk"]), reason=str(f["reason"])) for f in data["flags"]
            ),
            block=int(data["block"]),
            holder=None if data.get("holder") is None else str(data["holder"]),
            amount=int(str(data.get("amount", 0))),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeBlock:
    """The block the probe starts from: the simulation runs on the blocks after it."""

    number: int
    timestamp: int
    base_fee: int  # of this block: the priced run's fee cap is twice it plus the tip

    @classmethod
    def latest(cls, w3: Web3) -> ProbeBlock:
        header = batch(w3, [("eth_getBlockByNumber", ["latest", False])], "reading the head")[0]
        return cls(
            number=int(header["number"], 16),
            timestamp=int(header["timestamp"], 16),
            base_fee=int(header.get("baseFeePerGas") or "0x0", 16),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeResult:
    """What one `probe_tokens` found and what it cost."""

    verdicts: dict[str, TokenVerdict]
    round_trips: int  # HTTP round trips to the node
    requests: int  # JSON-RPC requests in them
    seconds: float


def traded(p: PoolInfo) -> list[str]:
    """The tokens of `p` a route may trade: not native ETH (no token contract: nothing to
    probe) nor a pool's own token (a Balancer stable pool's BPT: joins and exits only)."""
    return [t for t in p.tokens if t != NATIVE and t != p.address]


def holders_of(pools: Iterable[PoolInfo]) -> dict[str, list[str]]:
    """Token -> who holds it for the pools: the pool's contract (the V4 PoolManager for its
    pools), or the Vault for Balancer pools (at most MAX_HOLDERS each, in the order met)."""
    out: dict[str, list[str]] = {}
    for p in pools:
        holder = BALANCER_VAULT if p.kind is HopKind.BALANCER else p.address
        for t in traded(p):
            held = out.setdefault(t, [])
            if holder not in held and len(held) < MAX_HOLDERS:
                held.append(holder)
    return out


# ---------------------------------------------------------------------- the probe


def _balance_call(sender: str, token: str, who: str) -> dict[str, str]:
    data = _BALANCE_OF + encode(["address"], [who])
    return {"from": sender, "to": token, "data": "0x" + data.hex(), "gas": hex(READ_GAS)}


def _transfer_call(sender: str, token: str, to: str, amount: int) -> dict[str, str]:
    data = _TRANSFER + encode(["address", "uint256"], [to, amount])
    return {"from": sender, "to": token, "data": "0x" + data.hex(), "gas": hex(TRANSFER_GAS)}


# the calls of one token's block, in order (indices into its observations)
_H0, _R0, _OUT, _H1, _R1, _BACK, _H2, _R2, _OVER, _R3 = range(10)
_CALL_NAMES = (
    "balanceOf(H)",
    "balanceOf(R)",
    "transfer out",
    "balanceOf(H)",
    "balanceOf(R)",
    "transfer back",
    "balanceOf(H)",
    "balanceOf(R)",
    "over-balance transfer",
    "balanceOf(R)",
)


def _token_calls(token: str, holder: str, amount: int) -> list[dict[str, str]]:
    r = RECIPIENT
    return [
        _balance_call(r, token, holder),
        _balance_call(r, token, r),
        _transfer_call(holder, token, r, amount),
        _balance_call(r, token, holder),
        _balance_call(r, token, r),
        _transfer_call(r, token, holder, amount // 2),
        _balance_call(r, token, holder),
        _balance_call(r, token, r),
        _transfer_call(r, token, holder, amount + 1),  # more than R can hold now
        _balance_call(r, token, r),
    ]


def _priced(call: dict[str, str], fee_cap: int) -> dict[str, str]:
    return call | {"maxFeePerGas": hex(fee_cap), "maxPriorityFeePerGas": hex(PROBE_TIP_WEI)}


def _simulations(
    jobs: Sequence[tuple[str, str, int]], at: ProbeBlock
) -> list[tuple[str, list[Any]]]:
    """The eth_simulateV1 requests for `jobs` (token, holder, amount): per chunk, the priced
    run then the unpriced one."""
    fee_cap = 2 * at.base_fee + PROBE_TIP_WEI
    out: list[tuple[str, list[Any]]] = []
    for start in range(0, len(jobs), CHUNK):
        chunk = jobs[start : start + CHUNK]
        overrides: dict[str, dict[str, str]] = {RECIPIENT: {"balance": hex(PROBE_ETH)}}
        for _, holder, _ in chunk:
            overrides[holder] = {"balance": hex(PROBE_ETH), "code": "0x"}
        for validation in (True, False):
            blocks: list[dict[str, Any]] = []
            for i, (token, holder, amount) in enumerate(chunk, 1):
                calls = _token_calls(token, holder, amount)
                block: dict[str, Any] = {
                    "blockOverrides": {
                        "number": hex(at.number + i),
                        "time": hex(at.timestamp + SLOT_SECONDS * i),
                    },
                    "calls": [_priced(c, fee_cap) for c in calls] if validation else calls,
                }
                if i == 1:
                    block["stateOverrides"] = overrides
                blocks.append(block)
            later = [_balance_call(RECIPIENT, t, h) for t, h, _ in chunk]
            blocks.append(
                {
                    "blockOverrides": {
                        "number": hex(at.number + len(chunk) + 1),
                        "time": hex(at.timestamp + SLOT_SECONDS * len(chunk) + DAY_SECONDS),
                    },
                    "calls": [_priced(c, fee_cap) for c in later] if validation else later,
                }
            )
            payload = {"blockStateCalls": blocks, "validation": validation}
            out.append(("eth_simulateV1", [payload, block_param(at.number)]))
    return out


@dataclass(frozen=True, slots=True)
class _Obs:
    """One simulated call: did it succeed, and what it returned."""

    ok: bool
    data: bytes

    @property
    def word(self) -> int | None:
        return int.from_bytes(self.data[:32], "big") if self.ok and len(self.data) >= 32 else None

    def show(self) -> str:
        if not self.ok:
            return f"reverted ({'0x' + self.data.hex() if self.data else 'no data'})"
        return "returned " + ("nothing" if not self.data else "0x" + self.data.hex())


def _observations(block: Mapping[str, Any]) -> list[_Obs]:
    out = []
    for c in block["calls"]:
        raw = c.get("returnData") or "0x"
        if int(c["status"], 16) != 1:
            err = c.get("error")
            data = err.get("data") if isinstance(err, dict) else None
            raw = data if isinstance(data, str) and len(data) > 2 else raw
        out.append(_Obs(ok=int(c["status"], 16) == 1, data=bytes.fromhex(str(raw)[2:])))
    return out


def _return_flags(obs: _Obs, what: str) -> list[Flag]:
    """What a successful transfer's return data says."""
    if not obs.data:
        return [Flag(quirk=Quirk.NO_RETURN, reason=f"{what} returned nothing (as USDT does)")]
    if len(obs.data) == 32 and obs.word == 1:
        return []
    if len(obs.data) == 32 and obs.word == 0:
        return [Flag(quirk=Quirk.RETURNS_FALSE, reason=f"{what} returned false")]
    return [Flag(quirk=Quirk.BAD_RETURN, reason=f"{what} {obs.show()}")]


def _judge(
    token: str,
    holder: str,
    amount: int,
    priced: list[_Obs],
    later: _Obs,
    unpriced: list[_Obs],
    unpriced_later: _Obs,
    block: int,
) -> TokenVerdict:
    flags: list[Flag] = []
    reads = [priced[i].word for i in (_H0, _R0, _H1, _R1, _H2, _R2, _R3)]
    if any(w is None for w in reads) or later.word is None:
        bad = next(o for o in (*priced, later) if not o.ok or o.word is None)
        flags.append(Flag(quirk=Quirk.BAD_RETURN, reason=f"balanceOf {bad.show()}"))
        return TokenVerdict(token=token, flags=tuple(flags), block=block, holder=holder)
    h0, r0, h1, r1, h2, r2, r3 = (int(w or 0) for w in reads)
    out = priced[_OUT]
    if not out.ok:
        flags.append(
            Flag(
                quirk=Quirk.TRANSFER_REVERTS,
                reason=f"transfer of {amount} from {holder}, which holds {h0}, {out.show()}",
            )
        )
    elif out.word == 0 and len(out.data) == 32:  # false: what moved says nothing more
        flags += _return_flags(out, f"transfer of {amount}")
    else:
        flags += _return_flags(out, f"transfer of {amount}")
        flags += _amount_flags("transfer out", amount, sent=h0 - h1, received=r1 - r0)
        back = priced[_BACK]
        half = amount // 2
        if not back.ok:
            if r1 - r0 >= half:  # R held enough: the revert is the token's
                flags.append(
                    Flag(
                        quirk=Quirk.TRANSFER_REVERTS,
                        reason=f"transfer of {half} back to {holder} {back.show()}",
                    )
                )
        else:
            flags += [
                f
                for f in _return_flags(back, f"transfer of {half} back")
                if not any(g.quirk is f.quirk for g in flags)
            ]
            flags += _amount_flags("transfer back", half, sent=r1 - r2, received=h2 - h1)
        over = priced[_OVER]
        if over.ok:
            if over.word == 0 and len(over.data) == 32 and r3 == r2:
                flags.append(
                    Flag(
                        quirk=Quirk.FALSE_ON_FAILURE,
                        reason=f"a transfer of {amount + 1} by a holder of {r2} returned false "
                        "instead of reverting",
                    )
                )
            else:
                flags.append(
                    Flag(
                        quirk=Quirk.BALANCE_MISMATCH,
                        reason=f"a transfer of {amount + 1} by a holder of {r2} {over.show()}; "
                        f"its balance is now {r3}",
                    )
                )
    if later.word != h2:
        flags.append(
            Flag(
                quirk=Quirk.REBASING,
                reason=f"{holder}'s balance went from {h2} to {later.word} a day later, with no "
                "transfer in between",
            )
        )
    for name, p, u in zip(
        (*_CALL_NAMES, "balanceOf(H) a day later"),
        (*priced, later),
        (*unpriced, unpriced_later),
        strict=True,
    ):
        if p != u:
            flags.append(
                Flag(
                    quirk=Quirk.GAS_PRICE,
                    reason=f"{name} {p.show()} when tx.gasprice > 0, {u.show()} when it is 0",
                )
            )
            break
    return TokenVerdict(
        token=token, flags=_dedupe(flags), block=block, holder=holder, amount=amount
    )


def _amount_flags(what: str, amount: int, *, sent: int, received: int) -> list[Flag]:
    """A fee: the sender paid the amount, the recipient got at least a bip less. Anything else
    that is not exact (a wei of share rounding, a sender charged more or less) is a mismatch."""
    fee = amount - received
    if sent == amount and fee > 0 and fee * 10_000 >= amount:
        bps = (fee * 10_000 + amount // 2) // amount
        return [
            Flag(
                quirk=Quirk.FEE_ON_TRANSFER,
                reason=f"{what}: the recipient got {received} of {amount} ({bps} bps kept)",
            )
        ]
    if received != amount or sent != amount:
        return [
            Flag(
                quirk=Quirk.BALANCE_MISMATCH,
                reason=f"{what} of {amount}: the sender's balance fell by {sent}, the "
                f"recipient's rose by {received}",
            )
        ]
    return []


def _dedupe(flags: Sequence[Flag]) -> tuple[Flag, ...]:
    """One flag per quirk (the first found), in the order found."""
    seen: set[Quirk] = set()
    out = []
    for f in flags:
        if f.quirk not in seen:
            seen.add(f.quirk)
            out.append(f)
    return tuple(out)


def probe_tokens(
    w3: Web3, holders: Mapping[str, Sequence[str]], at: ProbeBlock | None = None
) -> ProbeResult:
    """Probe every token of `holders` (token -> candidate holders) from block `at` (default:
    the head): two round trips, nothing on the fork changes.

    Raises:
        FlasharbRuntimeError: the node cannot run eth_simulateV1 (the message says how to run
            without the screen).
    """
    t0 = time.perf_counter()
    trips = 0
    if at is None:
        at = ProbeBlock.latest(w3)
        trips += 1
    tokens = sorted({checksum_address(t) for t in holders})
    pairs = [(t, checksum_address(h)) for t in tokens for h in holders[t][:MAX_HOLDERS]]
    verdicts: dict[str, TokenVerdict] = {}
    if not pairs:
        return ProbeResult(verdicts={}, round_trips=trips, requests=0, seconds=0.0)
    data = _LENDER_BALANCES + encode(
        ["address[]", "address[]"], [[t for t, _ in pairs], [h for _, h in pairs]]
    )
    _, balances = decode(["uint256", "uint256[]"], call_reader(w3, _READER, data, at.number))
    trips += 1
    best: dict[str, tuple[int, str]] = {}
    for (token, holder), bal in zip(pairs, balances, strict=True):
        if bal != _FAILED and bal > best.get(token, (0, ""))[0]:
            best[token] = (int(bal), holder)
    jobs: list[tuple[str, str, int]] = []
    for token in tokens:
        if token not in best:
            verdicts[token] = TokenVerdict(
                token=token,
                flags=(
                    Flag(
                        quirk=Quirk.UNPROBED,
                        reason="none of its pools holds a balance to probe with",
                    ),
                ),
                block=at.number,
            )
            continue
        bal, holder = best[token]
        jobs.append((token, holder, max(1, bal // AMOUNT_DIVISOR)))
    requests = _simulations(jobs, at)
    try:
        replies = batch(w3, requests, f"probing {len(jobs)} tokens") if requests else []
    except FlasharbRuntimeError as exc:
        text = str(exc).lower()
        if not any(k in text for k in ("not found", "not supported", "does not exist")):
            raise
        raise FlasharbRuntimeError(
            f"{exc}; the token screen needs eth_simulateV1 (MarketConfig(screen=False) runs "
            "without it)"
        ) from exc
    trips += 1 if requests else 0
    for n, start in enumerate(range(0, len(jobs), CHUNK)):
        chunk = jobs[start : start + CHUNK]
        priced, unpriced = replies[2 * n], replies[2 * n + 1]
        later_p = _observations(priced[-1])
        later_u = _observations(unpriced[-1])
        for i, (token, holder, amount) in enumerate(chunk):
            verdicts[token] = _judge(
                token,
                holder,
                amount,
                _observations(priced[i]),
                later_p[i],
                _observations(unpriced[i]),
                later_u[i],
                at.number,
            )
    return ProbeResult(
        verdicts=verdicts,
        round_trips=trips,
        requests=1 + len(requests),
        seconds=time.perf_counter() - t0,
    )


# ---------------------------------------------------------------------- keeping verdicts


class VerdictStore(Protocol):
    """Where verdicts outlive the process (flasharb.journal.store.Journal is one)."""

    def load_token_verdicts(self, lab: str) -> dict[str, TokenVerdict]: ...

    def record_token_verdicts(self, lab: str, verdicts: Iterable[TokenVerdict]) -> None: ...


@dataclass(slots=True)
class TokenScreen:
    """Verdicts per lab and token: from memory, else `store`, else probed now (and kept in
    both). One screen shared by several markets probes each token once."""

    store: VerdictStore | None = None
    _known: dict[tuple[str, str], TokenVerdict] = field(default_factory=dict, repr=False)
    _loaded: set[str] = field(default_factory=set, repr=False)  # labs read from the store
    last: ProbeResult | None = field(default=None, repr=False)  # the last probe this made
    round_trips: int = 0  # to the node, over this screen's life (lab ids and probes)

    def verdicts(
        self,
        w3: Web3,
        holders: Mapping[str, Sequence[str]],
        at: ProbeBlock | None = None,
        *,
        fresh: bool = False,
    ) -> dict[str, TokenVerdict]:
        """The verdict of every token of `holders` (token -> candidate holders); those not
        known yet (all of them with `fresh`) are probed from `at` (default: the head)."""
        lab = lab_id(w3)
        self.round_trips += 1
        if self.store is not None and lab not in self._loaded:
            for token, v in self.store.load_token_verdicts(lab).items():
                self._known.setdefault((lab, token), v)
            self._loaded.add(lab)
        wanted = {checksum_address(t): hs for t, hs in holders.items()}
        todo = {t: hs for t, hs in wanted.items() if fresh or (lab, t) not in self._known}
        if todo:
            self.last = probe_tokens(w3, todo, at)
            self.round_trips += self.last.round_trips
            for token, v in self.last.verdicts.items():
                self._known[(lab, token)] = v
            if self.store is not None:
                self.store.record_token_verdicts(lab, self.last.verdicts.values())
        return {t: self._known[(lab, t)] for t in wanted}

    def leave_out(
        self, w3: Web3, pools: Iterable[PoolInfo], at: ProbeBlock | None = None
    ) -> dict[str, str]:
        """Pools of `pools` with a token the screen refuses -> why (probing what it must)."""
        pools = list(pools)
        verdicts = self.verdicts(w3, holders_of(pools), at)
        out: dict[str, str] = {}
        for p in pools:
            bad = [verdicts[t] for t in traded(p) if not verdicts[t].ok]
            if bad:
                out[p.uid] = "; ".join(f"token {v.token} refused: {v.reason}" for v in bad)
        return out
