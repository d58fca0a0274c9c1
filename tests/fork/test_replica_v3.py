"""Uniswap V3 on the mainnet replica: mainnet's code at mainnet's addresses, pools at their
CREATE2 addresses and the data file's prices, with positions a realistic swap walks through."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract

from flasharb.chain import addresses as A
from flasharb.chain.artifacts import npm_artifact
from flasharb.chain.cheats import balance_of, deal
from flasharb.chain.etch import create2_address
from flasharb.replica import uniswap_v3 as V3
from flasharb.replica.context import BUILDER
from flasharb.replica.spec import ReplicaSpec, V3PoolSpec, load_spec

# Pools every data file must have: (token_a, token_b, fee), either token order.
REQUIRED = [
    ("WETH", "USDC", 500),
    ("WETH", "USDC", 3000),
    ("WBTC", "WETH", 3000),
    ("DAI", "USDC", 100),
    ("LINK", "WETH", 10000),
]
REQUIRED_IDS = [f"{a}/{b}-{fee}" for a, b, fee in REQUIRED]

# Mainnet addresses (etherscan; factory.getPool on mainnet), checked against our CREATE2 too.
MAINNET_POOLS = [
    (A.USDC, A.WETH, 500, "0x88e6A0c2dDD26FEEb64F039a2c41296FcB3f5640"),
    (A.USDC, A.WETH, 3000, "0x8ad599c3A0ff1De082011EFDDc58f1908eb6e6D8"),
    (A.WBTC, A.WETH, 3000, "0xCBCdF9626bC03E24f779434178A73a0B4bad62eD"),
    (A.DAI, A.USDC, 100, "0x5777d92f208679DB4b9778590Fa3CAB3aC9e2168"),
    (
        Web3.to_checksum_address("0x514910771AF9Ca656af840dff83E8264EcF986CA"),  # LINK
        A.WETH,
        10000,
        "0x3A0f221eA8B150f3D3d27DE8928851aB5264bB65",
    ),
]

# A realistic swap: this share of the pool's holdings of the token paid in (every position is in
# range at build time, so the holdings are the pool's in-range depth).
SWAP_PERCENT = 5
ERC20_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "approve",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "s", "type": "address"}, {"name": "v", "type": "uint256"}],
        "outputs": [{"name": "", "type": "bool"}],
    },
    {
        "type": "function",
        "name": "allowance",
        "stateMutability": "view",
        "inputs": [{"name": "o", "type": "address"}, {"name": "s", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
]


def _c(w3: Web3, address: str, artifact: str) -> Contract:
    return w3.eth.contract(
        address=Web3.to_checksum_address(address), abi=npm_artifact(artifact).abi
    )


def _sorted(spec: ReplicaSpec, p: V3PoolSpec) -> tuple[str, str]:
    a, b = spec.token(p.token_a).address, spec.token(p.token_b).address
    t0, t1 = sorted([a, b], key=lambda x: int(x, 16))
    return t0, t1


def _find(spec: ReplicaSpec, a: str, b: str, fee: int) -> V3PoolSpec:
    pools: list[V3PoolSpec] = spec.pools_of(V3PoolSpec)
    for p in pools:
        if {p.token_a, p.token_b} == {a, b} and p.fee == fee:
            return p
    raise AssertionError(f"{spec.path} has no uniswap_v3 pool {a}/{b} fee {fee}")


def _expected_address(t0: str, t1: str, fee: int) -> str:
    salt = keccak(encode(["address", "address", "uint24"], [t0, t1, fee]))
    return create2_address(A.UNISWAP_V3_FACTORY, salt, A.UNISWAP_V3_POOL_INIT_CODE_HASH)


def _raw_price(spec: ReplicaSpec, p: V3PoolSpec) -> Fraction:
    """The data file's price as raw token1 per raw token0, exactly."""
    t0, _ = _sorted(spec, p)
    ta, tb = spec.token(p.token_a), spec.token(p.token_b)
    human = Fraction(p.price) if ta.address == t0 else 1 / Fraction(p.price)
    dec0, dec1 = (ta.decimals, tb.decimals) if ta.address == t0 else (tb.decimals, ta.decimals)
    return human * Fraction(10) ** (dec1 - dec0)


@pytest.fixture(scope="module")
def spec() -> ReplicaSpec:
    return load_spec()


@pytest.fixture(scope="module")
def v3_pools(spec: ReplicaSpec) -> list[V3PoolSpec]:
    pools: list[V3PoolSpec] = spec.pools_of(V3PoolSpec)
    assert pools, f"{spec.path} has no uniswap_v3 pools"
    return pools


