"""Exact sizing per candidate: the segment-model sizing (`search.exact.size_cycle`) against the
previous bracket + golden-section + tooth search (bench/sizing_baseline.py), same process.

The market: the replica lab after a shock (500 WETH into Uniswap V2 WETH/USDC, 200 WETH into
the Uniswap V3 WETH/USDC pool with the most in-range liquidity, 50 WETH into the Balancer pool
holding the most WETH; pools found by discovery), every state read at the head, the lab then
stopped (nothing else runs while timing). Candidates are the engine's (`CycleIndex.build(...,
FLASH_TOKENS, max_hops=3)`, `SearchEngine.candidates()`: ids and float x*, the seed both
methods get). A second table does the same on a seeded synthetic market with a dislocated hub
(flasharb_testing/synthetic.py, 1,000 pools, seed 7, cycles of 2-4 hops), where many candidates are
dust next to their teeth (no gas floor screens them out here): the bounded tooth search's
cost and capture show there.

Per candidate: median time of `--repeat` runs (new) and of a third as many (baseline),
alternating; the reference optimum is the best of both methods and of an independent search
(integer ternary search on exact hop-by-hop quotes over [1, 4x], then every integer within
`LOCAL` of the best input found by anyone). Per hop-kind mix: candidates, median and p95 us
new vs baseline, speed-up, worst profit ratio new / reference, count below 0.99999, and the
median number of single-hop pool quotes per candidate (and how many candidates the new
method sized with one route evaluation, i.e. one quote per hop).
Then `engine.scan()` (the screen, then every candidate sized), against the same screen with
the baseline's sizing (median of 5).

Run: /work/main/.venv/bin/python bench/sizing.py [--json PATH] [--repeat N] [--no-synthetic]
Times are medians on a shared, noisy machine; nothing here asserts a timing.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the baseline copy, bench-only
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "testing"))  # flasharb_testing

import sizing_baseline as baseline  # noqa: E402

from flasharb.amm.balancer_weighted import WeightedPoolState  # noqa: E402
from flasharb.amm.pool import PoolState  # noqa: E402
from flasharb.amm.uniswap_v2 import V2PairState  # noqa: E402
from flasharb.amm.uniswap_v3 import V3PoolState  # noqa: E402
from flasharb.chain import addresses as A  # noqa: E402
from flasharb.errors import FlasharbError  # noqa: E402
from flasharb.kinds import HopKind  # noqa: E402
from flasharb.search import exact  # noqa: E402
from flasharb.search.cycles import Cycle, CycleIndex  # noqa: E402
from flasharb.search.engine import SearchEngine  # noqa: E402
from flasharb.search.sizing import SizedCycle, state_for  # noqa: E402
from flasharb_testing.synthetic import generate  # noqa: E402

V2_WETH_USDC = "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc"
SHOCKS_WETH = (500, 200, 50)  # into the V2 pair, the V3 pool, the Balancer pool
LOCAL = 256  # integers scanned either side of the best input, for the reference
CAPTURE = 0.99999  # the bar: profit >= 99.999% of the integer optimum
FIGURES: list[dict[str, Any]] = []
ROWS: list[tuple[str, ...]] = []


def row(
    figure: str, value: float, baseline_value: float | None, unit: str, target: str = ""
) -> None:
    scale = 1e6 if unit == "us" else 1e3
    FIGURES.append(
        {
            "figure": figure,
            "value": value * scale,
            "unit": unit,
            "baseline": None if baseline_value is None else baseline_value * scale,
            "ratio": None if baseline_value is None else baseline_value / value,  # speed-up
            "target": target,
        }
    )
    base = "" if baseline_value is None else f"{baseline_value * scale:10.1f} {unit}"
    ratio = "" if baseline_value is None else f"{baseline_value / value:7.1f}x"
    ROWS.append((figure, f"{value * scale:10.1f} {unit}", base, ratio, target))


def note(figure: str, value: str) -> None:
    FIGURES.append({"figure": figure, "value": value, "unit": "", "baseline": None})
    ROWS.append((figure, value, "", "", ""))


# ------------------------------------------------------------------ the markets


def replica_market() -> dict[str, PoolState]:
    """The replica after the shocks, every pool's state at the head (the lab is stopped)."""
    from flasharb.chain.rpc import connect
    from flasharb.execute.shock import shock
    from flasharb.replica.lab import start_replica_lab
    from flasharb.state.discovery import discover
    from flasharb.state.reader import read_states

    with start_replica_lab() as lab:
        w3 = connect(lab.rpc_url)
        pools = list(discover(w3))
        states = read_states(w3, pools).states
        v3 = max(
            (
                s
                for s in states.values()
                if isinstance(s, V3PoolState) and {s.token0, s.token1} == {A.WETH, A.USDC}
            ),
            key=lambda s: s.liquidity,
        )
        bal = max(
            (s for s in states.values() if isinstance(s, WeightedPoolState) and A.WETH in s.tokens),
            key=lambda s: s.balances[s.index_of(A.WETH)],
        )
        for pool, weth in zip((V2_WETH_USDC, v3.address, bal.address), SHOCKS_WETH, strict=True):
            shock(w3, pool, A.WETH, weth * 10**18)
        note(
            "replica: shocked (WETH in)",
            f"V2 {V2_WETH_USDC[:10]} 500, V3 {v3.address[:10]} 200, Balancer {bal.address[:10]} 50",
        )
        return dict(read_states(w3, pools).states)


