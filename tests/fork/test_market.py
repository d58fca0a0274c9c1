"""The long-lived market on the replica fork: after swaps on random pools of every venue, the
updated market equals one built from nothing at the same block; a pool created by a factory
mid-run joins it from the logs; its lazy selection picks what the policy picks over the whole
book."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector as selector
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.cheats import balance_of, deal
from flasharb.chain.rpc import send
from flasharb.errors import FlasharbError
from flasharb.execute.shock import shock
from flasharb.kinds import HopKind
from flasharb.run.background import BackgroundSwaps
from flasharb.search.exact import gross_bound
from flasharb.search.market import Market
from flasharb.search.select import select


def _key(o: Any) -> tuple[Any, ...]:
    return (o.cycle.key, o.amount_in, o.amounts, o.source, o.net_profit)


def test_updated_market_equals_a_fresh_one(w3: Web3) -> None:
    market = Market.build(w3)
    rng = random.Random(2)
    # pools `shock` can swap (a contract of their own: not V4's), sold one of their tokens (no BPT)
    pools = sorted(p.uid for p in market.registry if p.address == p.uid)
    moved = 0
    for _ in range(10):
        pool = rng.choice(pools)
        info = market.registry[pool]
        token = rng.choice([t for t in info.tokens if t != info.address])
        held = balance_of(
            w3, token, pool if info.kind is not HopKind.BALANCER else A.BALANCER_VAULT
        )
        try:
            shock(
                w3,
                pool,
                token,
                held
                * rng.randint(50, 400)
                // 10_000
                // (10 if info.kind is HopKind.BALANCER else 1),
            )
            moved += 1
        except FlasharbError:
            continue
    assert moved >= 5
    update = market.update()
    assert update.pools_changed >= moved - 1 and update.book is not None
    assert update.book.affected < len(market.index)  # only the cycles of the moved pools
    fresh = Market.build(w3)
    assert fresh.block == market.block
    assert [_key(o) for o in market.opportunities()] == [_key(o) for o in fresh.opportunities()]
    assert market.opportunities(), "ten swaps leave something to trade"


def test_a_pool_created_mid_run_joins_from_the_logs(w3: Web3, owner: str) -> None:
    """A SushiSwap pair that did not exist is created and seeded 3% off Uniswap's price: the
    next update finds its PairCreated log, reads it, indexes it, and routes through it."""
    market = Market.build(w3)
    uni = {
        t
        for p in market.registry
        if p.venue == "uniswap_v2"
        for t in p.tokens
        if A.WETH in p.tokens
    }
    sushi = {
        t for p in market.registry if p.venue == "sushiswap" for t in p.tokens if A.WETH in p.tokens
    }
    token = sorted(uni - sushi - {A.WETH})[0]
    send(
        w3,
        {
            "from": owner,
            "to": A.SUSHISWAP_FACTORY,
            "data": "0x"
            + (
                selector("createPair(address,address)")
                + encode(["address", "address"], [A.WETH, token])
            ).hex(),
        },
    )
    pair_raw = w3.eth.call(
        {
            "to": A.SUSHISWAP_FACTORY,
            "data": "0x"
            + (
                selector("getPair(address,address)")
                + encode(["address", "address"], [A.WETH, token])
            ).hex(),
        }
    )
    pair = Web3.to_checksum_address("0x" + bytes(pair_raw)[12:32].hex())
    ref = next(
        p for p in market.registry if p.venue == "uniswap_v2" and set(p.tokens) == {A.WETH, token}
    )
    state = market.states[ref.address]
    weth_reserve, token_reserve = state.reserves_for(A.WETH)
    deal(w3, A.WETH, pair, weth_reserve // 4)
    deal(w3, token, pair, token_reserve // 4 * 103 // 100)  # the token 3% cheaper here
    send(
        w3,
        {
            "from": owner,
            "to": pair,
            "data": "0x" + (selector("mint(address)") + encode(["address"], [owner])).hex(),
        },
    )
    cycles_before = len(market.index)
    update = market.update()
    assert update.added == 1 and pair in market.states
    assert len(market.index) > cycles_before
    through = [o for o in market.opportunities() if pair in o.cycle.pools]
    assert through, "the mispriced new pair opens a route"
    fresh = Market.build(w3)
    assert [_key(o) for o in market.opportunities()] == [_key(o) for o in fresh.opportunities()]


def test_lazy_selection_is_the_policy_over_the_whole_book(w3: Web3) -> None:
    """`Market.select` sizes and re-costs only what can change the pick (OpportunityBook); over
    blocks of background swaps it picks exactly what the policy picks over the whole book made
    current, and every sized route stays under the bounds the laziness stands on."""
    market = Market.build(w3)
    swaps = BackgroundSwaps(w3, per_step=2, seed=5)
    lazy_blocks = 0
    for _ in range(6):
        swaps.step(market.registry, market.states)
        market.update()
        picks = {top: market.select(top=top) for top in (1, 2, 3)}
        made = len(market.book.current)
        everything = market.opportunities()  # sizes and re-costs the rest
        assert everything
        for top, picked in picks.items():
            assert picked == select(everything, top=top), top
        lazy_blocks += made < len(everything)
        engine = market.book.engine
        ids = np.asarray(sorted(engine.sized), dtype=np.int64)
        passing, _, bound = engine.screen(ids)
        for cycle_id, most in zip(passing.tolist(), bound.tolist(), strict=True):
            found = engine.sized[cycle_id]
            assert found.profit <= most * (1 + 1e-9) + 1, found.cycle.key
            fine = gross_bound(found.cycle, engine.states)
            assert fine is None or found.profit <= fine * (1 + 1e-9) + 1, found.cycle.key
    assert lazy_blocks >= 3, "the pick needed most of the book on most blocks"
