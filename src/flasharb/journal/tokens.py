"""`flasharb tokens`: the token screen's verdicts (flasharb.state.screen), as the journal keeps
them per lab: which tokens' pools the market leaves out, and why.

    flasharb tokens              # the verdicts kept for the fork's lab
    flasharb tokens --probe      # probe every token of the fork's pools now, keep, show
    flasharb tokens --all-labs   # every lab's verdicts in the journal (no node needed)

The CLI (flasharb.cli) attaches this command and wraps it in its error handling.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from flasharb.journal.command import journal_option, open_journal
from flasharb.journal.store import default_path

__all__ = ["tokens"]


@click.command("tokens")
@click.option(
    "--probe",
    is_flag=True,
    help="Probe every token of the fork's pools now (two RPC round trips, nothing changes on "
    "the fork) and keep the verdicts.",
)
@click.option(
    "--all-labs", is_flag=True, help="Every lab's verdicts in the journal (needs no node)."
)
@journal_option
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def tokens(probe: bool, all_labs: bool, journal_path: Path | None, as_json: bool) -> None:
    """The token screen's verdicts: fee-on-transfer, rebasing, balance mismatch, odd return
    values and gas-price-dependent behaviour; refused tokens' pools stay out of the market."""
    from flasharb.errors import FlasharbValueError

    if probe and all_labs:
        raise FlasharbValueError("--probe probes the fork's lab only: drop --all-labs")
    data: dict[str, Any] = {}
    if all_labs:
        with open_journal(journal_path) as j:
            rows = j.token_verdicts()
            data["journal"] = str(j.path)
        data |= {"lab": None, "tokens": rows}
        _emit(data, as_json)
        return
    w3, lab = _fork()
    path = journal_path or default_path()
    if not probe and not path.exists():  # nothing kept yet: say how, create nothing
        _emit({"journal": str(path), "lab": lab, "tokens": []}, as_json, w3)
        return
    with open_journal(path, must_exist=False) as j:
        if probe:
            result = _probe(w3, j)
            data["probe"] = {
                "tokens": len(result.verdicts),
                "round_trips": result.round_trips,
                "requests": result.requests,
                "seconds": round(result.seconds, 3),
            }
        data = {"journal": str(j.path), "lab": lab, "tokens": j.token_verdicts(lab)} | data
    _emit(data, as_json, w3)


def _fork() -> tuple[Any, str]:
    """The fork to work on (checked as everywhere in the CLI) and its lab id."""
    from flasharb.chain.node import check_mainnet_fork
    from flasharb.chain.rpc import connect, find_rpc_url, lab_id

    url = find_rpc_url()
    w3 = connect(url)
    check_mainnet_fork(w3, url)
    return w3, lab_id(w3)


def _probe(w3: Any, journal: Any) -> Any:
    """Every token of the fork's pools (from the factories and the Vault), probed now."""
    from flasharb.state.discovery import discover
    from flasharb.state.screen import TokenScreen, holders_of

    screen = TokenScreen(store=journal)
    screen.verdicts(w3, holders_of(discover(w3)), fresh=True)
    assert screen.last is not None  # fresh: every token was probed
    return screen.last


def _emit(data: dict[str, Any], as_json: bool, w3: Any = None) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    rows = data["tokens"]
    if not rows:
        where = f"lab {data['lab']}" if data["lab"] else "any lab"
        click.echo(
            f"no token verdicts for {where} in {data['journal']}; run 'flasharb tokens --probe'"
        )
        return
    from rich.console import Console
    from rich.table import Table

    symbols: dict[str, Any] = {}
    if w3 is not None:
        from flasharb.state.tokens import token_info

        symbols = token_info(w3, [r["token"] for r in rows])
    refused = sum(1 for r in rows if not r["ok"])
    title = f"{len(rows)} tokens, {refused} refused"
    if "probe" in data:
        p = data["probe"]
        title += f" (probed now: {p['round_trips']} round trips, {p['seconds']} s)"
    t = Table(title=title)
    for col in ("token", "symbol", "ok", "block", "flags"):
        t.add_column(col, justify="right" if col == "block" else "left", overflow="fold")
    if data["lab"] is None:
        t.add_column("lab")
    for r in rows:
        flags = "\n".join(
            f"{'✗' if f['bad'] else '·'} {f['quirk']}: {f['reason']}" for f in r["flags"]
        )
        cells = [
            r["token"],
            str(symbols.get(r["token"], {}).get("symbol", "")),
            "ok" if r["ok"] else "REFUSED",
            str(r["block"]),
            flags or "-",
        ]
        if data["lab"] is None:
            cells.append(r["lab"])
        t.add_row(*cells)
    Console(width=None if Console().is_terminal else 160).print(t)
