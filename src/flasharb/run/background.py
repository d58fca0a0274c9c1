"""Random background swaps: the traffic `flasharb run` backruns in tests and experiments.

Each step picks pools at random (seeded, so a run can be repeated) from every venue the state
sync knows, and swaps a random slice of the pool's balance of one of its tokens through it with
`flasharb.execute.shock` (a whale account, the venue's own swap path). On an automining fork each
swap is one block.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from web3 import Web3

from flasharb.chain.cheats import balance_of
from flasharb.errors import FlasharbError
from flasharb.execute.shock import ShockResult, shock
from flasharb.state.reader import AnyPoolState
from flasharb.state.registry import PoolRegistry

__all__ = ["BackgroundSwaps"]

BPS = 10_000


@dataclass
class BackgroundSwaps:
    """`per_step` swaps per `step()`, each of `min_bps`..`max_bps` of the pool's balance."""

    w3: Web3
    seed: int = 1
    per_step: int = 1
    min_bps: int = 50  # 0.5% of the pool's balance of the token sold
    max_bps: int = 400  # 4%

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.sent = 0
        self.failed = 0

    def step(self, registry: PoolRegistry, states: Mapping[str, AnyPoolState]) -> list[ShockResult]:
        # pools `shock` can swap: those with a contract of their own (it has no path through the
        # V4 PoolManager's unlock yet)
        pools = sorted(a for a in states if a in registry and registry[a].address == a)
        out: list[ShockResult] = []
        for _ in range(self.per_step if pools else 0):
            address = self.rng.choice(pools)
            info = registry[address]
            tokens = [i for i, t in enumerate(info.tokens) if t != info.address]  # no BPT
            i_in = self.rng.choice(tokens)
            i_out = self.rng.choice([i for i in tokens if i != i_in])
            state = states[address]
            balances = getattr(state, "balances", None)  # a Balancer pool's: in the Vault
            held = (
                balances[i_in]
                if balances is not None
                else balance_of(self.w3, info.tokens[i_in], address)
            )
            amount = held * self.rng.randint(self.min_bps, self.max_bps) // BPS
            if amount <= 0:
                continue
            try:
                out.append(shock(self.w3, address, info.tokens[i_in], amount, info.tokens[i_out]))
                self.sent += 1
            except FlasharbError:  # a pool that refuses this size (limits, ratios): skip it
                self.failed += 1
        return out
