"""Hypothesis strategies for calls at the diamond: routes over the replica's real pools (honest,
mutated, shuffled, non-cyclic, or plain random bytes), amounts from 0 through dust to 2^256 - 1,
capital sources of every kind, bribes up to and past the owner's cap, callbacks with forged
data, and the treasury and guard functions, from every kind of caller."""

from __future__ import annotations

from typing import Any

from eth_utils import function_signature_to_4byte_selector
from hypothesis import strategies as st

from flasharb.kinds import HopKind
from flasharb.search.graph import v2_factory
from flasharb.state.registry import PoolInfo
from tests.audit.fuzz_support import (
    MAX_BRIBE_BPS,
    SIGNATURES,
    Case,
    Cycle,
    World,
    calldata,
    honest_outs,
)

ROLES = (
    "owner",
    "executor",
    "stranger",
    "vault",
    "v3_pool",
    "v2_pair",
    "balancer_pool",
    "pool_manager",
)
ZERO = "0x" + "00" * 20
FAR_BLOCK = 2**40

U128 = 2**128 - 1
U256 = 2**256 - 1
BPS = 10_000
SELECTORS = {function_signature_to_4byte_selector(sig): fn for fn, sig in SIGNATURES.items()}


def _raw(address: str) -> bytes:
    return bytes.fromhex(address[2:])


def uints(bits: int = 256) -> st.SearchStrategy[int]:
    """0, 1, dust, log-uniform sizes, and the edges (2^112 - 1, 2^112, 2^bits - 1)."""
    top = 2**bits - 1
    edges = [v for v in (0, 1, 2**112 - 1, 2**112, 2**128 - 1, top) if v <= top]
    return st.one_of(
        st.sampled_from(edges),
        st.integers(2, 1000),
        st.integers(0, len(str(top)) - 2).flatmap(lambda e: st.integers(10**e, 10 ** (e + 1))),
        st.integers(0, top),
    )


def amounts_of(token_decimals: int) -> st.SearchStrategy[int]:
    """An input size for a route token: dust to far beyond any pool's depth."""
    return st.one_of(
        st.integers(1, 1000),
        st.integers(0, token_decimals + 7).flatmap(lambda e: st.integers(10**e, 10 ** (e + 1))),
        st.just(2**112 - 1),
    )


def addresses(world: World) -> st.SearchStrategy[str]:
    every = [p.address for p in world.pools] + world.tokens + list(world.callers.values())
    return st.one_of(
        st.sampled_from(sorted(set(every)) + [world.diamond, ZERO]),
        st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex()),
    )


def _hop(pool: PoolInfo, kind: int, token_out: str, fee: int | None = None) -> bytes:
    if kind == 0:  # the facet derives the pair from the factory index and the two tokens
        factory = max(v2_factory(pool.venue), 0) if pool.kind is HopKind.UNISWAP_V2 else 0
        return b"\x00" + bytes((factory if fee is None else fee & 0xFF,)) + _raw(token_out)
    if kind == 1:
        tier = (pool.fee if fee is None else fee) & 0xFFFFFF  # a Balancer fee is 1e18-scaled
        return b"\x01" + _raw(token_out) + tier.to_bytes(3, "big")
    return b"\x02" + (pool.pool_id or pool.address.encode()[:32].ljust(32, b"\0")) + _raw(token_out)


@st.composite
def any_hop(draw: Any, world: World) -> tuple[bytes, str]:
    """A hop through a real pool, its kind usually right, its token out any token (a V2 hop's
    factory byte, like a V3 hop's fee, sometimes anything)."""
    pool = draw(st.sampled_from(world.pools))
    kind = draw(st.one_of(st.just(int(pool.kind)), st.integers(0, 2)))
    token_out = draw(st.one_of(st.sampled_from(pool.tokens), st.sampled_from(world.tokens)))
    fee = draw(st.one_of(st.none(), st.sampled_from([100, 500, 3000, 10000, 0, 2**24 - 1])))
    return _hop(pool, kind, token_out, fee), pool.address


