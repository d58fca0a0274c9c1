"""Balancer V2 weighted pools on the replica: factories and BalancerQueries at mainnet's
addresses, every pool of the data file registered in the Vault, and quotes that the Vault pays
to the wei. The weight layout and the data file without a chain:
tests/unit/test_replica_balancer.py."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from web3 import Web3
from web3.contract import Contract

from flasharb.chain import addresses as A
from flasharb.chain.artifacts import npm_artifact
from flasharb.chain.cheats import balance_of, deal
from flasharb.chain.rpc import contract_at, send
from flasharb.replica import balancer
from flasharb.replica.spec import (
    StablePoolSpec,
    WeightedPoolSpec,
    WeightedV3PoolSpec,
    load_spec,
)
from tests.balancer_data import REQUIRED, find_spec_pool

GIVEN_IN = 0  # IVault.SwapKind
TWO_TOKEN, MINIMAL_SWAP_INFO = 2, 1  # IVault.PoolSpecialization
DEADLINE = 2**255
FACTORIES = {
    2: A.BALANCER_WEIGHTED_POOL_2TOKENS_FACTORY,
    3: A.BALANCER_WEIGHTED_POOL_FACTORY,  # and every larger pool
}
ERC20_APPROVE_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "approve",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "spender", "type": "address"}, {"name": "amount", "type": "uint256"}],
        "outputs": [{"name": "", "type": "bool"}],
    }
]


# ---------------------------------------------------------------- lookups


def _spec_pools() -> list[WeightedPoolSpec]:
    return load_spec().pools_of(WeightedPoolSpec)


def _label(p: WeightedPoolSpec) -> str:
    return "/".join(p.tokens) + " " + "/".join(format(w * 100, "f") for w in p.weights)


@cache
def _vault_abi() -> list[dict[str, Any]]:
    return npm_artifact(balancer.VAULT).abi


def vault(w3: Web3) -> Contract:
    return contract_at(w3, A.BALANCER_VAULT, _vault_abi())


def weighted_pool(w3: Web3, address: str) -> Contract:
    return contract_at(w3, address, balancer.task_artifact(balancer.WEIGHTED_POOL).abi)


@dataclass(frozen=True, slots=True, kw_only=True)
class Registered:
    """A pool the Vault knows, found from its PoolRegistered events (no hand list)."""

    address: str
    pool_id: bytes
    tokens: tuple[str, ...]
    weights: tuple[int, ...]
    swap_fee: int


_FACTORY_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "isPoolFromFactory",
        "stateMutability": "view",
        "inputs": [{"name": "pool", "type": "address"}],
        "outputs": [{"name": "", "type": "bool"}],
    }
]


@pytest.fixture(scope="session")
def registered(session_w3: Web3) -> list[Registered]:
    v = vault(session_w3)
    out = []
    factories = [
        session_w3.eth.contract(address=f, abi=_FACTORY_ABI) for f in set(FACTORIES.values())
    ]
    for log in v.events.PoolRegistered.get_logs(from_block=0, to_block="latest"):
        address = log["args"]["poolAddress"]
        if not any(f.functions.isPoolFromFactory(address).call() for f in factories):
            continue  # a pool of the 20230206 factories: tests/fork/test_balancer_2023_parity.py
        pool_id = bytes(log["args"]["poolId"])
        pool = weighted_pool(session_w3, log["args"]["poolAddress"])
        tokens, _, _ = v.functions.getPoolTokens(pool_id).call()
        out.append(
            Registered(
                address=log["args"]["poolAddress"],
                pool_id=pool_id,
                tokens=tuple(tokens),
                weights=tuple(pool.functions.getNormalizedWeights().call()),
                swap_fee=pool.functions.getSwapFeePercentage().call(),
            )
        )
    return out


def onchain(registered: list[Registered], p: WeightedPoolSpec) -> Registered:
    """The registered pool with the spec pool's sorted tokens, weights and fee."""
    lay = balancer.layout(load_spec(), p)
    for r in registered:
        if (r.tokens, r.weights, r.swap_fee) == (lay.tokens, lay.weights, lay.swap_fee):
            return r
    raise AssertionError(f"no pool in the Vault matches {_label(p)} fee {p.swap_fee}")


