"""Fork mode is the only mode: the fork pins an upstream block, and a user's RPC runs the very
same discovery, scan and execution as the replica."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flasharb.chain import addresses as A
from flasharb.chain.anvil import Anvil, rpc_request
from flasharb.chain.node import start_lab, upstream_args
from flasharb.chain.rpc import connect
from flasharb.execute.deploy import deploy
from flasharb.execute.flow import execute_top
from flasharb.execute.shock import shock
from flasharb.replica.build import default_state_path, ensure_built
from flasharb.report.demo import v2_pair_address
from flasharb.state.v2 import discover_pairs

GET_RESERVES = "0x0902f1ac"
PAIR = v2_pair_address(A.UNISWAP_V2_FACTORY, A.WETH, A.USDC)


@pytest.fixture(scope="module")
def user_rpc() -> Iterator[Anvil]:
    """Somebody else's node serving mainnet-like state: a plain anvil loaded with the replica."""
    ensure_built()
    with Anvil(args=upstream_args(default_state_path())) as node:
        yield node


def _reserves(url: str, block: int | str = "latest") -> str:
    return str(rpc_request(url, "eth_call", [{"to": PAIR, "data": GET_RESERVES}, block]))


class TestPinning:
    """`--fork-block N` pins the fork to the upstream's state at N, whatever came after."""

    def test_forks_two_blocks_apart_see_their_own_block(self, user_rpc: Anvil) -> None:
        before = int(rpc_request(user_rpc.url, "eth_blockNumber"), 16)
        snap = rpc_request(user_rpc.url, "evm_snapshot")
        try:
            shock(connect(user_rpc.url), PAIR, A.WETH, 100 * 10**18)  # moves the upstream itself
            after = int(rpc_request(user_rpc.url, "eth_blockNumber"), 16)
            assert after >= before + 2
            seen = {}
            for block in (before, after):
                with start_lab(fork_url=user_rpc.url, fork_block=block) as lab:
                    assert int(rpc_request(lab.rpc_url, "eth_blockNumber"), 16) == block
                    seen[block] = _reserves(lab.rpc_url)
                    assert seen[block] == _reserves(user_rpc.url, hex(block))
            assert seen[before] != seen[after]
        finally:
            rpc_request(user_rpc.url, "evm_revert", [snap])


class TestUserRpc:
    """--fork-url at an arbitrary RPC: no replica is started, and the engine works unchanged."""

    def test_discovery_scan_and_execution(self, user_rpc: Anvil) -> None:
        with start_lab(fork_url=user_rpc.url) as lab:
            assert lab.upstream is None  # we started only the fork
            w3 = connect(lab.rpc_url)
            assert len(discover_pairs(w3)) == len(discover_pairs(connect(user_rpc.url)))
            dep = deploy(w3, w3.eth.accounts[0], lab.rpc_url, record=False)
            shock(w3, PAIR, A.WETH, 500 * 10**18)
            result = execute_top(w3, top=1, deployment=dep)
            assert result["trades"], result["skipped"]
            trade = result["trades"][0]
            assert trade["realized_profit"] == trade["predicted_profit"]
            assert int(trade["realized_profit"]) > 0
        assert _reserves(user_rpc.url) != ""  # the user's node is untouched and still up
