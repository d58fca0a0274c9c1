"""The mainnet replica: canonical bytecode at canonical addresses, served as an upstream."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_utils import keccak
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.artifacts import npm_artifact, sushiswap_artifact
from flasharb.chain.cheats import balance_of
from flasharb.chain.etch import create2_address
from flasharb.replica.build import build, default_state_path, ensure_built
from flasharb.replica.spec import (
    StablePoolSpec,
    V2PoolSpec,
    WeightedPoolSpec,
    WeightedV3PoolSpec,
    load_spec,
)
from flasharb.state.tokens import token_info


class TestCanonicalBytecode:
    """The npm artifacts are the code mainnet runs: their init-code hashes are mainnet's."""

    def test_uniswap_v2_pair_init_code_hash(self) -> None:
        pair = npm_artifact("@uniswap/v2-core/build/UniswapV2Pair.json")
        assert keccak(pair.bytecode) == A.UNISWAP_V2_PAIR_INIT_CODE_HASH

    def test_uniswap_v3_pool_init_code_hash(self) -> None:
        pool = npm_artifact(
            "@uniswap/v3-core/artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json"
        )
        assert keccak(pool.bytecode) == A.UNISWAP_V3_POOL_INIT_CODE_HASH

    def test_factory_runtime_code_is_the_artifact(self, w3: Web3) -> None:
        factory = npm_artifact("@uniswap/v2-core/build/UniswapV2Factory.json")
        assert bytes(w3.eth.get_code(A.UNISWAP_V2_FACTORY)) == factory.deployed_bytecode

    def test_sushiswap_venue_runs_sushiswap_code(self, w3: Web3) -> None:
        """SushiSwap's factory and pairs are built from @sushiswap/core, not Uniswap's bytecode."""
        factory = sushiswap_artifact("UniswapV2Factory")
        assert bytes(w3.eth.get_code(A.SUSHISWAP_FACTORY)) == factory.deployed_bytecode
        pair = sushiswap_artifact("UniswapV2Pair")
        assert keccak(pair.bytecode) != A.UNISWAP_V2_PAIR_INIT_CODE_HASH
        c = w3.eth.contract(address=A.SUSHISWAP_FACTORY, abi=factory.abi)
        first = c.functions.allPairs(0).call()
        assert bytes(w3.eth.get_code(first)) == pair.deployed_bytecode
        assert c.functions.migrator().call() == "0x" + "00" * 20


class TestCanonicalAddresses:
    """Everything sits where it sits on mainnet."""

    @pytest.mark.parametrize(
        "address",
        [
            A.WETH,
            A.USDC,
            A.DAI,
            A.WBTC,
            A.UNISWAP_V2_FACTORY,
            A.SUSHISWAP_FACTORY,
            A.BALANCER_VAULT,
            A.BALANCER_AUTHORIZER,
            A.BALANCER_PROTOCOL_FEES_COLLECTOR,
        ],
        ids=[
            "WETH",
            "USDC",
            "DAI",
            "WBTC",
            "UniV2Factory",
            "SushiFactory",
            "Vault",
            "Authorizer",
            "FeesCollector",
        ],
    )
    def test_contract_has_code(self, w3: Web3, address: str) -> None:
        assert len(w3.eth.get_code(address)) > 0

    def test_token_metadata(self, w3: Web3) -> None:
        info = token_info(w3, [A.WETH, A.USDC, A.DAI, A.WBTC])
        assert (info[A.WETH]["symbol"], info[A.WETH]["decimals"]) == ("WETH", 18)
        assert (info[A.USDC]["symbol"], info[A.USDC]["decimals"]) == ("USDC", 6)
        assert (info[A.DAI]["symbol"], info[A.DAI]["decimals"]) == ("DAI", 18)
        assert (info[A.WBTC]["symbol"], info[A.WBTC]["decimals"]) == ("WBTC", 8)

    @pytest.mark.parametrize(
        ("a", "b", "mainnet"),
        [
            (A.WETH, A.USDC, "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc"),
            (A.WETH, A.DAI, "0xA478c2975Ab1Ea89e8196811F51A7B7Ade33eB11"),
            (A.USDC, A.DAI, "0xAE461cA67B15dc8dc81CE7615e0320dA1A9aB8D5"),
            (A.WETH, A.WBTC, "0xBb2b8038a1640196FbE3e38816F3e67Cba72D940"),
        ],
        ids=["WETH/USDC", "WETH/DAI", "USDC/DAI", "WETH/WBTC"],
    )
    def test_uniswap_pairs_land_at_mainnet_addresses(
        self, w3: Web3, a: str, b: str, mainnet: str
    ) -> None:
        factory = w3.eth.contract(
            address=A.UNISWAP_V2_FACTORY,
            abi=npm_artifact("@uniswap/v2-core/build/UniswapV2Factory.json").abi,
        )
        assert factory.functions.getPair(a, b).call() == mainnet
        t0, t1 = sorted([a, b], key=lambda x: int(x, 16))
        salt = keccak(bytes.fromhex(t0[2:] + t1[2:]))
        assert (
            create2_address(A.UNISWAP_V2_FACTORY, salt, A.UNISWAP_V2_PAIR_INIT_CODE_HASH) == mainnet
        )

    def test_vault_knows_its_fees_collector_and_authorizer(self, w3: Web3) -> None:
        vault = w3.eth.contract(
            address=A.BALANCER_VAULT,
            abi=npm_artifact(
                "@balancer-labs/v2-deployments/dist/tasks/20210418-vault/artifact/Vault.json"
            ).abi,
        )
        assert (
            vault.functions.getProtocolFeesCollector().call() == A.BALANCER_PROTOCOL_FEES_COLLECTOR
        )
        assert vault.functions.getAuthorizer().call() == A.BALANCER_AUTHORIZER
        assert vault.functions.WETH().call() == A.WETH


