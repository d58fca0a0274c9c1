"""`flasharb quote` on every venue: the quote is what the pool then pays, to the wei."""

from __future__ import annotations

import pytest
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.kinds import HopKind
from flasharb.state.discovery import discover
from tests.helpers import Cli

V3_WETH_USDC_500 = "0x88e6A0c2dDD26FEEb64F039a2c41296FcB3f5640"
V2_WETH_USDC = "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc"


def _balancer_pools(w3: Web3) -> list[tuple[str, tuple[str, ...]]]:
    reg = discover(w3)
    return [  # a stable pool's own BPT is not a token to quote (a join or an exit)
        (p.address, tuple(t for t in p.tokens if t != p.address))
        for p in reg.of_kind(HopKind.BALANCER)
    ]


def _one_per_shape(w3: Web3) -> list[tuple[str, tuple[str, ...]]]:
    """The first Balancer pool of each venue and token count (every pool's math is the parity
    suites'; this is the CLI's quote path, one per kind of pool)."""
    reg = discover(w3)
    seen: dict[tuple[str, int], tuple[str, tuple[str, ...]]] = {}
    for p in reg.of_kind(HopKind.BALANCER):
        tokens = tuple(t for t in p.tokens if t != p.address)
        seen.setdefault((p.venue, len(tokens)), (p.address, tokens))
    return list(seen.values())


class TestQuoteIsWhatThePoolPays:
    """Quote, then swap the same amount for real with `flasharb shock`: the same output."""

    @pytest.mark.parametrize(
        ("pool", "token_in", "amount"),
        [
            (V2_WETH_USDC, A.WETH, 250 * 10**18),
            (V3_WETH_USDC_500, A.WETH, 3_000 * 10**18),  # crosses the replica's positions
            (V3_WETH_USDC_500, A.USDC, 7 * 10**6),
        ],
        ids=["uniswap_v2", "uniswap_v3-sell-weth-big", "uniswap_v3-sell-usdc-small"],
    )
    def test_exact_in(self, cli: Cli, pool: str, token_in: str, amount: int) -> None:
        quoted = cli.json(
            "quote", "--pool", pool, "--token-in", token_in, "--amount-in", str(amount)
        )
        shocked = cli.json(
            "shock", "--pool", pool, "--token-in", token_in, "--amount-in", str(amount)
        )
        assert quoted["token_out"] == shocked["token_out"]
        assert int(quoted["amount_out"]) > 0
        assert quoted["amount_out"] == shocked["amount_out"]

    def test_each_kind_of_balancer_pool(self, cli: Cli, w3: Web3) -> None:
        shapes = _one_per_shape(w3)
        assert {len(t) for _, t in shapes} >= {2, 3, 4}
        for pool, tokens in shapes:
            t_in, t_out = tokens[-1], tokens[0]
            args = ["--pool", pool, "--token-in", t_in, "--token-out", t_out, "--amount-in"]
            quoted = cli.json("quote", *args, str(10**6))
            shocked = cli.json("shock", *args, str(10**6))
            assert quoted["amount_out"] == shocked["amount_out"], pool

    def test_exact_out_buys_at_least_the_output(self, cli: Cli) -> None:
        want = 1_000 * 10**6  # USDC
        quoted = cli.json(
            "quote", "--pool", V3_WETH_USDC_500, "--token-in", A.WETH, "--amount-out", str(want)
        )
        paid = quoted["amount_in"]
        shocked = cli.json(
            "shock", "--pool", V3_WETH_USDC_500, "--token-in", A.WETH, "--amount-in", paid
        )
        assert int(shocked["amount_out"]) >= want


class TestQuoteBadInput:
    """One line naming the problem; exit 2 (input the user must change)."""

    def test_amount_must_be_positive(self, cli: Cli) -> None:
        line = cli.error(
            "quote", "--pool", V2_WETH_USDC, "--token-in", A.WETH, "--amount-in", "0", code=2
        )
        assert "positive" in line

    def test_exactly_one_amount(self, cli: Cli) -> None:
        line = cli.error("quote", "--pool", V2_WETH_USDC, "--token-in", A.WETH, code=2)
        assert "--amount-in" in line and "--amount-out" in line

    def test_multi_token_pool_needs_token_out(self, cli: Cli, w3: Web3) -> None:
        multi = [(p, t) for p, t in _balancer_pools(w3) if len(t) > 2]
        assert multi, "the replica has 3+ token Balancer pools"
        pool, tokens = multi[0]
        line = cli.error(
            "quote", "--pool", pool, "--token-in", tokens[0], "--amount-in", "1", code=2
        )
        assert "--token-out" in line and pool in line

    def test_contract_that_claims_a_factory_is_refused(self, cli: Cli) -> None:
        line = cli.error(
            "quote", "--pool", A.WETH, "--token-in", A.WETH, "--amount-in", "1", code=2
        )
        assert A.WETH in line and "known factory" in line
