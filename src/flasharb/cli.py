"""The `flasharb` command: the whole flow, each step with --help and --json where output is data."""

from __future__ import annotations

import sys
from typing import Any

import click

from flasharb._cli_support import (
    ADDRESS,
    AMOUNT,
    TOKEN,
    Amount,
    LazyGroup,
    _emit,
    _kv,
    _no_liquidity,
    _priority,
    _set_config,
    _set_project,
    _w3,
    add_rpc_url,
    busy,
    check_block,
    handled,
    json_option,
    rpc_url_option,
)

# name -> (where it is defined, the one-line help `flasharb --help` lists without importing it).
# A command defined next to its layer is imported only when it runs: importing them all cost
# `flasharb --version` 1.1 s (flasharb.audit alone pulls web3, eth_abi and aiohttp: 0.6 s).
# tests/unit/test_cli_lazy.py checks each entry against the real command.
LAZY: dict[str, tuple[str, str]] = {
    "audit": (
        "flasharb.audit.command:audit_command",
        "Attack the contract at --target with flash loans it did not ask for, forged callbacks, "
        "every state-changing selector as a stranger, hostile tokens and ETH, on the fork (each "
        "inside a snapshot: the fork is left as it was).",
    ),
    "bench": (
        "flasharb.report.bench:bench",
        "Run the benchmarks in bench/ and print one table: figure, value, baseline, ratio.",
    ),
    "cheat": (
        "flasharb.commands.cheat:cheat",
        "Cheats on the fork: set balances, send as anyone, snapshot and revert, mine blocks.",
    ),
    "experiment": (
        "flasharb.experiments.command:experiment",
        "Run experiment NAME and write CSV, JSON, PNG plots and index.html to reports/NAME/.",
    ),
    "journal": (
        "flasharb.journal.command:journal",
        "The SQLite record of every run, scan, opportunity, trade and experiment point.",
    ),
    "node": (
        "flasharb.commands.lab:node",
        "Start and stop the lab: an upstream and an Anvil fork of it.",
    ),
    "pnl": (
        "flasharb.commands.pnl:pnl",
        "Profit and loss per child and in total, from the journal.",
    ),
    "pools": (
        "flasharb.commands.pools:pools",
        "Every pool flasharb can trade, discovered from the factories and the Vault on the fork.",
    ),
    "replica": (
        "flasharb.commands.lab:replica",
        "The mainnet replica: canonical bytecode at canonical addresses, seeded from data/.",
    ),
    "risk": (
        "flasharb.commands.risk:risk",
        "The circuit breakers of `flasharb run`: each limit's use and state, and resume.",
    ),
    "run": (
        "flasharb.run.command:run",
        "Watch new blocks: sync, scan, execute what clears the guard, journal everything; pause "
        "a child whose circuit breaker trips.",
    ),
    "setup": (
        "flasharb.commands.setup:setup",
        "Install the node toolchain (anvil, solcjs, protocol artifacts; `npm ci` of the lock "
        "that ships with flasharb) into the per-user cache, or find the one already there, and "
        "check it.",
    ),
    "tokens": (
        "flasharb.journal.tokens:tokens",
        "The token screen's verdicts: fee-on-transfer, rebasing, balance mismatch, odd return "
        "values and gas-price-dependent behaviour; refused tokens' pools stay out of the market.",
    ),
    "trace": (
        "flasharb.commands.trace:trace",
        "The call tree of transaction TX: every call named and decoded, every revert decoded "
        "with the diamond's and the canonical contracts' errors (debug_traceTransaction, "
        "callTracer).",
    ),
}


def _finish(name: str, cmd: click.Command) -> click.Command:
    """A command defined next to its layer, as this CLI runs it: its error handling on every
    callback (subcommands included), and the options it shares with the rest."""
    stack = [cmd]
    while stack:
        c = stack.pop()
        if c.callback is not None:
            c.callback = handled(c.callback)
        if isinstance(c, click.Group):
            stack.extend(c.commands.values())
    if name in ("run", "tokens", "audit"):
        add_rpc_url(cmd)
    if name == "run":
        from flasharb.commands.risk import add_risk_options

        add_risk_options(cmd)
    return cmd