class TestWeth:
    """WETH behaves as mainnet's WETH9: plain ETH is wrapped, withdraw unwraps."""

    def test_plain_ether_is_wrapped(self, w3: Web3, attacker: str) -> None:
        tx = w3.eth.send_transaction({"from": attacker, "to": A.WETH, "value": 10**18})
        assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
        assert balance_of(w3, A.WETH, attacker) == 10**18

    def test_withdraw_more_than_held_reverts_without_data(self, w3: Web3, attacker: str) -> None:
        weth = w3.eth.contract(
            address=A.WETH, abi=npm_artifact("canonical-weth/build/contracts/WETH9.json").abi
        )
        data = weth.encode_abi("withdraw", [1])
        with pytest.raises(Exception) as err:
            w3.eth.call({"from": attacker, "to": A.WETH, "data": data})
        assert "revert" in str(err.value).lower()


class TestSeededState:
    """Pools and the Vault hold what the data file says."""

    def test_vault_holds_flash_liquidity(self, w3: Web3) -> None:
        """What the Vault can lend: the extra of the data file plus every Balancer pool's tokens."""
        spec = load_spec()
        held = dict.fromkeys(spec.vault, 0) | dict(spec.vault)
        balancer_pools = [
            *spec.pools_of(WeightedPoolSpec),
            *spec.pools_of(WeightedV3PoolSpec),
            *spec.pools_of(StablePoolSpec),
        ]
        for pool in balancer_pools:
            for sym, amount in zip(pool.tokens, pool.amounts, strict=True):
                held[sym] = held.get(sym, 0) + amount
        for sym, amount in held.items():
            assert balance_of(w3, spec.token(sym).address, A.BALANCER_VAULT) == amount, sym

    def test_pair_reserves_match_data_file(self, w3: Web3) -> None:
        spec = load_spec()
        pair_abi = npm_artifact("@uniswap/v2-core/build/UniswapV2Pair.json").abi
        for p in spec.pools_of(V2PoolSpec):
            factory = w3.eth.contract(
                address=A.V2_FACTORIES[p.venue],
                abi=npm_artifact("@uniswap/v2-core/build/UniswapV2Factory.json").abi,
            )
            ta, tb = spec.token(p.token_a).address, spec.token(p.token_b).address
            pair = w3.eth.contract(address=factory.functions.getPair(ta, tb).call(), abi=pair_abi)
            r0, r1, _ = pair.functions.getReserves().call()
            want = {ta: p.amount_a, tb: p.amount_b}
            assert (r0, r1) == (
                want[pair.functions.token0().call()],
                want[pair.functions.token1().call()],
            )


class TestDeterminism:
    """Two builds from the same inputs give byte-identical state files."""

    @pytest.mark.slow  # a whole replica build
    def test_two_builds_are_identical(self, tmp_path: Path) -> None:
        # the session's lab runs on a build made earlier, in another process, from the same
        # inputs (ensure_built rebuilds when they change): a fresh build here is that file
        meta = ensure_built()
        fresh = build(tmp_path / "a.json")
        assert fresh.sha256 == meta["sha256"]
        assert (tmp_path / "a.json").read_bytes() == default_state_path().read_bytes()
        assert fresh.block == meta["block"] > 0