@st.composite
def source_word(draw: Any, world: World, token: str, on_route: set[str]) -> tuple[int, str]:
    """executeArb's capital source: kind << 248 | V2 factory index << 192 | lender fee << 160 |
    the lender's other token (the facet derives the lender); usually a well-formed one for
    `token`, sometimes with the lender's own address where the other token goes (the old
    word), sometimes any word."""
    kind = draw(st.one_of(st.sampled_from([0, 0, 1, 2, 3, 3, 4, 4]), st.integers(0, 255)))
    lenders = [p for p in world.pools if token in p.tokens and p.address not in on_route]
    want = {1: HopKind.UNISWAP_V3, 2: HopKind.UNISWAP_V2}.get(kind)
    fitting = [p for p in lenders if p.kind is want] or world.pools
    lender = draw(st.sampled_from(fitting))
    other = next((t for t in lender.tokens if t != token), lender.tokens[0])
    named = draw(st.sampled_from([other, other, other, lender.address]))
    factory = draw(st.one_of(st.just(max(v2_factory(lender.venue), 0)), st.integers(0, 255)))
    fee = draw(st.one_of(st.just(lender.fee & 0xFFFFFF), st.just(3000), st.integers(0, 2**24 - 1)))
    word = kind << 248 | (factory if kind == 2 else 0) << 192 | fee << 160 | int(named, 16)
    if kind == 4:  # a V4 loan: the kind, and the native bit (ETH for a WETH route) or not
        word = 4 << 248 | draw(st.sampled_from([0, 0, 1 << 160, fee << 160]))
    if draw(st.integers(0, 9)) == 0:
        word = draw(uints())
    return word, lender.address


def _pack(values: list[int]) -> bytes:
    return b"".join((v & U128).to_bytes(16, "big") for v in values)


@st.composite
def route(draw: Any, world: World) -> tuple[str, bytes, bytes, list[str]]:
    """(route token, path, amounts, pools named): honest, mutated, shuffled or random."""
    shape = draw(st.sampled_from(["honest", "honest", "mutated", "mutated", "hops", "bytes"]))
    if shape in ("honest", "mutated"):
        cyc: Cycle = draw(st.sampled_from(world.cycles))
        dec = world.decimals.get(cyc.token, 18)
        amount_in = draw(amounts_of(dec))
        outs = honest_outs(world, cyc, amount_in) or draw(
            st.lists(uints(128), min_size=len(cyc.hops), max_size=len(cyc.hops))
        )
        if shape == "mutated":
            i = draw(st.integers(0, len(outs)))
            op = draw(st.sampled_from(["+1", "-1", "x2", "/2", "zero", "max"]))
            values = [amount_in, *outs]
            v = values[i]
            values[i] = {"+1": v + 1, "-1": max(v - 1, 0), "x2": v * 2, "/2": v // 2}.get(
                op, 0 if op == "zero" else U128
            )
            amount_in, outs = values[0], values[1:]
        path = _raw(cyc.token) + b"".join(_hop(p, int(p.kind), t_out) for p, _, t_out in cyc.hops)
        return cyc.token, path, _pack([amount_in, *outs]), [p.address for p, _, _ in cyc.hops]
    token = draw(st.sampled_from(world.tokens))
    if shape == "hops":  # real hops in any order: usually not a cycle, sometimes one
        hops = draw(st.lists(any_hop(world), min_size=0, max_size=5))
        path = _raw(token) + b"".join(h for h, _ in hops)
        n = draw(st.one_of(st.just(len(hops)), st.integers(0, 6)))
        amounts = _pack(draw(st.lists(uints(128), min_size=n + 1, max_size=n + 1)))
        return token, path, amounts, [p for _, p in hops]
    path = draw(
        st.one_of(st.binary(max_size=220), st.binary(max_size=40).map(lambda b: _raw(token) + b))
    )
    return token, path, draw(st.binary(max_size=100)), []


