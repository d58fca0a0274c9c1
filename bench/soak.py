"""The seed's validation, done honestly (issue 17, item 5): `make soak`.

`flasharb run`'s loop (one market, one trader per child, the circuit breakers on) trades on the
replica fork with seeded background swaps until at least `--trades` trades were executed across
the children; then every figure is checked against the chain, not against the journal itself:

- every mined trade in the journal against its receipt: status, gas used, effective gas price,
  gas cost, block and index; an executed trade's realized profit against the same change
  rebuilt from the receipt's logs (ERC-20 Transfer, WETH9 Deposit and Withdrawal), and against
  the child's balance change over its block less what the block's other transactions moved in
  it, by their logs (anvil mines one transaction per block, mostly, not always); its bribe
  against the logs (WETH unwrapped for the coinbase, or tokens sent to it; not for a WETH route
  through the V4 PoolManager, whose native-ETH hops wrap and unwrap WETH too: those are counted
  and reported, `bribe_unchecked`);
- nothing unjournaled: every transaction the executors sent in the run's blocks is a journal row;
- the ledger, per token: the master's and the children's balances at the end minus at the start
  equal the sum of the journal's realized profit minus the withdrawals (allocations and recalls
  only move capital between them); per child and token, its balance change equals its realized
  profit + allocations - recalls - withdrawals, all from the journal; per executor, the ETH it
  spent equals its trades' gas (executed and reverted) in the journal;
- memory: this process's and the fork anvil's resident set (VmRSS) along the run, and the
  Python objects alive (gc), at start / middle / end, and the least-squares slope of both per
  100 trades over the run's second half (a warm-up cache that plateaus is not growth);
  `--trace-memory FRAMES` also diffs tracemalloc snapshots and live objects by type between a
  quarter of the run and its end (what grew, and where it was allocated);
- throughput (executed trades per second of the loop) and per-block latency: p50 / p95 of the
  step and of each phase `BlockReport.phases` measures.

The children are a master's (`flasharb.execute.deploy.deploy_capital`, issue 17's on-chain
half), each with its own generated executor key: capital is allocated before the run and moved
between children in the middle of it. Seeded: the same command gives the same trades.

Run: .venv/bin/python bench/soak.py [--trades 1500] [--children 3] [--out reports/soak]
     [--trace-memory FRAMES] [--profile FILE.pstats]
Prints a table; writes <out>/soak.json and the run's journal <out>/journal.sqlite.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import re
import sys
import time
import tracemalloc
from collections import Counter, OrderedDict, deque
from pathlib import Path
from types import BuiltinFunctionType, FunctionType, MethodType, ModuleType
from typing import Any

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.rpc import connect, send
from flasharb.execute.children import trading_diamonds
from flasharb.execute.deploy import Deployment, deploy_capital
from flasharb.journal.pnl import pnl
from flasharb.journal.store import Journal
from flasharb.replica.lab import start_replica_lab
from flasharb.run.loop import RunConfig, Runner
from flasharb.run.risk import RiskLimits
from flasharb.state._rpc import batch

TRANSFER = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
DEPOSIT = "0x" + keccak(text="Deposit(address,uint256)").hex()  # WETH9 wraps
WITHDRAWAL = "0x" + keccak(text="Withdrawal(address,uint256)").hex()  # WETH9 unwraps
BALANCE_OF = function_signature_to_4byte_selector("balanceOf(address)")
ALLOCATION_WETH = 20 * 10**18  # per child, before the run
BATCH = 100  # JSON-RPC requests per round trip in the checks


# ---------------------------------------------------------------- memory


def rss_kb(pid: str | int = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def type_counts() -> Counter[str]:
    """The live objects the collector tracks, by type name (module-qualified when not builtin)."""
    out: Counter[str] = Counter()
    for o in gc.get_objects():
        t = type(o)
        out[t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"] += 1
    return out


class Memory:
    """RSS and gc object counts along the run; with `trace` (frames > 0) also tracemalloc
    snapshots and the objects by type at `mark()` (after the warm-up) and at the end, diffed:
    what grew between the two points, by allocating traceback."""

    def __init__(self, anvil_pid: int, trace: int = 0, roots: dict[str, Any] | None = None) -> None:
        self.anvil_pid = anvil_pid
        self.roots = roots or {}
        self.samples: list[dict[str, int]] = []
        self.trace = trace
        self.marks: list[tuple[int, tracemalloc.Snapshot | None, Counter[str]]] = []
        self.sizes: list[dict[str, int]] = []  # path -> length of its containers, per mark

    def mark(self, trades: int) -> None:
        """tracemalloc starts at the first mark (it slows every allocation several times over;
        the warm-up runs at full speed): the last snapshot then holds what was allocated since
        the first mark and is still alive."""
        gc.collect()  # what is alive, not what waits for the collector
        if self.trace and not tracemalloc.is_tracing():
            tracemalloc.start(self.trace)
        snap = tracemalloc.take_snapshot() if self.trace else None
        self.marks.append((trades, snap, type_counts()))
        self.sizes.append(container_sizes(self.roots))

    def grown_containers(self, top: int = 12) -> list[dict[str, Any]]:
        """The containers reachable from the roots whose total length grew most between the
        first and the last mark, by path (`runner.market.book.pending`, `[]` for elements):
        growth in values the collector does not track (dicts of ints) shows here and not in
        the counts by type."""
        if len(self.sizes) < 2:
            return []
        a, b = self.sizes[0], self.sizes[-1]
        grown = sorted(((n - a.get(k, 0), k) for k, n in b.items()), reverse=True)
        return [{"grew": g, "len": b[k], "path": k} for g, k in grown[:top] if g > 0]

    def growth(self, top: int = 25) -> dict[str, Any]:
        """Between the first and the last mark: the allocation sites that grew most (bytes,
        blocks) and the types whose live count grew most."""
        if len(self.marks) < 2:
            return {}
        (t0, s0, c0), (t1, s1, c1) = self.marks[0], self.marks[-1]
        out: dict[str, Any] = {"between_trades": [t0, t1]}
        types = Counter(c1)
        types.subtract(c0)
        out["types"] = {k: v for k, v in types.most_common(top) if v > 0}
        out["containers"] = self.grown_containers()
        if s0 is not None and s1 is not None:
            keep = [
                tracemalloc.Filter(False, tracemalloc.__file__),
                tracemalloc.Filter(False, "<frozen importlib._bootstrap*"),
            ]
            diff = s1.filter_traces(keep).compare_to(s0.filter_traces(keep), "traceback")
            out["sites"] = [
                {
                    "kb": round(d.size_diff / 1024, 1),
                    "blocks": d.count_diff,
                    "at": [  # the allocating frame first
                        f"{re.sub(r'.*/(site-packages|src)/', '', f.filename)}:{f.lineno}"
                        for f in reversed(d.traceback)
                    ],
                }
                for d in diff[:top]
            ]
        return out

    def sample(self, trades: int) -> None:
        self.samples.append(
            {
                "trades": trades,
                "python_rss_kb": rss_kb(),
                "anvil_rss_kb": rss_kb(self.anvil_pid),
                "python_objects": len(gc.get_objects()),
                # pymalloc blocks in use: every live small object, ints and strings too (which
                # the collector does not track), without tracemalloc's cost
                "python_blocks": sys.getallocatedblocks(),
            }
        )

    def summary(self) -> dict[str, Any]:
        s = self.samples
        mid = s[len(s) // 2]
        out: dict[str, Any] = {"samples": len(s)}
        for key in ("python_rss_kb", "anvil_rss_kb", "python_objects", "python_blocks"):
            out[key] = {
                "start": s[0][key],
                "middle": mid[key],
                "end": s[-1][key],
                "max": max(x[key] for x in s),
            }
        half = s[len(s) // 2 :]
        for key in ("python_rss_kb", "python_objects", "python_blocks"):
            slope = _slope([x["trades"] for x in half], [x[key] for x in half])
            if slope is not None:  # least squares over the second half's samples
                out[f"{key}_per_100_trades_second_half"] = round(100 * slope, 2)
        return out


CONTAINERS = (dict, list, set, frozenset, tuple, deque, OrderedDict)
SKIP = (type, ModuleType, FunctionType, BuiltinFunctionType, MethodType, str, bytes, int, float)


def container_sizes(roots: dict[str, Any], limit: int = 3_000_000) -> dict[str, int]:
    """path -> total length of the containers at that path, walking attributes, slots and
    elements from `roots` (each object once), plus every lru_cache of flasharb's modules."""
    seen: set[int] = set()
    out: Counter[str] = Counter()
    todo: deque[tuple[str, Any]] = deque(roots.items())
    while todo and len(seen) < limit:
        path, obj = todo.popleft()
        if id(obj) in seen or isinstance(obj, SKIP) or obj is None:
            continue
        seen.add(id(obj))
        if isinstance(obj, CONTAINERS):
            if len(obj) >= 16:
                out[path] += len(obj)
            items = obj.values() if isinstance(obj, dict) else obj
            todo.extend((f"{path}[]", v) for v in items)
            if isinstance(obj, dict):
                todo.extend((f"{path}{{}}", k) for k in obj if not isinstance(k, SKIP))
            continue
        attrs = getattr(obj, "__dict__", None)
        if isinstance(attrs, dict):
            todo.extend((f"{path}.{k}", v) for k, v in attrs.items())
        for cls in type(obj).__mro__:
            for name in getattr(cls, "__slots__", ()):
                if name != "__weakref__" and hasattr(obj, name):
                    todo.append((f"{path}.{name}", getattr(obj, name)))
    for name, module in list(sys.modules.items()):
        if not name.startswith("flasharb"):
            continue
        for attr, fn in vars(module).items():
            info = getattr(fn, "cache_info", None)
            if callable(info) and getattr(fn, "__module__", None) == name:
                out[f"lru {name}.{attr}"] = info().currsize
    return dict(out)


