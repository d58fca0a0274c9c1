"""Uniswap V4 pools as a venue: found from the PoolManager's Initialize logs (hooked pools skipped
with the reason), keyed by their PoolId (no address is made up for them), read by the batched
reader through extsload exactly as the parity suite reads them, quoted as the PoolManager swaps,
synced from the PoolManager's logs after real swaps and new pools, and native ETH traded as WETH."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector as selector
from web3 import Web3

from flasharb.amm.uniswap_v4 import NATIVE, PoolKey, V4PoolState
from flasharb.chain import addresses as A
from flasharb.chain.cheats import deal
from flasharb.chain.rpc import send
from flasharb.errors import FlasharbValueError, IncompleteStateError
from flasharb.kinds import HopKind
from flasharb.replica.spec import V4PoolSpec, load_spec
from flasharb.search.cycles import Hop
from flasharb.search.graph import routable
from flasharb.search.valuation import weth_prices
from flasharb.state.discovery import discover
from flasharb.state.reader import ReadConfig, read_states
from flasharb.state.registry import PoolRegistry, id_uid
from flasharb.state.sync import StateSync
from flasharb.venues.uniswap_v4 import UNISWAP_V4
from tests.fork import test_v4_parity as P

VENUE = "uniswap_v4"
SWAPPER = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

interface IPoolManager {
    struct PoolKey {
        address currency0; address currency1; uint24 fee; int24 tickSpacing; address hooks;
    }
    struct SwapParams { bool zeroForOne; int256 amountSpecified; uint160 sqrtPriceLimitX96; }
    function unlock(bytes calldata data) external returns (bytes memory);
    function swap(PoolKey memory key, SwapParams memory params, bytes calldata hookData)
        external returns (int256);
    function sync(address currency) external;
    function settle() external payable returns (uint256);
    function take(address currency, address to, uint256 amount) external;
}

/// @notice Test only: an exact-input swap through the PoolManager, paid from this contract's
///         balance.
contract V4TestSwapper {
    IPoolManager internal constant PM = IPoolManager(0x000000000004444c5dc75cB358380D2e3dE08A90);

    function swap(IPoolManager.PoolKey calldata key, bool zeroForOne, uint256 amountIn) external {
        PM.unlock(abi.encode(key, zeroForOne, amountIn));
    }

    function unlockCallback(bytes calldata data) external returns (bytes memory) {
        require(msg.sender == address(PM));
        (IPoolManager.PoolKey memory key, bool zfo, uint256 amountIn) =
            abi.decode(data, (IPoolManager.PoolKey, bool, uint256));
        uint160 limit = zfo ? 4295128740 : 1461446703485210103287273052203988822378723970341;
        int256 delta = PM.swap(key, IPoolManager.SwapParams(zfo, -int256(amountIn), limit), "");
        int128 a0 = int128(delta >> 128);
        int128 a1 = int128(delta);
        (address cin, address cout) =
            zfo ? (key.currency0, key.currency1) : (key.currency1, key.currency0);
        uint256 pay = uint256(int256(-(zfo ? a0 : a1)));
        uint256 got = uint256(int256(zfo ? a1 : a0));
        if (cin == address(0)) {
            PM.settle{value: pay}();
        } else {
            PM.sync(cin);
            (bool ok,) =
                cin.call(abi.encodeWithSignature("transfer(address,uint256)", address(PM), pay));
            require(ok);
            PM.settle();
        }
        PM.take(cout, address(this), got);
        return "";
    }

    receive() external payable {}
}
"""


@pytest.fixture(scope="module")
def registry(session_w3: Web3) -> PoolRegistry:
    return discover(session_w3)


def _key(state: V4PoolState) -> PoolKey:
    return state.key


