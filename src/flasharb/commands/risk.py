"""`flasharb risk status | resume`, and the circuit breakers' options of `flasharb run`.

The breakers themselves are flasharb.run.risk. Their limits come from `flasharb run`'s options
(`--max-daily-gas` ...); `risk status` shows the limits the last run on this lab used, unless
given the same options.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from flasharb._cli_support import AMOUNT, Amount, _emit, _w3, json_option, rpc_url_option
from flasharb.run.risk import RISK_META

F = TypeVar("F", bound=Callable[..., Any])

_OPTIONS: tuple[tuple[str, str, Any, str], ...] = (
    (
        "--max-daily-gas",
        "daily_gas_wei",
        AMOUNT,
        "Breaker: pause a child once its trades spent this much gas in a UTC day "
        "(ETH: 0.05ether, 20gwei, or wei).",
    ),
    (
        "--max-daily-loss",
        "daily_loss_wei",
        AMOUNT,
        "Breaker: pause a child once its net loss in a UTC day (profit in ETH - gas) reaches "
        "this (ETH).",
    ),
    (
        "--max-drawdown",
        "max_drawdown_wei",
        AMOUNT,
        "Breaker: pause a child once its cumulative net falls this far below its peak (ETH).",
    ),
    (
        "--max-consecutive-reverts",
        "max_consecutive_reverts",
        click.IntRange(min=1),
        "Breaker: pause a child after this many of its trades in a row reverted on chain.",
    ),
)


def _store(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value is None:
        return
    field = next(f for opt, f, _, _ in _OPTIONS if param.name == opt.lstrip("-").replace("-", "_"))
    if isinstance(value, Amount) and value.token is not None:
        raise click.BadParameter(f"{value.text} is in a token: limits are in ETH (0.05ether)")
    wei = value.wei if isinstance(value, Amount) else int(value)
    ctx.meta.setdefault(RISK_META, {})[field] = wei


def add_risk_options(cmd: click.Command) -> click.Command:
    """The breakers' options on a command defined elsewhere (`flasharb run`), without touching
    its signature: the command reads `limits_from(ctx)`."""
    for opt, _, kind, help_text in _OPTIONS:
        if not any(opt in p.opts for p in cmd.params):
            cmd.params.append(
                click.Option([opt], type=kind, expose_value=False, callback=_store, help=help_text)
            )
    return cmd


def risk_options(fn: F) -> F:
    for opt, _, kind, help_text in reversed(_OPTIONS):
        fn = click.option(opt, type=kind, expose_value=False, callback=_store, help=help_text)(fn)
    return fn


def limits_from(ctx: click.Context) -> Any:
    """The RiskLimits the options gave (None when none was given)."""
    from flasharb.run.risk import RiskLimits

    given = ctx.meta.get(RISK_META)  # click shares meta with every nested context
    return None if not given else RiskLimits(**given)


journal_option = click.option(
    "--journal",
    "journal_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Journal file (default: .flasharb/journal.sqlite).",
)


@click.group("risk")
def risk() -> None:
    """The circuit breakers of `flasharb run`: each limit's use and state, and resume."""


@risk.command("status")
@click.option("--child", help="Only this child (its label or diamond address).")
@risk_options
@journal_option
@rpc_url_option
@json_option
def status(child: str | None, journal_path: Path | None, as_json: bool) -> None:
    """Each limit of each child: its use (today's gas and net loss, the drawdown and the reverts
    in a row since the last resume), its threshold and its state (ok / tripped at block X),
    and whether the child is paused on chain."""
    from flasharb.chain.rpc import lab_id
    from flasharb.execute.children import trading_diamond, trading_diamonds
    from flasharb.execute.deploy import load
    from flasharb.journal.command import open_journal
    from flasharb.run.risk import RiskBook, RiskLimits

    w3 = _w3()
    dep = load(w3)
    kids = [trading_diamond(dep, child)] if child is not None else trading_diamonds(dep)
    lab = lab_id(w3)
    with open_journal(journal_path, must_exist=False) as j:
        limits = limits_from(click.get_current_context())
        source = "options"
        if limits is None:
            limits, source = _last_limits(j, lab)
        book = RiskBook(w3, j, lab, limits or RiskLimits(), kids)
        lines = book.status()
    data = {
        "lab": lab,
        "limits_from": source,
        "limits": (limits or RiskLimits()).to_json(),
        "children": [
            {"label": label, "child": dep_.diamond, "executor": dep_.executor}
            for label, dep_ in kids
        ],
        "status": [line.to_json() for line in lines],
    }
    _emit(data, as_json, _status_table)


