"""Python's Uniswap V4 swap equals the real PoolManager's, to the wei.

Every v4 pool of the replica (found from the PoolManager's Initialize logs) is read from the
PoolManager's storage with `extsload` (slot0, liquidity, tick-bitmap words, ticks' liquidityNet:
the layout of `flasharb.amm.uniswap_v4.layout`). Seeded random swaps, both directions, exact
input and exact output, from dust to beyond the pool, with and without price limits, run through
the real PoolManager in `V4SwapProbe` (contracts/probes/): one `unlock` per swap, the callback
reverts with the deltas, slot0 and liquidity, so nothing moves. Python must give the same five
figures, or refuse with the same custom error. Pools created here with many positions make swaps
cross many initialized ticks; one pool gets a protocol fee (the controller set by the
PoolManager's owner) so the LP/protocol fee composition is compared too.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import pytest
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector as selector
from eth_utils import keccak, to_checksum_address
from web3 import Web3

from flasharb.amm.uniswap_v3 import MAX_SQRT_RATIO, MAX_TICK, MIN_SQRT_RATIO, MIN_TICK
from flasharb.amm.uniswap_v3.tick_bitmap import word_bounds
from flasharb.amm.uniswap_v3.tick_math import get_sqrt_ratio_at_tick, get_tick_at_sqrt_ratio
from flasharb.amm.uniswap_v4 import PoolKey, V4PoolState, V4Revert
from flasharb.amm.uniswap_v4 import layout as L
from flasharb.chain import addresses as A
from flasharb.chain.artifacts import contract
from flasharb.chain.cheats import deal, impersonating, snapshot
from flasharb.chain.rpc import send
from flasharb.errors import IncompleteStateError, InsufficientLiquidityError
from flasharb.replica import uniswap_v4 as V4
from flasharb.replica.spec import V4PoolSpec, load_spec
from tests.parity_stats import record

SEED = 20250131
PROBE = to_checksum_address("0x00000000000000000000000000000000f1a5b4b4")
PROBE_GAS = 1_000_000_000
WINDOW = 4  # bitmap words read either side of the price; pools a case needs more of: all
HUGE = 2**120  # beyond any pool: the swap stops at its price limit (fits int128 deltas)
KEY_T = "(address,address,uint24,int24,address)"
CASE_T = f"({KEY_T},bool,int256,uint160)[]"
OUTCOME_T = "(bool,int256,int256,uint160,int24,uint128,bytes)[]"
RUN = selector(f"run({CASE_T})")
EXTSLOAD = selector("extsload(bytes32[])")
INITIALIZE_TOPIC = keccak(
    text="Initialize(bytes32,address,address,uint24,int24,address,uint160,int24)"
)
ERRORS = {
    selector(sig)[:4]: sig.split("(")[0]
    for sig in (
        "SwapAmountCannotBeZero()",
        "PriceLimitAlreadyExceeded(uint160,uint160)",
        "PriceLimitOutOfBounds(uint160)",
        "InvalidFeeForExactOut()",
        "PoolNotInitialized()",
        "PriceOverflow()",
        "NotEnoughLiquidity()",
        "SafeCastOverflow()",
    )
}
MANY_POSITIONS = 30


@dataclass(frozen=True, slots=True)
class Case:
    key: PoolKey
    zero_for_one: bool
    amount_specified: int  # < 0 exact input, > 0 exact output
    limit: int = 0  # 0: MIN_SQRT_PRICE + 1 / MAX_SQRT_PRICE - 1

    def limit_or_default(self) -> int:
        if self.limit:
            return self.limit
        return MIN_SQRT_RATIO + 1 if self.zero_for_one else MAX_SQRT_RATIO - 1

    def encode(self) -> tuple[Any, ...]:
        return (
            self.key.as_tuple(),
            self.zero_for_one,
            self.amount_specified,
            self.limit_or_default(),
        )


# ---------------------------------------------------------------- reading the PoolManager


def extsload(w3: Web3, slots: Sequence[int]) -> list[int]:
    """PoolManager.extsload(bytes32[]): many storage slots in one call (chunks of 3000)."""
    out: list[int] = []
    for start in range(0, len(slots), 3000):
        chunk = [s.to_bytes(32, "big") for s in slots[start : start + 3000]]
        data = "0x" + (EXTSLOAD + encode(["bytes32[]"], [chunk])).hex()
        raw = w3.eth.call(cast(Any, {"to": A.UNISWAP_V4_POOL_MANAGER, "data": data}))
        out += [int.from_bytes(v, "big") for v in decode(["bytes32[]"], bytes(raw))[0]]
    return out


def discover(w3: Web3) -> list[PoolKey]:
    """Every pool the PoolManager initialized, from its Initialize logs."""
    logs = w3.eth.get_logs(
        {
            "address": A.UNISWAP_V4_POOL_MANAGER,
            "topics": [INITIALIZE_TOPIC],  # type: ignore[list-item]
            "fromBlock": 0,
            "toBlock": "latest",
        }
    )
    keys = []
    for log in logs:
        c0 = to_checksum_address(bytes(log["topics"][2])[12:])
        c1 = to_checksum_address(bytes(log["topics"][3])[12:])
        fee, spacing, hooks, _, _ = decode(
            ["uint24", "int24", "address", "uint160", "int24"], bytes(log["data"])
        )
        key = PoolKey(currency0=c0, currency1=c1, fee=fee, tick_spacing=spacing, hooks=hooks)
        assert key.pool_id() == bytes(log["topics"][1])
        keys.append(key)
    return keys


def read_states(w3: Web3, keys: Sequence[PoolKey], full: bool = False) -> dict[bytes, V4PoolState]:
    """slot0 and liquidity, then the bitmap words within WINDOW of the price (or all), then
    liquidityNet of every initialized tick in them."""
    heads = extsload(
        w3,
        [s for k in keys for s in (L.pool_state_slot(k.pool_id()), L.liquidity_slot(k.pool_id()))],
    )
    slot0s = [L.decode_slot0(heads[2 * i]) for i in range(len(keys))]
    ranges = []
    for k, s0 in zip(keys, slot0s, strict=True):
        lo, hi = word_bounds(k.tick_spacing)
        here = (s0.tick // k.tick_spacing) >> 8
        ranges.append((lo, hi) if full else (max(lo, here - WINDOW), min(hi, here + WINDOW)))
    words = iter(
        extsload(
            w3,
            [
                L.tick_bitmap_slot(k.pool_id(), w)
                for k, (lo, hi) in zip(keys, ranges, strict=True)
                for w in range(lo, hi + 1)
            ],
        )
    )
    bitmaps = [{w: v for w in range(lo, hi + 1) if (v := next(words))} for lo, hi in ranges]
    initialized = [
        [
            (w * 256 + b) * k.tick_spacing
            for w, v in sorted(bm.items())
            for b in range(256)
            if v >> b & 1
        ]
        for k, bm in zip(keys, bitmaps, strict=True)
    ]
    nets = iter(
        extsload(
            w3,
            [
                L.tick_info_slot(k.pool_id(), t)
                for k, ts in zip(keys, initialized, strict=True)
                for t in ts
            ],
        )
    )
    return {
        k.pool_id(): V4PoolState(
            key=k,
            sqrt_price_x96=slot0s[i].sqrt_price_x96,
            tick=slot0s[i].tick,
            liquidity=heads[2 * i + 1] & ((1 << 128) - 1),
            lp_fee=slot0s[i].lp_fee,
            protocol_fee=slot0s[i].protocol_fee,
            tick_bitmap=bitmaps[i],
            ticks={t: L.decode_tick_liquidity_net(next(nets)) for t in initialized[i]},
            word_range=ranges[i],
        )
        for i, k in enumerate(keys)
    }


def _complete(w3: Web3, states: dict[bytes, V4PoolState], cases: Sequence[Case]) -> None:
    short = {}
    for c in cases:
        try:
            states[c.key.pool_id()].swap(c.zero_for_one, c.amount_specified, c.limit or None)
        except IncompleteStateError:
            short[c.key.pool_id()] = c.key
        except V4Revert:
            pass
    if short:
        states.update(read_states(w3, list(short.values()), full=True))


# ---------------------------------------------------------------- cases and the comparison


def _limit(rng: random.Random, s: V4PoolState, zero_for_one: bool) -> int:
    roll = rng.randrange(24)
    if roll == 0:  # on the wrong side of the price: PriceLimitAlreadyExceeded
        return s.sqrt_price_x96 + (1 if zero_for_one else -1)
    if roll == 1:  # at the bound: PriceLimitOutOfBounds
        return MIN_SQRT_RATIO if zero_for_one else MAX_SQRT_RATIO
    reach = rng.randint(1, 3 * 256) * s.key.tick_spacing // rng.choice((1, 8, 64))
    tick = max(MIN_TICK + 1, min(MAX_TICK - 1, s.tick - reach if zero_for_one else s.tick + reach))
    return get_sqrt_ratio_at_tick(tick) + rng.randint(-(10**6), 10**6)


def _scale(s: V4PoolState) -> tuple[int, int]:
    """Rough token0 and token1 depth from the in-range liquidity (a size scale only)."""
    p = s.sqrt_price_x96
    return max(1, s.liquidity * 2**96 // p), max(1, s.liquidity * p // 2**96)


def make_cases(rng: random.Random, s: V4PoolState, n: int, walks: int) -> list[Case]:
    out = []
    depth = _scale(s)
    for i in range(n):
        zfo, exact_in, kind = bool(rng.getrandbits(1)), bool(rng.getrandbits(1)), rng.randrange(12)
        if i < 4:
            zfo, exact_in = bool(i & 1), bool(i & 2)
        base = depth[0 if zfo == exact_in else 1]
        if kind == 0:
            amount = rng.randint(1, 10**4)
        elif kind == 1:
            amount = min(HUGE, base * rng.randint(2, 200) + 1)
        else:
            amount = max(1, base * rng.randint(1, 1000) // 10 ** rng.randint(3, 12))
        limited = kind == 1 and (s.key.tick_spacing <= 2 or bool(rng.getrandbits(1)))
        limit = _limit(rng, s, zfo) if limited or rng.randrange(4) == 0 else 0
        out.append(Case(s.key, zfo, -amount if exact_in else amount, limit))
    if n:
        out.append(Case(s.key, True, 0))  # SwapAmountCannotBeZero
    for _ in range(walks):
        zfo, exact_in = bool(rng.getrandbits(1)), bool(rng.getrandbits(1))
        edge = s.swap(zfo, -HUGE if exact_in else HUGE)
        most = edge.amount_in if exact_in else edge.amount_out
        out += [Case(s.key, zfo, -a if exact_in else a) for a in (most - 1, most, most + 1) if a]
    return out


def probe(w3: Web3, cases: Sequence[Case]) -> list[tuple[Any, ...]]:
    code = "0x" + contract("V4SwapProbe").deployed_bytecode.hex()
    data = "0x" + (RUN + encode([CASE_T], [[c.encode() for c in cases]])).hex()
    tx = cast(Any, {"to": PROBE, "data": data, "gas": PROBE_GAS})
    raw = w3.eth.call(tx, "latest", cast(Any, {PROBE: {"code": code}}))
    return list(decode([OUTCOME_T], bytes(raw))[0])


def _error_name(data: bytes) -> str:
    return ERRORS.get(bytes(data[:4]), f"0x{bytes(data).hex()[:8]}")


def compare(s: V4PoolState, c: Case, o: tuple[Any, ...]) -> tuple[list[str], int, bool, int]:
    """(problems, wei difference, both refused, ticks crossed) for one case."""
    swapped, a0, a1, sqrt_after, tick_after, liq_after, revert = o
    try:
        r = s.swap(c.zero_for_one, c.amount_specified, c.limit or None)
    except V4Revert as exc:
        chain = _error_name(revert) if not swapped else "swapped"
        # an arithmetic revert of the shared v3 ports carries no v4 name: any revert matches it
        ok = not swapped and (exc.error == chain or (exc.error == "" and chain != "swapped"))
        return ([] if ok else [f"python {exc.error or exc}, chain {chain}"]), 0, True, 0
    mine = [r.amount0, r.amount1, r.sqrt_price_x96, r.tick, r.liquidity]
    if not swapped:
        return [f"chain reverts {_error_name(revert)}, python {mine}"], 0, False, 0
    theirs = [a0, a1, sqrt_after, tick_after, liq_after]
    diff = max(abs(a0 - r.amount0), abs(a1 - r.amount1))
    problems = [] if theirs == mine else [f"chain {theirs} != python {mine}"]
    if c.limit == 0 and c.amount_specified != 0:  # the quotes agree with the swap
        c0, c1 = s.tokens
        t_in, t_out = (c0, c1) if c.zero_for_one else (c1, c0)
        amount = abs(c.amount_specified)
        try:
            if c.amount_specified < 0:
                q = s.quote_exact_in(t_in, t_out, amount)
                want = r.amount_out
            else:
                q = s.quote_exact_out(t_in, t_out, amount)
                want = r.amount_in
            if not r.filled or q != want:
                problems.append(f"quote {q} != {want} (filled={r.filled})")
        except InsufficientLiquidityError:
            if r.filled:
                problems.append("quote raises InsufficientLiquidityError on a filled swap")
    return problems, diff, False, r.ticks_crossed


def check(
    w3: Web3, states: dict[bytes, V4PoolState], cases: Sequence[Case], venue: str
) -> list[str]:
    problems = []
    for start in range(0, len(cases), 200):
        chunk = cases[start : start + 200]
        for c, o in zip(chunk, probe(w3, chunk), strict=True):
            found, diff, refused, crossed = compare(states[c.key.pool_id()], c, o)
            record(
                venue,
                exact_in=c.amount_specified < 0,
                wei_diff=diff,
                reverted=refused,
                ticks_crossed=crossed,
            )
            problems += [f"{c}: {p}" for p in found]
    return problems


# ---------------------------------------------------------------- pools with many positions


def _seed_many(w3: Web3, owner: str, rng: random.Random, key: PoolKey, sqrt_price: int) -> None:
    """A new pool with MANY_POSITIONS positions around the price, through the replica's seeder."""
    sp = key.tick_spacing
    here = get_sqrt_ratio_at_tick(0) and 0  # placeholder to keep mypy calm about unused
    del here

    tick = get_tick_at_sqrt_ratio(sqrt_price) // sp
    top = MAX_TICK // sp
    positions = []
    for i in range(MANY_POSITIONS):
        reach = 30 if i % 2 else (3 if sp == 1 else 1) * 256
        lo = max(-top, min(top - 1, tick + rng.randint(-reach, reach)))
        hi = min(top, lo + rng.randint(1, reach))
        positions.append((lo * sp, hi * sp, rng.randint(10**15, 10**21)))
    for c in (key.currency0, key.currency1):
        if c != A.NATIVE_ETH:
            deal(w3, c, owner, 2**200)
            erc20 = w3.eth.contract(
                address=to_checksum_address(c), abi=contract("ReplicaERC20").abi
            )
            send(
                w3,
                {
                    "from": owner,
                    "to": c,
                    "data": erc20.encode_abi("approve", [V4.SEEDER, 2**256 - 1]),
                },
                "approve",
            )
    seeder = w3.eth.contract(address=V4.SEEDER, abi=contract("V4LiquiditySeeder").abi)
    data = seeder.encode_abi("seed", [key.as_tuple(), sqrt_price, positions])
    w3.provider.make_request("anvil_setBalance", [owner, hex(10**30)])  # type: ignore[arg-type]
    send(w3, {"from": owner, "to": V4.SEEDER, "data": data, "value": 10**29}, "seed many positions")


