"""Python's Balancer weighted math equals what the deployed pools pay, to the wei.

Every weighted pool in the Vault: the data file's, plus two this module creates through the
canonical WeightedPoolFactory for what the data file lacks (a 4-token pool with 6- and
8-decimal tokens at the minimum fee, and a 98/1/1 pool at the maximum fee, whose weight ratios
of 98 and 1/98 are LogExpMath's hardest exponents). For every ordered token pair, GIVEN_IN and
GIVEN_OUT, from 1 wei to exactly the 30% limit and just past it, Python's quote is compared with
`BalancerQueries.querySwap`: equal amounts, or both refuse with the same `BAL#` code. The queries
go in batches through `BalancerQueryProbe`, whose runtime code is passed as an eth_call state
override. A sequence of swaps per pool then runs for real through `Vault.swap`; the trader and the
Vault move by exactly Python's amounts, and quoting continues from `apply_swap`'s state.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from eth_abi import decode, encode
from eth_typing import HexStr
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from flasharb.amm.balancer_weighted import WeightedPoolState
from flasharb.amm.balancer_weighted.errors import MAX_IN_RATIO, MAX_OUT_RATIO, bal_code
from flasharb.chain import addresses as A
from flasharb.chain.artifacts import contract, npm_artifact
from flasharb.chain.cheats import balance_of, deal, snapshot
from flasharb.chain.rpc import contract_at, send
from flasharb.errors import FlasharbError, InsufficientLiquidityError
from flasharb.execute.revert import decode_revert
from flasharb.replica import balancer
from flasharb.replica.spec import WeightedPoolSpec, load_spec
from tests.helpers import call_error
from tests.parity_stats import record

SEED = 20210418
GIVEN_IN, GIVEN_OUT = 0, 1  # IVault.SwapKind
WORD = 2**256
DEADLINE = 2**255
JOIN_KIND_INIT = 0  # WeightedPool.JoinKind.INIT
PROBE = to_checksum_address("0x00000000000000000000000000000000ba1ab0b0")  # unused address
BATCH = 250  # queries per eth_call: ~45k gas each, well under the 30M call gas
RANDOM_SIZES = 14  # per pair and kind, log-uniform in [1, limit]
SWAP_STEPS = 4  # real swaps per pool
_QUERY_SWAPS = function_signature_to_4byte_selector(
    "querySwaps(address,(bytes32,uint8,address,address,uint256)[])"
)

# What the data file lacks; created in this module's snapshot only.
EXTRA_POOLS = (
    WeightedPoolSpec(
        venue="balancer_weighted",
        tokens=("USDC", "WBTC", "WETH", "DAI"),
        weights=(Decimal("0.4"), Decimal("0.3"), Decimal("0.2"), Decimal("0.1")),
        swap_fee=Decimal("0.000001"),  # the minimum
        amounts=(4_000_000 * 10**6, 50 * 10**8, 666 * 10**18, 1_000_000 * 10**18),
    ),
    WeightedPoolSpec(
        venue="balancer_weighted",
        tokens=("WETH", "USDC", "WBTC"),
        weights=(Decimal("0.98"), Decimal("0.01"), Decimal("0.01")),
        swap_fee=Decimal("0.1"),  # the maximum
        amounts=(980 * 10**18, 30_000 * 10**6, 5 * 10**7),
    ),
)

ERC20_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "approve",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "spender", "type": "address"}, {"name": "amount", "type": "uint256"}],
        "outputs": [{"name": "", "type": "bool"}],
    },
    {
        "type": "function",
        "name": "decimals",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "", "type": "uint8"}],
    },
]


def _percent(x: Decimal) -> str:
    return format((x * 100).normalize(), "f")


def _label(p: WeightedPoolSpec) -> str:
    weights = "/".join(_percent(w) for w in p.weights)
    return f"{'/'.join(p.tokens)} {weights} {_percent(p.swap_fee)}%"


def _all_pools() -> dict[str, WeightedPoolSpec]:
    return {_label(p): p for p in (*load_spec().pools_of(WeightedPoolSpec), *EXTRA_POOLS)}


ALL_POOLS = _all_pools()
LABELS = list(ALL_POOLS)


# ---------------------------------------------------------------- chain access (plain calls)


@cache
def _vault_abi() -> list[dict[str, Any]]:
    return npm_artifact(balancer.VAULT).abi


def _vault(w3: Web3) -> Contract:
    return contract_at(w3, A.BALANCER_VAULT, _vault_abi())


def _pool(w3: Web3, address: str) -> Contract:
    return contract_at(w3, address, balancer.task_artifact(balancer.WEIGHTED_POOL).abi)


_DECIMALS: dict[str, int] = {}


def read_state(w3: Web3, address: str, pool_id: bytes) -> WeightedPoolState:
    """The pool as the Vault and the pool report it now, one plain call per figure."""
    tokens, balances, _ = _vault(w3).functions.getPoolTokens(pool_id).call()
    for t in tokens:
        if t not in _DECIMALS:
            _DECIMALS[t] = contract_at(w3, t, ERC20_ABI).functions.decimals().call()
    pool = _pool(w3, address)
    return WeightedPoolState(
        address=address,
        pool_id=pool_id,
        tokens=tuple(tokens),
        balances=tuple(balances),
        decimals=tuple(_DECIMALS[t] for t in tokens),
        normalized_weights=tuple(pool.functions.getNormalizedWeights().call()),
        swap_fee=pool.functions.getSwapFeePercentage().call(),
    )


def _tx(sender: str, c: Contract, fn: str, args: list[Any]) -> dict[str, Any]:
    return {"from": sender, "to": c.address, "data": c.encode_abi(fn, args)}


def _create_pool(w3: Web3, owner: str, p: WeightedPoolSpec) -> None:
    """Create `p` through WeightedPoolFactory and INIT-join its amounts, as the replica does."""
    lay = balancer.layout(load_spec(), p)
    factory = contract_at(
        w3,
        A.BALANCER_WEIGHTED_POOL_FACTORY,
        balancer.task_artifact(balancer.WEIGHTED_FACTORY).abi,
    )
    args = [lay.name, lay.symbol, list(lay.tokens), list(lay.weights), lay.swap_fee, owner]
    receipt = send(w3, _tx(owner, factory, "create", args), f"create {lay.symbol}")
    (created,) = factory.events.PoolCreated().process_receipt(receipt, errors=DISCARD)
    pool_id = bytes(_pool(w3, created["args"]["pool"]).functions.getPoolId().call())
    for token, amount in zip(lay.tokens, lay.amounts, strict=True):
        deal(w3, token, owner, amount)
        approve = _tx(
            owner, contract_at(w3, token, ERC20_ABI), "approve", [A.BALANCER_VAULT, amount]
        )
        send(w3, approve, "approve")
    user_data = encode(["uint256", "uint256[]"], [JOIN_KIND_INIT, list(lay.amounts)])
    request = (list(lay.tokens), list(lay.amounts), user_data, False)
    send(w3, _tx(owner, _vault(w3), "joinPool", [pool_id, owner, owner, request]), "INIT join")


@pytest.fixture(scope="module")
def pools(session_w3: Web3, owner: str) -> Iterator[dict[str, WeightedPoolState]]:
    """Every weighted pool the Vault knows (found from PoolRegistered, no hand list), by label;
    the extra pools exist until the end of this module."""
    with snapshot(session_w3):
        for p in EXTRA_POOLS:
            _create_pool(session_w3, owner, p)
        logs = _vault(session_w3).events.PoolRegistered.get_logs(from_block=0, to_block="latest")
        factories = [
            contract_at(session_w3, f, balancer.task_artifact(name).abi)
            for f, name in (
                (A.BALANCER_WEIGHTED_POOL_FACTORY, balancer.WEIGHTED_FACTORY),
                (A.BALANCER_WEIGHTED_POOL_2TOKENS_FACTORY, balancer.WEIGHTED_2TOKENS_FACTORY),
            )
        ]
        states = [  # the 20210418 pools; the 20230206 ones: tests/fork/test_balancer_2023_parity.py
            read_state(session_w3, log["args"]["poolAddress"], bytes(log["args"]["poolId"]))
            for log in logs
            if any(
                f.functions.isPoolFromFactory(log["args"]["poolAddress"]).call() for f in factories
            )
        ]
        by_label = {}
        for label, p in ALL_POOLS.items():
            lay = balancer.layout(load_spec(), p)
            (match,) = [
                s
                for s in states
                if (s.tokens, s.normalized_weights, s.swap_fee)
                == (lay.tokens, lay.weights, lay.swap_fee)
            ]
            by_label[label] = match
        assert len(states) == len(ALL_POOLS), "a registered pool is missing from the labels"
        yield by_label


# ---------------------------------------------------------------- cases and queries


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One single swap to quote both ways."""

    kind: int  # GIVEN_IN or GIVEN_OUT
    token_in: str
    token_out: str
    amount: int  # exact in (GIVEN_IN) or exact out (GIVEN_OUT), raw units

    def describe(self, state: WeightedPoolState) -> str:
        kind = "in" if self.kind == GIVEN_IN else "out"
        return f"{state.address} {self.token_in}->{self.token_out} exact-{kind} {self.amount}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """What BalancerQueries said: an amount, or revert data."""

    ok: bool
    amount: int
    revert: str  # decoded revert, e.g. Error("BAL#304"); empty when ok


def _log_uniform(rng: random.Random, limit: int) -> int:
    """An integer in [1, limit] whose bit length is uniform: dust to whale, integers only."""
    bits = rng.randint(1, limit.bit_length())
    return rng.randint(1 << (bits - 1), min((1 << bits) - 1, limit))


def plan_cases(state: WeightedPoolState, rng: random.Random, random_sizes: int) -> list[Case]:
    """Per ordered pair and kind: dust, the exact limit and its neighbours, past it, uint256 max,
    and `random_sizes` log-uniform sizes; per pool, the Vault's own checks."""
    cases = []
    for t_in in state.tokens:
        for t_out in state.tokens:
            if t_in == t_out:
                continue
            for kind in (GIVEN_IN, GIVEN_OUT):
                limit = (
                    state.max_amount_in(t_in, t_out)
                    if kind == GIVEN_IN
                    else state.max_amount_out(t_in, t_out)
                )
                sizes = [
                    1,
                    2,
                    3,
                    limit - 1,
                    limit,
                    limit + 1,
                    rng.randint(limit + 2, 3 * limit + 2),
                ]
                sizes.append(WORD - 1)  # the fee or the scaling multiplication overflows
                sizes += [_log_uniform(rng, limit) for _ in range(random_sizes)]
                cases += [Case(kind=kind, token_in=t_in, token_out=t_out, amount=a) for a in sizes]
    t0, t1 = state.tokens[:2]
    cases += [
        Case(kind=GIVEN_IN, token_in=t0, token_out=t1, amount=0),  # BAL#510
        Case(kind=GIVEN_OUT, token_in=t1, token_out=t1, amount=5),  # BAL#509
        Case(kind=GIVEN_IN, token_in=state.address, token_out=t0, amount=5),  # BAL#521: the BPT
    ]
    return [c for c in cases if 0 <= c.amount < WORD]