class TestDiscovery:
    def test_every_pool_by_its_pool_id(self, registry: PoolRegistry) -> None:
        pools = registry.of_venue(VENUE)
        assert len(pools) == len(load_spec().pools_of(V4PoolSpec))
        assert any(NATIVE in p.tokens for p in pools)  # native-ETH pools among them
        for info in pools:
            assert info.uid == id_uid(info.pool_id) and len(info.uid) == 66
            assert info.address == A.UNISWAP_V4_POOL_MANAGER  # where it lives: no made-up address
            key = PoolKey(
                currency0=info.tokens[0],
                currency1=info.tokens[1],
                fee=info.fee,
                tick_spacing=info.tick_spacing,
            )
            assert key.pool_id() == info.pool_id
            assert registry[info.uid] is info

    def test_a_hooked_pool_is_skipped_with_the_reason(self, w3: Web3, owner: str) -> None:
        hooks = Web3.to_checksum_address("0x" + "00" * 18 + "0080")  # BEFORE_SWAP_FLAG only
        w3.provider.make_request("anvil_setCode", [hooks, "0x00"])  # type: ignore[arg-type]
        key = (A.NATIVE_ETH, A.USDC, 3000, 60, hooks)
        data = selector("initialize((address,address,uint24,int24,address),uint160)") + encode(
            ["(address,address,uint24,int24,address)", "uint160"], [key, 2**96 // 1000]
        )
        send(
            w3, {"from": owner, "to": A.UNISWAP_V4_POOL_MANAGER, "data": "0x" + data.hex()}, "init"
        )
        pool_id = PoolKey(
            currency0=key[0], currency1=key[1], fee=3000, tick_spacing=60, hooks=hooks
        ).pool_id()
        found = discover(w3)
        assert id_uid(pool_id) not in found
        assert "hookless pools only" in found.skipped[id_uid(pool_id)]


class TestReads:
    """The batched read equals the parity suite's extsload read of the same slots."""

    def test_read_equals_the_parity_read(self, session_w3: Web3, registry: PoolRegistry) -> None:
        pools = registry.of_venue(VENUE)
        cfg = ReadConfig(words_per_side=P.WINDOW)
        got = read_states(session_w3, pools, block=registry.block, config=cfg)
        assert got.failed == {}
        keys = [_key(got.states[p.uid]) for p in pools]  # type: ignore[arg-type]
        theirs = P.read_states(session_w3, keys)
        for info in pools:
            mine = got.states[info.uid]
            assert isinstance(mine, V4PoolState) and mine.uid == info.uid
            ref = theirs[info.pool_id]
            for name in ("sqrt_price_x96", "tick", "liquidity", "lp_fee", "protocol_fee"):
                assert getattr(mine, name) == getattr(ref, name), (info.uid, name)
            assert mine.word_range == ref.word_range
            assert {w: v for w, v in mine.tick_bitmap.items() if v} == dict(ref.tick_bitmap)
            assert dict(mine.ticks) == dict(ref.ticks)

    def test_quotes_equal_the_pool_managers_swaps(
        self, session_w3: Web3, registry: PoolRegistry
    ) -> None:
        pools = registry.of_venue(VENUE)
        cfg = ReadConfig(words_per_side=3 * P.WINDOW)  # the parity suite's cases reach far
        states = read_states(session_w3, pools, block=registry.block, config=cfg).states
        rng = random.Random(7)
        cases = []
        by_id = {}
        for info in pools:
            state = states[info.uid]
            assert isinstance(state, V4PoolState)
            by_id[info.pool_id] = state
            cases += [c for c in P.make_cases(rng, state, 6, 0) if c.limit == 0]
        problems, compared = [], 0
        for case, outcome in zip(cases, P.probe(session_w3, cases), strict=True):
            try:
                found, _diff, _refused, _ticks = P.compare(by_id[case.key.pool_id()], case, outcome)
            except IncompleteStateError:  # a swap past the words read: refused, not guessed
                continue
            problems += found
            compared += 1
        assert compared > 200
        assert not problems, problems[:5]


class TestNativeEthIsWeth:
    def test_a_native_pool_trades_and_prices_as_weth(
        self, session_w3: Web3, registry: PoolRegistry
    ) -> None:
        info = next(p for p in registry.of_venue(VENUE) if p.tokens == (NATIVE, A.USDC))
        state = read_states(session_w3, [info], block=registry.block).states[info.uid]
        assert isinstance(state, V4PoolState)
        assert UNISWAP_V4.graph_tokens(state) == (A.WETH, A.USDC)
        out, _ticks = UNISWAP_V4.swap(state, A.WETH, A.USDC, 10**18)
        assert out == state.swap(True, -(10**18)).amount_out  # WETH names the ETH side
        only = weth_prices([state], A.WETH)
        assert A.USDC in only and only[A.USDC].pool == info.uid  # priced by the V4 pool alone

    def test_routed_only_where_the_facet_has_a_v4_hop(
        self, session_w3: Web3, registry: PoolRegistry
    ) -> None:
        info = registry.of_venue(VENUE)[0]
        state = read_states(session_w3, [info], block=registry.block).states[info.uid]
        has_hop = getattr(HopKind, "UNISWAP_V4", None) is not None
        assert routable(state) is has_hop
        if not has_hop:
            with pytest.raises(FlasharbValueError, match="no Uniswap V4 hop|no V4 hop"):
                UNISWAP_V4.hop(state, *UNISWAP_V4.graph_tokens(state))
            hop = Hop(pool=info.uid, token_in=A.WETH, token_out=A.USDC, fee_pips=info.fee)
            with pytest.raises(FlasharbValueError, match="no Uniswap V4 hop"):
                UNISWAP_V4.encode_hop(hop)


class TestSync:
    """Real swaps through the PoolManager, and a pool created mid-run: the sync's states equal a
    fresh read at the same block."""

    def test_swaps_and_a_new_pool_equal_a_fresh_read(
        self, w3: Web3, owner: str, compile_contract: Any, tmp_path: Path
    ) -> None:
        source = tmp_path / "V4TestSwapper.sol"
        source.write_text(SWAPPER)
        swapper = compile_contract(source, "V4TestSwapper", deploy=True)
        sync = StateSync.start(w3)
        pools = sync.registry.of_venue(VENUE)
        native = next(p for p in pools if p.tokens == (NATIVE, A.USDC) and p.fee == 500)
        erc20 = next(p for p in pools if NATIVE not in p.tokens and A.USDC in p.tokens)
        before = {p.uid: sync.states[p.uid] for p in (native, erc20)}
        w3.provider.make_request(  # type: ignore[arg-type]
            "anvil_setBalance", [swapper.address, hex(10**24)]
        )
        for info, zfo, amount in ((native, True, 5 * 10**18), (erc20, False, 10**9)):
            token_in = info.tokens[0] if zfo else info.tokens[1]
            if token_in != NATIVE:
                deal(w3, token_in, swapper.address, amount)
            key = (*info.tokens, info.fee, info.tick_spacing, NATIVE)
            send(
                w3,
                {
                    "from": owner,
                    "to": swapper.address,
                    "data": swapper.encode_abi("swap", [key, zfo, amount]),
                },
                "V4 swap",
            )
        result = sync.sync()
        assert {native.uid, erc20.uid} <= result.changed
        fresh = read_states(w3, [native, erc20], block=result.block)
        for info in (native, erc20):
            assert sync.states[info.uid] == fresh.states[info.uid]
            assert sync.states[info.uid] != before[info.uid]
        # a new pool (the replica's seeder: Initialize, then ModifyLiquidity) joins
        base = sync.states[native.uid]
        assert isinstance(base, V4PoolState)
        new_key = PoolKey(currency0=NATIVE, currency1=A.USDC, fee=777, tick_spacing=7)
        P._seed_many(w3, owner, random.Random(1), new_key, base.sqrt_price_x96)
        joined = sync.sync()
        uid = id_uid(new_key.pool_id())
        assert uid in joined.added
        fresh_state = read_states(w3, [sync.registry[uid]], block=joined.block).states[uid]
        assert sync.states[uid] == fresh_state and fresh_state.liquidity > 0