@dataclass(frozen=True, slots=True)
class Pools:
    every: list[PoolKey]
    many: list[PoolKey]  # created here with MANY_POSITIONS positions
    protocol_fee: PoolKey  # a replica pool given a protocol fee here


@pytest.fixture(scope="module")
def v4_pools(session_w3: Web3, owner: str) -> Iterator[Pools]:
    w3 = session_w3
    with snapshot(w3):
        rng = random.Random(SEED)
        every = discover(w3)
        assert len(every) == len(load_spec().pools_of(V4PoolSpec))
        states = read_states(w3, every)
        many = []
        for fee, spacing in ((500, 10), (3000, 60), (100, 1), (7777, 77)):
            base = rng.choice([k for k in every if k.currency0 == A.NATIVE_ETH])
            key = replace(base, fee=fee + 1, tick_spacing=spacing)  # a new pool of that pair
            _seed_many(w3, owner, rng, key, states[base.pool_id()].sqrt_price_x96)
            many.append(key)
        pf = every[0]
        manager = w3.eth.contract(
            address=A.UNISWAP_V4_POOL_MANAGER, abi=V4.foundry_artifact(V4.POOL_MANAGER).abi
        )
        pm_owner = manager.functions.owner().call()
        with impersonating(w3, pm_owner, eth=10**18):
            data = manager.encode_abi("setProtocolFeeController", [owner])
            send(w3, {"from": pm_owner, "to": manager.address, "data": data}, "controller")
        fee = 1000 | (400 << 12)  # 0.1% selling token0, 0.04% selling token1
        data = manager.encode_abi("setProtocolFee", [pf.as_tuple(), fee])
        send(w3, {"from": owner, "to": manager.address, "data": data}, "setProtocolFee")
        yield Pools(every=every + many, many=many, protocol_fee=pf)


