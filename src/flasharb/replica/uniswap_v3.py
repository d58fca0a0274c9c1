"""Uniswap V3: factory, periphery and pools at canonical addresses."""

from __future__ import annotations

from flasharb.replica.context import BuildContext, BuiltPool
from flasharb.replica.spec import V3PoolSpec

ARTIFACTS: list[str] = []


def deploy(ctx: BuildContext) -> None:
    return None


def seed(ctx: BuildContext, pools: list[V3PoolSpec]) -> list[BuiltPool]:
    if pools:
        raise NotImplementedError("Uniswap V3 pools are not built yet")
    return []
