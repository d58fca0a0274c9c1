"""flasharb's pytest plugin: the lab, a snapshot per test, the diamond, role accounts and the
fork cheats, as fixtures, in any project that installs flasharb (`pytest11` entry point).

    def test_my_contract_arbs_the_dump(w3, owner, shock, compile_contract, market):
        shock("0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc", "WETH", 500 * 10**18)
        mine = compile_contract("contracts/MyArb.sol", "MyArb")
        ...

Session fixtures start one lab for the whole run (an upstream serving the mainnet replica and an
Anvil fork of it; with `--flasharb-fork-url URL`, a fork of that RPC instead) and stop it at the
end, whatever happened. `w3` rolls the fork back after every test (`evm_snapshot` /
`evm_revert`), so tests never see each other's state. Nothing here runs unless a test asks for
a fixture: a project that installs flasharb for its library pays nothing.

Fixtures: `lab`, `session_w3`, `w3`, `owner`, `executor`, `attacker`, `deployment`, `diamond`,
`deal`, `shock`, `impersonate`, `compile_contract`, `market`, `trader`. See docs/testing.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

__all__ = ["pytest_addoption"]

# Anvil's development accounts, by role (the mnemonic's first accounts; anvil funds them)
OWNER_INDEX = 0  # deploys the diamond: cut, withdraw, limits
EXECUTOR_INDEX = 1  # the hot key that may only trade
ATTACKER_INDEX = 7  # a stranger with ETH


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flasharb", "flasharb lab")
    group.addoption(
        "--flasharb-fork-url",
        default=None,
        help="Fork this RPC (e.g. a mainnet node) instead of serving the built-in replica.",
    )
    group.addoption(
        "--flasharb-fork-block",
        type=int,
        default=None,
        help="Pin the fork to this upstream block (default: the upstream's head).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fork: needs the flasharb lab (an Anvil fork)")


@pytest.fixture(scope="session")
def lab(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The lab: an upstream serving the mainnet replica (built on first use) and an Anvil fork
    of it, or a fork of `--flasharb-fork-url`; both stopped at the end of the session."""
    from flasharb.chain.node import start_lab
    from flasharb.replica.build import ensure_built
    from flasharb.replica.lab import start_replica_lab

    url = request.config.getoption("--flasharb-fork-url")
    block = request.config.getoption("--flasharb-fork-block")
    if url:
        running = start_lab(fork_url=url, fork_block=block)
    else:
        with _one_builder():  # another pytest-xdist worker may be building it right now
            ensure_built()
        running = start_replica_lab(fork_block=block)
    with running:
        yield running


@pytest.fixture(scope="session")
def session_w3(lab: Any) -> Any:
    """A web3 on the lab's fork, for the whole session (state persists: prefer `w3`)."""
    from flasharb.chain.rpc import connect

    return connect(lab.rpc_url)


@pytest.fixture
def w3(session_w3: Any) -> Iterator[Any]:
    """The fork, rolled back after the test: every test starts from the same state."""
    from flasharb.chain.cheats import snapshot

    with snapshot(session_w3):
        yield session_w3


