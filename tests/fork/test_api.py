"""The public API on the session fork: what docs/api.md shows a script doing, and the pytest
plugin's fixtures (this suite runs on them). Without a chain: tests/unit/test_api.py."""

from __future__ import annotations

from typing import Any

from web3 import Web3

import flasharb
from flasharb.chain import addresses as A

UNI = "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc"


class TestScriptApi:
    """What docs/api.md shows, on the session fork."""

    def test_quote_shock_market(self, w3: Web3) -> None:
        before = flasharb.quote(w3, UNI, "WETH", amount_in=10**18)
        assert before.token_in == A.WETH and before.token_out == A.USDC and before.amount_out > 0
        whale = flasharb.shock(w3, UNI, "WETH", 500 * 10**18)
        after = flasharb.quote(w3, UNI, A.WETH, amount_in=10**18)
        assert after.amount_out < before.amount_out and whale.amount_out > 0
        back = flasharb.quote(w3, UNI, "USDC", amount_out=10**18)  # exact out: the input
        assert back.amount_out == 10**18 and back.amount_in > 0
        market = flasharb.Market.build(w3, flasharb.MarketConfig(max_hops=2))
        best = market.select(top=1)
        assert best and UNI in best[0].cycle.pools

    def test_plugin_fixtures(
        self, w3: Web3, owner: str, executor: str, attacker: str, deal: Any, deployment: Any
    ) -> None:
        assert len({owner, executor, attacker}) == 3
        deal("USDC", attacker, 7)
        abi = [
            {
                "name": "balanceOf",
                "type": "function",
                "stateMutability": "view",
                "inputs": [{"name": "a", "type": "address"}],
                "outputs": [{"name": "", "type": "uint256"}],
            }
        ]
        usdc = w3.eth.contract(address=A.USDC, abi=abi)
        assert usdc.functions.balanceOf(attacker).call() == 7
        assert w3.eth.get_code(deployment.diamond)
