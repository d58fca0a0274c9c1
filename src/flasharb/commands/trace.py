"""`flasharb trace TX`: the call tree of a mined transaction, with decoded calls and errors."""

from __future__ import annotations

import re
from typing import Any

import click

from flasharb._cli_support import _emit, _w3, json_option, rpc_url_option

_TX_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")


class TxHashType(click.ParamType):
    name = "TX"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if not _TX_HASH.match(text):
            self.fail(f"{text!r} is not a transaction hash: give 0x and 64 hex digits", param, ctx)
        return text.lower()


@click.command()
@click.argument("tx", type=TxHashType())
@rpc_url_option
@json_option
def trace(tx: str, as_json: bool) -> None:
    """The call tree of transaction TX: every call named and decoded, every revert decoded with
    the diamond's and the canonical contracts' errors (debug_traceTransaction, callTracer)."""
    from flasharb.report.trace import render, trace_transaction

    res = trace_transaction(_w3(), tx)
    _emit(res.to_json(), as_json, lambda d: click.echo("\n".join(render(res))))