@pytest.fixture(scope="module")
def builder_positions(session_w3: Web3) -> dict[tuple[str, str, int], list[tuple[int, int, int]]]:
    """The builder's positions from the position manager: (token0, token1, fee) -> ranges."""
    npm = _c(session_w3, A.UNISWAP_V3_POSITION_MANAGER, V3.POSITION_MANAGER)
    out: dict[tuple[str, str, int], list[tuple[int, int, int]]] = defaultdict(list)
    for i in range(npm.functions.balanceOf(BUILDER).call()):
        token_id = npm.functions.tokenOfOwnerByIndex(BUILDER, i).call()
        pos = npm.functions.positions(token_id).call()
        out[(pos[2], pos[3], pos[4])].append((pos[5], pos[6], pos[7]))  # lower, upper, liquidity
    return out


class TestDeployment:
    """Factory and periphery at mainnet's addresses, wired to each other."""

    @pytest.mark.parametrize(
        "address",
        [
            A.UNISWAP_V3_FACTORY,
            A.UNISWAP_V3_POSITION_MANAGER,
            A.UNISWAP_V3_SWAP_ROUTER,
            A.UNISWAP_V3_QUOTER_V2,
        ],
        ids=["factory", "position_manager", "swap_router", "quoter_v2"],
    )
    def test_contract_has_code(self, w3: Web3, address: str) -> None:
        assert len(w3.eth.get_code(Web3.to_checksum_address(address))) > 0

    @pytest.mark.parametrize(
        ("address", "artifact"),
        [
            (A.UNISWAP_V3_POSITION_MANAGER, V3.POSITION_MANAGER),
            (A.UNISWAP_V3_SWAP_ROUTER, V3.SWAP_ROUTER),
            (A.UNISWAP_V3_QUOTER_V2, V3.QUOTER_V2),
        ],
        ids=["position_manager", "swap_router", "quoter_v2"],
    )
    def test_periphery_points_at_factory_and_weth(
        self, w3: Web3, address: str, artifact: str
    ) -> None:
        c = _c(w3, address, artifact)
        assert c.functions.factory().call() == A.UNISWAP_V3_FACTORY
        assert c.functions.WETH9().call() == A.WETH

    def test_factory_owner_is_builder(self, w3: Web3) -> None:
        factory = _c(w3, A.UNISWAP_V3_FACTORY, V3.FACTORY)
        assert factory.functions.owner().call() == BUILDER

    @pytest.mark.parametrize(
        ("fee", "spacing"), sorted(A.V3_FEE_TIERS.items()), ids=lambda v: str(v)
    )
    def test_fee_tier_enabled(self, w3: Web3, fee: int, spacing: int) -> None:
        factory = _c(w3, A.UNISWAP_V3_FACTORY, V3.FACTORY)
        assert factory.functions.feeAmountTickSpacing(fee).call() == spacing

    def test_position_manager_names_itself_like_mainnet(self, w3: Web3) -> None:
        npm = _c(w3, A.UNISWAP_V3_POSITION_MANAGER, V3.POSITION_MANAGER)
        assert npm.functions.name().call() == "Uniswap V3 Positions NFT-V1"
        assert npm.functions.symbol().call() == "UNI-V3-POS"

    def test_token_descriptor_has_no_code(self, w3: Web3) -> None:
        """tokenURI is unsupported on the replica: the descriptor address is mainnet's, empty."""
        assert len(w3.eth.get_code(V3.TOKEN_DESCRIPTOR)) == 0


class TestPoolAddresses:
    """Every pool sits at the CREATE2 address from the canonical init-code hash."""

    @pytest.mark.parametrize(("a", "b", "fee"), REQUIRED, ids=REQUIRED_IDS)
    def test_required_pool_in_data_file(self, spec: ReplicaSpec, a: str, b: str, fee: int) -> None:
        _find(spec, a, b, fee)

    def test_every_pool_at_its_create2_address(
        self, w3: Web3, spec: ReplicaSpec, v3_pools: list[V3PoolSpec]
    ) -> None:
        factory = _c(w3, A.UNISWAP_V3_FACTORY, V3.FACTORY)
        for p in v3_pools:
            t0, t1 = _sorted(spec, p)
            expected = _expected_address(t0, t1, p.fee)
            assert factory.functions.getPool(t0, t1, p.fee).call() == expected
            assert factory.functions.getPool(t1, t0, p.fee).call() == expected
            pool = _c(w3, expected, V3.POOL)
            assert pool.functions.token0().call() == t0
            assert pool.functions.token1().call() == t1
            assert pool.functions.fee().call() == p.fee
            assert pool.functions.tickSpacing().call() == A.V3_FEE_TIERS[p.fee]

    @pytest.mark.parametrize(
        ("t0", "t1", "fee", "mainnet"),
        MAINNET_POOLS,
        ids=[
            "USDC/WETH-500",
            "USDC/WETH-3000",
            "WBTC/WETH-3000",
            "DAI/USDC-100",
            "LINK/WETH-10000",
        ],
    )
    def test_pool_at_mainnet_address(
        self, w3: Web3, t0: str, t1: str, fee: int, mainnet: str
    ) -> None:
        assert _expected_address(t0, t1, fee) == mainnet
        factory = _c(w3, A.UNISWAP_V3_FACTORY, V3.FACTORY)
        assert factory.functions.getPool(t0, t1, fee).call() == mainnet
        assert len(w3.eth.get_code(Web3.to_checksum_address(mainnet))) > 0


