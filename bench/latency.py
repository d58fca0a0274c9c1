"""Block -> signed transaction: the path `flasharb run` takes, against the full-rescan path it
had before (rediscover, re-read every pool, rebuild the index, re-evaluate every cycle on every
block), run in the same process on the same replica, the same seeded background swaps.

Figures (issue 13's table), each printed with its baseline and the ratio, and the phases of the
head -> send time (median over the blocks that sent a trade):

1. new head seen -> the best plan's signed transaction sent, max-hops 3: p50 and p95 over
   `--blocks` blocks of `run --background-swaps 2`;
2. the same at max-hops 4 (the full-rescan baseline on `--blocks4` blocks: each costs a minute);
3. after a 500 WETH sale into Uniswap V2 WETH/USDC: head -> first trade sent (median of
   `--reps` fresh forks);
4. `flasharb scan` in a fresh process (imports, discovery, read, index, sizing), 3 hops, wall
   time, median of `--reps`, split into the interpreter + the scan's imports (a fresh process
   importing only those) and the work (the rest); `flasharb --version` beside it is the CLI's
   own floor (interpreter and click, no command imported);
5. a 10k-pool synthetic market with 1% of its pools moved: update -> selected plan, the run
   loop's path (the book sizes only what can change the pick; the whole book is made exact
   after, untimed, and the pick checked against the policy over it); baseline: the same book
   built afresh on the moved states, every candidate sized;
6. exact sizing of the mixed (V3 / Balancer) candidates after the shock, per candidate,
   median; baseline: the golden-section search of before (bench/sizing_baseline.py), when it
   is present.

"head seen" is the moment the runner's poll returns a new head (the step's background swaps
are sent before it). Nothing here judges a timing; run it on a quiet machine.
Run: .venv/bin/python bench/latency.py [--blocks 60] [--reps 5] [--quick] [--json PATH]
     [--only loop|shock|scan|synthetic ...]  (figure 4 alone: --only scan)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "testing"))  # flasharb_testing

from flasharb.chain import addresses as A
from flasharb.chain.anvil import Anvil, rpc_request
from flasharb.chain.node import SLOT_SECONDS, fork_args
from flasharb.chain.rpc import connect
from flasharb.execute.deploy import deploy
from flasharb.execute.plan import plan
from flasharb.execute.shock import shock
from flasharb.journal.store import Journal
from flasharb.kinds import HopKind
from flasharb.replica.lab import start_replica_lab
from flasharb.run.loop import BlockReport, RunConfig, Runner
from flasharb.search.cycles import CycleIndex
from flasharb.search.exact import size_cycle
from flasharb.search.market import Market, MarketUpdate
from flasharb.search.rank import OpportunityBook, unlimited_vault
from flasharb.search.select import select
from flasharb_testing.synthetic import generate, shocked

UNI_WETH_USDC = "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc"
PHASES = ("sync", "lenders", "screen", "size", "fund_cost", "select", "encode_sign", "simulate")
FIGURES: list[dict[str, Any]] = []


class FullRescanMarket(Market):
    """The baseline: every update rebuilds the market from nothing (what `flasharb run` did
    per block through `scan()`: rediscovery, a full read, a new index, every cycle again)."""

    def update(self, to_block: int | None = None) -> MarketUpdate:
        t0 = time.perf_counter()
        fresh = Market.build(self.w3, self.config, block=to_block)
        t_built = time.perf_counter()
        fresh.book.opportunities()  # as scan() did: every candidate sized, everything costed
        t_sized = time.perf_counter()
        self.sync, self.head, self.index = fresh.sync, fresh.head, fresh.index
        self.book, self.lenders, self.stale = fresh.book, fresh.lenders, fresh.stale
        self._lenders_raw = fresh._lenders_raw
        last = replace(self.book.last, size_s=self.book.last.size_s + (t_sized - t_built))
        took = time.perf_counter() - t0
        return MarketUpdate(
            block=self.head.number,
            pools_changed=len(self.states),
            added=0,
            logs=0,
            book=last,
            sync_s=took - last.screen_s - last.size_s - last.cost_s,
            lenders_s=0.0,
            evaluate_s=last.screen_s + last.size_s + last.cost_s,
            calls=0,
        )


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k]


def figure(name: str, value: float, baseline: float | None, unit: str, target: str) -> None:
    FIGURES.append(
        {
            "figure": name,
            "value": value,
            "unit": unit,
            "baseline": baseline,
            "ratio": None if baseline in (None, 0) or value == 0 else baseline / value,
            "target": target,
        }
    )
    base = "" if baseline is None else f"{baseline:10.2f} {unit}"
    ratio = "" if FIGURES[-1]["ratio"] is None else f"{FIGURES[-1]['ratio']:7.1f}x"
    print(f"  {name:<62} {value:10.2f} {unit:<3} {base:>14} {ratio:>8}  {target}", flush=True)


def note(name: str, text: str) -> None:
    FIGURES.append({"figure": name, "value": text, "unit": "", "baseline": None, "target": ""})
    print(f"  {name:<62} {text}", flush=True)


class Fork:
    """A fork of the lab's upstream at its head, with the diamond deployed: one per path."""

    def __init__(self, upstream: str) -> None:
        head = int(rpc_request(upstream, "eth_blockNumber"), 16)
        self.anvil = Anvil(args=fork_args(upstream, head)).start()
        rpc_request(self.anvil.url, "anvil_setBlockTimestampInterval", [SLOT_SECONDS])
        self.w3 = connect(self.anvil.url)
        self.dep = deploy(self.w3, self.w3.eth.accounts[0], self.anvil.url, record=False)

    def close(self) -> None:
        self.anvil.stop()


