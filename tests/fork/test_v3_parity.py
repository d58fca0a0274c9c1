"""Python's Uniswap V3 swap equals the real pools', to the wei.

Every case runs three ways on the fork: `V3PoolState.swap` (and its quotes) in Python,
QuoterV2's quoteExactInputSingle / quoteExactOutputSingle, and the pool's own `swap`, stopped in
the callback of a probe that reports the deltas, price, tick and liquidity. The probe
(contracts/probes/V3SwapProbe.sol) runs a batch of cases in one eth_call as state-override code.
Pool state is read with plain calls (slot0, liquidity, tickBitmap, ticks) sent as JSON-RPC
batches. One pool of every fee tier first gets many extra positions through the position
manager, so that swaps cross many initialized ticks and bitmap words.
"""

from __future__ import annotations

import json
import random
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import pytest
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector as selector
from eth_utils import to_checksum_address
from web3 import Web3

from flasharb.amm.uniswap_v3 import MAX_TICK, MIN_TICK, V3PoolState, V3Revert, word_bounds
from flasharb.amm.uniswap_v3.sqrt_price_math import get_amount0_delta, get_amount1_delta
from flasharb.amm.uniswap_v3.tick_math import get_sqrt_ratio_at_tick
from flasharb.chain import addresses as A
from flasharb.chain.artifacts import contract, npm_artifact
from flasharb.chain.cheats import balance_of, deal, snapshot
from flasharb.chain.rpc import send
from flasharb.errors import IncompleteStateError, InsufficientLiquidityError, TransactionFailed
from flasharb.execute.revert import decode_revert
from flasharb.replica import uniswap_v3 as V3
from flasharb.replica.spec import V3PoolSpec, load_spec
from tests.parity_stats import record

SEED = 20261204
PROBE = to_checksum_address("0x00000000000000000000000000000000f1a5b3b3")
PROBE_GAS = 1_000_000_000  # eth_call only: a swap that walks every bitmap word needs ~30M
WINDOW = 6  # bitmap words read either side of the price; a swap that needs more re-reads all
MINTS_PER_POOL = 28
HUGE = 2**200  # more than any pool holds: the swap stops at the price limit
CASE_T = "(address,address,address,uint24,bool,int256,uint160)[]"
OUTCOME_T = "(bool,uint256,uint160,uint32,bytes,bool,int256,int256,uint160,int24,uint128,bytes)[]"
RUN = selector("run((address,address,address,uint24,bool,int256,uint160)[])")
SLOT0, LIQUIDITY = selector("slot0()"), selector("liquidity()")
BITMAP, TICKS = selector("tickBitmap(int16)"), selector("ticks(int24)")
BALANCE_OF = selector("balanceOf(address)")
TICK_T = ["uint128", "int128", "uint256", "uint256", "int56", "uint160", "uint32", "bool"]


@dataclass(frozen=True, slots=True)
class Pool:
    address: str
    token0: str
    token1: str
    fee: int
    spacing: int


@dataclass(frozen=True, slots=True)
class Case:
    pool: Pool
    zero_for_one: bool
    amount_specified: int  # > 0 exact input, < 0 exact output
    limit: int = 0  # sqrtPriceLimitX96; 0: the default (MIN_SQRT_RATIO + 1 / MAX_SQRT_RATIO - 1)

    def encode(self) -> tuple[Any, ...]:
        p = self.pool
        t_in, t_out = (p.token0, p.token1) if self.zero_for_one else (p.token1, p.token0)
        return (p.address, t_in, t_out, p.fee, self.zero_for_one, self.amount_specified, self.limit)


# ---------------------------------------------------------------- reading the chain