def _slope(xs: list[int], ys: list[int]) -> float | None:
    n = len(xs)
    if n < 3:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else None


# ---------------------------------------------------------------- chain helpers


def balances(
    w3: Web3, holders: list[str], tokens: list[str], block: int
) -> dict[tuple[str, str], int]:
    calls = [
        (
            "eth_call",
            [{"to": t, "data": "0x" + (BALANCE_OF + encode(["address"], [h])).hex()}, hex(block)],
        )
        for h in holders
        for t in tokens
    ]
    out: list[Any] = []
    for i in range(0, len(calls), BATCH):
        out += batch(w3, calls[i : i + BATCH], "balances")
    keys = [(h, t) for h in holders for t in tokens]
    return {k: int(v, 16) for k, v in zip(keys, out, strict=True)}


def fetch(w3: Web3, method: str, params: list[list[Any]]) -> list[Any]:
    out: list[Any] = []
    for i in range(0, len(params), BATCH):
        out += batch(w3, [(method, p) for p in params[i : i + BATCH]], method)
    return out


def addr(topic: str) -> str:
    return to_checksum_address("0x" + str(topic)[-40:])


def log_delta(receipt: dict[str, Any], token: str, holder: str) -> int:
    """`holder`'s balance change in `token` from the receipt's logs alone."""
    d = 0
    for log in receipt["logs"]:
        if to_checksum_address(log["address"]) != token or not log["topics"]:
            continue
        t = [str(x) for x in log["topics"]]
        amount = int(str(log["data"])[2:66] or "0", 16)
        if t[0] == TRANSFER and len(t) == 3:
            d += amount * ((addr(t[2]) == holder) - (addr(t[1]) == holder))
        elif t[0] == DEPOSIT and addr(t[1]) == holder:
            d += amount
        elif t[0] == WITHDRAWAL and addr(t[1]) == holder:
            d -= amount
    return d


