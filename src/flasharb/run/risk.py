"""Circuit breakers for `flasharb run` (issue 17): limits per child that, when one is reached,
pause the child on chain, journal why, and keep `flasharb run` from trading it until the owner
resumes it (`flasharb risk resume --child C`).

The limits (`RiskLimits`; each is off when None), per child:

    daily_gas_wei            the gas its trades spent (executed and reverted) in the UTC day
    daily_loss_wei           its net loss in the UTC day: -(realized profit in ETH - gas), if > 0
    max_drawdown_wei         the largest fall of its cumulative net below its running peak
    max_consecutive_reverts  its trades mined with status 0 in a row

A limit *trips* when its use reaches its threshold (use >= threshold). The uses are the P&L's
(flasharb.journal.pnl: the same `Fill`s folded the same way, amounts in wei of ETH), counted from
the journal's mined trades of the child on this lab since the later of the window's start (UTC
midnight, for the daily ones) and the child's last resume: a resume is the owner's decision
after looking at the trip, and starts every window afresh.

The breakers check after each block's trades are reconciled, so a block can overshoot a limit
by what its own trades spent; they stop the next block, not the current one.

Pause on chain: a child of a master is paused with its `pause()` by the risk guardian's key
(`Deployment.risk`, see docs/capital-interface.md); a single diamond with
`GuardFacet.setPaused(true)` by its owner. Resume is always the owner's
`GuardFacet.setPaused(false)`. Trips and resumes are `risk_events` rows of the journal, per lab
and child: a rerun of `flasharb run` on the same lab reads them and does not trade a tripped
child.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from web3 import Web3

from flasharb.chain.rpc import send
from flasharb.errors import FlasharbRuntimeError, FlasharbValueError, TransactionFailed
from flasharb.execute.deploy import Deployment
from flasharb.journal.pnl import Fill, PnlFold, fills
from flasharb.journal.store import Journal
from flasharb.state._rpc import request

__all__ = [
    "LIMITS",
    "RISK_META",
    "ChildRisk",
    "LimitState",
    "RiskBook",
    "RiskLimits",
    "Trip",
    "is_paused",
    "pause",
    "resume",
]

LIMITS = ("daily_gas", "daily_loss", "drawdown", "consecutive_reverts")
RISK_META = "flasharb.risk_limits"  # click meta: RiskLimits fields the CLI options gave
_PAUSED = function_signature_to_4byte_selector("paused()")
_SET_PAUSED = function_signature_to_4byte_selector("setPaused(bool)")
_PAUSE = function_signature_to_4byte_selector("pause()")  # a child's, by the risk guardian


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskLimits:
    """The circuit breakers' thresholds, per child (None: that breaker is off). Wei of ETH, and
    a count of reverted trades."""

    daily_gas_wei: int | None = None
    daily_loss_wei: int | None = None
    max_drawdown_wei: int | None = None
    max_consecutive_reverts: int | None = None

    def __post_init__(self) -> None:
        for name, value in self.thresholds().items():
            if value is not None and value <= 0:
                raise FlasharbValueError(
                    f"risk limit {name} must be > 0 (or unset to turn it off), got {value}"
                )

    def thresholds(self) -> dict[str, int | None]:
        """limit name -> threshold, in LIMITS order."""
        return {
            "daily_gas": self.daily_gas_wei,
            "daily_loss": self.daily_loss_wei,
            "drawdown": self.max_drawdown_wei,
            "consecutive_reverts": self.max_consecutive_reverts,
        }

    @property
    def any(self) -> bool:
        return any(v is not None for v in self.thresholds().values())

    def to_json(self) -> dict[str, Any]:
        return {k: None if v is None else str(v) for k, v in self.thresholds().items()}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> RiskLimits:
        def get(key: str) -> int | None:
            v = raw.get(key)
            return None if v is None else int(str(v))

        return cls(
            daily_gas_wei=get("daily_gas"),
            daily_loss_wei=get("daily_loss"),
            max_drawdown_wei=get("drawdown"),
            max_consecutive_reverts=get("consecutive_reverts"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Trip:
    """A limit reached: which, its use, its threshold, where; and the pause transaction."""

    child: str
    limit: str
    value: int
    threshold: int
    block: int
    at: float  # seconds since the epoch
    tx_hash: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "child": self.child,
            "limit": self.limit,
            "value": str(self.value),
            "threshold": str(self.threshold),
            "block": self.block,
            "at": datetime.fromtimestamp(self.at, UTC).isoformat(),
            "pause_tx": self.tx_hash,
        }


def _day_start(t: float) -> float:
    d = datetime.fromtimestamp(t, UTC)
    return datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()


@dataclass(slots=True)
class ChildRisk:
    """One child's breaker state: its folds since the last resume (drawdown, reverts in a row)
    and since the start of the UTC day (gas, net loss), and its trip if tripped."""

    child: str
    resumed_at: float = 0.0  # the last resume (0: never)
    since_resume: PnlFold = field(default_factory=PnlFold)
    day: float = 0.0  # the UTC midnight that starts `today`
    today: PnlFold = field(default_factory=PnlFold)
    trip: Trip | None = None

    def add(self, fill: Fill, at: float | None = None) -> None:
        when = fill.created_at or (time.time() if at is None else at)
        if when < self.resumed_at:
            return
        self.since_resume.add(fill)
        start = _day_start(when)
        if start != self.day:  # a new UTC day: a fresh daily window
            self.day, self.today = start, PnlFold()
        self.today.add(fill)

    def roll(self, now: float) -> None:
        """Start a new daily window if `now` is in a later UTC day than the last fill."""
        start = _day_start(now)
        if start > self.day:
            self.day, self.today = start, PnlFold()

    def uses(self) -> dict[str, int]:
        return {
            "daily_gas": self.today.gas_wei,
            "daily_loss": max(0, -self.today.net_eth),
            "drawdown": self.since_resume.max_drawdown_eth,
            "consecutive_reverts": self.since_resume.consecutive_reverts,
        }

    def check(self, limits: RiskLimits) -> tuple[str, int, int] | None:
        """The first limit (in LIMITS order) whose use reached its threshold: (name, use,
        threshold)."""
        uses = self.uses()
        for name, threshold in limits.thresholds().items():
            if threshold is not None and uses[name] >= threshold:
                return name, uses[name], threshold
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitState:
    """One line of `flasharb risk status`."""

    child: str
    label: str
    limit: str
    use: int
    threshold: int | None
    tripped: Trip | None  # this limit tripped the child (and it was not resumed)
    paused: bool | None  # the child's paused() on chain (None: not read)

    @property
    def state(self) -> str:
        if self.tripped is not None:
            return f"tripped at block {self.tripped.block}"
        if self.threshold is None:
            return "off"
        return "ok"

    def to_json(self) -> dict[str, Any]:
        return {
            "child": self.child,
            "label": self.label,
            "limit": self.limit,
            "use": str(self.use),
            "threshold": None if self.threshold is None else str(self.threshold),
            "state": self.state,
            "tripped": None if self.tripped is None else self.tripped.to_json(),
            "paused": self.paused,
        }


class RiskBook:
    """Every child's breaker state on one lab, loaded from the journal and kept current with
    the fills of each block; trips pause the child on chain and are journaled."""

    def __init__(
        self,
        w3: Web3,
        journal: Journal,
        lab: str,
        limits: RiskLimits,
        children: Sequence[tuple[str, Deployment]],
        *,
        run_id: int | None = None,
        now: float | None = None,
    ) -> None:
        self.w3 = w3
        self.journal = journal
        self.lab = lab
        self.limits = limits
        self.children = {dep.diamond: (label, dep) for label, dep in children}
        self.run_id = run_id
        self.state: dict[str, ChildRisk] = {}
        self._load(time.time() if now is None else now)

    def _load(self, now: float) -> None:
        """Each child's trip (if its last risk event is one) and its folds since its last
        resume, from the journal's rows of this lab."""
        for child in self.children:
            risk = ChildRisk(child=child)
            for ev in self.journal.risk_events(self.lab, child):
                if ev["event"] == "resumed":
                    risk.resumed_at, risk.trip = float(ev["created_at"]), None
                elif ev["event"] == "tripped":
                    risk.trip = _trip_of(ev)
            for f in fills(self.journal, child=child, lab=self.lab):  # what `flasharb pnl` reads
                risk.add(f)
            risk.roll(now)
            self.state[child] = risk

    def halted(self, child: str) -> Trip | None:
        """The trip that keeps `child` from trading (None: it may trade)."""
        return self.state[child].trip

    def add(self, fills: Iterable[Fill], at: float | None = None) -> None:
        for f in fills:
            if f.child in self.state:
                self.state[f.child].add(f, at)

    def check(self, block: int, now: float | None = None) -> list[Trip]:
        """Trip every child (not yet tripped) whose use reached a limit: pause it on chain,
        journal the trip. Returns the new trips."""
        at = time.time() if now is None else now
        out = []
        for child, risk in self.state.items():
            risk.roll(at)
            if risk.trip is not None or not self.limits.any:
                continue
            hit = risk.check(self.limits)
            if hit is None:
                continue
            name, use, threshold = hit
            _, dep = self.children[child]
            tx = pause(self.w3, dep)
            trip = Trip(
                child=child,
                limit=name,
                value=use,
                threshold=threshold,
                block=block,
                at=at,
                tx_hash=tx,
            )
            self.journal.record_risk_event(
                lab=self.lab,
                child=child,
                event="tripped",
                limit_name=name,
                value=use,
                threshold=threshold,
                block=block,
                tx_hash=tx,
                note=f"{name} {use} >= {threshold}: paused on chain",
                run_id=self.run_id,
            )
            risk.trip = trip
            out.append(trip)
        return out

    def status(self, *, read_chain: bool = True) -> list[LimitState]:
        out = []
        for child, risk in self.state.items():
            label, dep = self.children[child]
            paused = is_paused(self.w3, dep.diamond) if read_chain else None
            uses = risk.uses()
            for name, threshold in self.limits.thresholds().items():
                trip = risk.trip if risk.trip is not None and risk.trip.limit == name else None
                out.append(
                    LimitState(
                        child=child,
                        label=label,
                        limit=name,
                        use=uses[name],
                        threshold=threshold,
                        tripped=trip,
                        paused=paused,
                    )
                )
        return out


