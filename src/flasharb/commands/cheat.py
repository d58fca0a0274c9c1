"""`flasharb cheat`: Foundry's cheats on the fork from the command line: deal, impersonate,
snapshot, revert, mine."""

from __future__ import annotations

from typing import Any

import click

from flasharb._cli_support import (
    ADDRESS,
    AMOUNT,
    Amount,
    TokenType,
    _emit,
    _kv,
    _w3,
    json_option,
    rpc_url_option,
)


class DealToken(TokenType):
    """A token (address or symbol), or ETH for the account's ether balance."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if str(value).strip().upper() == "ETH":
            return "ETH"
        return super().convert(value, param, ctx)


@click.group()
def cheat() -> None:
    """Cheats on the fork: set balances, send as anyone, snapshot and revert, mine blocks."""


@cheat.command()
@click.argument("token", type=DealToken())
@click.argument("account", type=ADDRESS)
@click.argument("amount", type=AMOUNT)
@rpc_url_option
@json_option
def deal(token: str, account: str, amount: Amount, as_json: bool) -> None:
    """Set ACCOUNT's balance of TOKEN (address, symbol, or ETH) to AMOUNT (500ether,
    2.5e6USDC, or base units)."""
    from flasharb.chain.cheats import balance_of, set_balance
    from flasharb.chain.cheats import deal as do_deal

    w3 = _w3()
    if token == "ETH":
        wei = amount.of("ETH", "AMOUNT")  # in ether's units: 10ether, 1e18
        set_balance(w3, account, wei)
        balance = int(w3.eth.get_balance(account))
    else:
        wei = amount.of(token, "AMOUNT")
        try:
            balance_of(w3, token, account)
        except Exception as exc:  # no code, no balanceOf, a revert: not a token
            from flasharb.errors import FlasharbValueError

            raise FlasharbValueError(
                f"TOKEN {token} does not answer balanceOf(address): not an ERC-20 on this fork; "
                "give a token's address or symbol"
            ) from exc
        do_deal(w3, token, account, wei)
        balance = balance_of(w3, token, account)
    _emit({"token": token, "account": account, "balance": str(balance)}, as_json, _kv)


@cheat.command()
@click.argument("account", type=ADDRESS)
@click.option("--stop", is_flag=True, help="Stop impersonating ACCOUNT.")
@rpc_url_option
@json_option
def impersonate(account: str, stop: bool, as_json: bool) -> None:
    """Let transactions `from` ACCOUNT be sent without its key (eth_sendTransaction)."""
    from flasharb.chain.cheats import impersonate as do_impersonate
    from flasharb.chain.cheats import stop_impersonating

    w3 = _w3()
    (stop_impersonating if stop else do_impersonate)(w3, account)
    _emit({"account": account, "impersonating": not stop}, as_json, _kv)


@cheat.command()
@rpc_url_option
@json_option
def snapshot(as_json: bool) -> None:
    """Snapshot the fork's state; 'flasharb cheat revert ID' returns to it (once)."""
    from flasharb.chain.cheats import _rpc

    w3 = _w3()
    snap = str(_rpc(w3, "evm_snapshot", []))
    _emit({"snapshot": snap, "block": int(w3.eth.block_number)}, as_json, _kv)


@cheat.command()
@click.argument("snapshot_id", metavar="ID")
@rpc_url_option
@json_option
def revert(snapshot_id: str, as_json: bool) -> None:
    """Return the fork to snapshot ID (as 'flasharb cheat snapshot' printed it)."""
    from flasharb.chain.cheats import _rpc
    from flasharb.errors import FlasharbValueError

    text = snapshot_id.strip().lower()
    try:
        number = int(text, 16) if text.startswith("0x") else int(text)
    except ValueError:
        raise FlasharbValueError(
            f"ID {snapshot_id!r} is not a snapshot id: give what 'flasharb cheat snapshot' "
            "printed (e.g. 0x1)"
        ) from None
    w3 = _w3()
    if _rpc(w3, "evm_revert", [hex(number)]) is not True:
        raise FlasharbValueError(
            f"no snapshot {hex(number)} on this fork (a revert uses its snapshot up, and a new "
            "fork has none); take one with 'flasharb cheat snapshot'"
        )
    _emit({"reverted_to": hex(number), "block": int(w3.eth.block_number)}, as_json, _kv)


@cheat.command()
@click.argument("blocks", type=click.IntRange(1, 1_000_000), default=1)
@click.option(
    "--interval",
    type=click.IntRange(min=1),
    help="Seconds between the mined blocks (default: the fork's 12 s slot).",
)
@rpc_url_option
@json_option
def mine(blocks: int, interval: int | None, as_json: bool) -> None:
    """Mine BLOCKS empty blocks (default 1)."""
    from flasharb.chain.cheats import _rpc, set_next_block_timestamp

    w3 = _w3()
    if interval is None:
        _rpc(w3, "anvil_mine", [hex(blocks)])
    else:  # one by one: the lab's fork has a fixed timestamp interval that anvil_mine keeps
        t = int(w3.eth.get_block("latest")["timestamp"])
        for n in range(1, blocks + 1):
            set_next_block_timestamp(w3, t + n * interval)
            _rpc(w3, "evm_mine", [])
    _emit({"mined": blocks, "block": int(w3.eth.block_number)}, as_json, _kv)
