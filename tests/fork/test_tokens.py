"""Replica tokens on the replica fork: mainnet metadata at the canonical addresses and USDT's
quirks. The data file without a chain: tests/unit/test_tokens.py."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

import pytest
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector as selector
from web3 import HTTPProvider, Web3

from flasharb.chain.artifacts import contract
from flasharb.chain.cheats import balance_of, deal, impersonate, set_balance, stop_impersonating
from flasharb.chain.rpc import send
from flasharb.errors import TransactionFailed
from flasharb.execute.revert import revert_data
from flasharb.replica.context import BUILDER, BuildContext
from flasharb.replica.spec import TokenSpec, load_spec
from flasharb.replica.tokens import USDT_DECIMALS, USDT_NAME, USDT_SYMBOL
from tests.helpers import send_failing

MAX_UINT = 2**256 - 1
USDT_SUPPLY = 10**9 * 10**6  # a test instance's supply: 1 billion USDT


def _call(w3: Web3, to: str, sig: str, types: list[str] | None = None, args: Any = ()) -> bytes:
    data = selector(sig) + (encode(types, list(args)) if types else b"")
    return bytes(w3.eth.call({"to": to, "data": "0x" + data.hex()}))  # type: ignore[typeddict-item]


def _text(raw: bytes) -> str:
    """A string-returning getter's answer; bytes32 (MKR on mainnet) is accepted too."""
    if len(raw) == 32:
        return raw.rstrip(b"\0").decode()
    return str(decode(["string"], raw)[0])


class TestCanonicalTokens:
    """Every token of the data file in use sits at its mainnet address with mainnet metadata."""

    def test_every_token_has_its_mainnet_metadata(self, w3: Web3) -> None:
        spec = load_spec()
        for t in spec.tokens:
            assert len(w3.eth.get_code(t.address)) > 0, f"{t.symbol}: no code at {t.address}"  # type: ignore[arg-type]
            assert _text(_call(w3, t.address, "name()")) == t.name, t.symbol
            assert _text(_call(w3, t.address, "symbol()")) == t.symbol, t.symbol
            dec = int.from_bytes(_call(w3, t.address, "decimals()")[:32], "big")
            assert dec == t.decimals, t.symbol

    def test_total_supply_is_the_data_files(self, w3: Web3) -> None:
        """The builder minted (WETH: wrapped) exactly the supply the data file names."""
        for t in load_spec().tokens:
            total = int.from_bytes(_call(w3, t.address, "totalSupply()")[:32], "big")
            assert total == t.supply, t.symbol


@pytest.fixture
def usdt(w3: Web3, owner: str) -> str:
    """The replica's canonical USDT when the data file has one, else a fresh ReplicaTetherToken;
    either way `owner` holds USDT_SUPPLY of it."""
    spec = load_spec()
    canonical = [t for t in spec.tokens if t.kind == "usdt"]
    if canonical:
        address = canonical[0].address
        deal(w3, address, owner, USDT_SUPPLY)
        return address
    art = contract("ReplicaTetherToken")
    code = art.bytecode + encode(["address", "uint256"], [owner, USDT_SUPPLY])
    receipt = send(w3, {"from": owner, "data": "0x" + code.hex(), "gas": 3_000_000}, "USDT")
    return str(receipt["contractAddress"])


def _tx(token: str, sig: str, types: list[str], args: list[Any], sender: str) -> dict[str, Any]:
    data = selector(sig) + encode(types, args)
    return {"from": sender, "to": token, "data": "0x" + data.hex()}


def _approve(token: str, sender: str, spender: str, amount: int) -> dict[str, Any]:
    return _tx(token, "approve(address,uint256)", ["address", "uint256"], [spender, amount], sender)


def _transfer(token: str, sender: str, to: str, amount: int) -> dict[str, Any]:
    return _tx(token, "transfer(address,uint256)", ["address", "uint256"], [to, amount], sender)


def _transfer_from(token: str, sender: str, src: str, to: str, amount: int) -> dict[str, Any]:
    types = ["address", "address", "uint256"]
    return _tx(token, "transferFrom(address,address,uint256)", types, [src, to, amount], sender)


def _allowance(w3: Web3, token: str, holder: str, spender: str) -> int:
    raw = _call(w3, token, "allowance(address,address)", ["address", "address"], [holder, spender])
    return int.from_bytes(raw, "big")