def _trip_of(ev: Mapping[str, Any]) -> Trip:
    return Trip(
        child=str(ev["child"]),
        limit=str(ev["limit_name"]),
        value=int(ev["value"] or 0),
        threshold=int(ev["threshold"] or 0),
        block=int(ev["block"] or 0),
        at=float(ev["created_at"]),
        tx_hash=ev["tx_hash"],
    )


# ---------------------------------------------------------------- on chain


def is_paused(w3: Web3, diamond: str) -> bool:
    """The diamond's `paused()` at the head."""
    raw = request(
        w3,
        "eth_call",
        [{"to": diamond, "data": "0x" + _PAUSED.hex()}, "latest"],
        f"paused() of {diamond}",
    )
    return int(str(raw), 16) != 0


def _send_signed(w3: Web3, account: LocalAccount, to: str, data: bytes, what: str) -> str:
    """Sign locally (the risk guardian's key is not unlocked on a real node), send, wait."""
    sender = to_checksum_address(account.address)
    tx: dict[str, Any] = {
        "chainId": w3.eth.chain_id,
        "nonce": w3.eth.get_transaction_count(sender, "pending"),
        "to": to_checksum_address(to),
        "value": 0,
        "data": data,
        "gas": 200_000,
        "maxPriorityFeePerGas": 0,
        "maxFeePerGas": 2 * int(w3.eth.get_block("latest")["baseFeePerGas"]) + 1,
        "type": 2,
    }
    signed = account.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=0.01)
    if receipt["status"] != 1:
        raise TransactionFailed(what, f"status 0 in {tx_hash.hex()}")
    return "0x" + bytes(tx_hash).hex()


