"""Python's V2 math equals what the real UniswapV2Pair pays, to the wei.

Modelled on v2-core's `swapTestCases`: the exact output succeeds, one wei more reverts with
`UniswapV2: K`.
"""

from __future__ import annotations

import random

import pytest
from eth_abi import encode
from web3 import Web3

from flasharb.amm.uniswap_v2 import V2PairState, get_amount_in, get_amount_out, min_amount_in
from flasharb.chain import addresses as A
from flasharb.chain.artifacts import contract, npm_artifact
from flasharb.chain.cheats import balance_of, deal
from flasharb.chain.rpc import send
from flasharb.errors import InsufficientLiquidityError
from flasharb.execute.revert import decode_revert, revert_data
from flasharb.replica.spec import V2PoolSpec, load_spec
from flasharb.state.v2 import discover_pairs, refresh_reserves
from tests.parity_stats import record
from tests.unit.test_amm_uniswap_v2 import SWAP_TEST_CASES  # v2-core swapTestCases, one copy

E18 = 10**18
PAIR_ABI = npm_artifact("@uniswap/v2-core/build/UniswapV2Pair.json").abi
FACTORY_ABI = npm_artifact("@uniswap/v2-core/build/UniswapV2Factory.json").abi


def _swap_call_error(w3: Web3, pair: str, sender: str, out0: int, out1: int) -> str | None:
    """None if `swap(out0, out1)` would succeed now, else the decoded revert."""
    c = w3.eth.contract(address=pair, abi=PAIR_ABI)
    try:
        c.functions.swap(out0, out1, sender, b"").call({"from": sender})
    except Exception as exc:  # noqa: BLE001 - any revert is the answer
        return decode_revert(revert_data(exc)) if revert_data(exc) else str(exc)
    return None


def _transfer(w3: Web3, token: str, sender: str, to: str, amount: int) -> None:
    erc20 = w3.eth.contract(address=token, abi=contract("ReplicaERC20").abi)
    send(
        w3,
        {"from": sender, "to": token, "data": erc20.encode_abi("transfer", [to, amount])},
        "transfer",
    )


class TestSwapTestCases:
    """v2-core's table on a fresh pair created through the canonical factory."""

    @pytest.mark.parametrize(
        ("swap", "r0", "r1", "expected"),
        SWAP_TEST_CASES,
        ids=[f"case{i}" for i in range(len(SWAP_TEST_CASES))],
    )
    def test_exact_output_succeeds_one_more_reverts(
        self, w3: Web3, owner: str, swap: int, r0: int, r1: int, expected: int
    ) -> None:
        assert get_amount_out(swap, r0, r1) == expected
        art = contract("ReplicaERC20")
        tokens = []
        for sym in ("TKA", "TKB"):
            code = art.bytecode + encode(
                ["string", "string", "uint8", "address", "uint256"], [sym, sym, 18, owner, 10**30]
            )
            tokens.append(
                send(w3, {"from": owner, "data": "0x" + code.hex()}, "token")["contractAddress"]
            )
        t0, t1 = sorted(tokens, key=lambda a: int(a, 16))
        factory = w3.eth.contract(address=A.UNISWAP_V2_FACTORY, abi=FACTORY_ABI)
        send(
            w3,
            {
                "from": owner,
                "to": A.UNISWAP_V2_FACTORY,
                "data": factory.encode_abi("createPair", [t0, t1]),
            },
            "createPair",
        )
        pair = factory.functions.getPair(t0, t1).call()
        _transfer(w3, t0, owner, pair, r0)
        _transfer(w3, t1, owner, pair, r1)
        p = w3.eth.contract(address=pair, abi=PAIR_ABI)
        send(w3, {"from": owner, "to": pair, "data": p.encode_abi("mint", [owner])}, "mint")

        _transfer(w3, t0, owner, pair, swap)
        assert _swap_call_error(w3, pair, owner, 0, expected + 1) == 'Error("UniswapV2: K")'
        assert _swap_call_error(w3, pair, owner, 0, expected) is None
        before = balance_of(w3, t1, owner)
        send(
            w3,
            {"from": owner, "to": pair, "data": p.encode_abi("swap", [0, expected, owner, b""])},
            "swap",
        )
        assert balance_of(w3, t1, owner) - before == expected