class TestTetherQuirks:
    """USDT behaves as mainnet's TetherToken: no return data, the approve race guard, an
    unlimited allowance that is never spent, INVALID on a short balance."""

    def test_metadata(self, w3: Web3, usdt: str) -> None:
        assert _text(_call(w3, usdt, "name()")) == USDT_NAME
        assert _text(_call(w3, usdt, "symbol()")) == USDT_SYMBOL
        assert int.from_bytes(_call(w3, usdt, "decimals()"), "big") == USDT_DECIMALS

    def test_transfer_returns_no_data(self, w3: Web3, usdt: str, owner: str, attacker: str) -> None:
        tx = _transfer(usdt, owner, attacker, 5)
        assert bytes(w3.eth.call(tx)) == b""  # type: ignore[arg-type]
        before = balance_of(w3, usdt, attacker)
        send(w3, tx, "USDT.transfer")
        assert balance_of(w3, usdt, attacker) == before + 5

    def test_approve_and_transfer_from_return_no_data(
        self, w3: Web3, usdt: str, owner: str, attacker: str
    ) -> None:
        approve = _approve(usdt, owner, attacker, 7)
        assert bytes(w3.eth.call(approve)) == b""  # type: ignore[arg-type]
        send(w3, approve, "USDT.approve")
        pull = _transfer_from(usdt, attacker, owner, attacker, 7)
        assert bytes(w3.eth.call(pull)) == b""  # type: ignore[arg-type]

    def test_approve_nonzero_over_nonzero_reverts_without_data(
        self, w3: Web3, usdt: str, owner: str, attacker: str
    ) -> None:
        send(w3, _approve(usdt, owner, attacker, 1), "USDT.approve")
        with pytest.raises(Exception) as exc:  # noqa: B017 - any revert; its data is checked
            w3.eth.call(_approve(usdt, owner, attacker, 2))  # type: ignore[arg-type]
        assert revert_data(exc.value) in (None, b"")  # mainnet's bare require: no data at all
        receipt = send_failing(w3, _approve(usdt, owner, attacker, 2), gas=200_000)
        assert receipt["status"] == 0
        assert _allowance(w3, usdt, owner, attacker) == 1

    def test_approve_zero_then_nonzero_works(
        self, w3: Web3, usdt: str, owner: str, attacker: str
    ) -> None:
        for amount in (1, 0, 2):
            send(w3, _approve(usdt, owner, attacker, amount), "USDT.approve")
            assert _allowance(w3, usdt, owner, attacker) == amount

    def test_max_allowance_is_not_spent(
        self, w3: Web3, usdt: str, owner: str, attacker: str
    ) -> None:
        send(w3, _approve(usdt, owner, attacker, MAX_UINT), "USDT.approve")
        send(w3, _transfer_from(usdt, attacker, owner, attacker, 10**6), "USDT.transferFrom")
        assert _allowance(w3, usdt, owner, attacker) == MAX_UINT
        assert balance_of(w3, usdt, attacker) == 10**6

    def test_finite_allowance_is_spent(
        self, w3: Web3, usdt: str, owner: str, attacker: str
    ) -> None:
        send(w3, _approve(usdt, owner, attacker, 10), "USDT.approve")
        send(w3, _transfer_from(usdt, attacker, owner, attacker, 4), "USDT.transferFrom")
        assert _allowance(w3, usdt, owner, attacker) == 6

    def test_builder_verbs_work_on_usdt(self, w3: Web3, usdt: str, attacker: str) -> None:
        """BuildContext.transfer/approve encode with ReplicaERC20's ABI and read only the receipt:
        the selectors are USDT's, so both work. The race guard applies to the builder too: a
        venue that approves USDT twice must go through 0 (or approve the maximum once)."""
        spec = load_spec()
        mine = TokenSpec(
            symbol=USDT_SYMBOL,
            name=USDT_NAME,
            decimals=USDT_DECIMALS,
            address=usdt,
            kind="usdt",
            supply=USDT_SUPPLY,
        )
        tokens = tuple(t for t in spec.tokens if t.symbol != USDT_SYMBOL) + (mine,)
        url = str(cast(HTTPProvider, w3.provider).endpoint_uri)
        ctx = BuildContext(url, replace(spec, tokens=tokens))
        impersonate(w3, BUILDER)
        set_balance(w3, BUILDER, 10**18)
        deal(w3, usdt, BUILDER, 100)
        try:
            ctx.transfer(USDT_SYMBOL, attacker, 40)
            ctx.approve(USDT_SYMBOL, attacker, 10)
            with pytest.raises(TransactionFailed):
                ctx.approve(USDT_SYMBOL, attacker, 20)
            ctx.approve(USDT_SYMBOL, attacker, 0)
            ctx.approve(USDT_SYMBOL, attacker, 20)
        finally:
            stop_impersonating(w3, BUILDER)
        assert balance_of(w3, usdt, attacker) == 40
        assert _allowance(w3, usdt, BUILDER, attacker) == 20

    def test_short_balance_hits_invalid_and_burns_the_gas(
        self, w3: Web3, usdt: str, owner: str, attacker: str
    ) -> None:
        """Mainnet's SafeMath assert (solc 0.4): INVALID, every unit of gas consumed."""
        too_much = balance_of(w3, usdt, attacker) + 1
        receipt = send_failing(w3, _transfer(usdt, attacker, owner, too_much), gas=300_000)
        assert receipt["status"] == 0
        assert receipt["gasUsed"] == 300_000