@click.group(cls=LazyGroup, lazy=LAZY, finish=_finish)
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.option(
    "--project",
    type=click.Path(file_okay=False),
    expose_value=False,
    callback=_set_project,
    is_eager=True,
    help="Project folder for .flasharb/, build/ and reports/ (default: the nearest folder up "
    "from here with a .flasharb/, else this one; env FLASHARB_PROJECT).",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    expose_value=False,
    callback=_set_config,
    is_eager=True,
    help="Configuration file: venues, token lists, strategy (default: the project's "
    "flasharb.toml, else its pyproject.toml [tool.flasharb]; env FLASHARB_CONFIG). "
    "See docs/config.md.",
)
@click.version_option(package_name="flasharb")
def main(debug: bool) -> None:
    """flasharb: flash-loan arbitrage on a local forked Ethereum chain."""


# ------------------------------------------------------------------ deploy / shock / quote


@main.command()
@click.option(
    "--children",
    type=int,
    default=0,
    show_default=True,
    help="Deploy a master diamond and N child diamonds (child-1..child-N), each with its own "
    "generated executor key; 0: one diamond, no master.",
)
@click.option(
    "--strategies",
    default=None,
    metavar="A,B,...",
    help="A master and one child per strategy label (instead of --children).",
)
@rpc_url_option
@json_option
@handled
def deploy(children: int, strategies: str | None, as_json: bool) -> None:
    """Deploy the diamond and its facets on the fork (owner: the fork's first account), or a
    master and its children (--children N / --strategies a,b): executor and risk keys go to the
    project's key store (.flasharb/keys/, 0600), addresses to .flasharb/deployment.json."""
    from flasharb.chain.rpc import find_rpc_url
    from flasharb.errors import FlasharbValueError
    from flasharb.execute.deploy import child_labels
    from flasharb.execute.deploy import deploy as do_deploy

    if strategies is not None and children:
        raise FlasharbValueError("give --children N or --strategies a,b, not both")
    wanted: list[str] = []
    if strategies is not None:
        wanted = child_labels(strategies.split(","))
    elif children:
        wanted = child_labels(children)  # FlasharbValueError outside 1..MAX_CHILDREN
    what = f"a master and {len(wanted)} children" if wanted else "the diamond and its facets"
    w3 = _w3()
    with busy(f"deploying {what}", as_json):
        dep = do_deploy(w3, w3.eth.accounts[0], find_rpc_url(), children=wanted)
    _emit(dep.to_json(), as_json, _kv)


AMOUNT_HELP = "base units (1000, 1e18), or with a unit: 500ether, 20gwei, 2.5e6USDC (its decimals)"


@main.command()
@click.option(
    "--pool", required=True, type=ADDRESS, help="Pool address (Uniswap V2/V3, Sushi or Balancer)."
)
@click.option(
    "--token-in", required=True, type=TOKEN, help="Token sold into the pool (address or symbol)."
)
@click.option(
    "--token-out",
    default=None,
    type=TOKEN,
    help="Token bought (multi-token pools; default: other).",
)
@click.option("--amount-in", required=True, type=AMOUNT, help=f"Amount in: {AMOUNT_HELP}.")
@rpc_url_option
@json_option
@handled
def shock(
    pool: str, token_in: str, token_out: str | None, amount_in: Amount, as_json: bool
) -> None:
    """A whale swap that moves one pool."""
    from flasharb.errors import InsufficientLiquidityError
    from flasharb.execute.shock import shock as do_shock

    wei = amount_in.of(token_in, "--amount-in")
    try:
        res = do_shock(_w3(), pool, token_in, wei, token_out)
    except InsufficientLiquidityError as exc:
        raise _no_liquidity(pool, exc) from exc
    _emit(res.to_json(), as_json, _kv)