def query(w3: Web3, state: WeightedPoolState, cases: list[Case]) -> list[Answer]:
    """BalancerQueries.querySwap for each case, BATCH cases per eth_call through the probe."""
    code = HexStr("0x" + contract("BalancerQueryProbe").deployed_bytecode.hex())
    answers = []
    for start in range(0, len(cases), BATCH):
        rows = [
            (state.pool_id, c.kind, c.token_in, c.token_out, c.amount)
            for c in cases[start : start + BATCH]
        ]
        data = _QUERY_SWAPS + encode(
            ["address", "(bytes32,uint8,address,address,uint256)[]"], [A.BALANCER_QUERIES, rows]
        )
        raw = w3.eth.call(
            {"to": PROBE, "data": "0x" + data.hex()},  # type: ignore[typeddict-item]
            "latest",
            {PROBE: {"code": code}},
        )
        oks, amounts, reverts = decode(["bool[]", "uint256[]", "bytes[]"], raw)
        answers += [
            Answer(ok=ok, amount=amount, revert="" if ok else decode_revert(bytes(rv)))
            for ok, amount, rv in zip(oks, amounts, reverts, strict=True)
        ]
    assert len(answers) == len(cases)
    return answers


def python_quote(state: WeightedPoolState, case: Case) -> int:
    if case.kind == GIVEN_IN:
        return state.quote_exact_in(case.token_in, case.token_out, case.amount)
    return state.quote_exact_out(case.token_in, case.token_out, case.amount)


