"""flasharb's fork seen through Ape: the network, the canonical contracts, ape's per-test
isolation, and the engine running on ape's web3 provider."""

from __future__ import annotations

from typing import Any

from flasharb.chain import addresses as A
from flasharb.chain.cheats import balance_of, deal
from flasharb.state.v2 import discover_pairs


def test_network_is_the_mainnet_fork(networks: Any, chain: Any) -> None:
    assert networks.provider.network.name == "mainnet-fork"
    assert networks.provider.name == "foundry"
    assert chain.chain_id == 1


def test_canonical_contracts_have_code(chain: Any) -> None:
    for address in (A.WETH, A.USDC, A.UNISWAP_V2_FACTORY, A.BALANCER_VAULT):
        assert len(chain.provider.get_code(address)) > 0


def test_engine_runs_on_apes_web3(networks: Any) -> None:
    pools = discover_pairs(networks.provider.web3)
    assert len(pools) >= 8
    assert any(p.address == "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc" for p in pools)


class TestIsolation:
    """Ape snapshots around every test: what one test deals, the next never sees."""

    WHO = "0x000000000000000000000000000000000000bEEF"

    def test_a_deal_inside_a_test(self, networks: Any) -> None:
        w3 = networks.provider.web3
        deal(w3, A.USDC, self.WHO, 10**12)
        assert balance_of(w3, A.USDC, self.WHO) == 10**12

    def test_b_is_rolled_back(self, networks: Any) -> None:
        assert balance_of(networks.provider.web3, A.USDC, self.WHO) == 0


class TestContractTypes:
    """`Contract(address)` on the fork, from the npm artifacts' ABIs (flasharb.ape_support)."""

    def test_canonical_token_and_vault(self, known_contracts: int, chain: Any) -> None:
        from ape import Contract

        assert known_contracts > 100  # canonical contracts and every replica pool
        assert Contract(A.WETH).symbol() == "WETH"
        assert Contract(A.USDC).decimals() == 6
        vault = Contract(A.BALANCER_VAULT)
        assert vault.WETH() == A.WETH  # the Vault's own view, through its ABI

    def test_a_pool_by_address(self, known_contracts: int) -> None:
        from ape import Contract

        pair = Contract("0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc")  # Uniswap V2 USDC/WETH
        assert {pair.token0(), pair.token1()} == {A.USDC, A.WETH}
        reserve0, reserve1, _ = pair.getReserves()
        assert reserve0 > 0 and reserve1 > 0
