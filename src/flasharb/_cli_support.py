"""The plumbing of the `flasharb` command (flasharb.cli): one-line errors, --json output, the
fork to work on, and the click types of addresses and amounts."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from functools import wraps
from typing import Any, TypeVar

import click

from flasharb.errors import FlasharbError

F = TypeVar("F", bound=Callable[..., Any])


def _emit(data: dict[str, Any], as_json: bool, human: Callable[[dict[str, Any]], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        human(data)


def _kv(data: dict[str, Any]) -> None:
    for k, v in data.items():
        click.echo(f"{k}: {v if not isinstance(v, dict | list) else json.dumps(v)}")


def handled(fn: F) -> F:
    """One line on stderr for any FlasharbError, exit 2 for input the user must change (bad
    arguments, no node, the wrong chain) and 1 for other failures; a traceback only with --debug."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except FlasharbError as exc:
            if click.get_current_context().find_root().params.get("debug"):
                raise
            click.echo(f"flasharb: error: {_one_line(str(exc))}", err=True)
            sys.exit(exc.exit_code)
        except Exception as exc:  # a bug or an unmapped library error: still one line
            if click.get_current_context().find_root().params.get("debug"):
                raise
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            click.echo(
                f"flasharb: error: unexpected {type(exc).__name__}: {first} "
                "(rerun with --debug for the traceback, and report it)",
                err=True,
            )
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _one_line(text: str) -> str:
    return " ".join(text.split())


class OneLineGroup(click.Group):
    """click's usage errors (a missing option, a value out of range, an unknown command) as one
    line naming the problem and where to look, exit 2, like flasharb's own input errors."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            rv = super().main(*args, **kwargs)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else "flasharb"
            click.echo(
                f"flasharb: error: {_one_line(exc.format_message())} (see '{where} --help')",
                err=True,
            )
            sys.exit(2)
        except click.ClickException as exc:
            click.echo(f"flasharb: error: {_one_line(exc.format_message())}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("flasharb: error: aborted", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)  # what standalone mode does: --help, --version


def _w3() -> Any:
    """The fork to work on, checked: it answers, is chain 1 and has the mainnet contracts."""
    from flasharb.chain.node import check_mainnet_fork
    from flasharb.chain.rpc import connect, find_rpc_url

    url = find_rpc_url()
    w3 = connect(url)
    check_mainnet_fork(w3, url)
    return w3


json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


class AddressType(click.ParamType):
    """A 20-byte hex address, returned EIP-55 checksummed; a mixed-case address must carry a
    valid checksum (a wrong one is a typo)."""

    name = "ADDRESS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from eth_utils import is_hex_address, to_checksum_address

        text = str(value).strip()
        if not is_hex_address(text):
            self.fail(f"{text!r} is not an address: give 0x and 40 hex digits", param, ctx)
        checksummed = to_checksum_address(text)
        body = text[2:]
        if body != body.lower() and body != body.upper() and text != checksummed:
            self.fail(
                f"{text!r} has a wrong EIP-55 checksum (a typo?); check it, or give it in "
                "lowercase",
                param,
                ctx,
            )
        return str(checksummed)


class BaseUnitsType(click.ParamType):
    """A positive whole amount in a token's base units (wei), at most 2^256 - 1."""

    name = "WEI"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            amount = int(str(value).strip().replace("_", ""))
        except ValueError:
            self.fail(
                f"{value!r} is not a whole number of base units (1 WETH = 1000000000000000000)",
                param,
                ctx,
            )
        if amount <= 0:
            self.fail(
                f"{amount} is not positive: give an amount of at least 1 base unit", param, ctx
            )
        if amount >= 2**256:
            self.fail(f"{amount} does not fit in a uint256: give a smaller amount", param, ctx)
        return amount


ADDRESS = AddressType()
WEI = BaseUnitsType()


def _no_liquidity(pool: str, exc: Exception) -> FlasharbError:
    """A pool that cannot pay the swap, named, with what to do."""
    from flasharb.errors import InsufficientLiquidityError

    return InsufficientLiquidityError(
        f"pool {pool} cannot fill this swap ({_one_line(str(exc))}); pick a pool with liquidity "
        "(see 'flasharb scan') or a smaller amount"
    )


def _priority(gwei: float) -> int:
    return int(round(gwei * 10**9))  # CLI input only; everything after is integer wei


def busy(label: str, as_json: bool) -> AbstractContextManager[object]:
    """A spinner on stderr while a step longer than a second runs, when a person is watching
    (stderr is a terminal and the output is not --json); nothing otherwise."""
    if as_json or not sys.stderr.isatty():
        return nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(label, spinner="dots")