def log_bribe(receipt: dict[str, Any], token: str, child: str, coinbase: str) -> int:
    """What `child` paid `coinbase` in this receipt: WETH it unwrapped (net of any wrapped
    back when the coinbase refused), or `token` it transferred to the coinbase."""
    d = 0
    for log in receipt["logs"]:
        if to_checksum_address(log["address"]) != token or not log["topics"]:
            continue
        t = [str(x) for x in log["topics"]]
        amount = int(str(log["data"])[2:66] or "0", 16)
        if token == A.WETH and t[0] == WITHDRAWAL and addr(t[1]) == child:
            d += amount
        elif token == A.WETH and t[0] == DEPOSIT and addr(t[1]) == child:
            d -= amount
        elif t[0] == TRANSFER and len(t) == 3 and addr(t[1]) == child and addr(t[2]) == coinbase:
            d += amount
    return d


def v4_native(receipt: dict[str, Any]) -> bool:
    """Whether the trade touched the V4 PoolManager in a WETH route: its WETH wraps and unwraps
    for a native-ETH hop read, in the logs, like an ETH bribe (the ETH paid has no log)."""
    return any(
        to_checksum_address(lg["address"]) == A.UNISWAP_V4_POOL_MANAGER for lg in receipt["logs"]
    )


def call(w3: Web3, sender: str, to: str, signature: str, types: list[str], args: list[Any]) -> None:
    data = function_signature_to_4byte_selector(signature) + encode(types, args)
    send(w3, {"from": sender, "to": to, "data": "0x" + data.hex()}, signature)


