"""The project's configuration file without a chain: where it is found, what each key becomes,
the one-line errors for what it gets wrong, and the pure rules the market applies with it (the
token lists, a pool's ETH value against a venue's floor). On the replica: tests/fork/test_config.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flasharb.amm.uniswap_v2 import V2PairState
from flasharb.chain import addresses as A
from flasharb.config import Config, find_config, load_config, module_priority, parse_config
from flasharb.errors import FlasharbValueError
from flasharb.kinds import HopKind
from flasharb.search.market import MarketConfig, pool_value_eth
from flasharb.search.valuation import PriceBook
from flasharb.state.registry import PoolInfo
from flasharb.state.venue import Venues, builtin_venues

USDT = A.USDT
USDC = A.USDC


def _write(d: Path, name: str, text: str) -> Path:
    path = d / name
    path.write_text(text)
    return path


# ---------------------------------------------------------------- finding the file


def test_no_file_is_exactly_the_defaults(tmp_path: Path) -> None:
    config = load_config(project=tmp_path)
    assert config == Config()
    assert config.market() == MarketConfig()  # today's market, field for field
    assert config.venue_set().names == Venues().names


def test_flasharb_toml_first_then_pyproject_table(tmp_path: Path) -> None:
    _write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n')
    assert find_config(tmp_path) is None  # a pyproject without [tool.flasharb]
    _write(tmp_path, "pyproject.toml", "[tool.flasharb.strategy]\nmax_hops = 4\n")
    assert find_config(tmp_path) == (tmp_path / "pyproject.toml", True)
    assert load_config(project=tmp_path).strategy.max_hops == 4
    _write(tmp_path, "flasharb.toml", "[strategy]\nmax_hops = 2\n")
    assert find_config(tmp_path) == (tmp_path / "flasharb.toml", False)
    config = load_config(project=tmp_path)
    assert config.strategy.max_hops == 2 and config.source == str(tmp_path / "flasharb.toml")


def test_a_path_and_the_env_win_over_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, "flasharb.toml", "[strategy]\nmax_hops = 2\n")
    other = _write(tmp_path, "other.toml", "[strategy]\nmax_hops = 4\n")
    assert load_config(other, project=tmp_path).strategy.max_hops == 4
    monkeypatch.setenv("FLASHARB_CONFIG", str(other))
    assert load_config(project=tmp_path).strategy.max_hops == 4
    monkeypatch.setenv("FLASHARB_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(FlasharbValueError, match="missing.toml does not exist"):
        load_config(project=tmp_path)


def test_the_project_folder_is_flasharbs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, "flasharb.toml", "[strategy]\ntop = 3\n")
    monkeypatch.delenv("FLASHARB_CONFIG", raising=False)
    monkeypatch.setenv("FLASHARB_PROJECT", str(tmp_path))
    assert load_config().strategy.top == 3


# ---------------------------------------------------------------- what the keys become


FULL = f"""
[venues.sushiswap]
enabled = false

[venues.uniswap_v3]
priority = 99
min_liquidity = "5"

[venues.uniswap_v2]
fee = 2500
min_liquidity = 1000

[tokens]
deny = ["{USDT.lower()}"]