# ------------------------------------------------------------------ reference optimum


def exact_profit(cycle: Cycle, states: Mapping[str, PoolState], x: int) -> int | None:
    """Independent of both methods: the pools' own quotes, hop by hop."""
    if x <= 0:
        return None
    amount = x
    try:
        for hop in cycle.hops:
            amount = state_for(states, hop).quote_exact_in(hop.token_in, hop.token_out, amount)
            if amount <= 0:
                return None
    except FlasharbError:
        return None
    return amount - x


def reference(cycle: Cycle, states: Mapping[str, PoolState], found: list[int]) -> int:
    """Best profit of the inputs found, an integer ternary search over [1, 4 max(found)], and
    every integer within LOCAL of the best input of all."""

    def key(x: int) -> float:
        p = exact_profit(cycle, states, x)
        return float("-inf") if p is None else p

    lo, hi = 1, 4 * max(max(found), 1)
    while hi - lo > 2:
        m1, m2 = lo + (hi - lo) // 3, hi - (hi - lo) // 3
        if key(m1) < key(m2):
            lo = m1
        else:
            hi = m2
    points = [*found, lo, lo + 1, hi]
    best = max(points, key=key)
    for x in range(max(best - LOCAL, 1), best + LOCAL + 1):
        if key(x) > key(best):
            best = x
    value = exact_profit(cycle, states, best)
    return max(value or 0, 0)


# ------------------------------------------------------------------ counting evaluations


def count_quotes(fn: Callable[[], object]) -> int:
    """Single-hop pool quotes `fn` makes: V3 swaps (every V3 quote runs one), V2 and Balancer
    exact-in and exact-out quotes."""
    count = 0
    patched: list[tuple[type, str, Any]] = [
        (V3PoolState, "_swap_loop", V3PoolState._swap_loop),
        (V2PairState, "quote_exact_in", V2PairState.quote_exact_in),
        (V2PairState, "quote_exact_out", V2PairState.quote_exact_out),
        (WeightedPoolState, "quote_exact_in", WeightedPoolState.quote_exact_in),
        (WeightedPoolState, "quote_exact_out", WeightedPoolState.quote_exact_out),
    ]
    for cls, name, original in patched:

        def counted(*args: Any, _original: Any = original, **kw: Any) -> Any:
            nonlocal count
            count += 1
            return _original(*args, **kw)

        setattr(cls, name, counted)
    try:
        fn()
    finally:
        for cls, name, original in patched:
            setattr(cls, name, original)
    return count


# ------------------------------------------------------------------ figures


def group(cycle: Cycle) -> str:
    kinds = {hop.kind for hop in cycle.hops}
    if kinds == {HopKind.UNISWAP_V2}:
        mix = "V2 only"
    elif HopKind.BALANCER in kinds:
        mix = "with Balancer"
    else:
        mix = "V2+V3 / V3"
    return f"{mix}, {len(cycle.hops)} hops"


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(int(0.95 * len(ordered)), len(ordered) - 1)]