def runner(fork: Fork, journal: Journal, config: RunConfig, full: bool) -> Runner:
    r = Runner(fork.w3, fork.dep, journal, config)
    r.start()
    if full:
        r.market = FullRescanMarket.build(fork.w3, config.market())
    return r


def run_blocks(
    upstream: str, tmp: Path, *, max_hops: int, blocks: int, full: bool, seed: int = 11
) -> list[BlockReport]:
    fork = Fork(upstream)
    try:
        with Journal(tmp / f"j-{max_hops}-{int(full)}.sqlite") as journal:
            config = RunConfig(max_hops=max_hops, top=2, background_swaps=2, seed=seed)
            r = runner(fork, journal, config, full)
            reports = []
            r.step(first=True)
            while len(reports) < blocks:
                report = r.step()
                if report is not None:
                    reports.append(report)
            return reports
    finally:
        fork.close()


def phase_table(label: str, reports: Sequence[BlockReport]) -> None:
    sent = [r.phases for r in reports if "head_to_send" in r.phases]
    if not sent:
        print(f"  {label}: no block sent a trade")
        return
    parts = []
    for name in (*PHASES, "send"):
        values = [p[name] for p in sent if name in p]
        if values:
            parts.append(f"{name} {statistics.median(values):.2f}")
    print(
        f"  phases of head -> send, {label}, median ms over {len(sent)} blocks: " + ", ".join(parts)
    )


def head_to_send(reports: Sequence[BlockReport]) -> list[float]:
    return [r.phases["head_to_send"] for r in reports if "head_to_send" in r.phases]


def loop_figures(upstream: str, tmp: Path, blocks: int) -> None:
    print(f"run --background-swaps 2, {blocks} blocks per path (same seed, same swaps):")
    new = run_blocks(upstream, tmp, max_hops=3, blocks=blocks, full=False)
    old = run_blocks(upstream, tmp, max_hops=3, blocks=blocks, full=True)
    n, o = head_to_send(new), head_to_send(old)
    figure(
        f"head -> send, 3 hops, p50 ({len(n)} of {blocks} blocks sent)",
        statistics.median(n),
        statistics.median(o),
        "ms",
        "<= 50 ms",
    )
    figure("head -> send, 3 hops, p95", pct(n, 0.95), pct(o, 0.95), "ms", "<= 150 ms")
    phase_table("3 hops", new)
    phase_table("3 hops, full rescan", old)


def loop4_figures(upstream: str, tmp: Path, blocks: int, baseline_blocks: int) -> None:
    """Figure 2: the full-rescan baseline at 4 hops takes a minute or more a block here, so it
    gets `baseline_blocks` blocks (the same first blocks of the same seeded swaps)."""
    print(f"run --background-swaps 2, 4 hops, {blocks} blocks (baseline {baseline_blocks}):")
    new4 = run_blocks(upstream, tmp, max_hops=4, blocks=blocks, full=False)
    old4 = run_blocks(upstream, tmp, max_hops=4, blocks=baseline_blocks, full=True)
    n4, o4 = head_to_send(new4), head_to_send(old4)
    figure(
        f"head -> send, 4 hops, p50 ({len(n4)} of {blocks}; baseline {len(o4)} blocks)",
        statistics.median(n4),
        statistics.median(o4) if o4 else None,
        "ms",
        "<= 150 ms",
    )
    figure("head -> send, 4 hops, p95", pct(n4, 0.95), pct(o4, 0.95) if o4 else None, "ms", "")
    phase_table("4 hops", new4)