[strategy]
max_hops = 2
min_net_profit = "0.015"
priority_fee = "1.5 gwei"
top = 4
bribe_bps = 250
deadline_blocks = 3
"""


def test_every_key(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, "flasharb.toml", FULL))
    venues = config.venue_set()
    builtin = [v.name for v in builtin_venues()]
    rest = [n for n in builtin if n not in ("sushiswap", "uniswap_v3")]
    assert venues.names == ("uniswap_v3", *rest)  # disabled gone, 99 first, the rest as built in
    assert venues["uniswap_v2"].fee == 2500  # type: ignore[attr-defined]
    assert builtin_venues()[0].fee == 3000  # type: ignore[attr-defined]  # the built-in unchanged
    market = config.market()
    assert market.max_hops == 2
    assert market.min_net_profit_eth == 15 * 10**15
    assert market.priority_fee_wei == 1_500_000_000
    assert market.min_liquidity_eth == {"uniswap_v3": 5 * 10**18, "uniswap_v2": 1000}
    assert market.deny_tokens == {USDT} and market.allow_tokens is None
    s = config.strategy
    assert (s.top, s.bribe_bps, s.deadline_blocks) == (4, 250, 3)


def test_keywords_override_the_file(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, "flasharb.toml", FULL))
    market = config.market(max_hops=4, priority_fee_wei=0, min_net_profit_eth=7, screen=False)
    assert (market.max_hops, market.priority_fee_wei, market.min_net_profit_eth) == (4, 0, 7)
    assert market.screen is False and market.deny_tokens == {USDT}


def test_priority_default_is_the_modules() -> None:
    v2 = Venues()["uniswap_v2"]
    assert module_priority(v2) == 50
    low = parse_config({"venues": {"uniswap_v2": {"priority": -1}}}).venue_set().names
    assert low[-1] == "uniswap_v2" and len(low) == len(Venues())


@pytest.mark.parametrize(
    ("given", "wei"),
    [
        (0, 0),
        (12345, 12345),  # an integer is wei
        ("1", 10**18),  # a bare decimal string is ether
        ("0.05", 5 * 10**16),
        ("0.05 ether", 5 * 10**16),
        ("0.05eth", 5 * 10**16),
        ("2 gwei", 2 * 10**9),
        ("1_000 wei", 1000),
        ("0.000000000000000001", 1),
        ("123456789.123456789123456789", 123456789123456789123456789),
    ],
)
def test_amounts_are_exact(given: int | str, wei: int) -> None:
    config = parse_config({"strategy": {"min_net_profit": given}})
    assert config.strategy.min_net_profit_eth == wei


def test_addresses_are_eip55() -> None:
    upper = "0x" + USDT[2:].upper()
    config = parse_config({"tokens": {"allow": [USDC.lower(), A.WETH], "deny": [upper]}})
    assert config.allow_tokens == {USDC, A.WETH}  # one case: no checksum to check, normalized
    assert config.deny_tokens == {USDT}


# ---------------------------------------------------------------- one line for each mistake


BAD = [
    ("[venue.uniswap_v2]\nenabled = false\n", "unknown key venue"),
    ("[venues.curve]\nenabled = false\n", "unknown venue 'curve'"),
    ("[venues.uniswap_v2]\nenable = false\n", "unknown key venues.uniswap_v2.enable"),
    ("[venues.uniswap_v2]\nenabled = 0\n", "venues.uniswap_v2.enabled must be true or false"),
    ('[venues.uniswap_v2]\npriority = "1"\n', "venues.uniswap_v2.priority must be an integer"),
    ("[venues.uniswap_v3]\nfee = 500\n", "venues.uniswap_v3.fee: uniswap_v3 reads each pool's"),
    ("[venues.uniswap_v2]\nfee = 1000000\n", "venues.uniswap_v2.fee = 1000000 is not in"),
    ("[venues.uniswap_v2]\nmin_liquidity = 1.5\n", "venues.uniswap_v2.min_liquidity is a float"),
    ("[venues.uniswap_v2]\nmin_liquidity = -1\n", "must be in 0..2^256-1 wei"),
    ("venues = 3\n", "venues must be a table"),
    ('[tokens]\ndeny = "0x00"\n', "tokens.deny must be a list of addresses"),
    ('[tokens]\ndeny = ["0x1234"]\n', "tokens.deny: '0x1234' is not an address"),
    (
        f'[tokens]\nallow = ["{USDT[:-1]}8"]\n',
        "fails its EIP-55 checksum",
    ),
    (f'[tokens]\nallow = ["{USDT}"]\ndeny = ["{USDT}"]\n', "is in both allow and deny"),
    ("[tokens]\nblock = []\n", "unknown key tokens.block; the keys here are allow, deny"),
    ("[strategy]\nmax_hops = 5\n", "strategy.max_hops = 5 is not in 2..4"),
    ("[strategy]\nmax_hops = true\n", "strategy.max_hops must be an integer"),
    ('[strategy]\nmin_net_profit = "1e-3"\n', "is not an amount"),
    ('[strategy]\nmin_net_profit = "0.0000000000000000001"\n', "finer than 1 wei"),
    ('[strategy]\npriority_fee = "3 szabo"\n', "is not an amount"),
    ("[strategy]\ntop = 0\n", "strategy.top = 0 is not in 1..10000"),
    ("[strategy]\nbribe_bps = 10001\n", "strategy.bribe_bps = 10001 is not in 0..10000"),
    ("[strategy]\nmin_profit = 1\n", "unknown key strategy.min_profit"),
    ("[strategy\nmax_hops = 2\n", "is not valid TOML"),
    (
        "".join(f"[venues.{v.name}]\nenabled = false\n" for v in builtin_venues()),
        "every venue is disabled",
    ),
]


@pytest.mark.parametrize(("text", "says"), BAD, ids=[b[1][:40] for b in BAD])
def test_a_bad_file_is_one_line_naming_the_key(tmp_path: Path, text: str, says: str) -> None:
    path = _write(tmp_path, "flasharb.toml", text)
    with pytest.raises(FlasharbValueError) as err:
        load_config(project=tmp_path)
    message = str(err.value)
    assert says in message
    assert message.startswith(str(path)) and "\n" not in message
    assert err.value.exit_code == 2


def test_a_bad_pyproject_table_names_it(tmp_path: Path) -> None:
    _write(tmp_path, "pyproject.toml", "[tool.flasharb.strategy]\nhops = 2\n")
    with pytest.raises(FlasharbValueError, match=r"\[tool.flasharb\]: unknown key strategy.hops"):
        load_config(project=tmp_path)


# ---------------------------------------------------------------- the rules the market applies


def _info(*tokens: str, address: str = "0x" + "11" * 20) -> PoolInfo:
    return PoolInfo(
        address=address,
        venue="uniswap_v2",
        kind=HopKind.UNISWAP_V2,
        tokens=tokens,
        decimals=(),
        fee=3000,
        source=A.UNISWAP_V2_FACTORY,
    )


def test_token_lists_refuse_pools() -> None:
    deny = MarketConfig(deny_tokens=frozenset({USDT.lower()}))
    assert deny.refuses(_info(A.WETH, USDT)) == f"token {USDT} is on the deny list"
    assert deny.refuses(_info(A.WETH, USDC)) is None
    allow = MarketConfig(allow_tokens=frozenset({A.WETH, USDC}))
    assert allow.refuses(_info(A.WETH, USDC)) is None
    assert allow.refuses(_info(A.WETH, USDT)) == f"token {USDT} is not on the allow list"
    assert allow.refuses(_info(A.NATIVE_ETH, USDC)) is None  # native ETH is WETH
    bpt = "0x" + "22" * 20
    assert allow.refuses(_info(bpt, A.WETH, USDC, address=bpt)) is None  # a pool's own BPT
    assert MarketConfig().refuses(_info(A.WETH, USDT)) is None
    with pytest.raises(FlasharbValueError, match="both allowed and denied"):
        MarketConfig(allow_tokens=frozenset({USDT}), deny_tokens=frozenset({USDT}))
    with pytest.raises(FlasharbValueError, match="min liquidity of uniswap_v2"):
        MarketConfig(min_liquidity_eth={"uniswap_v2": -1})


def test_pool_value_in_eth() -> None:
    """A WETH/USDC pair holding 10 WETH and 20,000 USDC prices USDC at 10/20,000 WETH; a pair of
    USDC and a token no WETH pool prices is worth its USDC alone."""
    weth_usdc = V2PairState(
        address="0x" + "01" * 20,
        token0=USDC,
        token1=A.WETH,
        reserve0=20_000 * 10**6,
        reserve1=10 * 10**18,
    )
    stray = "0x" + "fe" * 20
    usdc_stray = V2PairState(
        address="0x" + "02" * 20, token0=USDC, token1=stray, reserve0=3_000 * 10**6, reserve1=5
    )
    prices = PriceBook([weth_usdc, usdc_stray], A.WETH)
    assert pool_value_eth(weth_usdc, prices.get) == 20 * 10**18
    assert pool_value_eth(usdc_stray, prices.get) == 3_000 * 10**6 * 10 * 10**18 // (20_000 * 10**6)
