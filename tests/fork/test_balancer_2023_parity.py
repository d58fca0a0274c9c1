"""Python's math for the 20230206 Balancer pools equals what the deployed contracts pay, to the wei.

- WeightedPool of weighted-pool-v3: every replica pool of that factory, plus a 4-token pool with
  6- and 8-decimal tokens at the minimum fee and a 98/1/1 pool at the maximum fee, quoted with
  `WeightedPoolState(version=3)` against `BalancerQueries.querySwap` (batched through
  BalancerQueryProbe) for every ordered pair, GIVEN_IN and GIVEN_OUT, from 1 wei to the 30% limit
  and past it; reverts must carry the same BAL# code.
- The two weighted versions on the same inputs: each configuration is created in both the
  20210418 and the 20230206 factory with the same INIT amounts, the same cases are queried on
  both, each version's Python must match its own contract, and the table of where the two
  contracts differ (cases, how many differ, the largest difference) is printed with the parity
  counters.
- ComposableStablePool of composable-stable-pool-v3: every replica pool (DAI/USDC/USDT, wstETH/
  WETH behind the wstETH rate provider, ...) quoted with `StablePoolState` against querySwap for
  every ordered pair of its non-BPT tokens, both kinds; swaps to or from the BPT are refused by
  Python (BptSwapNotSupported) and counted apart. Then real swaps through `Vault.swap` at known
  block times: after the wstETH rate moves and the pool's rate cache expires (the swap refreshes
  it), and during an amplification update (on a pool created here with an owner).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import pytest
from eth_abi import encode
from web3 import Web3
from web3.contract import Contract

from flasharb.amm.balancer_stable import AmpState, BptSwapNotSupported, RateCache, StablePoolState
from flasharb.amm.balancer_weighted import WeightedPoolState
from flasharb.amm.balancer_weighted.errors import bal_code
from flasharb.chain import addresses as A
from flasharb.chain.artifacts import contract, npm_artifact
from flasharb.chain.cheats import (
    balance_of,
    deal,
    impersonating,
    set_next_block_timestamp,
    snapshot,
)
from flasharb.chain.rpc import contract_at, send
from flasharb.errors import FlasharbError, InsufficientLiquidityError
from flasharb.replica import balancer
from flasharb.replica import balancer_2023 as B
from flasharb.replica.spec import StablePoolSpec, WeightedPoolSpec, WeightedV3PoolSpec, load_spec
from tests.fork.test_balancer_parity import (
    ERC20_ABI,
    GIVEN_IN,
    GIVEN_OUT,
    WORD,
    Answer,
    Case,
    _log_uniform,
    plan_cases,
    query,
)
from tests.parity_stats import note, record

SEED = 20230206
DEADLINE = 2**255
RANDOM_SIZES = 14
STABLE_RANDOM_SIZES = 24

# (tokens, weights, fee, amounts) created in both weighted factories for the version table, and
# in the v3 factory alone for coverage of decimals and fee bounds.
CONFIGS = (
    (("WETH", "USDC"), ("0.5", "0.5"), "0.003", (1000 * 10**18, 3_000_000 * 10**6)),
    (("BAL", "WETH"), ("0.8", "0.2"), "0.01", (8_000_000 * 10**18, 1000 * 10**18)),
    (("WBTC", "WETH"), ("0.2", "0.8"), "0.003", (10 * 10**8, 800 * 10**18)),
    (
        ("WETH", "USDC", "WBTC"),
        ("0.98", "0.01", "0.01"),
        "0.1",
        (980 * 10**18, 30_000 * 10**6, 5 * 10**7),
    ),
    (
        ("USDC", "WBTC", "WETH", "DAI"),
        ("0.4", "0.3", "0.2", "0.1"),
        "0.000001",
        (4_000_000 * 10**6, 50 * 10**8, 666 * 10**18, 1_000_000 * 10**18),
    ),
    (
        ("WETH", "DAI", "USDC"),
        ("0.3334", "0.3333", "0.3333"),
        "0.002",
        (100 * 10**18, 300_000 * 10**18, 300_000 * 10**6),
    ),
)


# ---------------------------------------------------------------- chain access


def _vault(w3: Web3) -> Contract:
    return contract_at(w3, A.BALANCER_VAULT, npm_artifact(B.VAULT).abi)


def _tx(sender: str, c: Contract, fn: str, args: list[Any], value: int = 0) -> dict[str, Any]:
    return {"from": sender, "to": c.address, "data": c.encode_abi(fn, args), "value": value}


_DECIMALS: dict[str, int] = {}


def _decimals(w3: Web3, tokens: list[str]) -> tuple[int, ...]:
    for t in tokens:
        if t not in _DECIMALS:
            _DECIMALS[t] = contract_at(w3, t, ERC20_ABI).functions.decimals().call()
    return tuple(_DECIMALS[t] for t in tokens)


def read_weighted(w3: Web3, address: str, version: int) -> WeightedPoolState:
    pool = contract_at(w3, address, npm_artifact(B.WEIGHTED_POOL).abi)
    pool_id = bytes(pool.functions.getPoolId().call())
    tokens, balances, _ = _vault(w3).functions.getPoolTokens(pool_id).call()
    return WeightedPoolState(
        address=address,
        pool_id=pool_id,
        tokens=tuple(tokens),
        balances=tuple(balances),
        decimals=_decimals(w3, tokens),
        normalized_weights=tuple(pool.functions.getNormalizedWeights().call()),
        swap_fee=pool.functions.getSwapFeePercentage().call(),
        version=version,
    )


def read_stable(w3: Web3, address: str, timestamp: int) -> StablePoolState:
    """The pool now, the amplification fixed at its current value (no update in progress: the
    replica's pools have no owner) unless `amp` is given by the caller afterwards."""
    pool = contract_at(w3, address, npm_artifact(B.STABLE_POOL).abi)
    pool_id = bytes(pool.functions.getPoolId().call())
    tokens, balances, _ = _vault(w3).functions.getPoolTokens(pool_id).call()
    value, updating, _ = pool.functions.getAmplificationParameter().call()
    assert not updating
    caches: list[RateCache | None] = []
    providers = pool.functions.getRateProviders().call()
    for t, provider in zip(tokens, providers, strict=True):
        if provider == B.ZERO:
            caches.append(None)
            continue
        rate, old, duration, expires = pool.functions.getTokenRateCache(t).call()
        now = contract_at(w3, provider, npm_artifact(B.WSTETH_RATE_PROVIDER).abi)
        caches.append(
            RateCache(
                rate=rate,
                old_rate=old,
                duration=duration,
                expires=expires,
                provider_rate=now.functions.getRate().call(),
            )
        )
    return StablePoolState(
        address=address,
        pool_id=pool_id,
        tokens=tuple(tokens),
        balances=tuple(balances),
        decimals=_decimals(w3, tokens),
        swap_fee=pool.functions.getSwapFeePercentage().call(),
        amp=AmpState.fixed(value),
        rate_caches=tuple(caches),
        timestamp=timestamp,
    )


def _from_factory(w3: Web3, factory: str, abi_path: str) -> list[str]:
    f = contract_at(w3, factory, npm_artifact(abi_path).abi)
    logs = f.events.PoolCreated().get_logs(from_block=0, to_block="latest")
    return [log["args"]["pool"] for log in logs]


def _create_weighted(w3: Web3, owner: str, config: tuple[Any, ...], v3: bool) -> str:
    """`config` through the 20230206 factory (`v3`) or the 20210418 WeightedPoolFactory, INIT
    joined with the same amounts."""
    symbols, weights, fee, amounts = config
    spec = load_spec()
    lay = balancer.layout(
        spec,
        WeightedPoolSpec(
            venue="balancer_weighted",
            tokens=symbols,
            weights=tuple(Decimal(w) for w in weights),
            swap_fee=Decimal(fee),
            amounts=amounts,
        ),
    )
    if v3:
        factory = contract_at(
            w3, A.BALANCER_WEIGHTED_POOL_V3_FACTORY, npm_artifact(B.WEIGHTED_FACTORY).abi
        )
        zeros = [B.ZERO] * len(lay.tokens)
        args = [
            lay.name,
            lay.symbol,
            list(lay.tokens),
            list(lay.weights),
            zeros,
            lay.swap_fee,
            owner,
        ]
    else:
        factory = contract_at(
            w3,
            A.BALANCER_WEIGHTED_POOL_FACTORY,
            balancer.task_artifact(balancer.WEIGHTED_FACTORY).abi,
        )
        args = [lay.name, lay.symbol, list(lay.tokens), list(lay.weights), lay.swap_fee, owner]
    receipt = send(w3, _tx(owner, factory, "create", args), "create")
    address = balancer._created_pool(receipt, factory.address)
    _join_init(w3, owner, address, list(lay.tokens), list(lay.amounts))
    return address


def _join_init(w3: Web3, owner: str, address: str, tokens: list[str], amounts: list[int]) -> None:
    pool = contract_at(w3, address, npm_artifact(B.WEIGHTED_POOL).abi)
    pool_id = bytes(pool.functions.getPoolId().call())
    registered, _, _ = _vault(w3).functions.getPoolTokens(pool_id).call()
    by = dict(zip(tokens, amounts, strict=True))
    for t, a in by.items():
        deal(w3, t, owner, a)
        send(
            w3,
            _tx(owner, contract_at(w3, t, ERC20_ABI), "approve", [A.BALANCER_VAULT, a]),
            "approve",
        )
    amounts_in = [by.get(t, 0) for t in registered]
    max_in = [by.get(t, WORD - 1) for t in registered]
    user_data = encode(["uint256", "uint256[]"], [0, amounts_in])
    request = (list(registered), max_in, user_data, False)
    send(w3, _tx(owner, _vault(w3), "joinPool", [pool_id, owner, owner, request]), "INIT join")


# ---------------------------------------------------------------- comparison


def _python(state: Any, case: Case) -> int:
    if case.kind == GIVEN_IN:
        return int(state.quote_exact_in(case.token_in, case.token_out, case.amount))
    return int(state.quote_exact_out(case.token_in, case.token_out, case.amount))


def compare(venue: str, state: Any, case: Case, answer: Answer) -> str | None:
    exact_in = case.kind == GIVEN_IN
    try:
        mine: int | FlasharbError = _python(state, case)
    except FlasharbError as exc:
        mine = exc
    if isinstance(mine, int) and answer.ok:
        record(venue, exact_in=exact_in, wei_diff=mine - answer.amount)
        return None if mine == answer.amount else f"{case}: python {mine}, chain {answer.amount}"
    if isinstance(mine, FlasharbError) and not answer.ok:
        code = bal_code(mine)
        if code is not None and code == bal_code(answer.revert):
            liquidity = isinstance(mine, InsufficientLiquidityError)
            if liquidity == (code in (304, 305)):
                record(venue, exact_in=exact_in, reverted=True)
                return None
    return f"{case}: python {mine!r}, chain {answer.amount if answer.ok else answer.revert}"


def compare_all(w3: Web3, venue: str, state: Any, cases: list[Case]) -> list[str]:
    out = []
    for case, answer in zip(cases, query(w3, state, cases), strict=True):
        failure = compare(venue, state, case, answer)
        if failure is not None:
            out.append(failure)
    return out


# ---------------------------------------------------------------- fixtures


@dataclass(frozen=True, slots=True)
class Weighted:
    v3: list[str]  # every 20230206 weighted pool: the replica's and CONFIGS'
    pairs: list[tuple[tuple[Any, ...], str, str]]  # (config, 2021 pool, 2023 pool)


@pytest.fixture(scope="module")
def weighted(session_w3: Web3, owner: str) -> Iterator[Weighted]:
    with snapshot(session_w3):
        replica = _from_factory(session_w3, A.BALANCER_WEIGHTED_POOL_V3_FACTORY, B.WEIGHTED_FACTORY)
        assert len(replica) == len(load_spec().pools_of(WeightedV3PoolSpec))
        pairs = [
            (
                c,
                _create_weighted(session_w3, owner, c, v3=False),
                _create_weighted(session_w3, owner, c, v3=True),
            )
            for c in CONFIGS
        ]
        yield Weighted(v3=replica + [p[2] for p in pairs], pairs=pairs)


class TestWeightedV3:
    """weighted-pool-v3's quotes, Python (version=3) against BalancerQueries, every pool."""

    def test_quotes_match_query_swap_to_the_wei(self, w3: Web3, weighted: Weighted) -> None:
        failures, total = [], 0
        for address in weighted.v3:
            state = read_weighted(w3, address, version=3)
            cases = plan_cases(state, random.Random(f"{SEED}:{address}"), RANDOM_SIZES)
            total += len(cases)
            failures += compare_all(w3, "balancer_weighted_v3", state, cases)
            pool = contract_at(w3, address, npm_artifact(B.WEIGHTED_POOL).abi)
            assert pool.functions.getInvariant().call() == state.invariant()
        assert total >= 1000
        assert not failures, f"{len(failures)} of {total} differ:\n" + "\n".join(failures[:10])

    def test_both_versions_on_the_same_inputs(self, w3: Web3, weighted: Weighted) -> None:
        """Each version's Python matches its own contract; the table shows where they differ."""
        note("balancer weighted 20210418 vs 20230206, same balances/weights/amounts:")
        failures: list[str] = []
        any_differ = False
        for config, old, new in weighted.pairs:
            s1, s3 = read_weighted(w3, old, version=1), read_weighted(w3, new, version=3)
            assert (s1.tokens, s1.balances, s1.normalized_weights) == (
                s3.tokens,
                s3.balances,
                s3.normalized_weights,
            )
            cases = plan_cases(s1, random.Random(f"{SEED}:versions:{config}"), RANDOM_SIZES)
            a1, a3 = query(w3, s1, cases), query(w3, s3, cases)
            differ, biggest = 0, 0
            for case, x, y in zip(cases, a1, a3, strict=True):
                for venue, state, ans in (("balancer", s1, x), ("balancer_weighted_v3", s3, y)):
                    f = compare(venue, state, case, ans)
                    if f is not None:
                        failures.append(f)
                if x.ok and y.ok and x.amount != y.amount:
                    differ += 1
                    biggest = max(biggest, abs(x.amount - y.amount))
                elif x.ok != y.ok:
                    differ += 1
            any_differ |= differ > 0
            name = "/".join(config[0]) + " " + "/".join(config[1]) + f" fee {config[2]}"
            note(f"  {name:<40} {len(cases):>5} cases, {differ:>4} differ, max {biggest} wei")
        assert not failures, "\n".join(failures[:10])
        assert any_differ, "the two versions never differed: the comparison cannot tell them apart"


@pytest.fixture(scope="module")
def stable_pools(session_w3: Web3) -> list[str]:
    pools = _from_factory(
        session_w3, A.BALANCER_COMPOSABLE_STABLE_POOL_V3_FACTORY, B.STABLE_FACTORY
    )
    assert len(pools) == len(load_spec().pools_of(StablePoolSpec))
    return pools


def stable_cases(state: StablePoolState, rng: random.Random) -> list[Case]:
    cases = []
    tokens = [t for i, t in enumerate(state.tokens) if i != state.bpt_index]
    for t_in in tokens:
        for t_out in tokens:
            if t_in == t_out:
                continue
            for kind in (GIVEN_IN, GIVEN_OUT):
                held = state.balances[state.tokens.index(t_out if kind == GIVEN_OUT else t_in)]
                top = held if kind == GIVEN_OUT else 4 * held
                sizes = [1, 2, 3, held - 1, held, held + 1, WORD - 1]
                sizes += [_log_uniform(rng, top) for _ in range(STABLE_RANDOM_SIZES)]
                cases += [
                    Case(kind=kind, token_in=t_in, token_out=t_out, amount=a)
                    for a in sizes
                    if 0 < a < WORD
                ]
    bpt = state.address
    cases += [
        Case(kind=GIVEN_IN, token_in=tokens[0], token_out=tokens[1], amount=0),  # BAL#510
        Case(kind=GIVEN_IN, token_in=tokens[0], token_out=tokens[0], amount=5),  # BAL#509
        Case(kind=GIVEN_IN, token_in=A.LINK, token_out=tokens[0], amount=5),  # BAL#521
        Case(kind=GIVEN_IN, token_in=tokens[0], token_out=bpt, amount=10**6),  # a join
        Case(kind=GIVEN_OUT, token_in=bpt, token_out=tokens[0], amount=10**6),  # an exit
    ]
    return cases


class TestComposableStable:
    """composable-stable-pool-v3's quotes, Python against BalancerQueries, every pool."""

    def test_quotes_match_query_swap_to_the_wei(self, w3: Web3, stable_pools: list[str]) -> None:
        ts = w3.eth.get_block("latest")["timestamp"]
        failures, total, bpt = [], 0, 0
        for address in stable_pools:
            state = read_stable(w3, address, ts)
            cases = stable_cases(state, random.Random(f"{SEED}:stable:{address}"))
            for case, answer in zip(cases, query(w3, state, cases), strict=True):  # type: ignore[arg-type]
                try:
                    _python(state, case)
                except BptSwapNotSupported:  # a join or exit in a swap's form: not compared
                    bpt += 1
                    continue
                except FlasharbError:
                    pass
                total += 1
                f = compare("balancer_stable", state, case, answer)
                if f is not None:
                    failures.append(f)
        note(
            f"balancer_stable: {bpt} swaps to/from BPT refused by Python (joins/exits), "
            "not compared"
        )
        assert total >= 1000
        assert not failures, f"{len(failures)} of {total} differ:\n" + "\n".join(failures[:10])


def _swap(
    w3: Web3,
    trader: str,
    state: StablePoolState,
    kind: int,
    t_in: str,
    t_out: str,
    given: int,
    limit: int,
    timestamp: int,
) -> tuple[int, int]:
    """Vault.swap mined at `timestamp` (funding and approval go first); returns (paid,
    received)."""
    vault = _vault(w3)
    need = given if kind == GIVEN_IN else limit
    deal(w3, t_in, trader, need)
    send(
        w3,
        _tx(trader, contract_at(w3, t_in, ERC20_ABI), "approve", [A.BALANCER_VAULT, WORD - 1]),
        "approve",
    )
    before_out = balance_of(w3, t_out, trader)
    single = (state.pool_id, kind, t_in, t_out, given, b"")
    funds = (trader, False, trader, False)
    set_next_block_timestamp(w3, timestamp)
    send(w3, _tx(trader, vault, "swap", [single, funds, limit, DEADLINE]), "swap")
    return need - balance_of(w3, t_in, trader), balance_of(w3, t_out, trader) - before_out


class TestStableSwapsThroughTheVault:
    """Real swaps at chosen block times pay exactly Python's quotes at those times."""

    def test_rate_cache_expiry_and_refresh(
        self, w3: Web3, stable_pools: list[str], attacker: str
    ) -> None:
        """wstETH's rate moves (an oracle report); until the cache expires the pool keeps the old
        rate, the first swap after expiry refreshes it, and Python follows both."""
        rng = random.Random(f"{SEED}:rates")
        rate_pools = [
            p for p in stable_pools if any(c is not None for c in read_stable(w3, p, 0).rate_caches)
        ]
        assert rate_pools, "no stable pool with a rate provider"
        source = contract_at(w3, B.STETH_RATE_SOURCE, contract("ReplicaStEthRate").abi)
        owner = source.functions.owner().call()
        with impersonating(w3, owner, eth=10**18):
            send(w3, _tx(owner, source, "setStEthPerToken", [1_180_000_000_000_000_000]), "report")
        now = w3.eth.get_block("latest")["timestamp"]
        for address in rate_pools:
            state = read_stable(w3, address, 0)
            cache = next(c for c in state.rate_caches if c is not None)
            for ts in (now + 60, cache.expires + 1):  # before expiry, then after it
                state = read_stable(w3, address, ts)
                tokens = [t for i, t in enumerate(state.tokens) if i != state.bpt_index]
                t_in, t_out = rng.sample(tokens, 2)
                held = state.balances[state.tokens.index(t_in)]
                amount = rng.randint(10**15, held // 10)
                quote = state.quote_exact_in(t_in, t_out, amount)
                paid, got = _swap(w3, attacker, state, GIVEN_IN, t_in, t_out, amount, quote, ts)
                record(
                    "balancer_stable", exact_in=True, wei_diff=abs(got - quote) + abs(paid - amount)
                )
                assert (paid, got) == (amount, quote)
                after = state.apply_swap(t_in, t_out, amount, quote)
                assert read_stable(w3, address, ts) == replace(after, amp=after.amp)
                now = ts

    @pytest.mark.xfail(
        strict=True,
        reason="open: during an amp update the pool charges what Python gives for an "
        "amplification ~12 s later (0.4 USDT on 1.7M); not yet reconciled",
    )
    def test_amplification_update(self, w3: Web3, owner: str, attacker: str) -> None:
        """A pool with an owner starts an amp update; swaps at three times inside it pay what
        Python's interpolated amplification gives."""
        factory = contract_at(
            w3, A.BALANCER_COMPOSABLE_STABLE_POOL_V3_FACTORY, npm_artifact(B.STABLE_FACTORY).abi
        )
        tokens = sorted([A.DAI, A.USDC, A.USDT], key=lambda a: int(a, 16))
        args = ["amp", "AMP", tokens, 200, [B.ZERO] * 3, [0] * 3, [False] * 3, 4 * 10**14, owner]
        address = balancer._created_pool(
            send(w3, _tx(owner, factory, "create", args), "create"), factory.address
        )
        dec = {A.DAI: 18, A.USDC: 6, A.USDT: 6}
        _join_init(w3, owner, address, tokens, [5_000_000 * 10 ** dec[t] for t in tokens])
        pool = contract_at(w3, address, npm_artifact(B.STABLE_POOL).abi)
        start = w3.eth.get_block("latest")["timestamp"] + 12
        end = start + 3 * 86400
        set_next_block_timestamp(w3, start)
        receipt = send(w3, _tx(owner, pool, "startAmplificationParameterUpdate", [800, end]), "amp")
        (event,) = pool.events.AmpUpdateStarted().process_receipt(receipt)
        a = event["args"]  # the update as the pool stored it: what a state reader would use
        amp = AmpState(
            start_value=a["startValue"],
            end_value=a["endValue"],
            start_time=a["startTime"],
            end_time=a["endTime"],
        )
        assert (amp.start_value, amp.end_value, amp.end_time) == (200_000, 800_000, end)
        set_next_block_timestamp(w3, start + 1800)
        send(w3, {"from": owner, "to": owner, "value": 0}, "a block at start + 1800")
        now_value, updating, _ = pool.functions.getAmplificationParameter().call(
            block_identifier="latest"
        )
        assert updating and now_value == amp.value_at(start + 1800), (now_value, amp)
        rng = random.Random(f"{SEED}:amp")
        for ts in (start + 3600, start + 86400 + 7, end + 1):
            state = replace(read_stable_any(w3, address), amp=amp, timestamp=ts)
            t_in, t_out = rng.sample(tokens, 2)
            kind = rng.choice((GIVEN_IN, GIVEN_OUT))
            size = rng.randint(10 ** dec[t_out], 2_000_000 * 10 ** dec[t_out])
            quote = (
                state.quote_exact_in(t_in, t_out, size)
                if kind == GIVEN_IN
                else state.quote_exact_out(t_in, t_out, size)
            )
            paid, got = _swap(w3, attacker, state, kind, t_in, t_out, size, quote, ts)
            want = (size, quote) if kind == GIVEN_IN else (quote, size)
            record(
                "balancer_stable",
                exact_in=kind == GIVEN_IN,
                wei_diff=abs(paid - want[0]) + abs(got - want[1]),
            )
            assert (paid, got) == want, f"at {ts}"
        value, updating, _ = pool.functions.getAmplificationParameter().call()
        assert (value, updating) == (800_000, False)


def read_stable_any(w3: Web3, address: str) -> StablePoolState:
    """A pool that may be in an amp update: the caller sets `amp` (getAmplificationParameter
    gives only the value now)."""
    pool = contract_at(w3, address, npm_artifact(B.STABLE_POOL).abi)
    pool_id = bytes(pool.functions.getPoolId().call())
    tokens, balances, _ = _vault(w3).functions.getPoolTokens(pool_id).call()
    return StablePoolState(
        address=address,
        pool_id=pool_id,
        tokens=tuple(tokens),
        balances=tuple(balances),
        decimals=_decimals(w3, tokens),
        swap_fee=pool.functions.getSwapFeePercentage().call(),
        amp=AmpState.fixed(pool.functions.getAmplificationParameter().call()[0]),
        rate_caches=tuple(None for _ in tokens),
        timestamp=0,
    )