def _last_limits(journal: Any, lab: str) -> tuple[Any, str]:
    """The limits of the last `flasharb run` on `lab` (its params), if it set any."""
    from flasharb.run.risk import RiskLimits

    rows = journal.rows(
        "SELECT id, params FROM runs WHERE kind = 'run' AND lab IS ? ORDER BY id DESC LIMIT 1",
        (lab,),
    )
    if not rows:
        return None, "none (no run on this lab yet)"
    raw = json.loads(rows[0]["params"]).get("risk") or {}
    return RiskLimits.from_json(raw), f"run {rows[0]['id']}"


def _status_table(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    from flasharb.report.format import units

    def show(limit: str, v: str | None) -> str:
        if v is None:
            return "-"
        return v if limit == "consecutive_reverts" else f"{units(int(v), 18)} ETH"

    t = Table(title=f"circuit breakers on {data['lab']} (limits from {data['limits_from']})")
    for col in ("child", "limit", "use", "threshold", "state", "paused"):
        t.add_column(col, justify="right" if col in ("use", "threshold") else "left")
    for s in data["status"]:
        t.add_row(
            s["label"],
            s["limit"],
            show(s["limit"], s["use"]),
            show(s["limit"], s["threshold"]),
            s["state"],
            {True: "yes", False: "no", None: "?"}[s["paused"]],
        )
    Console(width=None if Console().is_terminal else 150).print(t)


@risk.command("resume")
@click.option("--child", required=True, help="The child to resume (label or diamond address).")
@journal_option
@rpc_url_option
@json_option
def resume(child: str, journal_path: Path | None, as_json: bool) -> None:
    """Unpause a child a breaker paused (GuardFacet.setPaused(false) as the owner), and journal
    the resume: `flasharb run` trades it again, with fresh windows for every limit."""
    from flasharb.chain.rpc import lab_id
    from flasharb.errors import FlasharbValueError
    from flasharb.execute.children import trading_diamond
    from flasharb.execute.deploy import load
    from flasharb.journal.command import open_journal
    from flasharb.run.risk import RiskBook, RiskLimits, is_paused
    from flasharb.run.risk import resume as unpause

    w3 = _w3()
    dep = load(w3)
    label, kid = trading_diamond(dep, child)
    lab = lab_id(w3)
    with open_journal(journal_path, must_exist=False) as j:
        trip = RiskBook(w3, j, lab, RiskLimits(), [(label, kid)]).halted(kid.diamond)
        paused = is_paused(w3, kid.diamond)
        if trip is None and not paused:
            raise FlasharbValueError(
                f"child {label} ({kid.diamond}) is neither tripped nor paused: nothing to resume"
            )
        tx = unpause(w3, kid)
        j.record_risk_event(
            lab=lab,
            child=kid.diamond,
            event="resumed",
            block=w3.eth.block_number,
            tx_hash=tx,
            note="resumed by the owner" + (f" after {trip.limit}" if trip else " (paused)"),
        )
    data = {
        "child": kid.diamond,
        "label": label,
        "resumed_tx": tx,
        "was": None if trip is None else trip.to_json(),
        "was_paused": paused,
    }
    _emit(data, as_json, lambda d: click.echo(f"resumed {label} ({kid.diamond}) in {tx}"))
