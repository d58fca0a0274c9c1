"""The backrunner's decoder and overlay (flasharb.run.swaps) against the real routers: every
swap a wallet sends through UniswapV2Router02 and the UniversalRouter (V2, V3 multi-hop, V4
single and multi-hop, exact input and exact output, ETH in and out, Permit2 permits first) is
decoded from its transaction, applied to the pools' states with the exact math, then mined on
the replica fork: the states the chain holds afterwards are the overlay's, to the wei (V2
reserves; V3 and V4 price, tick and in-range liquidity)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector as selector
from web3 import Web3

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import V2PairState
from flasharb.amm.uniswap_v3 import V3PoolState
from flasharb.amm.uniswap_v4 import NATIVE, V4PoolState
from flasharb.chain import addresses as A
from flasharb.chain.cheats import deal
from flasharb.chain.rpc import send
from flasharb.run.swaps import PendingSwap, apply_swap, decode_swap
from flasharb.state.reader import read_states
from flasharb_testing import routes as R
from flasharb_testing import universal as UR
from flasharb_testing import v4 as V4

E18, E6 = 10**18, 10**6
DEADLINE = 2**32
APPROVE = selector("approve(address,uint256)")
Tx = dict[str, Any]


def _router02(sig: str, types: list[str], args: list[Any], value: int = 0) -> Callable[[str], Tx]:
    def build(user: str) -> Tx:
        args_ = [user if a == "USER" else a for a in args]
        data = selector(sig) + encode(types, args_)
        return {"to": A.UNISWAP_V2_ROUTER02, "data": "0x" + data.hex(), "value": value}

    return build


def _universal(
    *commands: Callable[[Web3, str], UR.Command], value: int = 0
) -> Callable[[Web3, str], Tx]:
    def build(w3: Web3, user: str) -> Tx:
        data = UR.execute_data([c(w3, user) for c in commands], DEADLINE)
        return {"to": A.UNIVERSAL_ROUTER, "data": "0x" + data.hex(), "value": value}

    return build


def _c(command: UR.Command) -> Callable[[Web3, str], UR.Command]:
    return lambda _w3, _user: command


def _permit(token: str, amount: int) -> Callable[[Web3, str], UR.Command]:
    return lambda w3, user: UR.permit2_permit(w3, user, token, amount)


def _v4(
    key: Callable[[Web3], Any], build: Callable[[Any], list[tuple[int, bytes]]]
) -> Callable[[Web3, str], UR.Command]:
    return lambda w3, _user: UR.v4_swap(build(key(w3)))


WETH_USDC = lambda w3: V4.key(w3, A.WETH, A.USDC, fee=500)  # noqa: E731
ETH_USDC = lambda w3: V4.key(w3, NATIVE, A.USDC, fee=500)  # noqa: E731
ETH_DAI = lambda w3: V4.key(w3, NATIVE, A.DAI, fee=500)  # noqa: E731
DAI_USDC = lambda w3: V4.key(w3, A.USDC, A.DAI, fee=10)  # noqa: E731
V3_PATH = UR.v3_path([A.WETH, A.USDC, A.USDT], [3000, 100])
ADDRS = ["uint256", "uint256", "address[]", "address", "uint256"]
ETH_ADDRS = ["uint256", "address[]", "address", "uint256"]

ROUTER02: dict[str, tuple[Callable[[str], Tx], str]] = {  # id -> (tx, token the user spends)
    "exact-tokens-for-tokens": (
        _router02(
            "swapExactTokensForTokens(uint256,uint256,address[],address,uint256)",
            ADDRS,
            [50_000 * E6, 0, [A.USDC, A.WETH, A.DAI], "USER", DEADLINE],
        ),
        A.USDC,
    ),
    "tokens-for-exact-tokens": (
        _router02(
            "swapTokensForExactTokens(uint256,uint256,address[],address,uint256)",
            ADDRS,
            [40_000 * E6, 10**24, [A.DAI, A.WETH, A.USDC], "USER", DEADLINE],
        ),
        A.DAI,
    ),
    "exact-eth-for-tokens": (
        _router02(
            "swapExactETHForTokens(uint256,address[],address,uint256)",
            ETH_ADDRS,
            [0, [A.WETH, A.USDC], "USER", DEADLINE],
            value=20 * E18,
        ),
        "",
    ),
    "tokens-for-exact-eth": (
        _router02(
            "swapTokensForExactETH(uint256,uint256,address[],address,uint256)",
            ADDRS,
            [7 * E18, 10**12, [A.USDC, A.WETH], "USER", DEADLINE],
        ),
        A.USDC,
    ),
    "exact-tokens-for-eth": (
        _router02(
            "swapExactTokensForETH(uint256,uint256,address[],address,uint256)",
            ADDRS,
            [30_000 * E18, 0, [A.DAI, A.WETH], "USER", DEADLINE],
        ),
        A.DAI,
    ),
    "eth-for-exact-tokens": (
        _router02(
            "swapETHForExactTokens(uint256,address[],address,uint256)",
            ETH_ADDRS,
            [25_000 * E6, [A.WETH, A.USDC], "USER", DEADLINE],
            value=100 * E18,
        ),
        "",
    ),
    "fee-on-transfer-exact-tokens-for-tokens": (
        _router02(
            "swapExactTokensForTokensSupportingFeeOnTransferTokens("
            "uint256,uint256,address[],address,uint256)",
            ADDRS,
            [50_000 * E6, 0, [A.USDC, A.WETH], "USER", DEADLINE],
        ),
        A.USDC,
    ),
    "fee-on-transfer-exact-eth-for-tokens": (
        _router02(
            "swapExactETHForTokensSupportingFeeOnTransferTokens(uint256,address[],address,uint256)",
            ETH_ADDRS,
            [0, [A.WETH, A.DAI], "USER", DEADLINE],
            value=5 * E18,
        ),
        "",
    ),
    "fee-on-transfer-exact-tokens-for-eth": (
        _router02(
            "swapExactTokensForETHSupportingFeeOnTransferTokens("
            "uint256,uint256,address[],address,uint256)",
            ADDRS,
            [9_000 * E6, 0, [A.USDC, A.WETH], "USER", DEADLINE],
        ),
        A.USDC,
    ),
}

UNIVERSAL: dict[str, tuple[Callable[[Web3, str], Tx], str]] = {
    "permit-then-v3-exact-in-multihop": (
        _universal(_permit(A.WETH, 300 * E18), _c(UR.v3_exact_in(300 * E18, 0, V3_PATH))),
        A.WETH,
    ),
    "v3-exact-out-multihop": (
        _universal(
            _c(
                UR.v3_exact_out(
                    200_000 * E6, 10**21, UR.v3_path([A.USDT, A.USDC, A.WETH], [100, 3000])
                )
            )
        ),
        A.WETH,
    ),
    "v2-exact-in-multihop": (
        _universal(_c(UR.v2_exact_in(50_000 * E6, 0, [A.USDC, A.WETH, A.DAI]))),
        A.USDC,
    ),
    "v2-exact-out-multihop": (
        _universal(_c(UR.v2_exact_out(40_000 * E18, 10**12, [A.USDC, A.WETH, A.DAI]))),
        A.USDC,
    ),
    "wrap-eth-then-v3-contract-balance": (
        _universal(
            _c(
                UR.Command(
                    UR.WRAP_ETH,
                    encode(["address", "uint256"], [UR.ADDRESS_THIS, UR.CONTRACT_BALANCE]),
                )
            ),
            _c(
                UR.Command(
                    UR.V3_SWAP_EXACT_IN,
                    encode(
                        ["address", "uint256", "uint256", "bytes", "bool"],
                        [
                            UR.MSG_SENDER,
                            UR.CONTRACT_BALANCE,
                            0,
                            UR.v3_path([A.WETH, A.USDC], [500]),
                            False,
                        ],
                    ),
                )
            ),
            value=40 * E18,
        ),
        "",
    ),
    "v4-exact-in-single-native": (
        _universal(
            _v4(
                ETH_USDC,
                lambda k: [
                    UR.v4_exact_in_single(k, True, 30 * E18),
                    UR.settle_all(NATIVE, 30 * E18),
                    UR.take_all(A.USDC),
                ],
            ),
            value=30 * E18,
        ),
        "",
    ),
    "v4-exact-in-multihop": (
        _universal(
            _v4(
                lambda w3: (DAI_USDC(w3), ETH_DAI(w3)),
                lambda ks: [
                    UR.v4_exact_in(A.USDC, list(ks), 60_000 * E6),
                    UR.settle_all(A.USDC, 60_000 * E6),
                    UR.take_all(NATIVE),
                ],
            )
        ),
        A.USDC,
    ),
    "v4-exact-out-single": (
        _universal(
            _v4(
                WETH_USDC,
                lambda k: [
                    UR.v4_exact_out_single(k, True, 10 * E18, 10**12),  # USDC (currency0) in
                    UR.settle_all(A.USDC, 10**12),
                    UR.take_all(A.WETH),
                ],
            )
        ),
        A.USDC,
    ),
    "v4-exact-out-multihop": (
        _universal(
            _v4(
                lambda w3: (ETH_DAI(w3), DAI_USDC(w3)),
                lambda ks: [
                    UR.v4_exact_out(A.USDC, list(ks), 45_000 * E6, 10**20),
                    UR.settle_all(NATIVE, 10**20),
                    UR.take_all(A.USDC),
                ],
            ),
            value=10**20,
        ),
        "",
    ),
}


def _pending(tx: Tx) -> dict[str, Any]:
    """`tx` as txpool_content shows it."""
    return {
        "hash": "0x" + "ab" * 32,
        "to": tx["to"],
        "input": tx["data"],
        "value": hex(tx["value"]),
        "gasPrice": "0x1",
    }


def _states(w3: Web3, swap: PendingSwap) -> dict[str, PoolState]:
    reg = R.registry(w3)
    v4 = [p for p in swap.pools if len(p) == 66]
    keys = {V4.pool_id(k): k for k in V4.keys(w3) if V4.pool_id(k) in v4}
    res = read_states(w3, [reg[p] for p in swap.pools if p not in v4])
    assert not res.failed
    return {**res.states, **V4.read(w3, list(keys.values()), full=True)}


def _fields(state: PoolState) -> tuple[int, ...]:
    if isinstance(state, V2PairState):
        return (state.reserve0, state.reserve1)
    assert isinstance(state, V3PoolState | V4PoolState)
    return (state.sqrt_price_x96, state.tick, state.liquidity)


def _check(w3: Web3, user: str, tx: Tx, spends: str) -> PendingSwap:
    if spends:
        deal(w3, spends, user, 10**30 if spends != A.USDC else 10**15)
    swap = decode_swap(_pending(tx), {}, {}, 0)
    assert swap is not None
    before = _states(w3, swap)
    moved, blind = apply_swap(before, swap)
    assert not blind and set(moved) == set(swap.pools)
    send(w3, {"from": user, **tx})
    after = _states(w3, swap)
    for pool in swap.pools:
        assert _fields(moved[pool]) == _fields(after[pool]), pool
        assert _fields(before[pool]) != _fields(after[pool]), pool  # it really moved
    return swap


@pytest.fixture
def user(w3: Web3) -> str:
    return str(w3.eth.accounts[5])


@pytest.mark.parametrize("case", list(ROUTER02))
def test_router02(w3: Web3, user: str, case: str) -> None:
    build, spends = ROUTER02[case]
    if spends:
        data = APPROVE + encode(["address", "uint256"], [A.UNISWAP_V2_ROUTER02, 2**256 - 1])
        send(w3, {"from": user, "to": spends, "data": "0x" + data.hex()})
    swap = _check(w3, user, build(user), spends)
    assert all(len(p) == 42 for p in swap.pools)


@pytest.mark.parametrize("case", list(UNIVERSAL))
def test_universal_router(w3: Web3, user: str, case: str) -> None:
    build, spends = UNIVERSAL[case]
    if spends and not case.startswith("permit"):
        deal(w3, spends, user, 10**30 if spends != A.USDC else 10**15)
        UR.permit2_approve(w3, user, spends)  # an on-chain Permit2 allowance
    elif spends:
        UR.token_approve_permit2(w3, user, spends)  # then the signed permit rides in the command
    _check(w3, user, build(w3, user), spends)


def test_a_pool_without_state_blinds_the_rest_of_its_path(w3: Web3, user: str) -> None:
    """V4 pools the market does not read yet: a V4 > V4 path is blind as a whole, and a V3
    path after it (its input is the V4 output) too; an earlier V3 path is still followed."""
    tx = _universal(
        _c(UR.v3_exact_in(10 * E18, 0, UR.v3_path([A.WETH, A.USDC], [500]))),
        _v4(
            lambda w3: (DAI_USDC(w3), ETH_DAI(w3)),
            lambda ks: [UR.v4_exact_in(A.USDC, list(ks), 60_000 * E6)],
        ),
        _c(
            UR.Command(
                UR.V3_SWAP_EXACT_IN,
                encode(
                    ["address", "uint256", "uint256", "bytes", "bool"],
                    [
                        UR.MSG_SENDER,
                        UR.CONTRACT_BALANCE,
                        0,
                        UR.v3_path([A.WETH, A.USDC], [3000]),
                        False,
                    ],
                ),
            )
        ),
    )(w3, user)
    swap = decode_swap(_pending(tx), {}, {}, 0)
    assert swap is not None and len(swap.paths) == 3
    reg = R.registry(w3)
    v3 = [p for p in swap.pools if len(p) == 42]
    market = dict(read_states(w3, [reg[p] for p in v3]).states)  # what the market holds
    moved, blind = apply_swap(market, swap)
    assert set(moved) == {swap.paths[0].legs[0].pool}
    assert blind == {*(leg.pool for leg in swap.paths[1].legs), swap.paths[2].legs[0].pool}


def test_what_is_not_a_swap(w3: Web3) -> None:
    """Other calls to the routers, and malformed swaps, decode to nothing."""
    approve = {"to": A.UNIVERSAL_ROUTER, "data": "0x" + (APPROVE + bytes(64)).hex(), "value": 0}
    junk = {"to": A.UNIVERSAL_ROUTER, "data": "0x" + (UR.EXECUTE + b"\x01" * 40).hex(), "value": 0}
    permit_only = {"to": A.UNIVERSAL_ROUTER, "data": "0x" + UR.execute_data([]).hex(), "value": 0}
    for tx in (approve, junk, permit_only):
        assert decode_swap(_pending(tx), {}, {}, 0) is None