class TestReplicaPairs:
    """Seeded random swaps on every replica pair, both directions, dust to a third of the pool."""

    CASES = 48

    def test_random_swaps_match_to_the_wei(self, w3: Web3, attacker: str) -> None:
        rng = random.Random(20261121)
        pools = discover_pairs(w3)
        assert len(pools) == len(load_spec().pools_of(V2PoolSpec))
        checked = 0
        for i in range(self.CASES):
            pool = pools[i % len(pools)]
            zero_for_one = rng.random() < 0.5
            c = w3.eth.contract(address=pool.address, abi=PAIR_ABI)
            r0, r1, _ = c.functions.getReserves().call()
            r_in, r_out = (r0, r1) if zero_for_one else (r1, r0)
            token_in = pool.token0 if zero_for_one else pool.token1
            token_out = pool.token1 if zero_for_one else pool.token0
            amount_in = max(1, int(r_in * 10 ** rng.uniform(-9, -0.5)))  # screening only: sizes
            out = get_amount_out(amount_in, r_in, r_out, pool.fee_pips)
            if out == 0:
                continue
            deal(w3, token_in, attacker, amount_in)
            _transfer(w3, token_in, attacker, pool.address, amount_in)
            outs = (0, out) if zero_for_one else (out, 0)
            more = (0, out + 1) if zero_for_one else (out + 1, 0)
            assert _swap_call_error(w3, pool.address, attacker, *more) == 'Error("UniswapV2: K")'
            before = balance_of(w3, token_out, attacker)
            send(
                w3,
                {
                    "from": attacker,
                    "to": pool.address,
                    "data": c.encode_abi("swap", [*outs, attacker, b""]),
                },
                "swap",
            )
            assert balance_of(w3, token_out, attacker) - before == out
            record("uniswap_v2", exact_in=True)
            checked += 1
        assert checked >= self.CASES * 0.9


PROBE = Web3.to_checksum_address("0x00000000000000000000000000000000F1a5C0DE")
FIELDS = 6  # words per case in V2ParityProbe.run's result
EXACT_IN, EXACT_OUT, PAST_RESERVE = 0, 1, 2


def _random_case(rng: random.Random, pool: V2PairState) -> tuple[bool, int, int, int]:
    """(zero_for_one, mode, amount_in, amount_out) from Python's math on `pool`'s reserves.

    Sizes are log-uniform from 1 wei to three times the reserve paid in (exact-in) or to 99% of
    the reserve bought (exact-out), below uint112; one case in twenty asks for the whole reserve
    or more.
    """
    zero_for_one = rng.random() < 0.5
    r_in, r_out = (pool.reserve0, pool.reserve1) if zero_for_one else (pool.reserve1, pool.reserve0)
    roll = rng.random()
    if roll < 0.05:
        return zero_for_one, PAST_RESERVE, 0, r_out + rng.choice([0, 0, 1, r_out])
    if roll < 0.5:
        room = 2**112 - 1 - r_in  # a pair's balances must fit uint112 ('UniswapV2: OVERFLOW')
        amount_in = max(1, int(min(r_in * 3, room) * rng.random() ** 8))  # floats: sizes only
        return zero_for_one, EXACT_IN, amount_in, get_amount_out(amount_in, r_in, r_out)
    amount_out = max(1, int(r_out * 0.99 * rng.random() ** 8))
    return zero_for_one, EXACT_OUT, min_amount_in(amount_out, r_in, r_out), amount_out