# ---------------------------------------------------------------- setup


def setup(w3: Web3, n: int, url: str) -> tuple[Deployment, list[tuple[str, Deployment]], str]:
    """(deployment, its children, the master): a master with n children, each with its own
    generated executor key; the master allocates one share of WETH to each and keeps one."""
    owner = w3.eth.accounts[0]
    dep = deploy_capital(w3, owner, n, url, record=False)
    kids = trading_diamonds(dep)
    master = dep.master
    total = ALLOCATION_WETH * (n + 1)  # the master keeps one share (and its dust)
    send(w3, {"from": owner, "to": A.WETH, "value": total}, "wrap ETH")  # WETH9's fallback
    call(w3, owner, A.WETH, "transfer(address,uint256)", ["address", "uint256"], [master, total])
    for _, kid in kids:
        call(
            w3,
            owner,
            master,
            "allocate(address,address,uint256)",
            ["address", "address", "uint256"],
            [kid.diamond, A.WETH, ALLOCATION_WETH],
        )
    return dep, kids, master


# ---------------------------------------------------------------- checks


def reconcile(
    w3: Web3,
    journal: Journal,
    run_id: int,
    executors: set[str],
    first: int,
    last: int,
    around: dict[str, int],
) -> dict[str, Any]:
    """Every mined journal row against its receipt; nothing the executors sent unjournaled.
    `around`: each executed trade's balance change over its block, read during the run.

    A block may hold other transactions than the trade (anvil sometimes mines two of the
    executors' sends together; a capital move may share it): the balance change over the block
    is then checked against the trade's realized profit plus what every other transaction of
    the block moved in the child's balance of that token, rebuilt from their receipts' logs
    (`shared_blocks` counts them). It fails when the state disagrees with the logs, or the
    journal with both."""
    rows = journal.rows(
        "SELECT * FROM trades WHERE run_id = ? AND status IN ('executed', 'reverted') ORDER BY id",
        (run_id,),
    )
    receipts = fetch(w3, "eth_getTransactionReceipt", [[r["tx_hash"]] for r in rows])
    blocks_needed = sorted({int(r["block"]) for r in rows})
    headers = dict(
        zip(
            blocks_needed,
            fetch(w3, "eth_getBlockByNumber", [[hex(b), False] for b in blocks_needed]),
            strict=True,
        )
    )
    by_hash = {r["tx_hash"]: rc for r, rc in zip(rows, receipts, strict=True)}
    shared = {  # blocks of an executed trade that hold other transactions too
        int(r["block"])
        for r in rows
        if r["status"] == "executed" and len(headers[int(r["block"])]["transactions"]) > 1
    }
    others = sorted(
        {h for b in shared for h in headers[b]["transactions"] if h not in by_hash}
    )  # not a journal row: their receipts too
    by_hash |= dict(
        zip(others, fetch(w3, "eth_getTransactionReceipt", [[h] for h in others]), strict=True)
    )
    bad: list[str] = []
    for row, rc in zip(rows, receipts, strict=True):
        tx = row["tx_hash"]
        want = 1 if row["status"] == "executed" else 0
        gas, price = int(rc["gasUsed"], 16), int(rc["effectiveGasPrice"], 16)
        checks = {
            "status": int(rc["status"], 16) == want,
            "gas_used": int(row["gas_used"]) == gas,
            "effective_gas_price": int(row["effective_gas_price"]) == price,
            "gas_cost": int(row["gas_cost_wei"]) == gas * price,
            "block": int(rc["blockNumber"], 16) == int(row["block"]),
            "index": int(rc["transactionIndex"], 16) == int(row["tx_index"]),
            "child": to_checksum_address(rc["to"]) == row["child"],
        }
        if want == 1:
            token, child = row["profit_token"], row["child"]
            header = headers[int(row["block"])]
            realized = int(row["realized_profit"])
            rest = sum(  # the child's balance moved by the block's other transactions
                log_delta(by_hash[h], token, child) for h in header["transactions"] if h != tx
            )
            checks |= {
                "realized=logs": log_delta(rc, token, child) == realized,
                "realized=balance change less the block's other txs": around.get(tx) is not None
                and around[tx] - rest == realized,
                "bribe=logs": (token == A.WETH and v4_native(rc))  # not told by logs: counted
                or log_bribe(rc, token, child, addr(header["miner"])) == int(row["bribe"] or 0),
            }
        bad += [f"{tx}: {k}" for k, ok in checks.items() if not ok]
    journaled = {r["tx_hash"] for r in rows}
    sent: set[str] = set()
    for header in fetch(
        w3, "eth_getBlockByNumber", [[hex(b), True] for b in range(first, last + 1)]
    ):
        for t in header["transactions"]:
            if to_checksum_address(t["from"]) in executors:
                sent.add(t["hash"])
    return {
        "rows": len(rows),
        "checks": len(rows) * 7 + sum(3 for r in rows if r["status"] == "executed"),
        "mismatches": bad,
        "shared_blocks": len(shared),
        "bribe_unchecked": sum(
            1
            for row, rc in zip(rows, receipts, strict=True)
            if row["status"] == "executed" and row["profit_token"] == A.WETH and v4_native(rc)
        ),
        "executor_transactions": len(sent),
        "unjournaled": sorted(sent - journaled),
        "journaled_not_sent": sorted(journaled - sent),
    }


