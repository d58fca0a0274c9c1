"""Batched state reads and incremental sync on a fork with 1,000 pools of mixed venues.

The replica has 156 pools; this bench writes a larger data file (build/bench/mainnet-1000.json:
the replica's tokens and pools plus 130 synthetic tokens and 844 pools, mainnet-shaped: mostly
Uniswap-V2-style, a few hundred Uniswap V3, some Balancer weighted pools), builds it with the
replica builder (FLASHARB_REPLICA_SPEC; cached under build/replica/ until an input changes) and
forks it. Then, from the same run, medians of several rounds after a warm-up, the variants
of a table interleaved in every round so that the machine's load hits them alike:

1. full read of every pool, with Uniswap V3 pools read from their storage slots (the default:
   the slot reader as the pools' override code) and through their getters, side by side: the
   fewest batched eth_calls the gas budget allows, 2 concurrent calls (the default) and 4, vs
   one eth_call per pool (the baseline); the same batched read on the upstream Anvil (not a
   fork) shows what Anvil's fork database costs (every distinct account and slot a call touches
   is a round trip to it); then per venue, the V3 window, the old defaults, and what the fast
   path's state override entries cost on their own;
2. incremental sync after 1% of the pools change (10 swaps in one block) vs a full re-read.

Timings are wall-clock on a shared machine: other processes running make them noisy.
Run: .venv/bin/python bench/state.py [--json PATH]
     (first run: builds the 1,000-pool replica, a few minutes)
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector as sel
from eth_utils import keccak, to_checksum_address
from web3 import Web3

from flasharb.amm.uniswap_v2 import get_amount_out
from flasharb.chain import addresses as A
from flasharb.chain.cheats import deal, impersonate, set_balance
from flasharb.chain.rpc import connect
from flasharb.kinds import HopKind
from flasharb.paths import build_dir, bundle
from flasharb.state._rpc import READER_ADDRESS, block_param, reader_code
from flasharb.state.reader import SLOT_READER_CODE, ReadConfig, read_states
from flasharb.state.reader import words_per_side as words_per_side_of
from flasharb.state.registry import PoolInfo
from flasharb.state.sync import StateSync

NEW_TOKENS = 130
ROUNDS = 7  # incremental sync rounds (each mines a block of swaps)
READ_ROUNDS = 11  # full-read rounds: every variant once per round, interleaved
BASELINE_ROUNDS = 3
SWAPS_PER_BLOCK = 10
WHALE = to_checksum_address("0x000000000000000000000000000000000000bE4c")


# ---------------------------------------------------------------- the 1,000-pool data file


def make_spec() -> Path:
    """The replica's data file plus synthetic tokens and pools; written only when it changes."""
    base = json.loads((bundle() / "data" / "replica" / "mainnet.json").read_text())
    rng = random.Random(1000)
    tokens: list[dict[str, Any]] = []
    for i in range(NEW_TOKENS):
        address = to_checksum_address(keccak(text=f"flasharb bench token {i}")[12:])
        tokens.append(
            {
                "symbol": f"BT{i:03d}",
                "name": f"Bench Token {i}",
                "decimals": (18, 6, 8, 18)[i % 4],
                "address": address,
                "kind": "erc20",
                "supply": "1000000000000",
                "price_usd": str(rng.choice((0.05, 0.5, 2, 8, 35, 120))),
            }
        )
    syms = [str(t["symbol"]) for t in tokens]

    def v2(venue: str, a: str, b: str) -> dict[str, Any]:
        return {"venue": venue, "tokens": [a, b], "usd": str(rng.randrange(200_000, 5_000_000))}

    def v3(a: str, fee: int) -> dict[str, Any]:
        usd = rng.randrange(500_000, 8_000_000)
        return {
            "venue": "uniswap_v3",
            "tokens": [a, "WETH"],
            "fee": fee,
            "positions": [
                {"range": ["0.5", "2"], "usd": str(usd * 7 // 10)},
                {"range": ["0.9", "1.1"], "usd": str(usd * 2 // 10)},
                {"range": ["0.99", "1.01"], "usd": str(usd // 10)},
            ],
        }

    pools = [v2("uniswap_v2", s, q) for q in ("WETH", "USDC") for s in syms]
    pools += [v2("uniswap_v2", s, "USDT") for s in syms[:128]]
    pools += [v2("sushiswap", s, "WETH") for s in syms] + [
        v2("sushiswap", s, "DAI") for s in syms[:34]
    ]
    pools += [v3(s, 3000) for s in syms] + [v3(s, 10000) for s in syms[:122]]
    for k, s in enumerate(syms[:40]):
        two = k < 30
        pools.append(
            {
                "venue": "balancer_weighted",
                "tokens": [s, "WETH"] if two else [s, "WETH", "USDC"],
                "weights": ["0.8", "0.2"] if two else ["0.5", "0.25", "0.25"],
                "usd": str(rng.randrange(1_000_000, 10_000_000)),
                "swap_fee": "0.003",
            }
        )
    spec = dict(base)
    spec["about"] = "bench/state.py: " + base["about"]
    spec["tokens"] = base["tokens"] + tokens
    spec["pools"] = base["pools"] + pools
    out = build_dir() / "bench" / "mainnet-1000.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(spec, indent=1)
    if not out.exists() or out.read_text() != text:
        out.write_text(text)
    return out


# ---------------------------------------------------------------- timing


def interleaved_ms(variants: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Median wall time of each variant, in ms: after a warm-up of each (the fork fetches what it
    has not cached yet from the upstream), `rounds` rounds that run every variant once, in an
    order rotated each round."""
    for fn in variants.values():
        fn()
    names = list(variants)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            t = time.perf_counter()
            variants[name]()
            times[name].append(time.perf_counter() - t)
    return {name: statistics.median(ts) * 1e3 for name, ts in times.items()}


def empty_read(w3: Web3, block: int, override: dict[str, dict[str, str]]) -> None:
    """The reader on an empty request with `override` as the state override (raw request)."""
    data = "0x" + (sel("read(bytes)") + encode(["bytes"], [b""])).hex()
    tx = {"to": READER_ADDRESS, "data": data}
    resp = w3.provider.make_request("eth_call", [tx, block_param(block), override])  # type: ignore[arg-type]
    if "error" in resp:
        raise RuntimeError(f"reader call failed: {resp['error']}")


# ---------------------------------------------------------------- swaps


def _send(w3: Web3, to: str, data: bytes) -> str:
    tx = {"from": WHALE, "to": to, "data": "0x" + data.hex(), "gas": hex(1_000_000)}
    resp = w3.provider.make_request("eth_sendTransaction", [tx])  # type: ignore[arg-type]
    if "error" in resp:
        raise RuntimeError(f"swap not accepted: {resp['error']}")
    return str(resp["result"])


def _approve(w3: Web3, token: str, spender: str) -> None:
    for value in (0, 2**256 - 1):  # USDT refuses to change a non-zero allowance
        h = _send(
            w3,
            token,
            sel("approve(address,uint256)") + encode(["address", "uint256"], [spender, value]),
        )
        w3.eth.wait_for_transaction_receipt(h, poll_latency=0.01)  # type: ignore[arg-type]


def prepare_whale(w3: Web3, pools: list[PoolInfo]) -> None:
    set_balance(w3, WHALE, 10**24)
    impersonate(w3, WHALE)
    tokens = sorted({t for p in pools for t in p.tokens})
    for token in tokens:
        deal(w3, token, WHALE, 10**40)
        _approve(w3, token, A.UNISWAP_V3_SWAP_ROUTER)
        _approve(w3, token, A.BALANCER_VAULT)


def swap_txs(w3: Web3, info: PoolInfo, state: Any, rng: random.Random) -> list[tuple[str, bytes]]:
    """Transactions that swap about 0.1-2% of the pool's depth, as (to, calldata)."""
    i = rng.randrange(len(info.tokens))
    token_in, token_out = info.tokens[i], info.tokens[(i + 1) % len(info.tokens)]
    frac = rng.uniform(0.001, 0.02)
    if info.kind is HopKind.UNISWAP_V2:
        r_in, r_out = state.reserves_for(token_in)
        amount = max(1, int(r_in * frac))
        out = get_amount_out(amount, r_in, r_out, info.fee)
        outs = [0, out] if token_in == info.tokens[0] else [out, 0]
        transfer = sel("transfer(address,uint256)") + encode(
            ["address", "uint256"], [info.address, amount]
        )
        swap = sel("swap(uint256,uint256,address,bytes)") + encode(
            ["uint256", "uint256", "address", "bytes"], [*outs, WHALE, b""]
        )
        return [(token_in, transfer), (info.address, swap)]
    if info.kind is HopKind.UNISWAP_V3:
        amount = max(1, int(state.liquidity * frac) // 10**6 + 1)
        params = (token_in, token_out, info.fee, WHALE, 2**32, amount, 0, 0)
        t = "(address,address,uint24,address,uint256,uint256,uint256,uint160)"
        return [(A.UNISWAP_V3_SWAP_ROUTER, sel(f"exactInputSingle({t})") + encode([t], [params]))]
    amount = max(1, int(state.balances[i] * frac) // 4)
    single = (info.pool_id, 0, token_in, token_out, amount, b"")
    types = [
        "(bytes32,uint8,address,address,uint256,bytes)",
        "(address,bool,address,bool)",
        "uint256",
        "uint256",
    ]
    data = sel(f"swap({','.join(types)})") + encode(
        types, [single, (WHALE, False, WHALE, False), 0, 2**32]
    )
    return [(A.BALANCER_VAULT, data)]


def swap_block(w3: Web3, sync: StateSync, rng: random.Random) -> set[str]:
    """10 swaps on 10 distinct pools of mixed venues, mined in one block."""
    by_kind = {
        k: [p for p in sync.registry.of_kind(k) if p.address in sync.states] for k in HopKind
    }
    picks = rng.sample(by_kind[HopKind.UNISWAP_V2], 6) + rng.sample(by_kind[HopKind.UNISWAP_V3], 3)
    picks += rng.sample(by_kind[HopKind.BALANCER], 1)
    w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        hashes = [
            _send(w3, to, data)
            for p in picks
            for to, data in swap_txs(w3, p, sync.states[p.address], rng)
        ]
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    finally:
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
    for h in hashes:
        receipt = w3.eth.wait_for_transaction_receipt(h, poll_latency=0.01)  # type: ignore[arg-type]
        if receipt["status"] != 1:
            raise RuntimeError(f"bench swap {h} reverted")
    return {p.address for p in picks}


# ---------------------------------------------------------------- main

FIGURES: list[dict[str, Any]] = []


def _figure(name: str, value_ms: float, baseline_ms: float | None) -> dict[str, Any]:
    return {
        "figure": name,
        "value": value_ms,
        "unit": "ms",
        "baseline": baseline_ms,
        "ratio": None if baseline_ms is None else baseline_ms / value_ms,  # speed-up
        "target": "",
    }


def main() -> None:
    spec = make_spec()
    os.environ["FLASHARB_REPLICA_SPEC"] = str(spec)
    from flasharb.replica.lab import start_replica_lab  # after FLASHARB_REPLICA_SPEC is set

    t = time.perf_counter()
    with start_replica_lab() as lab:
        setup_s = time.perf_counter() - t
        w3 = connect(lab.rpc_url)
        t = time.perf_counter()
        sync = StateSync.start(w3)
        start_s = time.perf_counter() - t
        pools = list(sync.registry)
        counts = sync.registry.counts()
        print(f"setup (replica build if stale + 2 anvils): {setup_s:6.1f} s")
        print(f"pools {len(pools)}: {counts}; first discovery + read {start_s * 1e3:.0f} ms")
        print(f"failed at start: {len(sync.failed)}")
        block = sync.block
        cfg = ReadConfig()
        ticks = sync.tick_counts()
        paths = {"slots": cfg, "getters": ReadConfig(v3_slots=False)}
        upstream = connect(lab.upstream_url)
        calls: dict[str, int] = {}

        def read(name: str, c: ReadConfig, w: Web3 = w3, ps: list[PoolInfo] = pools) -> None:
            calls[name] = read_states(w, ps, block=block, config=c, tick_counts=ticks).calls

        table = [
            ("batched, fewest calls", 1),
            ("batched, 2 concurrent calls (default)", 2),
            ("batched, 4 concurrent calls", 4),
        ]
        variants: dict[str, Callable[[], object]] = {}
        for path, base in paths.items():
            for row, parallel in table:
                c = replace(base, parallel_calls=parallel)
                variants[f"{path}|{row}"] = partial(read, f"{path}|{row}", c)
            up = f"{path}|default, on the upstream (no fork)"
            variants[up] = partial(read, up, base, upstream)
        by_kind = {
            "V2-style pairs": [p for p in pools if p.kind is HopKind.UNISWAP_V2],
            "Uniswap V3 pools": [p for p in pools if p.kind is HopKind.UNISWAP_V3],
            "Balancer weighted pools": [p for p in pools if p.kind is HopKind.BALANCER],
        }
        for kind, ps in by_kind.items():
            for path, base in paths.items():
                one = replace(base, parallel_calls=1)
                variants[f"{path}|{kind}"] = partial(read, f"{path}|{kind}", one, w3, ps)
        v3 = by_kind["Uniswap V3 pools"]
        wide = replace(cfg, words_per_side=2, parallel_calls=1)
        variants["window|2"] = partial(read, "window|2", wide, w3, v3)
        old = ReadConfig(v3_slots=False, words_per_side=2, parallel_calls=1)  # the old defaults
        variants["old|all"] = partial(read, "old|all", old)
        override = {READER_ADDRESS: {"code": reader_code("PoolStateReader")}}
        fast_override = override | {p.address: {"code": "0x" + SLOT_READER_CODE.hex()} for p in v3}
        variants["override|reader"] = partial(empty_read, w3, block, override)
        variants["override|fast"] = partial(empty_read, w3, block, fast_override)
        ms = interleaved_ms(variants, READ_ROUNDS)

        def one_by_one(c: ReadConfig) -> None:
            for p in pools:
                read_states(w3, [p], block=block, config=c)

        base_ms = interleaved_ms(
            {path: partial(one_by_one, c) for path, c in paths.items()}, BASELINE_ROUNDS
        )
        print(
            f"\nfull read of {len(pools)} pools, median of {READ_ROUNDS} interleaved rounds "
            f"(baseline {BASELINE_ROUNDS}); x = speed-up over one eth_call per pool, same path:"
        )
        print(f"  {'':<38} {'V3 from storage slots':<28} {'V3 through getters':<28} getters/slots")
        rows = [name for name, _ in table] + ["default, on the upstream (no fork)"]
        for row in rows:
            cells = []
            for path in paths:
                t = ms[f"{path}|{row}"]
                n = calls[f"{path}|{row}"]
                cells.append(f"{t:7.1f} ms {n:4d} calls {base_ms[path] / t:5.1f}x")
            ratio = ms[f"getters|{row}"] / ms[f"slots|{row}"]
            print(f"  {row:<38} {cells[0]:<28} {cells[1]:<28} {ratio:6.2f}x")
        for row in rows:  # machine-readable (--json PATH): against one eth_call per pool
            for path in paths:
                t, b = ms[f"{path}|{row}"], base_ms[path]
                FIGURES.append(_figure(f"full read, V3 {path}, {row}", t, b))
        cells = [f"{base_ms[path]:7.1f} ms {len(pools):4d} calls" for path in paths]
        print(f"  {'one eth_call per pool (baseline)':<38} {cells[0]:<28} {cells[1]:<28}")
        print("per venue, one call (V2 pairs and Balancer pools take the same path in both):")
        for kind, ps in by_kind.items():
            slots_ms, getters_ms = ms[f"slots|{kind}"], ms[f"getters|{kind}"]
            print(
                f"  {len(ps):4d} {kind:<33} {slots_ms:7.1f} ms {'':<19} {getters_ms:7.1f} ms"
                f" {'':<19} {getters_ms / slots_ms:6.2f}x"
            )
        words = sorted({words_per_side_of(p, cfg) for p in v3})
        now = "slots|batched, 2 concurrent calls (default)"
        print(
            f"V3 window, storage path, {len(v3)} pools: default ({'/'.join(map(str, words))} word"
            f" each side at tick spacings {sorted({p.tick_spacing for p in v3})})"
            f" {ms['slots|Uniswap V3 pools']:.1f} ms; 2 words each side {ms['window|2']:.1f} ms"
        )
        print(
            f"old defaults (V3 through getters, 2 words each side, 1 call unless the budget"
            f" splits it): {ms['old|all']:.1f} ms, {calls['old|all']} calls;"
            f" new defaults {ms[now]:.1f} ms, {calls[now]} calls ({ms['old|all'] / ms[now]:.2f}x)"
        )
        extra_ms = ms["override|fast"] - ms["override|reader"]
        print(
            f"state override alone (eth_call, empty request): reader {ms['override|reader']:.1f}"
            f" ms; reader + {len(v3)} slot-reader entries {ms['override|fast']:.1f} ms"
            f" (+{extra_ms * 1e3 / len(v3):.1f} us per pool: loading the pool's account, which a"
            " getter call pays too, and the JSON)"
        )

        rng = random.Random(7)
        prepare_whale(w3, [p for p in pools if p.address in sync.states])
        sync.sync()
        inc, rereads, changed_ok = [], [], True
        for _ in range(ROUNDS):
            touched = swap_block(w3, sync, rng)
            t = time.perf_counter()
            result = sync.sync()
            inc.append(time.perf_counter() - t)
            t = time.perf_counter()
            fresh = read_states(w3, pools, block=result.block, config=cfg, tick_counts=ticks)
            rereads.append(time.perf_counter() - t)
            changed_ok &= result.changed == touched and fresh.states == sync.states
        inc_ms, full_ms = statistics.median(inc) * 1e3, statistics.median(rereads) * 1e3
        print(f"\nafter {SWAPS_PER_BLOCK} swaps in one block (1% of pools), median of {ROUNDS}:")
        print(f"  incremental sync (logs + 1 batched re-read) {inc_ms:8.1f} ms")
        print(f"  full re-read {'':<31} {full_ms:8.1f} ms   {full_ms / inc_ms:6.1f}x")
        print(f"  changed set exact and states equal a full re-read: {changed_ok}")
        FIGURES.append(_figure("incremental sync, 1% of pools moved", inc_ms, full_ms))

        # Where the fork's time goes: at its head, every account and slot an eth_call reads is a
        # request to Anvil's fork-backend thread, cached or not; a block it has mined past is
        # served from the state it keeps in memory. Same read, same pools, one block apart.
        head = w3.eth.block_number
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        at: dict[str, list[float]] = {"head": [], "behind": []}
        for _ in range(READ_ROUNDS):
            for name, number in (("behind", head), ("head", head + 1)):
                t = time.perf_counter()
                read_states(w3, pools, block=number, config=cfg, tick_counts=ticks)
                at[name].append(time.perf_counter() - t)
        head_ms, behind_ms = (statistics.median(at[k]) * 1e3 for k in ("head", "behind"))
        print(
            f"\nfull read at the fork's head {head_ms:.1f} ms; at the block before it (held in"
            f" memory, not the fork backend) {behind_ms:.1f} ms; median of {READ_ROUNDS}"
        )
        FIGURES.append(_figure("full read, one block behind the fork's head", behind_ms, None))
    if "--json" in sys.argv:  # --json PATH: the figures for `flasharb bench`
        with open(sys.argv[sys.argv.index("--json") + 1], "w") as f:
            json.dump({"bench": "state", "pools": len(pools), "figures": FIGURES}, f, indent=2)
    if not changed_ok:
        sys.exit("incremental state differs from a full re-read")


if __name__ == "__main__":
    main()