@main.command()
@click.option(
    "--pool",
    required=True,
    type=ADDRESS,
    help="Pool address (Uniswap V2/Sushi, Uniswap V3, Balancer).",
)
@click.option(
    "--token-in", required=True, type=TOKEN, help="Token sold into the pool (address or symbol)."
)
@click.option("--token-out", type=TOKEN, help="Token bought (needed only for pools of 3+ tokens).")
@click.option("--amount-in", type=AMOUNT, help=f"Exact input: {AMOUNT_HELP}.")
@click.option("--amount-out", type=AMOUNT, help="Exact output wanted instead: quotes the input.")
@click.option(
    "--block", type=click.IntRange(min=0), help="Quote at this block (default: the head)."
)
@rpc_url_option
@json_option
@handled
def quote(
    pool: str,
    token_in: str,
    token_out: str | None,
    amount_in: Amount | None,
    amount_out: Amount | None,
    block: int | None,
    as_json: bool,
) -> None:
    """Exact off-chain quote from the fork's state: what the pool pays, to the wei."""
    from flasharb.chain.rpc import checksum
    from flasharb.errors import FlasharbValueError, InsufficientLiquidityError
    from flasharb.state.lookup import identify
    from flasharb.state.quote import quote as exact_quote

    if (amount_in is None) == (amount_out is None):
        raise FlasharbValueError("give exactly one of --amount-in or --amount-out")
    w3 = _w3()
    check_block(w3, block)
    address = checksum(pool, "--pool")
    t_in = checksum(token_in, "--token-in")
    t_out = None if token_out is None else checksum(token_out, "--token-out")
    try:
        info = identify(w3, address, block=block)
    except FlasharbValueError as exc:
        if "check the address" in str(exc):
            raise
        raise FlasharbValueError(f"{exc}; check the address") from exc
    if t_in not in info.tokens:
        raise FlasharbValueError(f"--token-in {t_in} is not in pool {info.address} {info.tokens}")
    others = [t for t in info.tokens if t != t_in]
    unit_token = t_out if t_out is not None else (others[0] if len(others) == 1 else t_in)
    try:
        if amount_in is not None:
            q = exact_quote(
                w3,
                address,
                t_in,
                amount_in=amount_in.of(t_in, "--amount-in"),
                token_out=t_out,
                block=block,
            )
        else:
            assert amount_out is not None
            q = exact_quote(
                w3,
                address,
                t_in,
                amount_out=amount_out.of(unit_token, "--amount-out"),
                token_out=t_out,
                block=block,
            )
    except InsufficientLiquidityError as exc:
        raise _no_liquidity(address, exc) from exc
    except FlasharbValueError as exc:  # the flags' names, as the user typed them
        raise FlasharbValueError(
            str(exc).replace("token_in ", "--token-in ").replace("token_out", "--token-out")
        ) from exc
    data = q.to_json()
    _emit(data, as_json, _kv)


# ------------------------------------------------------------------ scan / execute


_MAX_HOPS_HELP = "Longest cycle searched (pools per route) [default: the config file's, else 3]."
_PRIORITY_HELP = "The tip, in gwei [default: the config file's priority_fee, else 0.1]."


def _market(max_hops: int | None, priority_fee_gwei: float | None) -> Any:
    """The project's configuration (docs/config.md), and its market with these flags over it."""
    from flasharb.config import load_config

    project = load_config()
    fee = None if priority_fee_gwei is None else _priority(priority_fee_gwei)
    return project, project.market(max_hops=max_hops, priority_fee_wei=fee)


@main.command()
@click.option("--max-hops", type=click.IntRange(2, 4), help=_MAX_HOPS_HELP)
@click.option("--priority-fee-gwei", type=click.FloatRange(min=0), help=_PRIORITY_HELP)
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Rows to show."
)
@rpc_url_option
@json_option
@handled
def scan(max_hops: int | None, priority_fee_gwei: float | None, limit: int, as_json: bool) -> None:
    """Ranked opportunities at the current block over the configured venues (every venue by
    default), net of flash fee and gas."""
    from flasharb.search.scan import scan as do_scan

    _, config = _market(max_hops, priority_fee_gwei)
    with busy("reading every pool, sizing every cycle", as_json):
        res = do_scan(_w3(), config=config, limit=limit)

    def table(_: dict[str, Any]) -> None:
        from flasharb.report.table import opportunities_table  # rich: for the table only

        opportunities_table(res, limit, _route_tokens(res, limit))

    _emit(res.to_json(limit=limit), as_json, table)