@contextmanager
def _one_builder() -> Iterator[None]:
    """Hold the project's build lock (`build/.build.lock`) while building into build/: the
    sessions that share a checkout (pytest-xdist workers, two terminals) build the replica and
    compile the contracts once, one after the other, instead of writing the same files at once."""
    import fcntl

    from flasharb.paths import build_dir

    with open(build_dir() / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


def _account(w3: Any, index: int) -> str:
    return str(w3.eth.accounts[index])


@pytest.fixture(scope="session")
def owner(session_w3: Any) -> str:
    """The diamond's owner (Anvil account 0): deploys, cuts, withdraws, sets limits."""
    return _account(session_w3, OWNER_INDEX)


@pytest.fixture(scope="session")
def executor(session_w3: Any) -> str:
    """A second funded account (Anvil account 1): the diamond's allowed executor once
    `deployment` has run; it may trade, and nothing else."""
    return _account(session_w3, EXECUTOR_INDEX)


@pytest.fixture(scope="session")
def attacker(session_w3: Any) -> str:
    """A stranger with ETH (Anvil account 7)."""
    return _account(session_w3, ATTACKER_INDEX)


@pytest.fixture(scope="session")
def deployment(session_w3: Any, owner: str, lab: Any) -> Any:
    """flasharb's diamond, deployed once per session (before any per-test snapshot)."""
    from flasharb.chain.artifacts import compile_project
    from flasharb.execute.deploy import deploy

    with _one_builder():  # compiled once into build/, whichever session gets there first
        compile_project()
    return deploy(session_w3, owner, lab.rpc_url, record=False)


@pytest.fixture(scope="session")
def diamond(session_w3: Any, deployment: Any) -> Any:
    """The deployed diamond as a web3 contract with every facet's ABI."""
    from flasharb.execute.deploy import diamond_abi

    return session_w3.eth.contract(address=deployment.diamond, abi=diamond_abi())


def _token(value: str) -> str:
    """An address, or the symbol of a token flasharb knows (WETH, USDC, ...)."""
    from flasharb.chain.rpc import checksum
    from flasharb.state.tokens import resolve_symbol

    return checksum(value, "token") if value.startswith("0x") else resolve_symbol(value).address


@pytest.fixture
def deal(w3: Any) -> Callable[[str, str, int], None]:
    """`deal(token, account, amount)`: set `account`'s balance of `token` (address or symbol,
    e.g. "WETH") to `amount` base units, by writing its balance slot (Foundry's `deal`)."""
    from flasharb.chain.cheats import deal as set_balance

    def do(token: str, account: str, amount: int) -> None:
        set_balance(w3, _token(token), account, amount)

    return do


@pytest.fixture
def shock(w3: Any) -> Callable[..., Any]:
    """`shock(pool, token_in, amount_in, token_out=None)`: a whale swap through any pool of any
    venue (V2 pair, V3 through the SwapRouter, Balancer through the Vault); returns the
    `ShockResult` (tx hash, amount out)."""
    from flasharb.execute.shock import shock as whale_swap

    def do(pool: str, token_in: str, amount_in: int, token_out: str | None = None) -> Any:
        out = None if token_out is None else _token(token_out)
        return whale_swap(w3, pool, _token(token_in), amount_in, out)

    return do


@pytest.fixture
def impersonate(w3: Any) -> Callable[..., AbstractContextManager[str]]:
    """`with impersonate(address, eth=10**21) as sender:` send as any account (and give it ETH)."""
    from flasharb.chain.cheats import impersonating

    def do(address: str, eth: int | None = None) -> AbstractContextManager[str]:
        return impersonating(w3, address, eth=eth)

    return do


@pytest.fixture
def compile_contract(session_w3: Any) -> Callable[..., Any]:
    """`compile_contract(path, name=None)`: compile one of your Solidity files with flasharb's
    pinned solc 0.8.28 (solcjs, no download), imports resolved from the file's folder; returns
    the artifact (`abi`, `bytecode`, `deployed_bytecode`) and, with `deploy=True` and `args`,
    deploys it from the owner and returns the web3 contract."""
    from flasharb.chain.artifacts import compile_file
    from flasharb.chain.rpc import send

    def do(
        path: str | Path, name: str | None = None, *, deploy: bool = False, args: Any = ()
    ) -> Any:
        from flasharb.errors import FlasharbValueError

        found = compile_file(Path(path))
        if name is None and len(found) == 1:
            name = next(iter(found))
        if name not in found:
            raise FlasharbValueError(
                f"{path} defines {', '.join(sorted(found))}: pass the contract's name"
            )
        art = found[name]
        if not deploy:
            return art
        factory = session_w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
        data = factory.constructor(*args).data_in_transaction
        receipt = send(session_w3, {"from": session_w3.eth.accounts[0], "data": data}, "deploy")
        return session_w3.eth.contract(address=receipt["contractAddress"], abi=art.abi)

    return do


@pytest.fixture
def market(w3: Any) -> Callable[..., Any]:
    """`market(**config)`: flasharb's market built on the test's fork state (every pool, every
    cycle, exact sizing, capital sources): the project's configuration (flasharb.toml or
    pyproject.toml [tool.flasharb], docs/config.md; none: every venue), with `MarketConfig`
    fields as keywords over it."""
    from flasharb.config import load_config
    from flasharb.search.market import Market

    def build(**config: Any) -> Any:
        return Market.build(w3, load_config().market(**config))

    return build


@pytest.fixture
def trader(w3: Any, deployment: Any) -> Any:
    """The trader for the session's diamond: plan, sign (the executor's key), simulate as
    mined, send, reconcile."""
    from flasharb.execute.trader import Trader

    return Trader(w3, deployment, deployment.trading_signer())