class TestSeededPools:
    """Prices, liquidity and ticks are what the data file asks for."""

    def test_price_is_the_data_file_price(
        self, w3: Web3, spec: ReplicaSpec, v3_pools: list[V3PoolSpec]
    ) -> None:
        """sqrtPriceX96 = floor(sqrt(price) * 2^96), checked exactly with integers."""
        for p in v3_pools:
            pool = _c(w3, _expected_address(*_sorted(spec, p), p.fee), V3.POOL)
            sqrt_p = pool.functions.slot0().call()[0]
            target = _raw_price(spec, p) * 2**192
            assert sqrt_p**2 <= target < (sqrt_p + 1) ** 2, f"{p.token_a}/{p.token_b} {p.fee}"

    def test_positions_are_live_and_ticks_initialized(
        self,
        w3: Web3,
        spec: ReplicaSpec,
        v3_pools: list[V3PoolSpec],
        builder_positions: dict[tuple[str, str, int], list[tuple[int, int, int]]],
    ) -> None:
        for p in v3_pools:
            t0, t1 = _sorted(spec, p)
            pool = _c(w3, _expected_address(t0, t1, p.fee), V3.POOL)
            ranges = builder_positions[(t0, t1, p.fee)]
            assert len(ranges) == len(p.positions)
            tick = pool.functions.slot0().call()[1]
            assert all(lo <= tick < hi for lo, hi, _ in ranges)  # every range straddles the price
            assert pool.functions.liquidity().call() == sum(liq for *_, liq in ranges) > 0
            ticks = {t for lo, hi, _ in ranges for t in (lo, hi)}
            spacing = A.V3_FEE_TIERS[p.fee]
            for t in ticks:
                assert t % spacing == 0
                assert pool.functions.ticks(t).call()[0] > 0  # liquidityGross
                word = pool.functions.tickBitmap((t // spacing) >> 8).call()
                assert word >> ((t // spacing) % 256) & 1, f"tick {t} not in the bitmap"
            assert len(ticks) >= (3 if len(ranges) > 1 else 2)

    def test_ranges_are_the_data_file_multiples(
        self,
        spec: ReplicaSpec,
        v3_pools: list[V3PoolSpec],
        builder_positions: dict[tuple[str, str, int], list[tuple[int, int, int]]],
    ) -> None:
        """Each range is the data file's, turned to token1/token0 and rounded outward by less
        than one tick spacing on each side (positions are minted in data file order)."""
        with localcontext() as ctx:
            ctx.prec = 60
            log_base = Decimal("1.0001").ln()
            for p in v3_pools:
                t0, t1 = _sorted(spec, p)
                raw = _raw_price(spec, p)
                spacing = A.V3_FEE_TIERS[p.fee]
                a_is_token0 = spec.token(p.token_a).address == t0
                ranges = builder_positions[(t0, t1, p.fee)]
                for pos, (lo, hi, _) in zip(p.positions, ranges, strict=True):
                    lo_m, hi_m = (
                        (pos.lower, pos.upper) if a_is_token0 else (1 / pos.upper, 1 / pos.lower)
                    )
                    lo_tick = (Decimal(raw.numerator) / raw.denominator * lo_m).ln() / log_base
                    hi_tick = (Decimal(raw.numerator) / raw.denominator * hi_m).ln() / log_base
                    assert lo <= lo_tick < lo + spacing, f"{p.token_a}/{p.token_b} {p.fee} lower"
                    assert hi - spacing < hi_tick <= hi, f"{p.token_a}/{p.token_b} {p.fee} upper"

    def test_builder_leaves_no_allowance(
        self, w3: Web3, spec: ReplicaSpec, v3_pools: list[V3PoolSpec]
    ) -> None:
        for sym in {s for p in v3_pools for s in (p.token_a, p.token_b)}:
            token = w3.eth.contract(
                address=Web3.to_checksum_address(spec.token(sym).address), abi=ERC20_ABI
            )
            allowance = token.functions.allowance(BUILDER, A.UNISWAP_V3_POSITION_MANAGER).call()
            assert allowance == 0, sym

    def test_pool_value_is_the_data_file_usd(
        self, w3: Web3, spec: ReplicaSpec, v3_pools: list[V3PoolSpec]
    ) -> None:
        """Token balances, valued at the pool price, add up to the positions' USD."""
        for p in v3_pools:
            t0, t1 = _sorted(spec, p)
            tok1 = spec.token(p.token_b if spec.token(p.token_b).address == t1 else p.token_a)
            if tok1.price_usd is None:
                continue
            address = _expected_address(t0, t1, p.fee)
            raw1 = balance_of(w3, t0, address) * _raw_price(spec, p) + balance_of(w3, t1, address)
            usd = raw1 * Fraction(tok1.price_usd) / 10**tok1.decimals
            want = Fraction(sum((pos.usd for pos in p.positions), Decimal(0)))
            assert abs(usd / want - 1) < Fraction(1, 10**4), f"{p.token_a}/{p.token_b} {p.fee}"


SWAP_CASES = [(a, b, fee, d) for a, b, fee in REQUIRED for d in ("a->b", "b->a")]


class TestRealisticSwap:
    """A swap of a few % of a pool's holdings walks through several initialized ticks, and the
    router pays exactly what QuoterV2 quoted."""

    @pytest.mark.parametrize(
        ("a", "b", "fee", "direction"),
        SWAP_CASES,
        ids=[f"{a}/{b}-{fee}:{d}" for a, b, fee, d in SWAP_CASES],
    )
    def test_swap_crosses_ticks_and_pays_the_quote(
        self,
        w3: Web3,
        spec: ReplicaSpec,
        owner: str,
        builder_positions: dict[tuple[str, str, int], list[tuple[int, int, int]]],
        a: str,
        b: str,
        fee: int,
        direction: str,
    ) -> None:
        p = _find(spec, a, b, fee)
        t0, t1 = _sorted(spec, p)
        sym_in, sym_out = (a, b) if direction == "a->b" else (b, a)
        t_in, t_out = spec.token(sym_in).address, spec.token(sym_out).address
        address = _expected_address(t0, t1, fee)
        pool = _c(w3, address, V3.POOL)
        amount_in = balance_of(w3, t_in, address) * SWAP_PERCENT // 100
        quoter = _c(w3, A.UNISWAP_V3_QUOTER_V2, V3.QUOTER_V2)
        out, sqrt_after, quoted_crossed, _gas = quoter.functions.quoteExactInputSingle(
            (t_in, t_out, amount_in, fee, 0)
        ).call()

        deal(w3, t_in, owner, amount_in)
        token = w3.eth.contract(address=Web3.to_checksum_address(t_in), abi=ERC20_ABI)
        approve = token.functions.approve(A.UNISWAP_V3_SWAP_ROUTER, amount_in)
        w3.eth.wait_for_transaction_receipt(approve.transact({"from": owner}))
        router = _c(w3, A.UNISWAP_V3_SWAP_ROUTER, V3.SWAP_ROUTER)
        deadline = w3.eth.get_block("latest")["timestamp"] + 3600
        tick_before = pool.functions.slot0().call()[1]
        out_before = balance_of(w3, t_out, owner)
        swap = router.functions.exactInputSingle(
            (t_in, t_out, fee, owner, deadline, amount_in, out, 0)
        )
        receipt = w3.eth.wait_for_transaction_receipt(swap.transact({"from": owner}))
        assert receipt["status"] == 1
        assert balance_of(w3, t_out, owner) - out_before == out > 0
        assert balance_of(w3, t_in, owner) == 0
        sqrt_now, tick_after, *_ = pool.functions.slot0().call()
        assert sqrt_now == sqrt_after

        # Crossed for real: initialized ticks between the tick before and after the swap.
        ticks = {t for lo, hi, _ in builder_positions[(t0, t1, fee)] for t in (lo, hi)}
        if t_in == t0:  # price down: tick t is crossed when the price falls below it
            crossed = [t for t in ticks if tick_after < t <= tick_before]
            ahead = sorted((t for t in ticks if t <= tick_before), reverse=True)[:2]
        else:  # price up: crossed when the price reaches it
            crossed = [t for t in ticks if tick_before < t <= tick_after]
            ahead = sorted(t for t in ticks if t > tick_before)[:2]
        what = (
            f"{SWAP_PERCENT}% of the pool's {sym_in} moved tick {tick_before} -> {tick_after}; "
            f"the next initialized ticks are {ahead}: "
            "the data file needs narrower, thinner inner positions"
        )
        assert quoted_crossed >= 2, f"QuoterV2 counts {quoted_crossed} ticks crossed: {what}"
        assert len(crossed) >= 2, f"crossed {crossed}: {what}"