# ---------------------------------------------------------------- tests


class TestDeployment:
    """Factories and BalancerQueries sit at mainnet's addresses and talk to the Vault."""

    @pytest.mark.parametrize(
        "address",
        [
            A.BALANCER_WEIGHTED_POOL_FACTORY,
            A.BALANCER_WEIGHTED_POOL_2TOKENS_FACTORY,
            A.BALANCER_QUERIES,
        ],
        ids=["WeightedPoolFactory", "WeightedPool2TokensFactory", "BalancerQueries"],
    )
    def test_contract_has_code(self, w3: Web3, address: str) -> None:
        assert len(w3.eth.get_code(address)) > 0  # type: ignore[arg-type]

    def test_factories_and_queries_use_the_vault(self, w3: Web3) -> None:
        for name, address in (
            (balancer.WEIGHTED_FACTORY, A.BALANCER_WEIGHTED_POOL_FACTORY),
            (balancer.WEIGHTED_2TOKENS_FACTORY, A.BALANCER_WEIGHTED_POOL_2TOKENS_FACTORY),
        ):
            f = contract_at(w3, address, balancer.task_artifact(name).abi)
            assert f.functions.getVault().call() == A.BALANCER_VAULT
        q = contract_at(w3, A.BALANCER_QUERIES, npm_artifact(balancer.QUERIES).abi)
        assert q.functions.vault().call() == A.BALANCER_VAULT


@pytest.mark.parametrize("p", _spec_pools(), ids=_label)
class TestSeededPools:
    """Every weighted pool of the data file is in the Vault, holding what the file says."""

    def test_registered_with_sorted_tokens_and_spec_balances(
        self, w3: Web3, registered: list[Registered], p: WeightedPoolSpec
    ) -> None:
        r = onchain(registered, p)
        v = vault(w3)
        address, specialization = v.functions.getPool(r.pool_id).call()
        assert address == r.address
        assert specialization == (TWO_TOKEN if len(p.tokens) == 2 else MINIMAL_SWAP_INFO)
        tokens, balances, _ = v.functions.getPoolTokens(r.pool_id).call()
        assert list(tokens) == sorted(tokens, key=lambda t: int(t, 16))
        spec = load_spec()
        want = {spec.token(s).address: a for s, a in zip(p.tokens, p.amounts, strict=True)}
        assert dict(zip(tokens, balances, strict=True)) == want

    def test_created_by_the_right_factory(
        self, w3: Web3, registered: list[Registered], p: WeightedPoolSpec
    ) -> None:
        r = onchain(registered, p)
        right = FACTORIES[min(len(p.tokens), 3)]
        for name, address in (
            (balancer.WEIGHTED_FACTORY, A.BALANCER_WEIGHTED_POOL_FACTORY),
            (balancer.WEIGHTED_2TOKENS_FACTORY, A.BALANCER_WEIGHTED_POOL_2TOKENS_FACTORY),
        ):
            f = contract_at(w3, address, balancer.task_artifact(name).abi)
            assert f.functions.isPoolFromFactory(r.address).call() == (address == right)

    def test_weights_and_fee_as_specified(
        self, w3: Web3, registered: list[Registered], p: WeightedPoolSpec
    ) -> None:
        r = onchain(registered, p)
        pool = weighted_pool(w3, r.address)
        spec = load_spec()
        by_token = {spec.token(s).address: w for s, w in zip(p.tokens, p.weights, strict=True)}
        weights = pool.functions.getNormalizedWeights().call()
        assert sum(weights) == balancer.ONE
        for token, w in zip(r.tokens, weights, strict=True):
            assert abs(Decimal(w) - by_token[token] * balancer.ONE) < len(weights)
        assert Decimal(pool.functions.getSwapFeePercentage().call()) == p.swap_fee * balancer.ONE
        assert pool.functions.getOwner().call() == balancer.POOL_OWNER
        assert pool.functions.getPoolId().call() == r.pool_id


