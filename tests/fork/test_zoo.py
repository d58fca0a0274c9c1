"""The hostile token zoo on a real anvil: each token breaks the assumption it is named after."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector as selector
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from flasharb.chain import addresses as A
from flasharb.chain.artifacts import npm_artifact
from flasharb.chain.cheats import advance_time
from flasharb.chain.rpc import contract_at, send
from flasharb.errors import FlasharbValueError, TransactionFailed
from flasharb.execute.revert import revert_data
from flasharb.replica import zoo
from tests.helpers import call_error, send_failing

UNIT = 10**18
PAIR_ABI = npm_artifact("@uniswap/v2-core/build/UniswapV2Pair.json").abi
FACTORY_ABI = npm_artifact("@uniswap/v2-core/build/UniswapV2Factory.json").abi


@pytest.fixture
def tokens(w3: Web3, attacker: str) -> dict[str, Contract]:
    """One of each zoo token, deployed by the attacker (who owns them and holds their supply)."""
    addresses = zoo.deploy_zoo(w3, attacker)
    assert list(addresses) == list(zoo.ZOO)
    return {name: zoo.zoo_token(w3, name, addr) for name, addr in addresses.items()}


def _do(w3: Web3, token: Contract, sender: str, fn: str, *args: Any) -> Any:
    return send(w3, {"from": sender, "to": token.address, "data": token.encode_abi(fn, list(args))})


def _calldata(c: Contract, fn: str, *args: Any) -> bytes:
    return bytes.fromhex(c.encode_abi(fn, list(args))[2:])


def _bal(token: Contract, who: str) -> int:
    return int(token.functions.balanceOf(who).call())


class TestDeployment:
    """deploy_zoo: four fresh tokens, owned by the deployer, never part of the replica."""

    def test_each_token_is_owned_and_funded(
        self, w3: Web3, tokens: dict[str, Contract], attacker: str
    ) -> None:
        supply = zoo.ZooSettings().supply
        for name, token in tokens.items():
            assert token.functions.owner().call() == attacker, name
            assert token.functions.totalSupply().call() == supply, name
            assert _bal(token, attacker) == supply, name
            assert token.functions.decimals().call() == 18, name

    def test_configuration_is_owner_only(
        self, w3: Web3, tokens: dict[str, Contract], owner: str
    ) -> None:
        fot = tokens[zoo.FEE_ON_TRANSFER]
        with pytest.raises(TransactionFailed):
            zoo.set_fee(w3, fot.address, owner, 500)
        with pytest.raises(TransactionFailed):
            zoo.mint(w3, fot.address, owner, owner, 1)

    def test_bad_arguments_fail_before_any_transaction(
        self, w3: Web3, tokens: dict[str, Contract], attacker: str
    ) -> None:
        with pytest.raises(FlasharbValueError, match="fee_bps"):
            zoo.set_fee(w3, tokens[zoo.FEE_ON_TRANSFER].address, attacker, 10_001)
        with pytest.raises(FlasharbValueError, match="index"):
            zoo.set_index(w3, tokens[zoo.REBASING].address, attacker, 0)
        with pytest.raises(FlasharbValueError, match="not a zoo token"):
            zoo.zoo_token(w3, "ReplicaERC20", attacker)


class TestFeeOnTransfer:
    """The recipient gets amount minus fee; the sender pays the whole amount."""

    def test_default_fee_is_burned(
        self, w3: Web3, tokens: dict[str, Contract], attacker: str, owner: str
    ) -> None:
        fot = tokens[zoo.FEE_ON_TRANSFER]
        supply = fot.functions.totalSupply().call()
        _do(w3, fot, attacker, "transfer", owner, 10_000 * UNIT)
        assert _bal(fot, owner) == 9_900 * UNIT  # 1% by default
        assert _bal(fot, attacker) == supply - 10_000 * UNIT
        assert fot.functions.totalSupply().call() == supply - 100 * UNIT

    def test_fee_to_a_collector_on_transfer_from(
        self, w3: Web3, tokens: dict[str, Contract], attacker: str, owner: str
    ) -> None:
        fot = tokens[zoo.FEE_ON_TRANSFER]
        collector = str(w3.eth.accounts[5])  # type: ignore[misc]  # web3 types accounts as a tuple
        zoo.set_fee(w3, fot.address, attacker, 250, collector)
        _do(w3, fot, attacker, "approve", owner, 1_000)
        _do(w3, fot, owner, "transferFrom", attacker, owner, 1_000)
        assert (_bal(fot, owner), _bal(fot, collector)) == (975, 25)
        assert fot.functions.allowance(attacker, owner).call() == 0

    def test_fee_rounds_down_and_zero_fee_is_plain(
        self, w3: Web3, tokens: dict[str, Contract], attacker: str, owner: str
    ) -> None:
        fot = tokens[zoo.FEE_ON_TRANSFER]
        _do(w3, fot, attacker, "transfer", owner, 99)  # 1% of 99 is 0.99: no fee
        assert _bal(fot, owner) == 99
        zoo.set_fee(w3, fot.address, attacker, 0)
        _do(w3, fot, attacker, "transfer", owner, 1)
        assert _bal(fot, owner) == 100

    def test_fee_above_100_percent_reverts_on_chain(
        self, w3: Web3, tokens: dict[str, Contract], attacker: str
    ) -> None:
        fot = tokens[zoo.FEE_ON_TRANSFER]
        data = fot.encode_abi("setFee", [10_001, attacker])
        err = call_error(w3, {"from": attacker, "to": fot.address, "data": data})
        assert err is not None


class TestRebasing:
    """Balances follow the index without a transfer; amounts move as whole shares."""

    def test_rebase_scales_every_balance_and_the_supply(
        self, w3: Web3, tokens: dict[str, Contract], attacker: str, owner: str
    ) -> None:
        reb = tokens[zoo.REBASING]
        _do(w3, reb, attacker, "transfer", owner, 1_000 * UNIT)
        supply = reb.functions.totalSupply().call()
        shares = reb.functions.sharesOf(owner).call()
        zoo.set_index(w3, reb.address, attacker, zoo.INDEX_ONE * 11 // 10)  # +10%
        assert _bal(reb, owner) == 1_100 * UNIT
        assert reb.functions.totalSupply().call() == supply * 11 // 10
        assert reb.functions.sharesOf(owner).call() == shares  # nothing moved
        zoo.set_index(w3, reb.address, attacker, zoo.INDEX_ONE // 2)  # negative rebase
        assert _bal(reb, owner) == 500 * UNIT

    def test_transfers_round_down_to_whole_shares(
        self, w3: Web3, tokens: dict[str, Contract], attacker: str, owner: str
    ) -> None:
        """At 3 tokens per share, sending 10 wei moves 3 shares: the recipient sees 9."""
        reb = tokens[zoo.REBASING]
        zoo.set_index(w3, reb.address, attacker, 3 * zoo.INDEX_ONE)
        before = _bal(reb, attacker)
        _do(w3, reb, attacker, "transfer", owner, 10)
        assert _bal(reb, owner) == 9
        assert before - _bal(reb, attacker) == 9

    def test_send_everything_leaves_share_dust(
        self, w3: Web3, tokens: dict[str, Contract], attacker: str, owner: str
    ) -> None:
        reb = tokens[zoo.REBASING]
        _do(w3, reb, attacker, "transfer", owner, 10)  # 10 shares at index 1.0
        zoo.set_index(w3, reb.address, attacker, zoo.INDEX_ONE * 7 // 3)
        everything = _bal(reb, owner)
        _do(w3, reb, owner, "transfer", attacker, everything)
        assert reb.functions.sharesOf(owner).call() > 0  # floor(floor(s*i)/i) < s

    def test_growth_raises_every_balance_with_time_alone(
        self, w3: Web3, tokens: dict[str, Contract], attacker: str, owner: str
    ) -> None:
        """At +1.0 of index a day, a holder's balance doubles in a day with no transfer."""
        reb = tokens[zoo.REBASING]
        _do(w3, reb, attacker, "transfer", owner, 1_000 * UNIT)
        zoo.set_growth(w3, reb.address, attacker, zoo.INDEX_ONE // 86_400)
        start = reb.functions.index().call()
        advance_time(w3, 86_400)
        grown = reb.functions.index().call()
        assert grown - start == zoo.INDEX_ONE // 86_400 * 86_400
        assert _bal(reb, owner) == 1_000 * UNIT * grown // zoo.INDEX_ONE
        zoo.set_growth(w3, reb.address, attacker, 0)  # stops; what accrued stays
        stopped = reb.functions.index().call()
        assert stopped >= grown
        advance_time(w3, 86_400)
        assert reb.functions.index().call() == stopped
        with pytest.raises(TransactionFailed):
            zoo.set_growth(w3, reb.address, owner, 1)  # owner-only


class TestGasPriceAware:
    """Honest at tx.gasprice == 0 (eth_call), not when mined."""

    def test_eth_call_transfers_mined_transfer_reverts(
        self, w3: Web3, tokens: dict[str, Contract], attacker: str, owner: str
    ) -> None:
        gpa = tokens[zoo.GAS_PRICE_AWARE]
        assert gpa.functions.transfer(owner, UNIT).call({"from": attacker}) is True
        data = "0x" + _calldata(gpa, "transfer", owner, UNIT).hex()
        receipt = send_failing(w3, {"from": attacker, "to": gpa.address, "data": data})
        assert receipt["status"] == 0 and _bal(gpa, owner) == 0
        trace = w3.provider.make_request(
            "debug_traceTransaction",  # type: ignore[arg-type]
            [receipt["transactionHash"].hex(), {"tracer": "callTracer"}],
        )["result"]
        price = receipt["effectiveGasPrice"]
        assert (
            trace["output"]
            == "0x" + (selector("PricedTransfer(uint256)") + encode(["uint256"], [price])).hex()
        )

    def test_burn_mode_returns_true_and_delivers_nothing(
        self, w3: Web3, tokens: dict[str, Contract], attacker: str, owner: str
    ) -> None:
        gpa = tokens[zoo.GAS_PRICE_AWARE]
        zoo.set_revert_when_priced(w3, gpa.address, attacker, False)
        supply = gpa.functions.totalSupply().call()
        receipt = _do(w3, gpa, attacker, "transfer", owner, UNIT)
        assert receipt["status"] == 1 and _bal(gpa, owner) == 0
        assert gpa.functions.totalSupply().call() == supply - UNIT  # burned
        with pytest.raises(TransactionFailed):
            zoo.set_revert_when_priced(w3, gpa.address, owner, True)  # owner-only


class TestReturnsFalse:
    """Failures come back as `false`, with no revert and nothing moved."""

    def test_short_balance_returns_false_and_moves_nothing(
        self, w3: Web3, tokens: dict[str, Contract], owner: str, attacker: str
    ) -> None:
        rft = tokens[zoo.RETURNS_FALSE]
        assert rft.functions.transfer(attacker, 1).call({"from": owner}) is False
        receipt = _do(w3, rft, owner, "transfer", attacker, 1)
        assert receipt["status"] == 1  # the transaction succeeds ...
        assert _bal(rft, owner) == 0  # ... and nothing happened

    def test_transfer_from_without_allowance_returns_false(
        self, w3: Web3, tokens: dict[str, Contract], owner: str, attacker: str
    ) -> None:
        rft = tokens[zoo.RETURNS_FALSE]
        assert rft.functions.transferFrom(attacker, owner, 1).call({"from": owner}) is False
        _do(w3, rft, attacker, "approve", owner, 5)
        assert rft.functions.transferFrom(attacker, owner, 5).call({"from": owner}) is True
        assert rft.functions.transferFrom(attacker, owner, 6).call({"from": owner}) is False

    def test_always_false_switch(
        self, w3: Web3, tokens: dict[str, Contract], owner: str, attacker: str
    ) -> None:
        rft = tokens[zoo.RETURNS_FALSE]
        assert rft.functions.transfer(owner, 1).call({"from": attacker}) is True
        zoo.set_always_false(w3, rft.address, attacker, True)
        assert rft.functions.transfer(owner, 1).call({"from": attacker}) is False
        _do(w3, rft, attacker, "approve", owner, 5)
        assert rft.functions.transferFrom(attacker, owner, 5).call({"from": owner}) is False
        _do(w3, rft, attacker, "transfer", owner, 1)
        assert _bal(rft, owner) == 0
        zoo.set_always_false(w3, rft.address, attacker, False)
        _do(w3, rft, attacker, "transfer", owner, 1)
        assert _bal(rft, owner) == 1


def _hook_events(token: Contract, receipt: Any) -> list[Any]:
    return list(token.events.HookCalled().process_receipt(receipt, errors=DISCARD))


class TestReentrantHook:
    """Every transfer calls the configured target with the configured calldata."""

    def test_hook_delivers_its_calldata_with_the_token_as_caller(
        self, w3: Web3, tokens: dict[str, Contract], attacker: str, owner: str
    ) -> None:
        """The hook makes the token approve `owner` for 123 of its own balance."""
        hook = tokens[zoo.REENTRANT_HOOK]
        zoo.set_hook(
            w3, hook.address, attacker, hook.address, _calldata(hook, "approve", owner, 123)
        )
        receipt = _do(w3, hook, attacker, "transfer", owner, 1)
        assert hook.functions.allowance(hook.address, owner).call() == 123
        [ev] = _hook_events(hook, receipt)
        assert ev["args"]["success"] is True and ev["args"]["target"] == hook.address

    def test_times_limits_the_hook_and_clear_disarms_it(
        self, w3: Web3, tokens: dict[str, Contract], attacker: str, owner: str
    ) -> None:
        hook = tokens[zoo.REENTRANT_HOOK]
        noop = selector("totalSupply()")
        zoo.set_hook(w3, hook.address, attacker, hook.address, noop, times=2)
        for _ in range(3):
            _do(w3, hook, attacker, "transfer", owner, 1)
        assert hook.functions.hooksFired().call() == 2
        zoo.set_hook(w3, hook.address, attacker, hook.address, noop)  # every transfer ...
        zoo.clear_hook(w3, hook.address, attacker)  # ... until disarmed
        _do(w3, hook, attacker, "transfer", owner, 1)
        assert hook.functions.hooksFired().call() == 2

    def test_failing_hook_bubbles_its_revert_data_verbatim(
        self, w3: Web3, tokens: dict[str, Contract], attacker: str, owner: str
    ) -> None:
        """The hook calls `mint` on the token itself: the token is not the owner, so the hook
        fails with NotOwner, and the transfer reverts with exactly that error."""
        hook = tokens[zoo.REENTRANT_HOOK]
        zoo.set_hook(w3, hook.address, attacker, hook.address, _calldata(hook, "mint", owner, 1))
        tx = {"from": attacker, "to": hook.address, "data": hook.encode_abi("transfer", [owner, 1])}
        with pytest.raises(Exception) as exc:  # noqa: B017 - the revert data is the point
            w3.eth.call(tx)  # type: ignore[arg-type]
        data = revert_data(exc.value)
        assert data is not None
        assert data == selector("NotOwner(address,address)") + encode(
            ["address", "address"], [hook.address, attacker]
        )

    def test_silent_mode_reports_the_failure_and_lets_the_transfer_through(
        self, w3: Web3, tokens: dict[str, Contract], attacker: str, owner: str
    ) -> None:
        hook = tokens[zoo.REENTRANT_HOOK]
        data = _calldata(hook, "mint", owner, 1)
        zoo.set_hook(w3, hook.address, attacker, hook.address, data, bubble=False)
        receipt = _do(w3, hook, attacker, "transfer", owner, 1)
        assert _bal(hook, owner) == 1
        [ev] = _hook_events(hook, receipt)
        assert ev["args"]["success"] is False
        assert ev["args"]["returnData"][:4] == selector("NotOwner(address,address)")

    def test_reentering_a_uniswap_pair_mid_swap_hits_its_lock(
        self, w3: Web3, tokens: dict[str, Contract], attacker: str
    ) -> None:
        """An attacker's token re-enters the pair it is being swapped out of: the pair's
        `lock` modifier rejects the inner call (UniswapV2: LOCKED), as on mainnet."""
        hook = tokens[zoo.REENTRANT_HOOK]
        weth_abi = npm_artifact("canonical-weth/build/contracts/WETH9.json").abi
        weth = contract_at(w3, A.WETH, weth_abi)
        wrap = {"from": attacker, "to": A.WETH, "data": weth.encode_abi("deposit", [])}
        send(w3, wrap | {"value": 20 * UNIT}, "WETH.deposit")
        factory = contract_at(w3, A.UNISWAP_V2_FACTORY, FACTORY_ABI)
        _do(w3, factory, attacker, "createPair", hook.address, A.WETH)
        pair = contract_at(w3, factory.functions.getPair(hook.address, A.WETH).call(), PAIR_ABI)
        _do(w3, hook, attacker, "transfer", pair.address, 1_000 * UNIT)
        _do(w3, weth, attacker, "transfer", pair.address, 10 * UNIT)
        _do(w3, pair, attacker, "mint", attacker)

        sync = _calldata(pair, "sync")
        zoo.set_hook(w3, hook.address, attacker, pair.address, sync, bubble=False)
        _do(w3, weth, attacker, "transfer", pair.address, UNIT // 10)
        hook_is_0 = pair.functions.token0().call() == hook.address
        out = (UNIT, 0) if hook_is_0 else (0, UNIT)
        receipt = _do(w3, pair, attacker, "swap", *out, attacker, b"")
        [ev] = _hook_events(hook, receipt)
        assert ev["args"]["success"] is False
        assert b"UniswapV2: LOCKED" in bytes(ev["args"]["returnData"])

        zoo.set_hook(w3, hook.address, attacker, pair.address, sync)  # bubble=True
        _do(w3, weth, attacker, "transfer", pair.address, UNIT // 10)
        data = pair.encode_abi("swap", [*out, attacker, b""])
        swap = {"from": attacker, "to": pair.address, "data": data}
        err = call_error(w3, swap)
        assert err is not None and "TRANSFER_FAILED" in err  # the pair wraps the inner revert
