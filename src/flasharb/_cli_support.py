"""The plumbing of the `flasharb` command (flasharb.cli): one-line errors, --json output, the
fork to work on, and the click types of addresses and amounts."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
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
            rpc = _rpc_error(exc)
            if rpc is not None:
                click.echo(f"flasharb: error: {rpc[0]}", err=True)
                sys.exit(rpc[1])
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            click.echo(
                f"flasharb: error: unexpected {type(exc).__name__}: {first} "
                "(rerun with --debug for the traceback, and report it)",
                err=True,
            )
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


_BLOCK_ERRORS = ("out of range", "block not found", "header not found", "unknown block")


def _rpc_error(exc: Exception) -> tuple[str, int] | None:
    """A JSON-RPC error reply the command did not map itself: one line and an exit status (2 when
    it refused the user's input, such as a block the node does not have)."""
    from web3.exceptions import Web3RPCError

    if not isinstance(exc, Web3RPCError):
        return None
    message = _one_line(str(exc.message or exc))[:300]
    if any(k in message.lower() for k in _BLOCK_ERRORS):
        return f"the RPC has no such block ({message}); give a block up to the fork's head", 2
    return f"the RPC answered with an error: {message}", 1


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


class LazyGroup(OneLineGroup):
    """A group whose commands defined elsewhere are imported only when one of them runs (or its
    own --help is asked for): `flasharb scan` does not pay for web3's audit arena, `--help` and
    `--version` pay for nothing.

    `lazy` maps a command's name to `(module:attribute, one-line help)`; the help is what the
    group's --help lists without importing the module (tests/unit/test_cli_lazy.py checks it
    against the real commands). `finish(name, command)` runs once on each command loaded (error
    handling, shared options). Commands added the ordinary way (`@group.command()`) work as
    always."""

    def __init__(
        self,
        *args: Any,
        lazy: Mapping[str, tuple[str, str]] | None = None,
        finish: Callable[[str, click.Command], click.Command] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, tuple[str, str]] = dict(lazy or {})
        self.finish = finish

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            return self.load(cmd_name)
        return self.commands.get(cmd_name)

    def load(self, name: str) -> click.Command:
        """Import the command `name` from its module, finish it, and keep it."""
        from importlib import import_module

        module, _, attribute = self.lazy[name][0].partition(":")
        cmd: click.Command = getattr(import_module(module), attribute)
        if self.finish is not None:
            cmd = self.finish(name, cmd)
        self.add_command(cmd, name)
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's listing, with a command not yet imported standing in as a help-only stub
        (the same one-line help, shortened to the same width)."""
        rows = [
            (name, self.commands.get(name) or click.Command(name, help=self.lazy[name][1]))
            for name in self.list_commands(ctx)
        ]
        rows = [(name, cmd) for name, cmd in rows if not cmd.hidden]
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            with formatter.section("Commands"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in rows])


def _set_project(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """`flasharb --project DIR`: the project folder for everything after it (and the processes
    it starts), as FLASHARB_PROJECT."""
    import os
    from pathlib import Path

    if value is not None:
        os.environ["FLASHARB_PROJECT"] = str(Path(value).resolve())


def _set_config(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """`flasharb --config PATH`: the configuration file for everything after it (and the
    processes it starts), as FLASHARB_CONFIG; read (and checked) by the commands that use it."""
    import os
    from pathlib import Path

    if value is not None:
        os.environ["FLASHARB_CONFIG"] = str(Path(value).resolve())


def _w3() -> Any:
    """The fork to work on, checked: it answers, is chain 1 and has the mainnet contracts."""
    from flasharb.chain.node import check_mainnet_fork
    from flasharb.chain.rpc import connect, find_rpc_url

    url = find_rpc_url()
    w3 = connect(url)
    check_mainnet_fork(w3, url)
    return w3


def check_block(w3: Any, block: int | None, option: str = "--block") -> None:
    """A block the fork has: FlasharbValueError (exit 2) naming the head when it is beyond it."""
    from flasharb.errors import FlasharbValueError

    if block is None:
        return
    head = int(w3.eth.block_number)
    if block > head:
        raise FlasharbValueError(
            f"{option} {block} is beyond the fork's head (block {head}); give a block up to {head}"
        )


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


class TokenType(click.ParamType):
    """A token: its address, or the symbol of a canonical mainnet token (`WETH`, `usdc`),
    returned as the EIP-55 address."""

    name = "TOKEN"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from flasharb.errors import FlasharbValueError
        from flasharb.state.tokens import resolve_symbol

        text = str(value).strip()
        if text[:2].lower() == "0x":
            return ADDRESS.convert(text, param, ctx)
        try:
            return resolve_symbol(text).address
        except FlasharbValueError as exc:
            self.fail(str(exc), param, ctx)


UNITS = {"wei": 0, "gwei": 9, "ether": 18, "eth": 18}  # Foundry's units (eth: ether)
_AMOUNT = re.compile(
    r"^(?P<num>[+-]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?)\s*"
    r"(?P<unit>[A-Za-z][A-Za-z0-9]*)?$"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Amount:
    """An amount as typed, already in base units: `wei`; `token` is the token whose symbol was
    its unit (`2.5e6USDC`), which must then be the token the amount is for."""

    text: str
    wei: int
    token: str | None = None

    def of(self, token: str, option: str) -> int:
        """The amount in base units of `token`; FlasharbValueError if its unit names another."""
        from flasharb.errors import FlasharbValueError
        from flasharb.state.tokens import token_by_address

        if self.token is not None and self.token != token:
            unit = token_by_address(self.token)
            name = token_by_address(token)
            raise FlasharbValueError(
                f"{option} {self.text} is in {unit.symbol if unit else self.token}, but the "
                f"token is {name.symbol if name else token}; give it in the token's own units"
            )
        return self.wei


class AmountType(click.ParamType):
    """A positive amount: base units (`1000`, `1e18`, `1_000`), or a number with a unit, exact
    to the base unit: `500ether`, `20gwei`, or a token symbol for the token's decimals
    (`2.5e6USDC` = 2,500,000 USDC)."""

    name = "AMOUNT"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Amount:
        from decimal import Decimal, InvalidOperation, localcontext

        from flasharb.errors import FlasharbValueError
        from flasharb.state.tokens import resolve_symbol

        if isinstance(value, Amount):
            return value
        text = str(value).strip()
        m = _AMOUNT.match(text)
        if m is None:
            self.fail(
                f"{text!r} is not an amount: give base units (1000, 1e18) or a number with a "
                "unit (500ether, 20gwei, 2.5e6USDC)",
                param,
                ctx,
            )
        unit, token = m["unit"], None
        if unit is None:
            decimals = 0
        elif unit.lower() in UNITS:
            decimals = UNITS[unit.lower()]
        else:
            try:
                known = resolve_symbol(unit)
            except FlasharbValueError as exc:
                self.fail(f"{text!r}: unit {unit!r} is not wei, gwei, ether or {exc}", param, ctx)
            decimals, token = known.decimals, known.address
        with localcontext() as dec_ctx:
            dec_ctx.prec = 100
            try:
                scaled = Decimal(m["num"].replace("_", "")).scaleb(decimals)
            except InvalidOperation:
                self.fail(f"{text!r} is not a number", param, ctx)
        if scaled <= 0:
            self.fail(f"{text} is not positive: give an amount of at least 1 base unit", param, ctx)
        if scaled != scaled.to_integral_value():
            if unit is None:
                self.fail(
                    f"{text!r} is not a whole number of base units (1 WETH = "
                    "1000000000000000000); or add a unit: 1.5ether, 1.5WETH",
                    param,
                    ctx,
                )
            self.fail(f"{text!r} is finer than one base unit ({decimals} decimals)", param, ctx)
        wei = int(scaled)
        if wei >= 2**256:
            self.fail(f"{text} does not fit in a uint256: give a smaller amount", param, ctx)
        return Amount(text=text, wei=wei, token=token)


TOKEN = TokenType()
AMOUNT = AmountType()


def _set_rpc_url(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """--rpc-url: the fork every step of this command talks to (FLASHARB_RPC_URL for this process
    and what it starts, so every `find_rpc_url()` sees it)."""
    import os

    if value:
        os.environ["FLASHARB_RPC_URL"] = value
        ctx.meta["flasharb.rpc_url"] = value


_RPC_URL_ARGS: dict[str, Any] = {
    "metavar": "URL",
    "expose_value": False,
    "is_eager": True,
    "callback": _set_rpc_url,
    "help": "The fork to talk to (default: FLASHARB_RPC_URL, else the one 'flasharb node up' "
    "recorded).",
}

rpc_url_option = click.option("--rpc-url", **_RPC_URL_ARGS)  # one decorator line per command


def add_rpc_url(cmd: click.Command) -> click.Command:
    """`--rpc-url URL` on a command defined elsewhere, without touching its signature."""
    if not any(p.name == "rpc_url" for p in cmd.params):
        cmd.params.append(click.Option(["--rpc-url"], **_RPC_URL_ARGS))
    return cmd


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