def balance_checks(w3: Web3, trades: list[dict[str, Any]]) -> dict[str, int]:
    """tx -> the child's balance change in the route token over the trade's block. Run after
    each step: the fork keeps the state of its last 256 blocks only (--prune-history)."""
    calls = []
    for r in trades:
        data = "0x" + (BALANCE_OF + encode(["address"], [r["child"]])).hex()
        for b in (int(r["block"]), int(r["block"]) - 1):
            calls.append([{"to": r["profit_token"], "data": data}, hex(b)])
    got = fetch(w3, "eth_call", calls)
    return {
        r["tx_hash"]: int(got[2 * i], 16) - int(got[2 * i + 1], 16) for i, r in enumerate(trades)
    }


def ledger(
    journal: Journal,
    run_id: int,
    kids: list[tuple[str, Deployment]],
    master: str,
    start: dict[tuple[str, str], int],
    end: dict[tuple[str, str], int],
    tokens: list[str],
    start_block: int,
) -> dict[str, Any]:
    """Balances at the end minus at `start_block` against the journal: realized profit and the
    capital moves after `start_block` (the run journals every move since the deployment, the
    allocations before the run too: those are in the start balances already)."""
    realized: Counter[tuple[str, str]] = Counter()
    for r in journal.rows(
        "SELECT child, profit_token, realized_profit FROM trades"
        " WHERE run_id = ? AND status = 'executed'",
        (run_id,),
    ):
        realized[(r["child"], r["profit_token"])] += int(r["realized_profit"])
    moved: Counter[tuple[str, str]] = Counter()  # into the child, net
    withdrawn: Counter[str] = Counter()
    for m in journal.rows(
        "SELECT * FROM capital WHERE run_id = ? AND block > ?", (run_id, start_block)
    ):
        sign = {"allocate": 1, "recall": -1, "withdraw": -1}[m["kind"]]
        moved[(m["child"], m["token"])] += sign * int(m["amount"])
        if m["kind"] == "withdraw":
            withdrawn[m["token"]] += int(m["amount"])
    holders = [master] + [d.diamond for _, d in kids]
    per_token = {}
    per_child = {}
    for t in tokens:
        change = sum(end[(h, t)] - start[(h, t)] for h in holders)
        earned = sum(realized[(d.diamond, t)] for _, d in kids)
        per_token[t] = {
            "balance_change": str(change),
            "realized": str(earned),
            "withdrawn": str(withdrawn[t]),
            "unaccounted": str(change - earned + withdrawn[t]),
        }
        for label, d in kids:
            c = end[(d.diamond, t)] - start[(d.diamond, t)]
            expect = realized[(d.diamond, t)] + moved[(d.diamond, t)]
            if c or expect:
                per_child[f"{label} {t}"] = str(c - expect)
    return {
        "per_token": per_token,
        "per_child_unaccounted": per_child,
        "unaccounted_total_wei": sum(abs(int(v["unaccounted"])) for v in per_token.values())
        + sum(abs(int(v)) for v in per_child.values()),
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k]


