"""A user's own test suite: only the installed flasharb and its pytest plugin (no checkout).

The user's contract trades against the mainnet replica's real Uniswap V2 pool; flasharb's exact
quote says to the wei what the pool pays, before and after a whale moves it."""

from __future__ import annotations

from pathlib import Path

import pytest
from web3.exceptions import ContractLogicError

from flasharb import quote

WETH_USDC = "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc"  # Uniswap V2, at its mainnet address
WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
HERE = Path(__file__).resolve().parents[1]


@pytest.fixture
def swapper(compile_contract):
    return compile_contract(HERE / "contracts" / "PairSwapper.sol", "PairSwapper", deploy=True)


def _usdc(w3, who: str) -> int:
    abi = [{"name": "balanceOf", "type": "function", "stateMutability": "view",
            "inputs": [{"name": "a", "type": "address"}], "outputs": [{"name": "", "type": "uint256"}]}]
    return w3.eth.contract(address=USDC, abi=abi).functions.balanceOf(who).call()


@pytest.mark.parametrize("whale_weth", [0, 500], ids=["calm", "after-a-whale"])
def test_my_contract_gets_exactly_the_quote(w3, owner, deal, shock, swapper, whale_weth):
    if whale_weth:
        shock(WETH_USDC, "WETH", whale_weth * 10**18)  # someone dumps WETH first
    deal("WETH", swapper.address, 10 * 10**18)
    exact = quote(w3, WETH_USDC, "WETH", amount_in=10 * 10**18).amount_out
    before = _usdc(w3, owner)
    swapper.functions.sellAll(WETH_USDC, WETH, exact, owner).transact({"from": owner})
    assert _usdc(w3, owner) - before == exact  # to the wei


def test_one_wei_more_than_the_quote_reverts(w3, owner, deal, swapper):
    deal("WETH", swapper.address, 10 * 10**18)
    exact = quote(w3, WETH_USDC, "WETH", amount_in=10 * 10**18).amount_out
    with pytest.raises(ContractLogicError, match="UniswapV2: K"):  # web3 estimates gas first
        swapper.functions.sellAll(WETH_USDC, WETH, exact + 1, owner).transact({"from": owner})


def test_the_market_sees_the_whale(w3, shock, market):
    shock(WETH_USDC, "WETH", 500 * 10**18)
    best = market(max_hops=2).opportunities()[0]
    assert WETH_USDC in best.cycle.pools and best.net_profit_eth > 0
