"""Bellman-Ford cross-check on synthetic graphs: every negative cycle it finds is a cycle of the
index (when short and simple enough to be one) and pays there. The same check on the replica
after a shock: tests/fork/test_search_bellman_ford.py."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import V2PairState, checksum_address
from flasharb.search.exact import size_cycle
from flasharb_testing.bellman_ford import cross_check, engine_of, negative_cycles
from flasharb_testing.pool_builders import sqrt_price_x96_of, v3_pool, weighted_pool


def address(n: int) -> str:
    return checksum_address("0x" + f"{n:040x}")


def random_graph(seed: int, n_tokens: int, n_pools: int, spread: float) -> list[PoolState]:
    """Pools of V2, V3 and two-token Balancer kind between random token pairs, each priced
    off a common true price by up to `spread` (log), deep enough that rounding is noise."""
    rng = random.Random(seed)
    tokens = sorted((address(0xA000 + i) for i in range(n_tokens)), key=str.lower)
    price = {t: math.exp(rng.uniform(-2, 2)) for t in tokens}
    pools: list[PoolState] = []
    for i in range(n_pools):
        t0, t1 = sorted(rng.sample(tokens, 2), key=str.lower)
        p = price[t0] / price[t1] * math.exp(rng.uniform(-spread, spread))  # t1 per t0
        kind = rng.choice(["v2", "v3", "bal"])
        where = address(0x100 + i)
        if kind == "v2":
            r0 = rng.randint(10**21, 10**23)
            pools.append(
                V2PairState(address=where, token0=t0, token1=t1, reserve0=r0, reserve1=int(r0 * p))
            )
        elif kind == "v3":
            pools.append(
                v3_pool(
                    address=where,
                    token0=t0,
                    token1=t1,
                    fee=rng.choice([500, 3000]),
                    sqrt_price_x96=sqrt_price_x96_of(p),
                    positions=[(-887_220, 887_220, rng.randint(10**21, 10**23))],
                    word_range=(-3466, 3465),
                )
            )
        else:
            b0 = rng.randint(10**21, 10**23)
            pools.append(
                weighted_pool(
                    address=where,
                    tokens=[t0, t1],
                    balances=[b0, int(b0 * p)],
                    decimals=[18, 18],
                    weights=[5 * 10**17, 5 * 10**17],
                    swap_fee=3 * 10**15,
                )
            )
    return pools


class TestAgainstTheIndex:
    """On graphs of at most four tokens, all flash-borrowable, every simple token cycle fits
    the index: each negative cycle found must be there, and pay."""

    @pytest.mark.parametrize("seed", range(10), ids=lambda s: f"seed{s}")
    def test_every_negative_cycle_is_indexed_and_pays(self, seed: int) -> None:
        pools = random_graph(seed, n_tokens=4, n_pools=9, spread=0.03)
        tokens = sorted({t for p in pools for t in p.tokens})
        engine = engine_of(pools, tokens)
        index = engine.index
        checks = cross_check(
            index.graph,
            engine.rates.log_rate,
            index.start,
            index.edges,
            set(index.graph.token_ids(tokens)),
        )
        log_rates = engine.log_rates()
        for check in checks:
            assert check.status in ("indexed", "reuses a pool")  # two-token pools only
            assert check.status == "indexed"
            assert len(check.cycle_ids) == len(check.cycle.edges)  # one per start token
            for i in check.cycle_ids:
                assert log_rates[i] == pytest.approx(check.cycle.log_rate, abs=1e-9)
                assert size_cycle(index.cycle(i), engine.states).profit > 0
        profitable = np.flatnonzero(log_rates > 1e-6)
        assert bool(checks) == bool(profitable.size)  # a negative cycle exists iff one pays

    def test_no_arbitrage_graph_has_no_negative_cycle(self) -> None:
        pools = random_graph(3, n_tokens=5, n_pools=14, spread=0.0)
        engine = engine_of(pools, sorted({t for p in pools for t in p.tokens}))
        assert negative_cycles(engine.graph, engine.rates.log_rate) == []


class TestLargerGraphs:
    """On larger graphs a negative cycle may be too long for the index, or skip every flash
    token; the ones that fit are always indexed."""

    @pytest.mark.parametrize("seed", range(4), ids=lambda s: f"seed{s}")
    def test_statuses(self, seed: int) -> None:
        pools = random_graph(100 + seed, n_tokens=9, n_pools=30, spread=0.05)
        tokens = sorted({t for p in pools for t in p.tokens})
        starts = tokens[:3]
        engine = engine_of(pools, starts)
        index = engine.index
        start_ids = set(index.graph.token_ids(starts))
        checks = cross_check(
            index.graph, engine.rates.log_rate, index.start, index.edges, start_ids
        )
        assert checks
        for check in checks:
            edges = check.cycle.edges
            on_flash = [e for e in edges if int(index.graph.edge_in[e]) in start_ids]
            if len(edges) > 4:
                assert check.status == "too long"
            elif not on_flash:
                assert check.status == "no flash token" and check.cycle_ids == ()
            else:
                assert check.status == "indexed"
                assert len(check.cycle_ids) == len(on_flash)
            assert check.cycle.log_rate > 0
            tokens_on = check.cycle.tokens[:-1]
            assert len(set(tokens_on)) == len(tokens_on)  # simple in tokens
