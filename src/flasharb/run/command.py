"""`flasharb run`: the block watcher as a command. Ctrl-C (or SIGTERM) finishes the step in
hand, closes the run in the journal and exits 130; the node is left as it was.

The circuit breakers' options (`--max-daily-gas` ...) are added by the CLI
(flasharb.commands.risk.add_risk_options) and arrive as `RiskLimits` fields in click's meta.
A child a breaker tripped (in this run or an earlier one on the same lab) is not traded until
`flasharb risk resume --child C`; the run says so on stderr when it starts."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from flasharb.errors import FlasharbRuntimeError
from flasharb.journal.store import Journal, default_path

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


@click.command("run")
@click.option(
    "--max-hops",
    type=click.IntRange(2, 4),
    help="Longest cycle searched [default: the config file's, else 3].",
)
@click.option(
    "--priority-fee-gwei",
    type=click.FloatRange(min=0),
    help="The tip [default: the config file's, else 0.1].",
)
@click.option(
    "--min-profit-eth",
    type=str,
    help="Guard: execute only above this net profit, in ETH wei [default: the config file's "
    "min_net_profit, else 0].",
)
@click.option(
    "--top",
    type=int,
    help="Trades per block at most [default: the config file's, else 2].",
)
@click.option("--blocks", "max_blocks", type=int, help="Stop after this many new blocks.")
@click.option("--poll", type=float, default=0.2, show_default=True, help="Seconds between polls.")
@click.option(
    "--background-swaps",
    type=int,
    default=0,
    show_default=True,
    help="Random swaps sent before each step (a busy market for tests and demos).",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Background swaps' seed.")
@click.option("--deploy/--no-deploy", "do_deploy", default=False, help="Deploy a diamond first.")
@click.option(
    "--backrun/--no-backrun",
    default=True,
    show_default=True,
    help="When the node does not automine: backrun the swaps waiting in its transaction pool.",
)
@click.option(
    "--deadline-blocks",
    type=click.IntRange(min=1),
    help="executeArb's deadline, in blocks after the head (default: the config file's, else 2; "
    "on an automining node at least --top: each trade is its own block there).",
)
@click.option(
    "--bribe-bps",
    type=click.IntRange(0, 10_000),
    help="Share of each trade's profit paid to block.coinbase (at most the owner's cap) "
    "[default: the config file's, else 0].",
)
@click.option("--journal", "journal_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per block.")
def run(
    max_hops: int | None,
    priority_fee_gwei: float | None,
    min_profit_eth: str | None,
    top: int | None,
    max_blocks: int | None,
    poll: float,
    background_swaps: int,
    seed: int,
    do_deploy: bool,
    backrun: bool,
    deadline_blocks: int | None,
    bribe_bps: int | None,
    journal_path: Path | None,
    as_json: bool,
) -> None:
    """Watch new blocks: sync, scan, execute what clears the guard, journal everything; pause
    a child whose circuit breaker trips."""
    from flasharb.chain.rpc import connect, find_rpc_url
    from flasharb.config import load_config
    from flasharb.execute.deploy import deploy, load
    from flasharb.run.loop import RunConfig, Runner
    from flasharb.run.risk import RISK_META, RiskLimits
    from flasharb.run.view import make_view

    limits = RiskLimits(**(click.get_current_context().meta.get(RISK_META) or {}))
    project = load_config()  # the flags override the file; a bad file: one line, exit 2
    strategy = project.strategy
    market = project.market(
        max_hops=max_hops,
        priority_fee_wei=None if priority_fee_gwei is None else _priority_wei(priority_fee_gwei),
        min_net_profit_eth=None if min_profit_eth is None else _wei(min_profit_eth),
    )
    url = find_rpc_url()
    w3 = connect(url)
    dep = deploy(w3, w3.eth.accounts[0], url) if do_deploy else load(w3)
    config = RunConfig(
        max_hops=market.max_hops,
        priority_fee_wei=market.priority_fee_wei,
        min_profit_eth_wei=market.min_net_profit_eth,
        top=_first(top, strategy.top, 2),
        background_swaps=background_swaps,
        seed=seed,
        backrun=backrun,
        deadline_blocks=strategy.deadline_blocks if deadline_blocks is None else deadline_blocks,
        bribe_bps=_first(bribe_bps, strategy.bribe_bps, 0),
        limits=limits,
        market_config=market,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():  # a second Ctrl-C: give up on the step in hand
            raise KeyboardInterrupt
        stop.set()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    journal = Journal(journal_path or default_path())
    runner = Runner(w3, dep, journal, config, rpc_url=url)
    view = make_view(w3, as_json=as_json)
    status = "failed"
    try:
        run_id = runner.start()
        assert runner.market is not None
        for child, trip in runner.halted().items():
            click.echo(
                f"flasharb: child {child} is paused by its {trip.limit} breaker (tripped at "
                f"block {trip.block}): not trading it; 'flasharb risk resume --child {child}'",
                err=True,
            )
        view.start(run_id, runner.market.block)
        first = True
        while not stop.is_set():
            report = runner.step(first=first)
            first = False
            if report is not None:
                view.update(report, runner.totals)
                if max_blocks is not None and runner.totals.blocks >= max_blocks:
                    break
            else:
                stop.wait(poll)
        status = "interrupted" if stop.is_set() else "done"
    except KeyboardInterrupt:
        status = "interrupted"
    except (OSError, ConnectionError) as exc:
        raise FlasharbRuntimeError(f"lost the node at {url}: {exc}") from exc
    finally:
        summary = runner.finish(status) | {
            "run_id": runner.run_id,
            "status": status,
            "journal": str(journal.path),
        }
        journal.close()
        for s, handler in old.items():
            signal.signal(s, handler)
        view.stop(summary)
    if status == "interrupted":
        sys.exit(EXIT_INTERRUPTED)


def _first(flag: int | None, file: int | None, default: int) -> int:
    """The flag if given, else the config file's value, else the default."""
    return flag if flag is not None else file if file is not None else default


def _priority_wei(gwei: float) -> int:
    return int(round(gwei * 10**9))  # CLI input only; everything after is integer wei


def _wei(text: str) -> int:
    from flasharb.errors import FlasharbValueError

    try:
        return int(text)
    except ValueError:
        raise FlasharbValueError(
            f"--min-profit-eth {text!r} is not a whole number of ETH wei; give e.g. "
            "10000000000000000"
        ) from None