# ---------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trades", type=int, default=1500, help="executed trades to reach")
    ap.add_argument("--children", type=int, default=3)
    ap.add_argument("--top", type=int, default=6, help="trades per block at most, all children")
    ap.add_argument("--background-swaps", type=int, default=1, help="random swaps per step")
    ap.add_argument("--bribe-bps", type=int, default=1000, help="share of profit to the coinbase")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-minutes", type=float, default=360.0, help="stop (and say so) after")
    ap.add_argument("--out", type=Path, default=Path("reports/soak"))
    ap.add_argument(
        "--trace-memory",
        type=int,
        default=0,
        metavar="FRAMES",
        help="tracemalloc with FRAMES frames: what grew from a quarter of the run to its end"
        " (slows the loop; its throughput is then not the product's)",
    )
    ap.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="FILE",
        help="cProfile the loop's steps into FILE (pstats; slows the loop)",
    )
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "journal.sqlite").unlink(missing_ok=True)
    # the generated child and risk keys go to a state folder of the soak's own
    os.environ.setdefault("FLASHARB_STATE_DIR", str(args.out.resolve() / "state"))

    with start_replica_lab() as lab:
        w3 = connect(lab.rpc_url)
        dep, kids, master = setup(w3, args.children, lab.rpc_url)
        owner = w3.eth.accounts[0]
        coinbase = to_checksum_address(w3.eth.accounts[9])
        w3.provider.make_request("anvil_setCoinbase", [coinbase])  # type: ignore[arg-type]
        for _, kid in kids:  # let the children pay the block up to half their profit
            call(w3, owner, kid.diamond, "setMaxBribeBps(uint16)", ["uint16"], [5_000])
        journal = Journal(args.out / "journal.sqlite")
        config = RunConfig(
            top=args.top,
            background_swaps=args.background_swaps,
            seed=args.seed,
            bribe_bps=args.bribe_bps,
            limits=RiskLimits(max_consecutive_reverts=20),  # on, and never expected to trip
        )
        runner = Runner(w3, dep, journal, config, rpc_url=lab.rpc_url, children=kids)
        start_block = w3.eth.block_number
        executors = {d.executor for _, d in kids}
        eth0 = {e: w3.eth.get_balance(e, start_block) for e in executors}
        run_id = runner.start()
        assert runner.market is not None
        # ERC-20s only: a native-ETH V4 pool names ETH as the zero address (ETH is counted apart)
        tokens = sorted({t for p in runner.market.registry for t in p.tokens} - {A.NATIVE_ETH})
        holders = [master] + [d.diamond for _, d in kids]
        bal0 = balances(w3, holders, tokens, start_block)
        memory = Memory(lab.fork.pid, trace=args.trace_memory, roots={"runner": runner})
        memory.sample(0)
        profiler = cProfile.Profile() if args.profile else None
        steps: list[float] = []
        phases: dict[str, list[float]] = {}
        refused: Counter[str] = Counter()
        around: dict[str, int] = {}  # executed trade -> balance change over its block
        check_in_loop = 0.0
        moved_midway = False
        t0 = time.perf_counter()
        deadline = t0 + 60 * args.max_minutes
        i = 0
        print(
            f"soak: {args.children} children of master {master}, target {args.trades} trades",
            flush=True,
        )
        while runner.totals.trades < args.trades and time.perf_counter() < deadline:
            s = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            report = runner.step(first=i == 0)
            if profiler is not None:
                profiler.disable()
            i += 1
            if report is None:
                continue
            steps.append(1000 * (time.perf_counter() - s))
            c = time.perf_counter()
            if report.trades:  # while the fork still has the state of these blocks
                around |= balance_checks(w3, [dict(t) for t in report.trades])
            check_in_loop += time.perf_counter() - c
            for k, v in report.phases.items():
                phases.setdefault(k, []).append(v)
            for f in report.failed:  # the reason's words, without its figures
                refused[re.sub(r"[0-9][0-9.,x]*", "#", str(f["reason"]))[:70]] += 1
            n = runner.totals.trades
            if not memory.marks and n >= args.trades // 4:  # warmed up
                c = time.perf_counter()
                memory.mark(n)
                check_in_loop += time.perf_counter() - c  # not the loop's time
            if len(steps) % 25 == 0:
                memory.sample(n)
                print(
                    f"  step {len(steps)} block {report.block}: {n} trades, "
                    f"{runner.totals.reverted} reverted, {time.perf_counter() - t0:.0f} s, "
                    f"rss {memory.samples[-1]['python_rss_kb']} kB, "
                    f"{memory.samples[-1]['python_blocks']} blocks",
                    flush=True,
                )
            if not moved_midway and n >= args.trades // 2:  # capital moves mid-run
                (_, a), (_, b) = kids[0], kids[1 % len(kids)]
                half = ALLOCATION_WETH // 2
                types = ["address", "address", "uint256"]
                call(
                    w3,
                    owner,
                    master,
                    "recall(address,address,uint256)",
                    types,
                    [a.diamond, A.WETH, half],
                )
                call(
                    w3,
                    owner,
                    master,
                    "allocate(address,address,uint256)",
                    types,
                    [b.diamond, A.WETH, half],
                )
                moved_midway = True
        wall = time.perf_counter() - t0 - check_in_loop  # the loop's own time
        memory.sample(runner.totals.trades)
        memory.mark(runner.totals.trades)
        if profiler is not None:
            profiler.dump_stats(args.profile)
        summary = runner.finish("done" if runner.totals.trades >= args.trades else "interrupted")
        runner.sync_capital(w3.eth.block_number)  # the last moves, if any came after the step
        end_block = w3.eth.block_number
        print(f"soak: loop done in {wall:.0f} s; checking against the chain", flush=True)
        t_check = time.perf_counter()
        checked = reconcile(w3, journal, run_id, executors, start_block + 1, end_block, around)
        bal1 = balances(w3, holders, tokens, end_block)
        book = ledger(journal, run_id, kids, master, bal0, bal1, tokens, start_block)
        report_pnl = pnl(journal, run_id=run_id)
        gas_by_executor = {
            d.executor: int(report_pnl.children[d.diamond].gas_wei)
            if d.diamond in report_pnl.children
            else 0
            for _, d in kids
        }
        eth_spent = {e: eth0[e] - w3.eth.get_balance(e, end_block) for e in executors}
        eth_unaccounted = {e: eth_spent[e] - gas_by_executor[e] for e in executors}
        check_s = time.perf_counter() - t_check + check_in_loop
        capital_rows = journal.rows("SELECT COUNT(*) AS n FROM capital WHERE run_id = ?", (run_id,))

    trades = runner.totals.trades
    out = {
        "target_trades": args.trades,
        "reached": trades >= args.trades,
        "trades": trades,
        "reverted": runner.totals.reverted,
        "refused": runner.totals.failed,
        "refused_reasons": dict(refused.most_common(6)),
        "background_swaps": runner.totals.background_swaps,
        "children": args.children,
        "master": master,
        "capital_moves_journaled": capital_rows[0]["n"],
        "blocks": end_block - start_block,
        "steps": len(steps),
        "loop_s": round(wall, 1),
        "check_s": round(check_s, 1),
        "trades_per_s": round(trades / wall, 3),
        "latency_ms": {
            name: {"p50": round(pct(v, 0.5), 1), "p95": round(pct(v, 0.95), 1), "n": len(v)}
            for name, v in [("step", steps), *sorted(phases.items())]
        },
        "memory": memory.summary() | {"growth": memory.growth()},
        "reconciled": checked,
        "ledger": book,
        "eth_unaccounted_wei": {e: str(v) for e, v in eth_unaccounted.items()},
        "pnl": report_pnl.to_json(),
        "run_summary": summary,
        "config": vars(args) | {"out": str(args.out)},
    }
    (args.out / "soak.json").write_text(json.dumps(out, indent=2, default=str))
    print_table(out)
    ok = (
        out["reached"]
        and not checked["mismatches"]
        and not checked["unjournaled"]
        and not checked["journaled_not_sent"]
        and book["unaccounted_total_wei"] == 0
        and all(v == 0 for v in eth_unaccounted.values())
    )
    print(f"soak: {'OK' if ok else 'NOT OK'}; {args.out / 'soak.json'}")
    return 0 if ok else 1