@st.composite
def profitable_arb(draw: Any, world: World) -> Case:
    """An honest, profitable executeArb from the owner or the executor, with a well-formed
    capital source, then at most one thing made wrong: the amounts, the source, the caller,
    the deadline or minProfit."""
    cyc, amount_in = draw(st.sampled_from(world.profitable))
    outs = honest_outs(world, cyc, amount_in) or []
    pools = {p.address for p, _, _ in cyc.hops}
    has_balancer = any(p.kind is HopKind.BALANCER for p, _, _ in cyc.hops)
    lenders = [
        p
        for p in world.pools
        if cyc.token in p.tokens
        and p.address not in pools
        and p.kind in (HopKind.UNISWAP_V2, HopKind.UNISWAP_V3)
        and len(p.tokens) == 2
    ]
    options = [3, 4] + ([] if has_balancer else [0, 0]) + ([1, 2] if lenders else [])
    kind = draw(st.sampled_from(options))
    want = {1: HopKind.UNISWAP_V3, 2: HopKind.UNISWAP_V2}.get(kind)
    fitting = [p for p in lenders if p.kind is want]
    lender = draw(st.sampled_from(fitting)) if fitting else None
    source = kind << 248
    if lender is not None:
        other = next(t for t in lender.tokens if t != cyc.token)
        factory = max(v2_factory(lender.venue), 0) if kind == 2 else 0
        source |= factory << 192 | (lender.fee & 0xFFFFFF) << 160 | int(other, 16)
    profit = outs[-1] - amount_in
    min_profit = draw(st.sampled_from([0, 1, profit // 2, profit, profit + 1]))
    bribe = draw(st.sampled_from([0, 0, 1, 2_500, MAX_BRIBE_BPS]))  # bps of the profit
    caller, deadline = draw(st.sampled_from(["owner", "executor"])), FAR_BLOCK
    values = [amount_in, *outs]
    wrong = draw(
        st.sampled_from(["none", "none", "amounts", "source", "caller", "deadline", "bribe"])
    )
    if wrong == "amounts":
        i = draw(st.integers(0, len(values) - 1))
        values[i] = draw(st.one_of(st.sampled_from([values[i] + 1, values[i] - 1, 0]), uints(128)))
    elif wrong == "source":
        source = draw(source_word(world, cyc.token, pools))[0]
    elif wrong == "caller":
        caller = draw(st.sampled_from(ROLES))
    elif wrong == "deadline":
        deadline = draw(st.sampled_from([0, 1, U256]))
    elif wrong == "bribe":
        bribe = draw(st.sampled_from([MAX_BRIBE_BPS + 1, BPS, BPS + 1, 2**16 - 1]))
    path = _raw(cyc.token) + b"".join(_hop(p, int(p.kind), t) for p, _, t in cyc.hops)
    terms = bribe << 240 | deadline if deadline < 2**240 else deadline
    data = calldata("executeArb", [source, path, _pack(values), min_profit, terms])
    named = (*pools, cyc.token, *(() if lender is None else (lender.address,)))
    return Case("executeArb", caller, data, named)


@st.composite
def execute_arb(draw: Any, world: World) -> Case:
    token, path, amounts, pools = draw(route(world))
    source, lender = draw(source_word(world, token, set(pools)))
    min_profit = draw(st.one_of(st.just(0), st.just(1), uints()))
    deadline = draw(st.sampled_from([FAR_BLOCK, FAR_BLOCK, 0, 1, U256]))
    bribe = draw(st.sampled_from([0, 0, 0, 1, MAX_BRIBE_BPS, MAX_BRIBE_BPS + 1, 2**16 - 1]))
    terms = bribe << 240 | deadline if deadline < 2**240 else deadline
    caller = draw(st.one_of(st.sampled_from(["owner", "executor"]), st.sampled_from(ROLES)))
    data = calldata("executeArb", [source, path, amounts, min_profit, terms])
    return Case("executeArb", caller, data, (*pools, lender, token))


@st.composite
def callback(draw: Any, world: World) -> Case:
    """A loan or swap callback nobody asked for, from anyone, often from the very contract
    that would make it for real, with data that is often an honest route's loan data."""
    fn = draw(
        st.sampled_from(
            sorted(
                (
                    "receiveFlashLoan",
                    "uniswapV3SwapCallback",
                    "uniswapV3FlashCallback",
                    "uniswapV2Call",
                    "unlockCallback",
                )
            )
        )
    )
    token, path, amounts, pools = draw(route(world))
    source, lender = draw(source_word(world, token, set(pools)))
    loan = source.to_bytes(32, "big") + len(path).to_bytes(32, "big") + path + amounts
    data = draw(st.one_of(st.just(loan), st.binary(max_size=200)))
    caller = draw(st.sampled_from(ROLES))
    if fn == "receiveFlashLoan":
        n = draw(st.integers(0, 3))
        args: list[Any] = [
            draw(st.lists(st.sampled_from(world.tokens), min_size=n, max_size=n)),
            draw(st.lists(uints(), min_size=n, max_size=n)),
            draw(st.lists(uints(), min_size=n, max_size=n)),
            data,
        ]
    elif fn == "uniswapV3SwapCallback":
        signed = st.integers(-(2**255), 2**255 - 1) | st.integers(-(10**24), 10**24)
        args = [draw(signed), draw(signed), data]
    elif fn == "uniswapV3FlashCallback":
        args = [draw(uints()), draw(uints()), data]
    elif fn == "unlockCallback":
        args = [data]
    else:
        sender = draw(st.one_of(st.just(world.diamond), addresses(world)))
        args = [sender, draw(uints()), draw(uints()), data]
    return Case(fn, caller, calldata(fn, args), (*pools, lender, token))


@st.composite
def admin(draw: Any, world: World) -> Case:
    """Treasury and guard functions, from the owner half the time."""
    fn = draw(
        st.sampled_from(
            [
                "withdraw",
                "withdraw",
                "withdrawEth",
                "distribute",
                "setBeneficiaries",
                "setExecutor",
                "setPaused",
                "setNotionalCap",
                "setMaxBribeBps",
                "setMinProfit",
            ]
        )
    )
    caller = draw(st.one_of(st.just("owner"), st.sampled_from(ROLES)))
    token = draw(st.one_of(st.sampled_from(world.tokens), addresses(world)))
    if fn == "withdraw":
        held = world.baseline.get(token, 0)
        amount = draw(st.one_of(st.sampled_from([held - 1, held, held + 1, U256, 0]), uints()))
        args: list[Any] = [token, draw(addresses(world)), max(amount, 0)]
    elif fn == "withdrawEth":
        held = world.baseline.get("ETH", 0)
        amount = draw(st.one_of(st.sampled_from([held - 1, held, held + 1, U256, 0]), uints()))
        args = [draw(addresses(world)), max(amount, 0)]
    elif fn == "setMaxBribeBps":
        args = [draw(st.one_of(st.sampled_from([0, 1, BPS, BPS + 1]), st.integers(0, 2**16 - 1)))]
    elif fn == "distribute":
        args = [token]
    elif fn == "setBeneficiaries":
        n = draw(st.integers(0, 3))
        args = [
            draw(st.lists(addresses(world), min_size=n, max_size=n)),
            draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n)),
        ]
    elif fn == "setExecutor":
        args = [draw(addresses(world)), draw(st.booleans())]
    elif fn == "setPaused":
        args = [draw(st.booleans())]
    else:
        args = [token, draw(uints())]
    return Case(fn, caller, calldata(fn, args), (token,))


@st.composite
def raw_call(draw: Any, world: World) -> Case:
    """Any selector (a known one with garbage arguments, or random) and any bytes; a known
    selector is checked as its function."""
    selector = draw(
        st.one_of(st.sampled_from(sorted(SELECTORS)), st.binary(min_size=4, max_size=4))
    )
    body = draw(st.binary(max_size=160))
    return Case(SELECTORS.get(selector, "raw"), draw(st.sampled_from(ROLES)), selector + body, ())


def cases(world: World) -> st.SearchStrategy[Case]:
    """Any call at the diamond; executeArb most often."""
    return st.one_of(
        profitable_arb(world),
        execute_arb(world),
        profitable_arb(world),
        execute_arb(world),
        callback(world),
        admin(world),
        raw_call(world),
    )
