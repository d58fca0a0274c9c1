"""flasharb: a lab for flash-loan arbitrage on a local forked Ethereum chain.

The handful of objects a script needs, importable from here (docs/api.md has an example of
each); everything loads on first use, so `import flasharb` stays cheap:

    from flasharb import open_lab, connect, deploy, Market, Trader, quote, shock, deal, Journal

    with open_lab() as lab:                      # the mainnet replica, and a fork of it
        w3 = connect(lab.rpc_url)
        shock(w3, "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc", "WETH", 500 * 10**18)
        market = Market.build(w3)                # every pool, every 2-3-hop cycle, sized exactly
        best = market.select(top=2)              # what to send
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> the module that defines it (one concept, one place: these are re-exports)
_EXPORTS: dict[str, str] = {
    # the lab: an upstream serving the replica (or your RPC) and an Anvil fork of it
    "Lab": "flasharb.chain.node",
    "open_lab": "flasharb.replica.lab",
    "connect": "flasharb.chain.rpc",
    # fork cheats
    "deal": "flasharb.chain.cheats",
    "snapshot": "flasharb.chain.cheats",
    "impersonating": "flasharb.chain.cheats",
    "mine": "flasharb.chain.cheats",
    "shock": "flasharb.execute.shock",
    # exact quotes and the market
    "quote": "flasharb.state.quote",
    "Quote": "flasharb.state.quote",
    "Market": "flasharb.search.market",
    "MarketConfig": "flasharb.search.market",
    "load_config": "flasharb.config",
    "Config": "flasharb.config",
    "Opportunity": "flasharb.search.rank",
    "FlashSource": "flasharb.search.capital",
    "GasModel": "flasharb.search.gas",
    "HopKind": "flasharb.kinds",
    "SourceKind": "flasharb.kinds",
    # the diamond and the one trading path
    "deploy": "flasharb.execute.deploy",
    "Deployment": "flasharb.execute.deploy",
    "plan": "flasharb.execute.plan",
    "Trader": "flasharb.execute.trader",
    "SendPolicy": "flasharb.execute.trader",
    "signer": "flasharb.execute.keys",
    # records, experiments, audits
    "Journal": "flasharb.journal.store",
    "Experiment": "flasharb.experiments.base",
    "register_experiment": "flasharb.experiments.registry",
    "run_experiment": "flasharb.experiments.runner",
    "run_audit": "flasharb.audit.harness",
    # errors
    "FlasharbError": "flasharb.errors",
}

__all__ = [  # what `from flasharb import *` gives; _EXPORTS says where each lives
    "__version__",
    "Lab",
    "open_lab",
    "connect",
    "deal",
    "snapshot",
    "impersonating",
    "mine",
    "shock",
    "quote",
    "Quote",
    "Market",
    "MarketConfig",
    "load_config",
    "Config",
    "Opportunity",
    "FlashSource",
    "GasModel",
    "HopKind",
    "SourceKind",
    "deploy",
    "Deployment",
    "plan",
    "Trader",
    "SendPolicy",
    "signer",
    "Journal",
    "Experiment",
    "register_experiment",
    "run_experiment",
    "run_audit",
    "FlasharbError",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'flasharb' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # the next access skips this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


assert set(__all__) == {"__version__", *_EXPORTS}, "__all__ and _EXPORTS list the same names"


if TYPE_CHECKING:  # the names above, for type checkers and IDEs
    from flasharb.audit.harness import run_audit
    from flasharb.chain.cheats import deal, impersonating, mine, snapshot
    from flasharb.chain.node import Lab
    from flasharb.chain.rpc import connect
    from flasharb.config import Config, load_config
    from flasharb.errors import FlasharbError
    from flasharb.execute.deploy import Deployment, deploy
    from flasharb.execute.keys import signer
    from flasharb.execute.plan import plan
    from flasharb.execute.shock import shock
    from flasharb.execute.trader import SendPolicy, Trader
    from flasharb.experiments.base import Experiment
    from flasharb.experiments.registry import register_experiment
    from flasharb.experiments.runner import run_experiment
    from flasharb.journal.store import Journal
    from flasharb.kinds import HopKind, SourceKind
    from flasharb.replica.lab import open_lab
    from flasharb.search.capital import FlashSource
    from flasharb.search.gas import GasModel
    from flasharb.search.market import Market, MarketConfig
    from flasharb.search.rank import Opportunity
    from flasharb.state.quote import Quote, quote
