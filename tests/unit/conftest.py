"""tests/unit runs without a chain, and proves it: while its modules are imported and its tests
run, every way to a chain fails loudly instead of working slowly.

- `lab` (and so `session_w3`, `w3`, `deployment`, ... of flasharb's pytest plugin) fails;
- `flasharb.chain.anvil.Anvil.start` raises, and FLASHARB_ANVIL (where flasharb's toolchain
  looks for anvil first) names a file that does not exist, so a `flasharb` subprocess cannot
  start one either;
- a TCP connection (an HTTP RPC, any network) raises; Unix sockets still work.

Each attempt is also recorded, so a test whose code swallows the error (flasharb turns a refused
connection into NoNodeError) still fails at teardown. A test that fails with `ChainInUnitTest`
belongs in tests/fork.
"""

from __future__ import annotations

import socket
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import pytest

NO_ANVIL = "/nonexistent/tests-unit-start-no-anvil"
INET = (socket.AF_INET, socket.AF_INET6)
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
ATTEMPTS: list[str] = []  # what the guard refused since the last check


class ChainInUnitTest(AssertionError):
    """A unit test reached for a chain or the network."""

    def __init__(self, what: str) -> None:
        ATTEMPTS.append(what)
        super().__init__(
            f"{what} in tests/unit: unit tests run without a chain; move it to tests/fork"
        )


def _refuse_start(self: Any) -> NoReturn:
    raise ChainInUnitTest(f"starting anvil ({' '.join(self.args)})")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if self.family in INET:
        raise ChainInUnitTest(f"a connection to {address!r}")
    _connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if self.family in INET:
        raise ChainInUnitTest(f"a connection to {address!r}")
    return _connect_ex(self, address)


@contextmanager
def chain_free() -> Iterator[None]:
    from flasharb.chain.anvil import Anvil

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FLASHARB_ANVIL", NO_ANVIL)
        mp.setattr(Anvil, "start", _refuse_start)
        mp.setattr(socket.socket, "connect", _guarded_connect)
        mp.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
        yield


def _refused() -> list[str]:
    seen = ATTEMPTS[:]
    ATTEMPTS.clear()
    return seen


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, Any]:
    """Importing a unit test module (collecting it) is chain-free too."""
    with chain_free():
        report = yield
    seen = _refused()
    if seen and report.outcome == "passed":  # the module caught what the guard raised
        report.outcome = "failed"
        report.longrepr = f"collecting {collector.nodeid}: {'; '.join(seen)}"
    return report


@pytest.fixture(scope="package", autouse=True)
def _chain_free() -> Iterator[None]:
    """Every unit test and its module-scoped fixtures (session fixtures: see `lab`)."""
    with chain_free():
        yield


@pytest.fixture(autouse=True)
def _nothing_refused() -> Iterator[None]:
    """Fail the test if the guard refused anything (in the test, or in the module fixtures set
    up before it), even when the code caught the error."""
    if seen := _refused():
        pytest.fail("; ".join(seen), pytrace=False)
    yield
    if seen := _refused():
        pytest.fail("; ".join(seen), pytrace=False)


@pytest.fixture(scope="session")
def lab() -> NoReturn:
    """The plugin's lab, refused: session fixtures start before the package-wide guard."""
    raise ChainInUnitTest("the `lab` fixture (and everything on it: w3, deployment, ...)")