def compare(state: WeightedPoolState, case: Case, answer: Answer) -> str | None:
    """None if Python and the chain agree (recorded), else what differs."""
    exact_in = case.kind == GIVEN_IN
    try:
        mine: int | FlasharbError = python_quote(state, case)
    except FlasharbError as exc:
        mine = exc
    if isinstance(mine, int) and answer.ok:
        record("balancer", exact_in=exact_in, wei_diff=mine - answer.amount)
        if mine == answer.amount:
            return None
        return f"{case.describe(state)}: python {mine}, chain {answer.amount}"
    if isinstance(mine, FlasharbError) and not answer.ok:
        code = bal_code(mine)
        liquidity = code in (MAX_IN_RATIO, MAX_OUT_RATIO)
        if (
            code is not None
            and code == bal_code(answer.revert)
            and liquidity == isinstance(mine, InsufficientLiquidityError)
        ):
            record("balancer", exact_in=exact_in, reverted=True)
            return None
    chain = answer.amount if answer.ok else answer.revert
    return f"{case.describe(state)}: python {mine!r}, chain {chain}"


def compare_all(w3: Web3, state: WeightedPoolState, cases: list[Case]) -> list[str]:
    failures = []
    for case, answer in zip(cases, query(w3, state, cases), strict=True):
        failure = compare(state, case, answer)
        if failure is not None:
            failures.append(failure)
    return failures


