"""Audit: routes through the hostile token zoo (fee-on-transfer, returns-false, rebasing, a
re-entrant hook) and mainnet's USDT (no return value), on real Uniswap V2 and SushiSwap pairs
the attacker creates and seeds. Each trade is mined, reverts with the exact upstream or facet
error, and nothing is lost; re-entry attempts are checked frame by frame in the trace."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from web3 import Web3

from flasharb.amm.uniswap_v2 import get_amount_out
from flasharb.chain import addresses as A
from flasharb.chain.artifacts import contract, npm_artifact
from flasharb.chain.cheats import balance_of, deal
from flasharb.chain.rpc import contract_at, send
from flasharb.replica import zoo
from flasharb.search.capital import FlashSource
from flasharb.search.graph import v2_factory
from flasharb.search.route import execute_arb_calldata
from flasharb_testing import routes as R
from tests.audit.attack import mine_attack, trader_refuses
from tests.audit.nothing_lost import NothingLost

UNIT = 10**18
FACTORY_ABI = npm_artifact("@uniswap/v2-core/build/UniswapV2Factory.json").abi
PAIR_ABI = npm_artifact("@uniswap/v2-core/build/UniswapV2Pair.json").abi
WETH_ABI = npm_artifact("canonical-weth/build/contracts/WETH9.json").abi


def _tx(w3: Web3, sender: str, c: Any, fn: str, *args: Any) -> None:
    send(w3, {"from": sender, "to": c.address, "data": c.encode_abi(fn, list(args))}, fn)


def _market(w3: Web3, attacker: str, token: str) -> tuple[str, str]:
    """A Uniswap V2 and a SushiSwap pair of `token`/WETH, seeded by the attacker (1000:10)."""
    weth = contract_at(w3, A.WETH, WETH_ABI)
    send(
        w3,
        {
            "from": attacker,
            "to": A.WETH,
            "data": weth.encode_abi("deposit", []),
            "value": 40 * UNIT,
        },
    )
    tok = contract_at(w3, token, contract(zoo.ZOO_BASE).abi)
    pairs = []
    for factory_address in (A.UNISWAP_V2_FACTORY, A.SUSHISWAP_FACTORY):
        factory = contract_at(w3, factory_address, FACTORY_ABI)
        _tx(w3, attacker, factory, "createPair", token, A.WETH)
        pair = contract_at(w3, factory.functions.getPair(token, A.WETH).call(), PAIR_ABI)
        _tx(w3, attacker, tok, "transfer", pair.address, 1_000 * UNIT)
        _tx(w3, attacker, weth, "transfer", pair.address, 10 * UNIT)
        _tx(w3, attacker, pair, "mint", attacker)
        pairs.append(pair.address)
    return pairs[0], pairs[1]


def _quote(w3: Web3, pair: str, token_in: str, amount: int) -> int:
    p = contract_at(w3, pair, PAIR_ABI)
    r0, r1, _ = p.functions.getReserves().call()
    if token_in == p.functions.token0().call():
        return get_amount_out(amount, r0, r1, 3000)
    return get_amount_out(amount, r1, r0, 3000)


def _arb(
    w3: Web3,
    deployment: Any,
    sender: str,
    token: str,
    pairs: tuple[str, str],
    route_token: str,
    amount: int,
    source: FlashSource,
) -> dict[str, Any]:
    """executeArb through pair 0 (Uniswap V2's) then pair 1 (SushiSwap's), outputs quoted as if
    the token were plain (the loss the round trip makes, amount - out, is in the returned tx's
    "loss"). The path names each pair by its factory index: the facet derives the pair."""
    other = token if route_token == A.WETH else A.WETH
    mid = _quote(w3, pairs[0], route_token, amount)
    out = _quote(w3, pairs[1], other, mid)
    path = bytes.fromhex(route_token[2:])
    for venue, bought in (("uniswap_v2", other), ("sushiswap", route_token)):
        path += b"\x00" + bytes((v2_factory(venue),)) + bytes.fromhex(bought[2:])
    amounts = b"".join(x.to_bytes(16, "big") for x in (amount, mid, out))
    data = execute_arb_calldata(source.word, path, amounts, 0, 10**9)
    tx = {"from": sender, "to": deployment.diamond, "data": "0x" + data.hex()}
    return tx | {"loss": amount - out}


class _Markets(dict[str, tuple[str, str]]):
    """Pairs of a zoo token, created on first use (setting up all four costs seconds)."""

    def __init__(self, w3: Web3, attacker: str, tokens: dict[str, str]) -> None:
        super().__init__()
        self.w3, self.attacker, self.tokens = w3, attacker, tokens

    def __missing__(self, name: str) -> tuple[str, str]:
        self[name] = _market(self.w3, self.attacker, self.tokens[name])
        return self[name]


@pytest.fixture
def markets(w3: Web3, attacker: str, zoo_tokens: dict[str, str]) -> dict[str, tuple[str, str]]:
    return _Markets(w3, attacker, zoo_tokens)


class TestQuirkyTokensMidRoute:
    """A Balancer WETH loan through WETH -> zoo token -> WETH: the quirk breaks the next pair's
    exact-output swap, so the pair's own check reverts and the loan never leaves the Vault."""

    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            (zoo.FEE_ON_TRANSFER, 'Error("UniswapV2: K")'),
            (zoo.RETURNS_FALSE, 'Error("UniswapV2: TRANSFER_FAILED")'),
            (zoo.REBASING, "InsufficientProfit(profit=-{loss}, minProfit=0)"),
        ],
        ids=["fee-on-transfer", "returns-false", "rebasing-windfall"],
    )
    def test_quirk_reverts_the_whole_loan(
        self,
        w3: Web3,
        deployment: Any,
        attacker: str,
        hot_key: str,
        stocked: Any,
        zoo_tokens: dict[str, str],
        markets: Any,
        name: str,
        expected: str,
        nothing_lost: NothingLost,
    ) -> None:
        token = zoo_tokens[name]
        tx = _arb(
            w3,
            deployment,
            hot_key,
            token,
            markets[name],
            A.WETH,
            UNIT // 10,
            FlashSource.balancer(),
        )
        if name == zoo.RETURNS_FALSE:
            zoo.set_always_false(w3, token, attacker, True)
        if name == zoo.REBASING:  # the pairs' windfall is theirs (skim): the trade still loses
            zoo.set_index(w3, token, attacker, zoo.INDEX_ONE * 7 // 3)
        loss = tx.pop("loss")
        with nothing_lost.guard(tokens=[token], spenders=list(markets[name])):
            mine_attack(w3, tx, expected.format(loss=loss))

    def test_negative_rebase_after_planning(
        self,
        w3: Web3,
        deployment: Any,
        attacker: str,
        hot_key: str,
        stocked: Any,
        zoo_tokens: dict[str, str],
        markets: Any,
        nothing_lost: NothingLost,
    ) -> None:
        """The attacker halves every balance after the route was quoted: the first pair now
        holds half its reserve of the token and cannot pay the quoted amount under k."""
        token = zoo_tokens[zoo.REBASING]
        tx = _arb(
            w3,
            deployment,
            hot_key,
            token,
            markets[zoo.REBASING],
            A.WETH,
            UNIT,
            FlashSource.balancer(),
        )
        tx.pop("loss")
        zoo.set_index(w3, token, attacker, zoo.INDEX_ONE // 2)
        with nothing_lost.guard(tokens=[token], spenders=list(markets[zoo.REBASING])):
            mine_attack(w3, tx, 'Error("UniswapV2: K")')


class TestQuirkyRouteTokens:
    """The diamond itself sends the quirky token (inventory it was given, or USDT)."""

    def test_fee_on_transfer_inventory(
        self,
        w3: Web3,
        deployment: Any,
        attacker: str,
        hot_key: str,
        stocked: Any,
        zoo_tokens: dict[str, str],
        markets: Any,
        nothing_lost: NothingLost,
    ) -> None:
        token = zoo_tokens[zoo.FEE_ON_TRANSFER]
        fot = contract_at(w3, token, contract(zoo.FEE_ON_TRANSFER).abi)
        _tx(w3, attacker, fot, "transfer", deployment.diamond, 100 * UNIT)  # a 'gift'
        tx = _arb(
            w3,
            deployment,
            hot_key,
            token,
            markets[zoo.FEE_ON_TRANSFER],
            token,
            10 * UNIT,
            FlashSource.inventory(),
        )
        tx.pop("loss")
        with nothing_lost.guard(tokens=[token], spenders=list(markets[zoo.FEE_ON_TRANSFER])):
            mine_attack(w3, tx, 'Error("UniswapV2: K")')  # the pair got 1% less than sent

    def test_returns_false_inventory(
        self,
        w3: Web3,
        deployment: Any,
        attacker: str,
        hot_key: str,
        stocked: Any,
        zoo_tokens: dict[str, str],
        markets: Any,
        nothing_lost: NothingLost,
    ) -> None:
        token = zoo_tokens[zoo.RETURNS_FALSE]
        rft = contract_at(w3, token, contract(zoo.RETURNS_FALSE).abi)
        _tx(w3, attacker, rft, "transfer", deployment.diamond, 100 * UNIT)
        pairs = markets[zoo.RETURNS_FALSE]
        tx = _arb(w3, deployment, hot_key, token, pairs, token, 10 * UNIT, FlashSource.inventory())
        tx.pop("loss")
        zoo.set_always_false(w3, token, attacker, True)
        with nothing_lost.guard(tokens=[token], spenders=list(pairs)):
            mine_attack(
                w3, tx, f"TokenTransferFailed(token={token}, to={pairs[0]}, amount={10 * UNIT})"
            )

    def test_usdt_that_is_not_there(
        self, w3: Web3, deployment: Any, hot_key: str, nothing_lost: NothingLost
    ) -> None:
        """USDT returns nothing and reverts with no data when short: the facet names it."""
        deal(w3, A.USDT, deployment.diamond, 10**6)
        route = R.cycle(
            A.USDT,
            (R.pool(w3, "uniswap_v2", A.USDC, A.USDT), A.USDC),
            (R.pool(w3, "sushiswap", A.USDC, A.USDT), A.USDT),
        )
        plan = R.plan_at(w3, route, 10**9, FlashSource.inventory())
        pair = route.hops[0].pool
        expected = f"TokenTransferFailed(token={A.USDT}, to={pair}, amount={10**9})"
        with nothing_lost.guard():
            trader_refuses(w3, deployment, plan, hot_key, expected)
            mine_attack(w3, plan.call(deployment.diamond, hot_key, 0, 10**9), expected)
        assert balance_of(w3, A.USDT, deployment.diamond) == 10**6


REENTRY = {  # hook calls the diamond with ... -> the inner frame's exact error
    "executeArb": "NotExecutor(caller={token})",
    "receiveFlashLoan": "UnauthorizedFlashLoanCaller(caller={token})",
    "uniswapV2Call": "UnauthorizedFlashLoanCaller(caller={token})",
    "uniswapV3SwapCallback": "UnauthorizedSwapCallback(caller={token})",
    "withdraw": "NotContractOwner(_user={token}, _contractOwner={owner})",
    "allowed-executeArb": "Reentrancy()",
}


class TestReentrantHook:
    """The hook token re-enters the diamond from inside a pair's swap, with a real Balancer
    loan in flight. The inner call fails with the facet's own error (checked in the mined
    trace); the hook bubbles it, the pair wraps it, and the whole loan is undone."""

    @pytest.mark.parametrize("entry", list(REENTRY))
    def test_hook_reenters_mid_route(
        self,
        w3: Web3,
        deployment: Any,
        diamond: Any,
        owner: str,
        attacker: str,
        hot_key: str,
        stocked: Any,
        zoo_tokens: dict[str, str],
        markets: Any,
        entry: str,
        nothing_lost: NothingLost,
    ) -> None:
        token = zoo_tokens[zoo.REENTRANT_HOOK]
        pairs = markets[zoo.REENTRANT_HOOK]
        arb = _arb(
            w3, deployment, hot_key, token, pairs, A.WETH, UNIT // 10, FlashSource.balancer()
        )
        arb.pop("loss")
        fn = entry.removeprefix("allowed-")
        args = {
            "executeArb": [0, b"", b"", 0, 10**9],
            "receiveFlashLoan": [[A.WETH], [UNIT], [0], b"\x01"],
            "uniswapV2Call": [deployment.diamond, UNIT, 0, b"\x01"],
            "uniswapV3SwapCallback": [UNIT, -1, b""],
            "withdraw": [A.WETH, attacker, UNIT],
        }[fn]
        if entry.startswith("allowed-"):  # an executor contract that re-enters
            send(
                w3,
                {
                    "from": owner,
                    "to": deployment.diamond,
                    "data": diamond.encode_abi("setExecutor", [token, True]),
                },
            )
        reentry = (
            execute_arb_calldata(*args)  # packed after the selector, no ABI
            if fn == "executeArb"
            else bytes.fromhex(diamond.encode_abi(fn, args)[2:])
        )
        zoo.set_hook(w3, token, attacker, deployment.diamond, reentry)
        with nothing_lost.guard(tokens=[token], spenders=list(pairs), accounts=[token]):
            receipt = mine_attack(w3, arb, 'Error("UniswapV2: TRANSFER_FAILED")')
            inner = _inner_reverts(w3, receipt["transactionHash"], deployment.diamond)
        assert REENTRY[entry].format(token=token, owner=owner) in inner, inner

    def test_hook_asks_the_vault_to_lend_to_the_diamond_mid_loan(
        self,
        w3: Web3,
        deployment: Any,
        attacker: str,
        hot_key: str,
        stocked: Any,
        zoo_tokens: dict[str, str],
        markets: Any,
        nothing_lost: NothingLost,
    ) -> None:
        """The hook calls Vault.flashLoan naming the diamond with a route paying the attacker,
        while the diamond's own Balancer loan is in flight: the Vault is locked (BAL#400)."""
        token = zoo_tokens[zoo.REENTRANT_HOOK]
        pairs = markets[zoo.REENTRANT_HOOK]
        arb = _arb(
            w3, deployment, hot_key, token, pairs, A.WETH, UNIT // 10, FlashSource.balancer()
        )
        arb.pop("loss")
        # any route: the Vault refuses before the diamond could read it (one paying the attacker
        # cannot be written any more: a V2 hop names a factory, not a pair)
        path = bytes.fromhex(A.WETH[2:]) + b"\x00\x00" + bytes.fromhex(A.WETH[2:])
        user_data = (0).to_bytes(32, "big") + len(path).to_bytes(32, "big") + path
        loan = (
            "5c38449e"
            + encode(
                ["address", "address[]", "uint256[]", "bytes"],
                [deployment.diamond, [A.WETH], [UNIT], user_data],
            ).hex()
        )
        zoo.set_hook(w3, token, attacker, A.BALANCER_VAULT, bytes.fromhex(loan))
        with nothing_lost.guard(tokens=[token], spenders=list(pairs)):
            receipt = mine_attack(w3, arb, 'Error("UniswapV2: TRANSFER_FAILED")')
            inner = _inner_reverts(w3, receipt["transactionHash"], A.BALANCER_VAULT)
        assert 'Error("BAL#400")' in inner, inner


def _inner_reverts(w3: Web3, tx_hash: Any, to: str) -> list[str]:
    from tests.audit.attack import describe

    resp = w3.provider.make_request(
        "debug_traceTransaction",  # type: ignore[arg-type]
        [tx_hash.to_0x_hex(), {"tracer": "callTracer"}],
    )
    found: list[str] = []

    def walk(frame: dict[str, Any], depth: int) -> None:
        if depth and frame.get("to", "").lower() == to.lower() and "error" in frame:
            out = frame.get("output") or "0x"
            found.append(describe(bytes.fromhex(out[2:])))
        for child in frame.get("calls", []):
            walk(child, depth + 1)

    walk(resp["result"], 0)
    return found