# Swaps: (required pool, token in, token out); both directions of a 2-token and the 3-token pool.
SWAPS = [
    ("BAL/WETH 80/20", "BAL", "WETH"),
    ("BAL/WETH 80/20", "WETH", "BAL"),
    ("WETH/USDC 50/50", "WETH", "USDC"),
    ("WETH/USDC 50/50", "USDC", "WETH"),
    ("WBTC/WETH/USDC 1/3 each", "WBTC", "USDC"),
    ("WBTC/WETH/USDC 1/3 each", "USDC", "WBTC"),
    ("WBTC/WETH/USDC 1/3 each", "WETH", "WBTC"),
]


@pytest.fixture
def trader(session_w3: Web3) -> str:
    return str(list(session_w3.eth.accounts)[5])  # not a conftest role: a plain trader


class TestQuotesThroughTheVault:
    """queryBatchSwap and BalancerQueries agree, and Vault.swap pays exactly that."""

    @pytest.mark.parametrize(
        ("pool_name", "sym_in", "sym_out"), SWAPS, ids=[f"{n}:{a}->{b}" for n, a, b in SWAPS]
    )
    def test_swap_pays_the_queried_amount(
        self,
        w3: Web3,
        registered: list[Registered],
        trader: str,
        pool_name: str,
        sym_in: str,
        sym_out: str,
    ) -> None:
        spec = load_spec()
        p = find_spec_pool(spec, REQUIRED[pool_name])
        assert p is not None, f"the data file has no Balancer pool {pool_name}"
        r = onchain(registered, p)
        t_in, t_out = spec.token(sym_in).address, spec.token(sym_out).address
        amount = p.amounts[p.tokens.index(sym_in)] // 100  # 1% of the pool's balance
        funds = (trader, False, trader, False)
        v = vault(w3)

        deltas = v.functions.queryBatchSwap(
            GIVEN_IN, [(r.pool_id, 0, 1, amount, b"")], [t_in, t_out], funds
        ).call({"from": trader})
        single = (r.pool_id, GIVEN_IN, t_in, t_out, amount, b"")
        queries = contract_at(w3, A.BALANCER_QUERIES, npm_artifact(balancer.QUERIES).abi)
        quoted = queries.functions.querySwap(single, funds).call({"from": trader})
        assert deltas == [amount, -quoted]
        assert quoted > 0

        deal(w3, t_in, trader, amount)
        token_in = contract_at(w3, t_in, ERC20_APPROVE_ABI)
        send(w3, _tx(trader, token_in, "approve", [A.BALANCER_VAULT, amount]), "approve")
        before = (balance_of(w3, t_in, trader), balance_of(w3, t_out, trader))
        send(w3, _tx(trader, v, "swap", [single, funds, quoted, DEADLINE]), "Vault.swap")
        after = (balance_of(w3, t_in, trader), balance_of(w3, t_out, trader))
        assert (before[0] - after[0], after[1] - before[1]) == (amount, quoted)
        _, balances, _ = v.functions.getPoolTokens(r.pool_id).call()
        held = dict(zip(r.tokens, balances, strict=True))
        spec_amounts = {spec.token(s).address: a for s, a in zip(p.tokens, p.amounts, strict=True)}
        assert held[t_in] == spec_amounts[t_in] + amount
        assert held[t_out] == spec_amounts[t_out] - quoted


def _tx(sender: str, c: Contract, fn: str, args: list[Any]) -> dict[str, Any]:
    return {"from": sender, "to": c.address, "data": c.encode_abi(fn, args)}


class TestVaultBalances:
    """What flash loans can borrow: the pools' balances plus the data file's loanable extra."""

    def test_vault_holds_pool_balances_plus_extra(self, w3: Web3) -> None:
        spec = load_spec()
        expected = dict(spec.vault)
        every = [
            *spec.pools_of(WeightedPoolSpec),
            *spec.pools_of(WeightedV3PoolSpec),
            *spec.pools_of(StablePoolSpec),
        ]
        for p in every:
            for sym, amount in zip(p.tokens, p.amounts, strict=True):
                expected[sym] = expected.get(sym, 0) + amount
        for sym, amount in expected.items():
            assert balance_of(w3, spec.token(sym).address, A.BALANCER_VAULT) == amount, sym
