"""Run an experiment's points on local forks of the replica: one upstream serving the replica
and one fork per worker, every process stopped at the end (also on Ctrl-C or an error).

workers == 1 runs in this process; workers > 1 uses one spawned process per fork (the search is
CPU-bound Python, so threads would queue on the GIL); `ray_address` sends the points to Ray
actors, each with its own upstream and fork wherever Ray runs it (ray_backend.py).
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack
from typing import Any

from flasharb.chain.anvil import Anvil, rpc_request
from flasharb.chain.cheats import snapshot
from flasharb.chain.node import SLOT_SECONDS, fork_args, upstream_args
from flasharb.chain.rpc import connect
from flasharb.errors import FlasharbRuntimeError
from flasharb.execute.deploy import deploy
from flasharb.experiments.base import Context, Metrics, Params
from flasharb.replica.build import default_state_path, ensure_built
from flasharb.search.market import next_base_fee

__all__ = ["run_points"]

Progress = Callable[[int], None]  # called with the number of points finished so far


def _context(url: str) -> Context:
    w3 = connect(url)
    return Context(w3=w3, deployment=deploy(w3, w3.eth.accounts[0], url, record=False), rpc_url=url)


def _pin_next_base_fee(ctx: Context) -> None:
    """Set the next block's base fee to what EIP-1559 gives after the head. Anvil's evm_revert
    restores the state and the head but not the base fee it computed for the next block from
    the blocks it reverted: measured, a point after one that mined blocks saw 7 wei where a
    fresh fork sees 8, and every gas cost in wei moved with it (rows then depend on which points
    a worker ran before; `--workers N` and `--ray` must give the same rows)."""
    head = ctx.w3.eth.get_block("latest")
    fee = next_base_fee(int(head["baseFeePerGas"]), int(head["gasUsed"]), int(head["gasLimit"]))
    rpc_request(ctx.rpc_url, "anvil_setNextBlockBaseFeePerGas", [hex(fee)])


def _measure(ctx: Context, name: str, params: Params) -> Metrics:
    from flasharb.experiments.registry import get

    with snapshot(ctx.w3):  # every point starts from the same state
        _pin_next_base_fee(ctx)
        return get(name).run_point(ctx, params)


# ------------------------------------------------------------ process pool

_CTX: Context | None = None


def _init_worker(urls: Any) -> None:
    global _CTX
    _CTX = _context(urls.get())  # each process owns one fork for its whole life


def _run_in_worker(name: str, params: Params) -> Metrics:
    assert _CTX is not None
    return _measure(_CTX, name, params)


# ------------------------------------------------------------ forks


def _start_forks(stack: ExitStack, n: int) -> list[str]:
    ensure_built()
    upstream = stack.enter_context(Anvil(args=upstream_args(default_state_path())))
    head = int(rpc_request(upstream.url, "eth_blockNumber"), 16)
    urls = []
    for _ in range(n):
        fork = stack.enter_context(Anvil(args=fork_args(upstream.url, head)))
        rpc_request(fork.url, "anvil_setBlockTimestampInterval", [SLOT_SECONDS])
        urls.append(fork.url)
    return urls


def run_points(
    name: str,
    points: Sequence[Params],
    *,
    workers: int = 1,
    ray_address: str | None = None,
    progress: Progress | None = None,
) -> list[Metrics]:
    """Measure every point of experiment `name`; results in the order of `points`."""
    tick = progress or (lambda _n: None)
    n = max(1, min(workers, len(points)))
    with ExitStack() as stack:
        if ray_address is not None:
            from flasharb.experiments.ray_backend import run_on_ray

            return list(run_on_ray(name, points, [], ray_address, tick, workers=n))
        urls = _start_forks(stack, n)
        if n == 1:
            ctx = _context(urls[0])
            out = []
            for i, p in enumerate(points, 1):
                out.append(_measure(ctx, name, p))
                tick(i)
            return out
        spawn = mp.get_context("spawn")  # a clean interpreter: no inherited sockets or threads
        queue = spawn.Queue()
        for url in urls:
            queue.put(url)
        pool = stack.enter_context(
            ProcessPoolExecutor(n, mp_context=spawn, initializer=_init_worker, initargs=(queue,))
        )
        futures: list[Future[Metrics]] = [pool.submit(_run_in_worker, name, p) for p in points]
        for done, f in enumerate(futures, 1):
            try:
                f.result()
            except Exception as exc:
                raise FlasharbRuntimeError(f"experiment {name}: a point failed: {exc}") from exc
            tick(done)
        return [f.result() for f in futures]
