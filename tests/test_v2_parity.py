"""Python's V2 math equals what the real UniswapV2Pair pays, to the wei.

Modelled on v2-core's `swapTestCases`: the exact output succeeds, one wei more reverts with
`UniswapV2: K`.
"""

from __future__ import annotations

import random

import pytest
from eth_abi import encode
from web3 import Web3

from flasharb.amm.uniswap_v2 import get_amount_out
from flasharb.chain import addresses as A
from flasharb.chain.artifacts import contract, npm_artifact
from flasharb.chain.cheats import balance_of, deal
from flasharb.chain.rpc import send
from flasharb.execute.revert import decode_revert, revert_data
from flasharb.replica.spec import V2PoolSpec, load_spec
from flasharb.state.v2 import discover_pairs
from tests.test_amm_uniswap_v2 import SWAP_TEST_CASES  # v2-core swapTestCases, one copy

pytestmark = pytest.mark.fork

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

    CASES = 160

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
            checked += 1
        assert checked >= self.CASES * 0.9