# ---------------------------------------------------------------- tests


@pytest.mark.parametrize("label", LABELS)
class TestQueries:
    """Python's quote equals BalancerQueries.querySwap for every ordered pair and both kinds,
    from 1 wei to exactly the 30% limit; past it (and at uint256 max, zero, a repeated or an
    unregistered token) both refuse with the same BAL code."""

    def test_quotes_match_query_swap_to_the_wei(
        self, w3: Web3, pools: dict[str, WeightedPoolState], label: str
    ) -> None:
        state = pools[label]
        n = len(state.tokens)
        cases = plan_cases(state, random.Random(f"{SEED}:{label}"), RANDOM_SIZES)
        assert len(cases) >= n * (n - 1) * 2 * (7 + RANDOM_SIZES)
        failures = compare_all(w3, state, cases)
        assert not failures, f"{len(failures)} of {len(cases)} differ:\n" + "\n".join(failures[:20])

    def test_invariant_matches_get_invariant(
        self, w3: Web3, pools: dict[str, WeightedPoolState], label: str
    ) -> None:
        """getInvariant runs powDown on every balance: the other rounding direction."""
        state = pools[label]
        assert _pool(w3, state.address).functions.getInvariant().call() == state.invariant()


@pytest.mark.parametrize("label", LABELS)
class TestSwapsThroughTheVault:
    """Real swaps: the trader pays and receives exactly Python's amounts, the Vault's balances
    become exactly `apply_swap`'s, and quotes from that moved state still match to the wei."""

    def test_swap_sequence_pays_the_quotes_and_moves_the_state(
        self, w3: Web3, pools: dict[str, WeightedPoolState], attacker: str, label: str
    ) -> None:
        state = pools[label]
        rng = random.Random(f"{SEED}:swaps:{label}")
        vault = _vault(w3)
        funds = (attacker, False, attacker, False)
        approved: set[str] = set()
        for step in range(SWAP_STEPS):
            kind = (GIVEN_IN, GIVEN_OUT)[step % 2]
            t_in, t_out = rng.sample(state.tokens, 2)
            if kind == GIVEN_IN:
                amount_in = rng.randint(1, state.max_amount_in(t_in, t_out))
                amount_out = quote = state.quote_exact_in(t_in, t_out, amount_in)
                given = amount_in
            else:
                amount_out = rng.randint(1, state.max_amount_out(t_in, t_out))
                amount_in = quote = state.quote_exact_out(t_in, t_out, amount_out)
                given = amount_out
            deal(w3, t_in, attacker, amount_in)
            if t_in not in approved:
                erc20 = contract_at(w3, t_in, ERC20_ABI)
                send(w3, _tx(attacker, erc20, "approve", [A.BALANCER_VAULT, WORD - 1]), "approve")
                approved.add(t_in)
            out_before = balance_of(w3, t_out, attacker)
            single = (state.pool_id, kind, t_in, t_out, given, b"")
            # the limit is Python's quote: min out for GIVEN_IN, max in for GIVEN_OUT
            send(w3, _tx(attacker, vault, "swap", [single, funds, quote, DEADLINE]), "swap")
            paid = amount_in - balance_of(w3, t_in, attacker)
            received = balance_of(w3, t_out, attacker) - out_before
            record(
                "balancer",
                exact_in=kind == GIVEN_IN,
                wei_diff=abs(paid - amount_in) + abs(received - amount_out),
            )
            assert (paid, received) == (amount_in, amount_out), f"step {step}"
            state = state.apply_swap(t_in, t_out, amount_in, amount_out)
            assert read_state(w3, state.address, state.pool_id) == state, f"step {step}"

        assert _pool(w3, state.address).functions.getInvariant().call() == state.invariant()
        t_in, t_out = state.tokens[:2]
        past = state.max_amount_in(t_in, t_out) + 1
        single = (state.pool_id, GIVEN_IN, t_in, t_out, past, b"")
        deal(w3, t_in, attacker, past)
        reason = call_error(w3, _tx(attacker, vault, "swap", [single, funds, 0, DEADLINE]))
        with pytest.raises(InsufficientLiquidityError, match="^BAL#304") as exc:
            state.quote_exact_in(t_in, t_out, past)
        assert reason is not None and bal_code(reason) == bal_code(exc.value) == MAX_IN_RATIO
        record("balancer", exact_in=True, reverted=True)

        cases = plan_cases(state, rng, random_sizes=2)
        failures = compare_all(w3, state, cases)
        assert not failures, "\n".join(failures[:20])
