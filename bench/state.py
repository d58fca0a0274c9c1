"""Batched state reads and incremental sync on a fork with 1,000 pools of mixed venues.

The replica has 156 pools; this bench writes a larger data file (build/bench/mainnet-1000.json:
the replica's tokens and pools plus 130 synthetic tokens and 844 pools, mainnet-shaped: mostly
Uniswap-V2-style, a few hundred Uniswap V3, some Balancer weighted pools), builds it with the
replica builder (FLASHARB_REPLICA_SPEC; cached under build/replica/ until an input changes) and
forks it. Then, from the same run, medians of several rounds after a warm-up:

1. full read of every pool: the fewest batched eth_calls the gas budget allows (also split into
   2 and 4 concurrent calls) vs one eth_call per pool (the baseline); the same batched read on
   the upstream Anvil (not a fork) shows what Anvil's fork database costs;
2. incremental sync after 1% of the pools change (10 swaps in one block) vs a full re-read.

Timings are wall-clock on a shared machine: other processes running make them noisy.
Run: .venv/bin/python bench/state.py   (first run: builds the 1,000-pool replica, a few minutes)
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
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
from flasharb.paths import build_dir, repo_root
from flasharb.state.reader import ReadConfig, read_states
from flasharb.state.registry import PoolInfo, PoolKind
from flasharb.state.sync import StateSync

NEW_TOKENS = 130
ROUNDS = 7
BASELINE_ROUNDS = 3
SWAPS_PER_BLOCK = 10
WHALE = to_checksum_address("0x000000000000000000000000000000000000bE4c")


# ---------------------------------------------------------------- the 1,000-pool data file


def make_spec() -> Path:
    """The replica's data file plus synthetic tokens and pools; written only when it changes."""
    base = json.loads((repo_root() / "data/replica/mainnet.json").read_text())
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


def median_ms(fn: Callable[[], object], rounds: int) -> float:
    fn()  # warm-up: the fork fetches what it has not cached yet from the upstream
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


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
    if info.kind is PoolKind.V2:
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
    if info.kind is PoolKind.V3:
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
        k: [p for p in sync.registry.of_kind(k) if p.address in sync.states] for k in PoolKind
    }
    picks = rng.sample(by_kind[PoolKind.V2], 6) + rng.sample(by_kind[PoolKind.V3], 3)
    picks += rng.sample(by_kind[PoolKind.WEIGHTED], 1)
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
        last: dict[str, Any] = {}

        def full(c: ReadConfig = cfg, w: Web3 = w3) -> None:
            last["r"] = read_states(w, pools, block=block, config=c, tick_counts=ticks)

        rows: list[tuple[str, float, int]] = []
        rows.append(("batched, fewest calls", median_ms(full, ROUNDS), last["r"].calls))
        for n in (2, 4):
            par = ReadConfig(parallel_calls=n)
            rows.append(
                (
                    f"batched, {n} concurrent calls",
                    median_ms(partial(full, par), ROUNDS),
                    last["r"].calls,
                )
            )
        upstream = connect(lab.upstream_url)
        rows.append(
            (
                "same, on the upstream (no fork)",
                median_ms(lambda: full(cfg, upstream), ROUNDS),
                last["r"].calls,
            )
        )

        def one_by_one() -> None:
            for p in pools:
                read_states(w3, [p], block=block, config=cfg)

        baseline = median_ms(one_by_one, BASELINE_ROUNDS)
        print(
            f"\nfull read of {len(pools)} pools (median of {ROUNDS}; baseline {BASELINE_ROUNDS}):"
        )
        for name, ms, calls in rows:
            print(f"  {name:<34} {ms:8.1f} ms  {calls:4d} eth_call  {baseline / ms:6.1f}x")
        print(
            f"  {'one eth_call per pool (baseline)':<34} {baseline:8.1f} ms  {len(pools):4d}"
            " eth_call"
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
    if not changed_ok:
        sys.exit("incremental state differs from a full re-read")


if __name__ == "__main__":
    main()