def shock_figure(upstream: str, tmp: Path, reps: int) -> list[Any]:
    """Head -> first trade after a 500 WETH sale; returns the last incremental market's
    states and candidates for the sizing figure."""
    times: dict[bool, list[float]] = {False: [], True: []}
    keep: list[Any] = []
    for full in (False, True):
        for i in range(reps):
            fork = Fork(upstream)
            try:
                with Journal(tmp / f"shock-{int(full)}-{i}.sqlite") as journal:
                    r = runner(fork, journal, RunConfig(max_hops=3, top=2), full)
                    shock(fork.w3, UNI_WETH_USDC, A.WETH, 500 * 10**18)
                    report = r.step()
                    assert report is not None and "head_to_send" in report.phases, report
                    times[full].append(report.phases["head_to_send"])
                    if not full and i == reps - 1:
                        keep = [r.market]
            finally:
                fork.close()
    figure(
        f"after a 500 WETH shock: head -> first trade (median of {reps})",
        statistics.median(times[False]),
        statistics.median(times[True]),
        "ms",
        "<= 100 ms",
    )
    return keep


# What `flasharb scan` imports before it does any work: the interpreter and these modules, in a
# fresh process, is the scan's import floor (`flasharb --version` is the CLI's, far below it).
SCAN_IMPORTS = "import flasharb.cli, flasharb.config, flasharb.search.scan, flasharb.chain.node"


def scan_figure(upstream: str, reps: int) -> None:
    """`flasharb scan --json --max-hops 3` in a fresh process after a 500 WETH shock, wall time,
    median of `reps`; beside it the floors measured the same way: `flasharb --version` (the
    interpreter and the CLI) and a process that only imports what the scan imports; the work
    (discovery, read, index, sizing, output) is the scan less that import floor.

    The processes get this environment (PYTHONPATH included, made absolute: a checkout's own
    flasharb, not the one a venv's editable install points at) less PYTHONDONTWRITEBYTECODE:
    an installed flasharb has its bytecode compiled, and compiling ~80 modules on every start
    (~0.2 s here) is not what a user's scan pays."""
    fork = Fork(upstream)
    try:
        shock(fork.w3, UNI_WETH_USDC, A.WETH, 500 * 10**18)
        exe = Path(sys.executable).parent / "flasharb"
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "flasharb.cli"]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        if env.get("PYTHONPATH"):  # absolute: the processes run in another folder
            paths = env["PYTHONPATH"].split(os.pathsep)
            env["PYTHONPATH"] = os.pathsep.join(str(Path(x).resolve()) for x in paths)
        env["FLASHARB_RPC_URL"] = fork.anvil.url

        def wall(argv: list[str], cwd: str) -> float:
            t = time.perf_counter()
            res = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd)
            took = time.perf_counter() - t
            assert res.returncode == 0, res.stderr
            return took * 1e3

        with tempfile.TemporaryDirectory(prefix="flasharb-scan-") as project:
            env["FLASHARB_PROJECT"] = project  # no .flasharb/ or flasharb.toml of this checkout
            scan = [*cmd, "scan", "--json", "--max-hops", "3"]
            imports = [sys.executable, "-c", SCAN_IMPORTS]
            version = [*cmd, "--version"]
            for argv in (scan, imports, version):
                wall(argv, project)  # warm the page cache, write the bytecode once
            scans, floor, cli = [], [], []
            for _ in range(reps):  # interleaved: a slow moment of the machine hits all three
                scans.append(wall(scan, project))
                floor.append(wall(imports, project))
                cli.append(wall(version, project))
    finally:
        fork.close()
    med, fl = statistics.median(scans), statistics.median(floor)
    figure(
        f"flasharb scan, fresh process, 3 hops (median of {reps})", med, None, "ms", "<= 1000 ms"
    )
    note("  interpreter + the scan's imports", f"{fl:.0f} ms")
    note("  work: discovery, read, index, sizing, output", f"{med - fl:.0f} ms")
    note("  flasharb --version (interpreter + CLI)", f"{statistics.median(cli):.0f} ms")