def print_table(o: dict[str, Any]) -> None:
    m = o["memory"]
    rows = [
        ("executed trades", f"{o['trades']} (target {o['target_trades']})"),
        ("reverted on chain / refused before sending", f"{o['reverted']} / {o['refused']}"),
        ("children (master)", f"{o['children']} ({o['master']})"),
        (
            "blocks / steps / background swaps",
            f"{o['blocks']} / {o['steps']} / {o['background_swaps']}",
        ),
        ("loop wall time", f"{o['loop_s']} s"),
        ("throughput", f"{o['trades_per_s']} trades/s"),
        (
            "step latency p50 / p95",
            f"{o['latency_ms']['step']['p50']} / {o['latency_ms']['step']['p95']} ms",
        ),
        (
            "journal rows reconciled (checks)",
            f"{o['reconciled']['rows']} ({o['reconciled']['checks']})",
        ),
        (
            "mismatches / unjournaled sends",
            f"{len(o['reconciled']['mismatches'])} / {len(o['reconciled']['unjournaled'])}",
        ),
        ("blocks of a trade shared with other txs", str(o["reconciled"]["shared_blocks"])),
        ("bribes not told by logs (WETH via V4)", str(o["reconciled"]["bribe_unchecked"])),
        ("ledger wei unaccounted (tokens, children)", str(o["ledger"]["unaccounted_total_wei"])),
        ("executor ETH unaccounted (wei)", ", ".join(o["eth_unaccounted_wei"].values())),
        ("capital moves journaled", str(o["capital_moves_journaled"])),
        (
            "python RSS start / middle / end",
            "{start} / {middle} / {end} kB".format(**m["python_rss_kb"]),
        ),
        (
            "anvil RSS start / middle / end",
            "{start} / {middle} / {end} kB".format(**m["anvil_rss_kb"]),
        ),
        (
            "python objects start / middle / end",
            "{start} / {middle} / {end}".format(**m["python_objects"]),
        ),
        (
            "python allocated blocks start / middle / end",
            "{start} / {middle} / {end}".format(**m["python_blocks"]),
        ),
    ]
    for key in ("python_rss_kb", "python_objects", "python_blocks"):
        slope = m.get(f"{key}_per_100_trades_second_half")
        if slope is not None:
            rows.append((f"{key} per 100 trades, second half", str(slope)))
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    print("  phase p50 / p95 (ms):")
    for name, v in o["latency_ms"].items():
        print(f"    {name:<14} {v['p50']:>9} {v['p95']:>9}   (n={v['n']})")
    growth = m.get("growth") or {}
    if growth:
        a, b = growth["between_trades"]
        print(f"  live objects grown between trade {a} and {b}, by type:")
        for name, n in list(growth["types"].items())[:12]:
            print(f"    {n:>8}  {name}")
        print(f"  containers grown between trade {a} and {b}:")
        for c in growth.get("containers", []):
            print(f"    {c['grew']:>8} -> {c['len']:>8}  {c['path']}")
        for site in growth.get("sites", [])[:12]:
            print(f"    {site['kb']:>9} kB {site['blocks']:>7}  " + " <- ".join(site["at"][:4]))


if __name__ == "__main__":
    sys.exit(main())
