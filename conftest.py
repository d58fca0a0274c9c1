"""Which suite runs under which runner.

Plain `pytest` runs tests/: it starts and stops its own replica and forks (tests/conftest.py), so
eth-ape's pytest plugin, loaded by every pytest in this venv, is switched off for it here (its
runner would start an extra anvil for ape's default network). `ape test` runs tests_ape/ on
ape's network: the lab's fork (tests_ape/conftest.py starts it unless APE_FOUNDRY_HOST names one).
"""

from __future__ import annotations

from pathlib import Path

import pytest

SUITES = ("tests", "tests_ape")


def under_ape(config: pytest.Config) -> bool:
    """True when `ape test` started this pytest: it passes its plugin to pytest.main."""
    return "ape_test" in (config.invocation_params.plugins or ())


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if under_ape(config):
        return
    for name in ("ape-test", "ape-fixtures"):  # what ape's plugin registered for its runner
        plugin = config.pluginmanager.get_plugin(name)
        if plugin is not None:
            config.pluginmanager.unregister(plugin)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """tests/ belongs to plain pytest, tests_ape/ to `ape test`."""
    try:
        top = collection_path.relative_to(config.rootpath).parts[0]
    except (ValueError, IndexError):
        return None
    if top in SUITES and top != ("tests_ape" if under_ape(config) else "tests"):
        return True
    return None
