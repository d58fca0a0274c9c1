"""Bellman-Ford cross-check on the replica after a shock: every negative cycle it finds is a
cycle of the index (when short and simple enough to be one) and pays there. The same check on
synthetic graphs: tests/unit/test_search_bellman_ford.py."""

from __future__ import annotations

from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.execute.shock import shock
from flasharb.report.demo import v2_pair_address
from flasharb.search.exact import size_cycle
from flasharb.search.sizing import simulate
from flasharb.state.discovery import discover
from flasharb.state.reader import read_states
from flasharb_testing import routes as R
from flasharb_testing.bellman_ford import cross_check, engine_of


class TestOnTheReplica:
    """Every pool of every venue on the replica fork, after a shock on Uniswap V2 WETH/USDC and
    one on Balancer's WETH/USDC: each negative cycle Bellman-Ford finds that fits the index
    (at most 4 hops, each pool once, through a flash token) is a row of it, and pays there
    under the exact pool math."""

    def test_every_negative_cycle_is_indexed_and_pays(self, w3: Web3) -> None:
        shock(w3, v2_pair_address(A.UNISWAP_V2_FACTORY, A.WETH, A.USDC), A.WETH, 200 * 10**18)
        shock(w3, R.pool(w3, "balancer", A.WETH, A.USDC).address, A.USDC, 400_000 * 10**6)
        registry = discover(w3)
        states = read_states(w3, list(registry), block=registry.block).states
        engine = engine_of(list(states.values()), list(A.FLASH_TOKENS))
        index = engine.index
        start_ids = set(index.graph.token_ids(A.FLASH_TOKENS))
        checks = cross_check(
            index.graph, engine.rates.log_rate, index.start, index.edges, start_ids, max_cycles=16
        )
        indexed = [c for c in checks if c.status == "indexed"]
        assert indexed, "the shocks open negative cycles of at most four pools"
        kinds = set()
        for check in indexed:
            assert check.cycle_ids, f"cycle through {check.cycle.pools} is not in the index"
            for i in check.cycle_ids:
                cycle = index.cycle(i)
                pools = check.cycle.pools
                k = pools.index(cycle.pools[0])
                assert cycle.pools == pools[k:] + pools[:k]  # the same ring, from a flash token
                sized = size_cycle(cycle, states)
                assert sized.profit > 0
                assert sized.amounts == tuple(simulate(cycle, states, sized.amount_in))
                kinds.update(h.kind.label for h in cycle.hops)
        assert {"uniswap_v2", "balancer"} <= kinds
