"""scan's Vault cap: an opportunity larger than the Vault can lend is resized exactly."""

from __future__ import annotations

from flasharb.amm.uniswap_v2 import V2PairState
from flasharb.chain import addresses as A
from flasharb.search.cycles import CycleIndex
from flasharb.search.rank import GasModel, rank, token_value_in_eth
from flasharb.search.scan import _cap_to_vault
from flasharb.search.sizing import simulate

E18 = 10**18
E6 = 10**6


def _states() -> dict[str, V2PairState]:
    """USDC/WETH on two venues, 10% apart: a large opportunity starting from USDC."""
    cheap = V2PairState(
        address="0x" + "1" * 40,
        token0=A.USDC,
        token1=A.WETH,
        reserve0=3_000_000 * E6,
        reserve1=1_100 * E18,
    )
    dear = V2PairState(
        address="0x" + "2" * 40,
        token0=A.USDC,
        token1=A.WETH,
        reserve0=3_300_000 * E6,
        reserve1=1_000 * E18,
        venue="sushiswap",
    )
    return {p.address: p for p in (cheap, dear)}


def test_cap_resizes_to_what_the_vault_holds() -> None:
    states = _states()
    index = CycleIndex.build(states.values(), [A.USDC], max_hops=2)
    best = rank(index, states, weth=A.WETH, gas_price_wei=10**9, gas_model=GasModel())[0]
    lendable = best.amount_in // 3
    capped = _cap_to_vault(best, states, lendable)
    assert capped is not None
    assert capped.amount_in == lendable
    assert capped.amount_out == simulate(best.cycle, states, lendable)[-1]
    assert capped.gross_profit == capped.amount_out - lendable
    assert capped.net_profit == capped.gross_profit - capped.flash_fee - capped.gas_cost
    assert capped.net_profit_eth == token_value_in_eth(A.USDC, capped.net_profit, states, A.WETH)
    assert 0 < capped.net_profit < best.net_profit


def test_cap_leaves_small_opportunities_alone() -> None:
    states = _states()
    index = CycleIndex.build(states.values(), [A.USDC], max_hops=2)
    best = rank(index, states, weth=A.WETH, gas_price_wei=10**9, gas_model=GasModel())[0]
    assert _cap_to_vault(best, states, best.amount_in) is best


def test_cap_drops_what_no_longer_pays_for_gas() -> None:
    states = _states()
    index = CycleIndex.build(states.values(), [A.USDC], max_hops=2)
    best = rank(index, states, weth=A.WETH, gas_price_wei=10**9, gas_model=GasModel())[0]
    assert _cap_to_vault(best, states, 1) is None
