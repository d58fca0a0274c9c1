"""The `flasharb` command as scripts use it: --json shapes of DESIGN.md §5 and one-line errors."""

from __future__ import annotations

from web3 import Web3

from flasharb.chain import addresses as A
from tests.helpers import Cli

WETH_USDC = "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc"
HOP_KEYS = {"pool", "kind", "token_in", "token_out"}
OPP_KEYS = {
    "route",
    "flash_source",
    "profit_token",
    "amount_in",
    "gross_profit",
    "flash_fee",
    "gas_estimate",
    "net_profit",
}
TRADE_KEYS = {
    "route",
    "amount_in",
    "predicted_profit",
    "simulated_profit",
    "realized_profit",
    "gas_used",
    "tx_hash",
}


def test_help_lists_every_command(cli: Cli) -> None:
    out = cli.run("--help").stdout
    for cmd in ("replica", "node", "deploy", "shock", "quote", "scan", "execute", "demo"):
        assert cmd in out


class TestFlow:
    """deploy -> quote -> shock -> scan -> execute, each read as JSON."""

    def test_whole_flow_in_json(self, cli: Cli) -> None:
        dep = cli.json("deploy")
        assert set(dep) == {"diamond", "facets", "executor"}  # issue 14: the trading key
        assert set(dep["facets"]) == {
            "DiamondCutFacet",
            "DiamondLoupeFacet",
            "OwnershipFacet",
            "FlashArbFacet",
            "TreasuryFacet",
            "GuardFacet",
        }

        amount = str(500 * 10**18)
        quoted = cli.json("quote", "--pool", WETH_USDC, "--token-in", A.WETH, "--amount-in", amount)
        shocked = cli.json(
            "shock", "--pool", WETH_USDC, "--token-in", A.WETH, "--amount-in", amount
        )
        assert {"tx_hash", "amount_out"} <= set(shocked)
        assert shocked["amount_out"] == quoted["amount_out"]  # the quote is what the pool paid

        scan = cli.json("scan")
        assert isinstance(scan["block"], int) and scan["opportunities"]
        for opp in scan["opportunities"]:
            assert set(opp) >= OPP_KEYS
            assert all(set(h) >= HOP_KEYS for h in opp["route"])
            assert int(opp["net_profit"]) > 0

        dry = cli.json("execute", "--top", "2", "--dry-run")
        assert dry["trades"][0]["simulated_profit"] == dry["trades"][0]["predicted_profit"]

        done = cli.json("execute", "--top", "2")  # one shock: every route shares its pool
        assert len(done["trades"]) == len(dry["trades"]) == 1
        assert [t["tx_hash"] for t in done["trades"]] == [t["tx_hash"] for t in dry["trades"]]
        for trade in done["trades"]:
            assert set(trade) >= TRADE_KEYS
            assert (
                trade["realized_profit"] == trade["simulated_profit"] == trade["predicted_profit"]
            )
            assert int(trade["realized_profit"]) > 0


class TestBadInput:
    """Wrong addresses and unknown pools: one line naming the thing, exit 2, nothing sent."""

    def test_malformed_address(self, cli: Cli) -> None:
        line = cli.error(
            "quote", "--pool", "0x1234", "--token-in", A.WETH, "--amount-in", "1", code=2
        )
        assert "--pool" in line and "0x1234" in line

    def test_address_that_is_not_a_pair(self, cli: Cli) -> None:
        line = cli.error(
            "quote", "--pool", A.WETH, "--token-in", A.WETH, "--amount-in", "1", code=2
        )
        assert A.WETH in line

    def test_token_not_in_pool(self, cli: Cli, w3: Web3) -> None:
        block = w3.eth.block_number
        line = cli.error(
            "shock", "--pool", WETH_USDC, "--token-in", A.DAI, "--amount-in", "1", code=2
        )
        assert A.DAI in line and WETH_USDC in line
        assert w3.eth.block_number == block  # nothing was sent

    def test_execute_without_deployment(self, cli: Cli) -> None:
        assert "flasharb deploy" in cli.error("execute")