def synthetic_figure(reps: int, quick: bool) -> None:
    n_pools = 2_000 if quick else 10_000
    market = generate(n_pools, seed=3, dislocated=0.01)
    t = time.perf_counter()
    index = CycleIndex.build(market.pools, market.flash_tokens, max_hops=3)
    built = time.perf_counter() - t
    lenders = unlimited_vault(index)
    gas = 10**8
    states = market.states()
    book = OpportunityBook(index, states, weth=market.weth, lenders=lenders, gas_price_wei=gas)
    rng = random.Random(5)
    pools = list(states.values())
    updates, fresh_times = [], []
    for i in range(reps):
        changed = shocked(rng.sample(pools, n_pools // 100), rng, max_move=0.003)
        states.update({s.address: s for s in changed})
        pools = list(states.values())
        t = time.perf_counter()
        book.update(changed, gas_price_wei=gas)
        chosen = book.select(top=2)  # the run loop's path: only what can change the pick
        for o in chosen:
            plan(o)
        updates.append((time.perf_counter() - t) * 1e3)
        everything = book.opportunities()  # what the run loop does after its sends (untimed)
        assert chosen == select(everything, top=2)  # the policy over the whole book
        if i < 2:  # the baseline costs seconds at this size: two of them
            t = time.perf_counter()
            fresh = OpportunityBook(
                index, states, weth=market.weth, lenders=lenders, gas_price_wei=gas
            )
            for o in select(fresh.opportunities(), top=2):  # every candidate sized
                plan(o)
            fresh_times.append((time.perf_counter() - t) * 1e3)
            assert fresh.opportunities() == everything  # the same answer
    figure(
        f"{n_pools:,}-pool synthetic, 1% moved: update -> sized, selected plan",
        statistics.median(updates),
        statistics.median(fresh_times),
        "ms",
        "<= 20 ms",
    )
    note(
        "  index of that market",
        f"{len(index):,} cycles, 3 hops, built in {built * 1e3:.0f} ms (once, not per block)",
    )


def sizing_figure(market: Market, reps: int) -> None:
    try:
        from sizing_baseline import optimize_route as baseline  # bench/, when present
    except ImportError:
        baseline = None
    engine = market.book.engine
    ids, x_star = engine.candidates()
    mixed = [
        (engine.index.cycle(int(i)), int(x))
        for i, x in zip(ids.tolist(), x_star.tolist(), strict=True)
        if any(h.kind is not HopKind.UNISWAP_V2 for h in engine.index.cycle(int(i)).hops)
    ]
    states = market.states

    def per_candidate(fn: Callable[..., Any]) -> float:
        times = []
        for cycle, seed in mixed:
            best = None
            for _ in range(reps):
                t = time.perf_counter()
                fn(cycle, states, max(seed, 1))
                took = time.perf_counter() - t
                best = took if best is None else min(best, took)
            times.append(best or 0.0)
        return statistics.median(times) * 1e6

    new = per_candidate(size_cycle)
    old = per_candidate(baseline) if baseline is not None else None
    figure(
        f"exact sizing per mixed candidate ({len(mixed)} after the shock), median",
        new,
        old,
        "us",
        "<= 150 us",
    )


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", type=int, default=60)
    ap.add_argument(
        "--blocks4", type=int, default=3, help="blocks of the 4-hop full-rescan baseline"
    )
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="20 blocks, 2 reps, 2k-pool market")
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument(
        "--only",
        choices=("loop", "loop4", "shock", "scan", "synthetic"),
        action="append",
        help="only these figures (repeat; default: all; the sizing figure comes with shock)",
    )
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: stop every anvil started
    blocks, reps = (20, 2) if args.quick else (args.blocks, args.reps)
    only = set(args.only or ("loop", "loop4", "shock", "scan", "synthetic"))
    print(f"{'figure':<64} {'value':>14} {'baseline':>14} {'ratio':>8}  target")
    if only - {"synthetic"}:
        with (
            tempfile.TemporaryDirectory(prefix="flasharb-latency-") as tmp,
            start_replica_lab() as lab,
        ):
            upstream = lab.upstream_url
            if "loop" in only:
                loop_figures(upstream, Path(tmp), blocks)
            if "loop4" in only:
                loop4_figures(upstream, Path(tmp), blocks, 2 if args.quick else args.blocks4)
            markets = shock_figure(upstream, Path(tmp), reps) if "shock" in only else []
            if "scan" in only:
                scan_figure(upstream, reps)
            if markets:
                sizing_figure(markets[0], 3)
    if "synthetic" in only:
        synthetic_figure(max(reps, 3), args.quick)
    if args.json:
        args.json.write_text(json.dumps({"figures": FIGURES}, indent=2))


if __name__ == "__main__":
    main()
