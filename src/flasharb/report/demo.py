"""`flasharb demo`: the whole flow on the replica, timed phase by phase, with a report."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flasharb.chain import addresses as A
from flasharb.chain.etch import create2_address
from flasharb.chain.rpc import connect
from flasharb.execute.deploy import deploy
from flasharb.execute.flow import execute_top
from flasharb.execute.shock import shock
from flasharb.journal.store import Journal
from flasharb.replica.build import ensure_built
from flasharb.replica.lab import start_replica_lab


def v2_pair_address(factory: str, token_a: str, token_b: str) -> str:
    t0, t1 = sorted([token_a, token_b], key=lambda a: int(a, 16))
    from web3 import Web3

    salt = Web3.keccak(bytes.fromhex(t0[2:] + t1[2:]))
    return create2_address(factory, salt, A.UNISWAP_V2_PAIR_INIT_CODE_HASH)


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(path)  # a reader never sees half a report


def run_demo(
    *, top: int = 2, shock_weth: int = 500, out_dir: Path, log: Callable[[str], None] | None = None
) -> dict[str, Any]:
    say = log or (lambda _m: None)
    phases: dict[str, float] = {}
    t0 = time.monotonic()

    def phase(name: str, since: float) -> float:
        now = time.monotonic()
        phases[name] = round(now - since, 3)
        say(f"  {name:<8} {phases[name]:7.2f}s")
        return now

    say("flasharb demo")
    meta = ensure_built()
    t = phase("replica", t0)
    with start_replica_lab() as lab:
        t = phase("nodes", t)
        w3 = connect(lab.rpc_url)
        owner = w3.eth.accounts[0]
        dep = deploy(w3, owner, lab.rpc_url, record=False)
        t = phase("deploy", t)
        pool = v2_pair_address(A.UNISWAP_V2_FACTORY, A.WETH, A.USDC)
        shocked = shock(w3, pool, A.WETH, shock_weth * 10**18)
        t = phase("shock", t)
        journal_path = out_dir / "journal.sqlite"
        journal_path.unlink(missing_ok=True)  # the report covers this run only
        journal = Journal(journal_path)
        try:
            run_id = journal.begin_run("demo", params={"top": top, "shock_weth": shock_weth})
            result = execute_top(w3, top=top, deployment=dep, journal=journal, run_id=run_id)
            journal.end_run(run_id, "done", {"trades": len(result["trades"])})
        finally:
            journal.close()
        phases["scan"] = result["timings"]["scan"]
        phases["execute"] = result["timings"]["execute"]
        say(
            f"  {'scan':<8} {phases['scan']:7.2f}s  ({result['opportunities_found']} opportunities)"
        )
        say(f"  {'execute':<8} {phases['execute']:7.2f}s  ({len(result['trades'])} trades)")
        t = time.monotonic()
    phase("teardown", t)
    phases["total"] = round(time.monotonic() - t0, 3)
    summary = {
        "replica": {"block": meta["block"], "sha256": meta["sha256"]},
        "fork_block": lab.fork_block,
        "diamond": dep.diamond,
        "owner": owner,
        "shock": shocked.to_json(),
        "block": result["block"],
        "trades": result["trades"],
        "skipped": result["skipped"],
        "tokens": result["tokens"],
        "phases_seconds": phases,
        "journal": str(journal_path),
    }
    write_json(out_dir / "summary.json", summary)
    return summary