def pause(w3: Web3, dep: Deployment) -> str:
    """Pause the child `dep` on chain; the transaction's hash. A child of a master: `pause()`
    signed by the risk guardian (`Deployment.risk`); a single diamond: `setPaused(true)` by its
    owner (the lab's unlocked account).

    Raises:
        FlasharbRuntimeError: the pause reverted (the key lost its role?): trading must stop
            anyway, so the caller stops the run.
    """
    try:
        if dep.risk and dep.master:
            from flasharb.execute.keys import signer

            return _send_signed(w3, signer(dep.risk), dep.diamond, _PAUSE, "pause()")
        receipt = send(
            w3,
            {"from": dep.owner, "to": dep.diamond, "data": "0x" + (_SET_PAUSED + _word(1)).hex()},
            "setPaused(true)",
        )
    except TransactionFailed as exc:
        raise FlasharbRuntimeError(
            f"could not pause child {dep.diamond}: {exc.reason}; pause it by hand "
            "(GuardFacet.setPaused(true) as the owner) before trading again"
        ) from exc
    return "0x" + bytes(receipt["transactionHash"]).hex()


def resume(w3: Web3, dep: Deployment) -> str:
    """`setPaused(false)` by the owner (the only way to resume a child); the transaction's hash."""
    receipt = send(
        w3,
        {"from": dep.owner, "to": dep.diamond, "data": "0x" + (_SET_PAUSED + _word(0)).hex()},
        "setPaused(false)",
    )
    return "0x" + bytes(receipt["transactionHash"]).hex()


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")