class TestSequencedBoundaries:
    """1,200 swap boundaries on every replica pair, run by a probe contract in one eth_call per
    batch: each case moves the pair for the ones after it, so Python tracks the reserves.

    Exact-in: the Python output is paid and one wei more reverts with `K`. Exact-out: Python's
    minimal input buys the output and one wei less reverts with `K`; the router's getAmountIn
    is that input or one more, as `get_amount_in` says. An output not below its reserve reverts
    with INSUFFICIENT_LIQUIDITY, where Python raises.
    """

    CASES = 1200
    BATCH = 150  # ~130k gas per case: under anvil's 30M call gas

    def test_python_boundaries_are_the_pairs(self, w3: Web3, owner: str) -> None:
        router_art = npm_artifact("@uniswap/v2-periphery/build/UniswapV2Router02.json")
        router = send(
            w3,
            {
                "from": owner,
                "data": "0x"
                + (
                    router_art.bytecode
                    + encode(["address", "address"], [A.UNISWAP_V2_FACTORY, A.WETH])
                ).hex(),
            },
            "deploy UniswapV2Router02",
        )["contractAddress"]
        probe = w3.eth.contract(address=PROBE, abi=contract("V2ParityProbe").abi)
        code = "0x" + contract("V2ParityProbe").deployed_bytecode.hex()
        pools = discover_pairs(w3)
        for token in {t for p in pools for t in (p.token0, p.token1)}:
            deal(w3, token, PROBE, 2**120)
        rng = random.Random(4_1200)
        for _ in range(self.CASES // self.BATCH):
            states = {p.address: p for p in refresh_reserves(w3, pools)}
            cases, expected = [], []
            for _ in range(self.BATCH):
                pool = states[rng.choice(pools).address]
                zero_for_one, mode, amount_in, amount_out = _random_case(rng, pool)
                cases.append((pool.address, zero_for_one, mode, amount_in, amount_out))
                expected.append((pool, zero_for_one, mode, amount_in, amount_out))
                if mode != PAST_RESERVE and amount_out > 0:  # the pair moves; Python follows
                    d_in, d_out = amount_in, -amount_out
                    r0, r1 = (
                        (pool.reserve0 + d_in, pool.reserve1 + d_out)
                        if zero_for_one
                        else (pool.reserve0 + d_out, pool.reserve1 + d_in)
                    )
                    states[pool.address] = V2PairState(
                        address=pool.address,
                        token0=pool.token0,
                        token1=pool.token1,
                        reserve0=r0,
                        reserve1=r1,
                        fee_pips=pool.fee_pips,
                        venue=pool.venue,
                    )
                expected[-1] = (*expected[-1], states[pool.address])
            results = probe.functions.run(cases, router).call(
                {"from": owner, "gas": 29_000_000}, "latest", {PROBE: {"code": code}}
            )
            for i, (pool, zero_for_one, mode, amount_in, amount_out, after) in enumerate(expected):
                held, paid, received, r0, r1, router_quote = results[i * FIELDS : (i + 1) * FIELDS]
                label = f"case {i} {pool.address} mode {mode} in {amount_in} out {amount_out}"
                r_in, r_out = (
                    (pool.reserve0, pool.reserve1)
                    if zero_for_one
                    else (pool.reserve1, pool.reserve0)
                )
                assert held == 1, label
                if mode == PAST_RESERVE:
                    with pytest.raises(InsufficientLiquidityError):
                        min_amount_in(amount_out, r_in, r_out)
                    record("uniswap_v2", exact_in=False, reverted=True)
                    continue
                assert (r0, r1) == (after.reserve0, after.reserve1), label
                if mode == EXACT_IN:
                    assert router_quote == amount_out, label
                    assert (paid, received) == ((1, amount_out) if amount_out else (0, 0)), label
                else:
                    assert router_quote == get_amount_in(amount_out, r_in, r_out), label
                    assert router_quote - amount_in in (0, 1), label
                    assert (paid, received) == (1, amount_out), label
                record("uniswap_v2", exact_in=mode == EXACT_IN, wei_diff=received - amount_out)