def bench_market(
    label: str,
    states: Mapping[str, PoolState],
    flash_tokens: Sequence[str],
    repeat: int,
    max_hops: int,
) -> None:
    index = CycleIndex.build(states.values(), flash_tokens, max_hops=max_hops)
    engine = SearchEngine(index, states)
    ids, x_star = engine.candidates()
    pairs = zip(ids.tolist(), x_star.tolist(), strict=True)
    work = [(index.cycle(i), max(int(x), 1)) for i, x in pairs]
    note(f"{label}: pools / cycles / candidates", f"{len(states)} / {len(index)} / {len(work)}")
    per_group: dict[str, list[dict[str, float]]] = {}
    for cycle, seed in work:
        new_times, base_times = [], []
        new: SizedCycle | None = None
        old: SizedCycle | None = None
        for r in range(repeat):
            t = time.perf_counter()
            new = exact.size_cycle(cycle, states, seed)
            new_times.append(time.perf_counter() - t)
            if r % 3 == 0:
                t = time.perf_counter()
                old = baseline.size_cycle(cycle, states, seed)
                base_times.append(time.perf_counter() - t)
        assert new is not None and old is not None
        if new.amount_in:  # exact, to the wei; ticks from the sizing's own final evaluation
            assert exact_profit(cycle, states, new.amount_in) == new.profit
            assert new.ticks_crossed == exact.ticks_crossed(cycle, states, new.amount_in)[0]
        best = reference(cycle, states, [new.amount_in, old.amount_in])
        evals_new = count_quotes(lambda c=cycle, s=seed: exact.size_cycle(c, states, s))
        evals_old = count_quotes(lambda c=cycle, s=seed: baseline.size_cycle(c, states, s))
        per_group.setdefault(group(cycle), []).append(
            {
                "new": statistics.median(new_times),
                "old": statistics.median(base_times),
                "ratio": 1.0 if best == 0 else new.profit / best,
                "old_ratio": 1.0 if best == 0 else old.profit / best,
                "evals_new": evals_new,
                "evals_old": evals_old,
                "mixed": group(cycle).split(",")[0] != "V2 only",
                "hops": len(cycle.hops),
            }
        )
    mixed = [r for rows in per_group.values() for r in rows if r["mixed"]]
    for name, rows in [*sorted(per_group.items()), ("mixed (V3 or Balancer), all", mixed)]:
        if not rows:
            continue
        new_t = [r["new"] for r in rows]
        old_t = [r["old"] for r in rows]
        worst = min(r["ratio"] for r in rows)
        below = sum(r["ratio"] < CAPTURE for r in rows)
        worst_old = min(r["old_ratio"] for r in rows)
        target = "<= 150 us" if name.startswith("mixed") else ""
        row(
            f"{label}: {name}: median",
            statistics.median(new_t),
            statistics.median(old_t),
            "us",
            target,
        )
        row(f"{label}: {name}: p95", p95(new_t), p95(old_t), "us")
        note(
            f"{label}: {name}: candidates / worst new/ref / below {CAPTURE} / worst base/ref",
            f"{len(rows)} / {worst:.9f} / {below} / {worst_old:.9f}",
        )
        if name.startswith("V2 only"):
            continue  # both use sizing.optimize (closed form, proven): no route evaluations
        one = sum(r["evals_new"] <= r["hops"] for r in rows)
        note(
            f"{label}: {name}: pool quotes, median new / baseline; new: one route evaluation",
            f"{statistics.median(r['evals_new'] for r in rows):g} / "
            f"{statistics.median(r['evals_old'] for r in rows):g}; {one} of {len(rows)}",
        )

    def scan_new() -> list[SizedCycle]:  # the engine's own scan: screen, then size_cycle
        return engine.scan()

    def scan_old() -> list[SizedCycle]:  # the same screen, the baseline's sizing
        ids, x_star = engine.candidates()
        pairs = zip(ids.tolist(), x_star.tolist(), strict=True)
        found = (baseline.size_cycle(index.cycle(i), states, max(int(x), 1)) for i, x in pairs)
        return [s for s in found if s.profit > 0]

    assert [s.cycle for s in scan_new()] == [s.cycle for s in scan_old()]  # the same routes
    row(
        f"{label}: engine.scan() over the {len(work)} candidates",
        median_time(scan_new, 5),
        median_time(scan_old, 5),
        "ms",
    )


def main() -> None:
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 9
    t = time.perf_counter()
    states = replica_market()
    note(
        "replica: lab, shocks and state reads (not timed below)", f"{time.perf_counter() - t:.1f} s"
    )
    bench_market("replica", states, A.FLASH_TOKENS, repeat, max_hops=3)
    if "--no-synthetic" not in sys.argv:
        market = generate(1000, seed=7)
        bench_market(
            "synthetic 1k, hub off",
            market.states(),
            market.flash_tokens,
            max(repeat // 3, 3),
            max_hops=4,
        )
    width = max(len(r[0]) for r in ROWS)
    print(f"{'figure':<{width}}  {'value':>13}  {'baseline':>13}  {'ratio':>8}  target")
    for figure, value, base, ratio, target in ROWS:
        print(f"{figure:<{width}}  {value:>13}  {base:>13}  {ratio:>8}  {target}")
    print("medians; the machine is shared (2 cores): noisy. Ratios are baseline / new.")
    if "--json" in sys.argv:  # --json PATH: the figures for `flasharb bench`
        path = sys.argv[sys.argv.index("--json") + 1]
        with open(path, "w") as f:
            json.dump({"bench": "sizing", "repeat": repeat, "figures": FIGURES}, f, indent=2)


if __name__ == "__main__":
    main()