def _calls(w3: Web3, calls: Sequence[tuple[str, bytes]]) -> list[bytes]:
    """Plain eth_calls (to, data), sent as JSON-RPC batches of up to 4000."""
    url = str(getattr(w3.provider, "endpoint_uri"))  # noqa: B009 - HTTPProvider only
    out: list[bytes] = []
    for start in range(0, len(calls), 4000):
        chunk = calls[start : start + 4000]
        payload = [
            {
                "jsonrpc": "2.0",
                "id": i,
                "method": "eth_call",
                "params": [{"to": to, "data": "0x" + d.hex()}, "latest"],
            }
            for i, (to, d) in enumerate(chunk)
        ]
        headers = {"Content-Type": "application/json"}
        request = urllib.request.Request(url, json.dumps(payload).encode(), headers)
        with urllib.request.urlopen(request, timeout=120) as response:
            replies = {r["id"]: r for r in json.loads(response.read())}
        for i, (to, _) in enumerate(chunk):
            assert "error" not in replies[i], f"eth_call to {to}: {replies[i]['error']}"
            out.append(bytes.fromhex(replies[i]["result"][2:]))
    return out


def _read_states(w3: Web3, pools: Sequence[Pool], full: bool = False) -> dict[str, V3PoolState]:
    """Each pool from slot0, liquidity, tickBitmap words and ticks(t).liquidityNet: the words
    within WINDOW of the price, or (`full`) every word a swap can reach."""
    heads = _calls(w3, [(p.address, s) for p in pools for s in (SLOT0, LIQUIDITY)])
    slot0 = [decode(["uint160", "int24"], heads[2 * i][:64]) for i in range(len(pools))]
    ranges = []
    for p, (_, tick) in zip(pools, slot0, strict=True):
        lo, hi = word_bounds(p.spacing)
        here = (tick // p.spacing) >> 8
        ranges.append((lo, hi) if full else (max(lo, here - WINDOW), min(hi, here + WINDOW)))
    word_calls = [
        (p.address, BITMAP + encode(["int16"], [w]))
        for p, (lo, hi) in zip(pools, ranges, strict=True)
        for w in range(lo, hi + 1)
    ]
    words = iter(_calls(w3, word_calls))
    bitmaps = [
        {w: v for w in range(lo, hi + 1) if (v := int.from_bytes(next(words), "big"))}
        for lo, hi in ranges
    ]
    initialized = [
        [(w * 256 + b) * p.spacing for w, v in sorted(bm.items()) for b in range(256) if v >> b & 1]
        for p, bm in zip(pools, bitmaps, strict=True)
    ]
    tick_calls = [
        (p.address, TICKS + encode(["int24"], [t]))
        for p, ts in zip(pools, initialized, strict=True)
        for t in ts
    ]
    nets = iter(decode(TICK_T, raw)[1] for raw in _calls(w3, tick_calls))
    return {
        p.address: V3PoolState(
            address=p.address,
            token0=p.token0,
            token1=p.token1,
            fee=p.fee,
            tick_spacing=p.spacing,
            sqrt_price_x96=slot0[i][0],
            tick=slot0[i][1],
            liquidity=decode(["uint128"], heads[2 * i + 1])[0],
            tick_bitmap=bitmaps[i],
            ticks={t: next(nets) for t in initialized[i]},
            word_range=ranges[i],
        )
        for i, p in enumerate(pools)
    }


def _balances(w3: Web3, pools: Sequence[Pool]) -> dict[str, tuple[int, int]]:
    """Each pool's holdings of token0 and token1 (balanceOf)."""
    args = [
        (t, BALANCE_OF + encode(["address"], [p.address]))
        for p in pools
        for t in (p.token0, p.token1)
    ]
    held = [int.from_bytes(r[:32], "big") for r in _calls(w3, args)]
    return {p.address: (held[2 * i], held[2 * i + 1]) for i, p in enumerate(pools)}


def _complete(w3: Web3, states: dict[str, V3PoolState], cases: Sequence[Case]) -> None:
    """Re-read, with every bitmap word, the pools where a case needs words beyond the window."""
    short = {}
    for c in cases:
        try:
            states[c.pool.address].swap(c.zero_for_one, c.amount_specified, c.limit or None)
        except IncompleteStateError:
            short[c.pool.address] = c.pool
        except V3Revert:
            pass
    if short:
        states.update(_read_states(w3, list(short.values()), full=True))


# ---------------------------------------------------------------- cases and the comparison


def _limit(rng: random.Random, s: V3PoolState, zero_for_one: bool) -> int:
    """A price limit in the swap's direction, up to a few bitmap words away (1 in 16 on the
    wrong side of the price, which the pool refuses with SPL)."""
    if rng.randrange(16) == 0:
        return s.sqrt_price_x96 + (1 if zero_for_one else -1)
    reach = rng.randint(1, 3 * 256) * s.tick_spacing // rng.choice((1, 8, 64))
    tick = max(MIN_TICK + 1, min(MAX_TICK - 1, s.tick - reach if zero_for_one else s.tick + reach))
    return get_sqrt_ratio_at_tick(tick) + rng.randint(-(10**6), 10**6)


def _cases(
    rng: random.Random, pool: Pool, s: V3PoolState, held: tuple[int, int], n: int, walks: int
) -> list[Case]:
    """`n` random cases: both directions, exact in and out, from dust to a large share of what
    the pool holds and beyond, a quarter with a price limit; then `walks` times the largest
    amount the pool fills before the default limit, -1 and +1 (these walk every bitmap word)."""
    out = []
    for i in range(n):
        zfo, exact_in, kind = bool(rng.getrandbits(1)), bool(rng.getrandbits(1)), rng.randrange(12)
        if i < 4:  # every pool: both directions, exact in and exact out
            zfo, exact_in = bool(i & 1), bool(i & 2)
        base = held[0 if zfo == exact_in else 1]  # what is paid in, or what is paid out
        if kind == 0:
            amount = rng.randint(1, 10**4)  # dust
        elif kind == 1:
            amount = base * rng.randint(2, 200) + 1  # beyond the pool
        else:  # log-uniform from 1e-18 to 1 times the pool's holdings
            amount = max(1, base * rng.randint(1, 1000) // 10 ** rng.randint(3, 18))
        # beyond the pool without a limit walks every bitmap word to the default limit; with tick
        # spacing 1 that is ~3,500 words (~0.3 s on chain), so those get a limit (walks do a few)
        limited = kind == 1 and (pool.spacing == 1 or bool(rng.getrandbits(1)))
        limit = _limit(rng, s, zfo) if limited or rng.randrange(4) == 0 else 0
        out.append(Case(pool, zfo, amount if exact_in else -amount, limit))
    for _ in range(walks):
        zfo, exact_in = bool(rng.getrandbits(1)), bool(rng.getrandbits(1))
        edge = s.swap(zfo, HUGE if exact_in else -HUGE)
        most = edge.amount_in if exact_in else edge.amount_out
        out += [Case(pool, zfo, a if exact_in else -a) for a in (most - 1, most, most + 1) if a]
    return out


def _probe(w3: Web3, cases: Sequence[Case]) -> list[tuple[Any, ...]]:
    """QuoterV2's quote and the pool's own swap outcome for every case, in one eth_call."""
    code = "0x" + contract("V3SwapProbe").deployed_bytecode.hex()
    data = "0x" + (RUN + encode([CASE_T], [[c.encode() for c in cases]])).hex()
    tx = cast(Any, {"to": PROBE, "data": data, "gas": PROBE_GAS})
    raw = w3.eth.call(tx, "latest", cast(Any, {PROBE: {"code": code}}))
    return list(decode([OUTCOME_T], bytes(raw))[0])


def _error(data: bytes) -> str:
    return decode_revert(data) if data else "reverted without data"


def _compare(s: V3PoolState, case: Case, o: tuple[Any, ...]) -> tuple[list[str], int, bool, int]:
    """Python against the pool's own swap and QuoterV2 for one case.

    Returns (problems, largest wei difference, whether both sides refused, ticks crossed).
    """
    quoted, q_amount, q_sqrt, _, q_revert, swapped, *pool_result, swap_revert = o
    zfo, amount, exact_in = case.zero_for_one, case.amount_specified, case.amount_specified > 0
    problems = []
    try:
        r = s.swap(zfo, amount, case.limit or None)
    except V3Revert as exc:  # the pool and QuoterV2 must refuse, with the same reason
        want = f'Error("{exc.reason}")'
        for who, ok, data in (("pool", swapped, swap_revert), ("quoter", quoted, q_revert)):
            if ok or _error(data) != want:
                problems.append(f"python reverts {want}, {who}: {ok or _error(data)}")
        return problems, 0, True, 0

    mine = [r.amount0, r.amount1, r.sqrt_price_x96, r.tick, r.liquidity]
    diff = max(abs(pool_result[0] - r.amount0), abs(pool_result[1] - r.amount1))
    if not swapped or pool_result != mine:
        problems.append(f"pool {pool_result if swapped else _error(swap_revert)} != {mine}")

    # QuoterV2's callback refuses a swap that pays nothing in and, for exact output without a
    # limit, one that pays out less than asked; otherwise it quotes, partial fills included
    refuses = r.amount_in <= 0 or (not exact_in and case.limit == 0 and not r.filled)
    want_amount = r.amount_out if exact_in else r.amount_in
    if refuses != (not quoted):
        problems.append(f"quoter {q_amount if quoted else _error(q_revert)}, refuses={refuses}")
    elif quoted:
        diff = max(diff, abs(q_amount - want_amount))
        if (q_amount, q_sqrt) != (want_amount, r.sqrt_price_x96):
            problems.append(f"quoter {(q_amount, q_sqrt)} != {(want_amount, r.sqrt_price_x96)}")

    if case.limit == 0:  # the quotes: the amount where the swap fills, else InsufficientLiquidity
        t_in, t_out = (s.token0, s.token1) if zfo else (s.token1, s.token0)
        quote = s.quote_exact_in if exact_in else s.quote_exact_out
        try:
            if not r.filled or quote(t_in, t_out, abs(amount)) != want_amount:
                problems.append(f"quote {quote(t_in, t_out, abs(amount))}, filled={r.filled}")
        except InsufficientLiquidityError:
            if r.filled:
                problems.append("quote raises InsufficientLiquidityError on a filled swap")
    return problems, diff, refuses and not quoted, r.ticks_crossed


def _check(w3: Web3, states: dict[str, V3PoolState], cases: Sequence[Case]) -> list[str]:
    """Run `cases` through the probe, compare each with Python, record it; return problems."""
    problems = []
    for case, outcome in zip(cases, _probe(w3, cases), strict=True):
        found, diff, refused, crossed = _compare(states[case.pool.address], case, outcome)
        exact_in = case.amount_specified > 0
        record(
            "uniswap_v3", exact_in=exact_in, wei_diff=diff, reverted=refused, ticks_crossed=crossed
        )
        problems += [f"{case}: {p}" for p in found]
    return problems


# ---------------------------------------------------------------- positions and swaps


def _approve(w3: Web3, owner: str, token: str, spender: str) -> None:
    erc20 = w3.eth.contract(address=to_checksum_address(token), abi=contract("ReplicaERC20").abi)
    if erc20.functions.allowance(owner, spender).call() == 0:
        data = erc20.encode_abi("approve", [spender, 2**256 - 1])
        send(w3, {"from": owner, "to": token, "data": data}, "approve")


def _mint_positions(w3: Web3, owner: str, rng: random.Random, pool: Pool) -> None:
    """MINTS_PER_POOL positions through the NonfungiblePositionManager, half within 40 tick
    spacings of the price, half spread over several bitmap words either side; liquidity from
    0.1% to 100% of the pool's in-range liquidity."""
    for token in (pool.token0, pool.token1):
        deal(w3, token, owner, HUGE)
        _approve(w3, owner, token, A.UNISWAP_V3_POSITION_MANAGER)
    (s,) = _read_states(w3, [pool]).values()
    npm = w3.eth.contract(
        address=A.UNISWAP_V3_POSITION_MANAGER, abi=npm_artifact(V3.POSITION_MANAGER).abi
    )
    sp = pool.spacing
    here, top = s.tick // sp, MAX_TICK // sp
    for i in range(MINTS_PER_POOL):
        reach = 40 if i % 2 else (4 if sp == 1 else 2) * 256  # compressed ticks
        lo = max(-top, min(top - 1, here + rng.randint(-reach, reach)))
        hi = min(top, lo + rng.randint(1, reach))
        sa, sb = get_sqrt_ratio_at_tick(lo * sp), get_sqrt_ratio_at_tick(hi * sp)
        liquidity = max(1, s.liquidity * rng.randint(1, 1000) // 1000)
        price = min(max(s.sqrt_price_x96, sa), sb)
        amount0 = get_amount0_delta(price, sb, liquidity, True) + 1 if price < sb else 0
        amount1 = get_amount1_delta(sa, price, liquidity, True) + 1 if price > sa else 0
        params = (pool.token0, pool.token1, pool.fee, lo * sp, hi * sp, amount0, amount1)
        data = npm.encode_abi("mint", [(*params, 0, 0, owner, 2**32 - 1)])
        send(w3, {"from": owner, "to": A.UNISWAP_V3_POSITION_MANAGER, "data": data}, "mint")


@dataclass(frozen=True, slots=True)
class Pools:
    every: list[Pool]  # from the factory's PoolCreated logs
    minted: list[Pool]  # one per fee tier, with MINTS_PER_POOL extra positions


@pytest.fixture(scope="module")
def v3_pools(session_w3: Web3, owner: str) -> Iterator[Pools]:
    """Every V3 pool on the fork, one per fee tier filled with extra positions; all undone at
    the end of the module (a snapshot around it; each test's own snapshot nests inside)."""
    with snapshot(session_w3):
        rng = random.Random(SEED)
        factory = session_w3.eth.contract(
            address=A.UNISWAP_V3_FACTORY, abi=npm_artifact(V3.FACTORY).abi
        )
        every = [
            Pool(a["pool"], a["token0"], a["token1"], a["fee"], a["tickSpacing"])
            for a in (log["args"] for log in factory.events.PoolCreated().get_logs(from_block=0))
        ]
        assert len(every) == len(load_spec().pools_of(V3PoolSpec))
        minted = [rng.choice([p for p in every if p.fee == fee]) for fee in sorted(A.V3_FEE_TIERS)]
        for pool in minted:
            _mint_positions(session_w3, owner, rng, pool)
        yield Pools(every=every, minted=minted)


def _router_swap(w3: Web3, owner: str, pool: Pool, zfo: bool, amount: int, quote: int) -> int:
    """Swap through SwapRouter (exact input if `amount > 0`, else exact output of -amount) with
    `quote` as the minimum out / maximum in; return what left the owner or reached it, net:
    token_out received minus the token_in left over (which is 0 when the quote is exact)."""
    t_in, t_out = (pool.token0, pool.token1) if zfo else (pool.token1, pool.token0)
    router = w3.eth.contract(address=A.UNISWAP_V3_SWAP_ROUTER, abi=npm_artifact(V3.SWAP_ROUTER).abi)
    deal(w3, t_in, owner, amount if amount > 0 else quote)
    before = balance_of(w3, t_out, owner)
    deadline = w3.eth.get_block("latest")["timestamp"] + 3600
    params = (t_in, t_out, pool.fee, owner, deadline, abs(amount), quote, 0)
    fn = "exactInputSingle" if amount > 0 else "exactOutputSingle"
    data = router.encode_abi(fn, [params])
    send(w3, {"from": owner, "to": A.UNISWAP_V3_SWAP_ROUTER, "data": data}, fn)
    return balance_of(w3, t_out, owner) - before - balance_of(w3, t_in, owner)


# ---------------------------------------------------------------- the tests


class TestQuoterParity:
    """Seeded random swaps on every V3 pool of the replica: Python's swap and quotes equal
    QuoterV2 and the pool's own swap, reverts included."""

    CASES_PER_POOL = 20
    CASES_PER_MINTED_POOL = 80
    WALKING_FEE_500_POOLS = 3  # fee 500 walks ~700 bitmap words; fee 3000 / 10000 fewer

    def test_random_swaps_match_to_the_wei(self, v3_pools: Pools, w3: Web3) -> None:
        rng = random.Random(SEED + 1)
        minted = {p.address for p in v3_pools.minted}
        fee_500 = [p for p in v3_pools.every if p.spacing == 10 and p.address not in minted]
        walking = {p.address for p in fee_500[: self.WALKING_FEE_500_POOLS]} | minted
        walking |= {p.address for p in v3_pools.every if p.spacing >= 60}
        states = _read_states(w3, [p for p in v3_pools.every if p.address not in walking])
        states |= _read_states(w3, [p for p in v3_pools.every if p.address in walking], full=True)
        held = _balances(w3, v3_pools.every)
        cases = []
        for p in v3_pools.every:
            n = self.CASES_PER_MINTED_POOL if p.address in minted else self.CASES_PER_POOL
            walks = (2 if p.address in minted else 1) if p.address in walking else 0
            cases += _cases(rng, p, states[p.address], held[p.address], n, walks)
        _complete(w3, states, cases)
        problems = []
        for start in range(0, len(cases), 200):
            problems += _check(w3, states, cases[start : start + 200])
        assert len(cases) >= 1000
        assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems[:5])


class TestExecutedSwaps:
    """Swaps sent through SwapRouter pay exactly Python's quote, cross exactly the ticks Python
    crosses, leave the pool where `apply` says, and quoting from there stays exact."""

    OTHER_POOLS = 4
    SWAPS_PER_POOL = 4
    CASES_AFTER_EACH_SWAP = 8

    def test_router_pays_the_quote_and_apply_follows_the_pool(
        self, v3_pools: Pools, w3: Web3, owner: str
    ) -> None:
        rng = random.Random(SEED + 2)
        minted = {p.address for p in v3_pools.minted}
        others = [p for p in v3_pools.every if p.address not in minted]
        sample = v3_pools.minted + rng.sample(others, self.OTHER_POOLS)
        states = _read_states(w3, sample)
        problems: list[str] = []
        crossed = 0
        for p in sample:
            for token in (p.token0, p.token1):
                _approve(w3, owner, token, A.UNISWAP_V3_SWAP_ROUTER)
            for k in range(self.SWAPS_PER_POOL):
                zfo, exact_in = bool(k & 1) ^ bool(rng.getrandbits(1)), k < 2
                held = _balances(w3, [p])[p.address]
                amount = held[0 if zfo == exact_in else 1] * rng.randint(1, 300) // 1000
                amount = amount if exact_in else -amount
                _complete(w3, states, [Case(p, zfo, amount)])
                s = states[p.address]
                r = s.swap(zfo, amount)
                t_in, t_out = (p.token0, p.token1) if zfo else (p.token1, p.token0)
                quote = (s.quote_exact_in if exact_in else s.quote_exact_out)(
                    t_in, t_out, abs(amount)
                )
                ticks_before = _calls(
                    w3, [(p.address, TICKS + encode(["int24"], [t])) for t in s.ticks]
                )
                try:
                    net = _router_swap(w3, owner, p, zfo, amount, quote)
                except TransactionFailed as exc:  # e.g. "Too little received": a wrong quote
                    problems.append(f"{p} swap {k}: {exc}")
                    break
                want = quote if exact_in else -amount
                record(
                    "uniswap_v3",
                    exact_in=exact_in,
                    wei_diff=net - want,
                    ticks_crossed=r.ticks_crossed,
                )
                if net != want:
                    problems.append(f"{p} swap {k}: received {net}, python quoted {want}")
                moved = s.apply(r)
                full = s.word_range == word_bounds(p.spacing)
                (chain,) = _read_states(w3, [p], full=full).values()
                after = (chain.sqrt_price_x96, chain.tick, chain.liquidity)
                if after != (moved.sqrt_price_x96, moved.tick, moved.liquidity):
                    problems.append(f"{p} swap {k}: apply gives {moved}, the chain {after}")
                # Tick.cross rewrites a crossed tick's outside fee growth, seconds, cumulatives
                ticks_after = _calls(
                    w3, [(p.address, TICKS + encode(["int24"], [t])) for t in s.ticks]
                )
                rewritten = sum(a != b for a, b in zip(ticks_before, ticks_after, strict=True))
                if rewritten != r.ticks_crossed:
                    problems.append(
                        f"{p} swap {k}: {rewritten} ticks crossed, python {r.ticks_crossed}"
                    )
                crossed += r.ticks_crossed
                states[p.address] = moved  # keep quoting from the moved state
                held = _balances(w3, [p])[p.address]
                cases = _cases(rng, p, moved, held, self.CASES_AFTER_EACH_SWAP, 0)
                _complete(w3, states, cases)
                problems += _check(w3, states, cases)
        assert crossed >= len(sample), f"the executed swaps crossed only {crossed} ticks"
        assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems[:5])