class TestPoolManagerParity:
    """Seeded random swaps on every v4 pool of the replica, and on pools with many positions:
    Python's Pool.swap equals the PoolManager's deltas, price, tick and liquidity; reverts match
    by custom error."""

    CASES_PER_POOL = 16
    CASES_PER_MANY_POOL = 120

    def test_random_swaps_match_to_the_wei(self, v4_pools: Pools, w3: Web3) -> None:
        rng = random.Random(SEED + 1)
        many = {k.pool_id() for k in v4_pools.many}
        states = read_states(w3, v4_pools.every)
        pf = states[v4_pools.protocol_fee.pool_id()]
        assert pf.protocol_fee == 1000 | (400 << 12) and pf.swap_fee(True) > pf.lp_fee
        cases = []
        for k in v4_pools.every:
            pid = k.pool_id()
            n = self.CASES_PER_MANY_POOL if pid in many else self.CASES_PER_POOL
            walks = 2 if pid in many or k.tick_spacing >= 60 else 0
            if walks:
                states.update(read_states(w3, [k], full=True))
            cases += make_cases(rng, states[pid], n, walks)
        _complete(w3, states, cases)
        problems = check(w3, states, cases, "uniswap_v4")
        assert len(cases) >= 1000
        assert not problems, f"{len(problems)} of {len(cases)} differ:\n" + "\n".join(problems[:8])
