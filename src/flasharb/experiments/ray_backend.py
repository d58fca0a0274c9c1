"""Ray backend for `flasharb experiment NAME --ray ADDRESS [--workers N]`: the sweep's points
as Ray actor calls, for when one machine is not enough.

Each of the N actors is a worker like a `--workers` process, wherever Ray places it: it starts
its own upstream serving the replica and a fork of it (the replica is built from the checkout's
data if that node has no state file yet), deploys the diamond, measures the points it is sent
inside a snapshot each, and stops both anvils when the sweep ends (or fails). Results come back
in the order of the points, so the journal and the report are the same as with `--workers N`.

ADDRESS is a running cluster (`ray start --head` prints it; `auto` finds a local one) or
`local`, which starts a private Ray instance for the sweep and stops it afterwards. Ray is an
optional extra (`pip install 'flasharb[ray]'`; requirements.lock pins it). The actors run with
the driver's FLASHARB_* environment; every node needs the same checkout (the package, node
modules with anvil, and data/).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from typing import Any

from flasharb.chain.anvil import stop_pid
from flasharb.errors import FlasharbRuntimeError, FlasharbValueError
from flasharb.experiments.base import Metrics, Params

__all__ = ["ForkWorker", "run_on_ray"]

CLOSE_TIMEOUT_S = 60.0  # an actor stopping its two anvils


class ForkWorker:
    """One Ray actor: an upstream + fork of the replica with the diamond, for its lifetime."""

    def __init__(self) -> None:
        from flasharb.experiments.workers import _context, _start_forks

        self._stack = ExitStack()
        try:
            url = _start_forks(self._stack, 1)[0]
            self._ctx = _context(url)
        except BaseException:
            self._stack.close()
            raise

    def measure(self, name: str, params: Params) -> Metrics:
        from flasharb.experiments.workers import _measure

        return _measure(self._ctx, name, params)

    def close(self) -> bool:
        self._stack.close()  # stops the fork, then the upstream
        return True

    def processes(self) -> tuple[str, list[int]]:
        """(host, pids of this actor's child processes: its anvils), for the driver to stop
        them by pid should the actor die before `close`."""
        return socket.gethostname(), _children(os.getpid())


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return sorted(set(out))


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise FlasharbValueError(
            "--ray needs Ray: pip install 'flasharb[ray]' (or run 'make setup'), "
            "or use --workers N for local forks"
        ) from exc
    return ray


def run_on_ray(
    name: str,
    points: Sequence[Params],
    urls: Sequence[str],
    address: str,
    tick: Callable[[int], None],
    *,
    workers: int = 1,
) -> list[Metrics]:
    """Measure `points` of experiment `name` on `workers` Ray actors at `address`; results in
    the order of `points`. `urls` is unused: actors start their own forks where they run."""
    del urls
    ray = _import_ray()
    env = {k: v for k, v in os.environ.items() if k.startswith("FLASHARB_")}
    n = max(1, min(workers, len(points)))
    scratch = tempfile.mkdtemp(prefix="flasharb-ray-") if address == "local" else None
    try:
        if scratch is not None:  # a private instance, its sockets and logs in `scratch`
            ray.init(
                num_cpus=n,
                include_dashboard=False,
                log_to_driver=False,
                runtime_env={"env_vars": env},
                _temp_dir=scratch,
            )
        else:
            ray.init(address=address, log_to_driver=False, runtime_env={"env_vars": env})
    except Exception as exc:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        raise FlasharbRuntimeError(f"--ray {address}: cannot connect to Ray: {exc}") from exc
    actors: list[Any] = []
    children: list[tuple[str, list[int]]] = []
    try:
        remote = ray.remote(num_cpus=1)(ForkWorker)
        actors = [remote.remote() for _ in range(n)]
        children = ray.get([a.processes.remote() for a in actors])  # waits for every fork
        pending = {}
        for i, p in enumerate(points):
            pending[i] = actors[i % n].measure.remote(name, p)
        out: list[Metrics] = []
        for i in range(len(points)):
            try:
                out.append(ray.get(pending[i]))
            except Exception as exc:
                raise FlasharbRuntimeError(
                    f"experiment {name} on Ray: point {points[i]} failed: {exc}"
                ) from exc
            tick(i + 1)
        return out
    finally:
        for i, a in enumerate(actors):  # stop every actor's anvils before the actor goes
            try:
                ray.get(a.close.remote(), timeout=CLOSE_TIMEOUT_S)
            except Exception:  # noqa: BLE001 - the actor died: stop its anvils by pid
                host, pids = children[i] if i < len(children) else ("", [])
                if host == socket.gethostname():
                    for pid in pids:
                        stop_pid(pid)
            ray.kill(a)
        ray.shutdown()  # `local`: stops the private instance; otherwise only disconnects
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
