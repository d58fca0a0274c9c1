"""flasharb inside an Ape project.

- `ape_init_extras(chain)`: import it in the project's `ape_console_extras.py` and `ape console`
  knows the ABIs of the canonical contracts (npm artifacts), of every pool discovery finds and
  of the diamond `flasharb deploy` recorded, so `Contract(address)` works on the fork.
- `register_contract_types(chain)`: the same, for `ape test` fixtures and `ape run` scripts.
- `script_web3(network)`: the chain an `ape run` script works on: the ape network given with
  `--network`, else the lab `flasharb node up` started.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from web3 import Web3


def register_contract_types(chain: Any) -> int:
    """Tell ape's contract cache the type of every known contract on the connected mainnet fork;
    the number registered (0 off chain 1)."""
    from ethpm_types import ContractType

    from flasharb.chain.node import MAINNET_CHAIN_ID
    from flasharb.report import known
    from flasharb.state.discovery import discover

    w3 = chain.provider.web3
    if int(w3.eth.chain_id) != MAINNET_CHAIN_ID:
        return 0
    found = dict(known.canonical())
    found.update({p.address: known.pool(p) for p in discover(w3)})
    found.update(known.deployment(w3))
    # Memory only: on a fork ape files contract types under the upstream network (mainnet), and
    # the replica's types must not land in ~/.ape's cache of the real mainnet.
    cache = chain.contracts.contract_types.memory
    for address, k in found.items():
        if k.abi:
            name = re.sub(r"\W", "_", k.name)
            cache[address] = ContractType.model_validate({"contractName": name, "abi": k.abi})
    return sum(1 for k in found.values() if k.abi)


def ape_init_extras(chain: Any) -> dict[str, Any]:
    """`ape console` hook (see the module docstring): registers the types, adds no names."""
    try:
        connected = chain.provider.is_connected
    except Exception:  # noqa: BLE001 - no provider yet: nothing to register
        return {}
    if connected:
        n = register_contract_types(chain)
        if n:
            print(f"flasharb: Contract(address) knows {n} contracts of this mainnet fork")
    return {}


@contextmanager
def script_web3(network: str | None) -> Iterator[Web3]:
    """The web3 of ape's `network` choice (ape connects, and disconnects after), else of the
    lab's fork (--rpc-url / FLASHARB_RPC_URL / .flasharb/node.json)."""
    if network is None:
        from flasharb.chain.rpc import connect, find_rpc_url

        yield connect(find_rpc_url())
        return
    import os

    from ape import networks

    from flasharb.chain.rpc import node_record

    rec = node_record()  # ape-config.yaml's fork upstream: the lab's, unless the user set one
    if rec and rec.get("upstream") and not os.environ.get("FLASHARB_UPSTREAM_URL"):
        os.environ["FLASHARB_UPSTREAM_URL"] = str(rec["upstream"])
    with networks.parse_network_choice(network) as provider:
        yield provider.web3