def _route_tokens(res: Any, limit: int) -> dict[str, dict[str, Any]]:
    """Symbol and decimals of every token on the routes shown (display only)."""
    from flasharb.chain.rpc import connect, find_rpc_url
    from flasharb.state.tokens import token_info

    shown = {h.token_in for o in res.opportunities[:limit] for h in o.cycle.hops}
    return token_info(connect(find_rpc_url()), shown)


@main.command()
@click.option(
    "--top",
    type=click.IntRange(min=1),
    help="Execute the best K (disjoint) [default: the config file's, else 1].",
)
@click.option("--dry-run", is_flag=True, help="Simulate only; send nothing.")
@click.option("--max-hops", type=click.IntRange(2, 4), help=_MAX_HOPS_HELP)
@click.option("--priority-fee-gwei", type=click.FloatRange(min=0), help=_PRIORITY_HELP)
@rpc_url_option
@json_option
@handled
def execute(
    top: int | None,
    dry_run: bool,
    max_hops: int | None,
    priority_fee_gwei: float | None,
    as_json: bool,
) -> None:
    """Scan, simulate, then send the best K opportunities that do not share a pool."""
    from flasharb.chain.rpc import lab_id
    from flasharb.execute.flow import execute_top
    from flasharb.execute.trader import SendPolicy
    from flasharb.journal.store import Journal
    from flasharb.paths import state_dir
    from flasharb.report.table import trades_table

    project, config = _market(max_hops, priority_fee_gwei)
    strategy = project.strategy
    top = top if top is not None else strategy.top if strategy.top is not None else 1
    policy = SendPolicy(
        priority_fee_wei=config.priority_fee_wei,
        bribe_bps=strategy.bribe_bps or 0,
        deadline_blocks=strategy.deadline_blocks or 2,
    )
    w3 = _w3()
    lab = lab_id(w3)
    journal = Journal(state_dir() / "journal.sqlite")
    run_id = journal.begin_run("execute", params={"top": top, "dry_run": dry_run}, lab=lab)
    try:
        with busy("scanning, simulating, sending", as_json):
            data = execute_top(
                w3,
                top=top,
                dry_run=dry_run,
                config=config,
                policy=policy,
                journal=journal,
                run_id=run_id,
                lab=lab,
            )
        journal.end_run(run_id, "done", {"trades": len(data["trades"])})
    except BaseException:
        journal.end_run(run_id, "failed")
        raise
    finally:
        journal.close()
    _emit(data, as_json, trades_table)
    if data["reverted"]:
        from flasharb.errors import TransactionFailed

        first = data["reverted"][0]
        raise TransactionFailed(
            f"{len(data['reverted'])} sent trade(s)",
            f"{first['reason']} (tx {first['tx_hash']}); its pools are quarantined",
        )


@main.command()
@click.option("--top", type=click.IntRange(min=1), default=2, show_default=True)
@click.option(
    "--shock-weth",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="WETH dumped on Uniswap V2 WETH/USDC.",
)
@click.option(
    "--out", default="reports/latest", show_default=True, type=click.Path(file_okay=False)
)
@json_option
@handled
def demo(top: int, shock_weth: int, out: str, as_json: bool) -> None:
    """The whole flow on the replica, with a report; exits 1 if no trade executed."""
    from pathlib import Path

    from flasharb.report.demo import run_demo
    from flasharb.report.table import trades_table

    summary = run_demo(
        top=top, shock_weth=shock_weth, out_dir=Path(out), log=None if as_json else click.echo
    )
    _emit(summary, as_json, trades_table)
    if not as_json:
        click.echo(f"report: {Path(out) / 'summary.json'}")
    if not summary["trades"]:
        click.echo("flasharb: error: the demo executed no trade", err=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main(prog_name="flasharb")
