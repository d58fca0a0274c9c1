"""`ape test` suite: runs on ethereum:mainnet-fork:foundry with ape's own fixtures and isolation.

Plain `ape test` is enough: unless APE_FOUNDRY_HOST names a running fork, the lab (the replica
upstream and a fork of it) is started here before ape connects, ape-foundry attaches to it, and
it is stopped at the end. The compiler is flasharb's solc shim (SOLCX_BINARY_PATH), never a
download. tests/fork/test_ape.py runs it inside `make test`.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

NETWORK = "ethereum:mainnet-fork:foundry"


def _under_ape(config: pytest.Config) -> bool:  # as in the root conftest.py
    return "ape_test" in (config.invocation_params.plugins or ())


def pytest_configure(config: pytest.Config) -> None:
    if not _under_ape(config):
        return
    from flasharb.chain.toolchain import solcx_dir

    os.environ.setdefault("SOLCX_BINARY_PATH", str(solcx_dir()))
    if not config.getoption("network"):
        config.option.network = NETWORK
    if "APE_FOUNDRY_HOST" not in os.environ:
        from flasharb.replica.lab import start_replica_lab

        lab = start_replica_lab()
        config.stash[_LAB] = lab
        os.environ["APE_FOUNDRY_HOST"] = lab.rpc_url
        os.environ["FLASHARB_UPSTREAM_URL"] = lab.upstream_url


@pytest.hookimpl(trylast=True)  # after ape's runner has let go of the provider
def pytest_unconfigure(config: pytest.Config) -> None:
    lab = config.stash.get(_LAB, None)
    if lab is not None:
        lab.stop()


_LAB = pytest.StashKey[Any]()


@pytest.fixture(scope="session")
def known_contracts(chain: Any) -> int:
    """ape's Contract(address) knows the canonical contracts, the pools and the diamond."""
    from flasharb.ape_support import register_contract_types

    return register_contract_types(chain)
