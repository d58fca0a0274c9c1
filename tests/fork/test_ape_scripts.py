"""`ape run` scripts (scripts/) against the lab's fork: thin over the package, same results."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.node import Lab
from flasharb.execute.shock import shock
from flasharb.report.demo import v2_pair_address
from flasharb.report.format import units
from flasharb.search.scan import scan

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _ape_run(
    lab: Lab, tmp_path: Path, *args: str, **extra: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "FLASHARB_RPC_URL": lab.rpc_url,
        "FLASHARB_STATE_DIR": str(tmp_path),
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        **extra,
    }
    return subprocess.run(
        [str(BIN / "ape"), "run", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_ape_run_scan_lists_what_flasharb_scan_finds(w3: Web3, lab: Lab, tmp_path: Path) -> None:
    shock(w3, v2_pair_address(A.UNISWAP_V2_FACTORY, A.WETH, A.USDC), A.WETH, 500 * 10**18)
    best = scan(w3, max_hops=2).opportunities[0]
    assert best.cycle.token == A.WETH
    res = _ape_run(lab, tmp_path, "scan", "--max-hops", "2", "--limit", "3")
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    first = next(line for line in res.stdout.splitlines() if line.strip().startswith("│ 1 "))
    assert "WETH" in first and "USDC" in first, first  # symbols, not address prefixes
    assert units(best.net_profit, 18) in first, first  # the exact net, in WETH


def test_ape_run_execute_dry_run_sends_nothing(
    w3: Web3, lab: Lab, tmp_path: Path, owner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flasharb.execute.deploy import deploy

    monkeypatch.setenv("FLASHARB_STATE_DIR", str(tmp_path))  # the record the script finds
    deploy(w3, owner, lab.rpc_url, record=True)
    shock(w3, v2_pair_address(A.UNISWAP_V2_FACTORY, A.WETH, A.USDC), A.WETH, 500 * 10**18)
    nonce = w3.eth.get_transaction_count(owner)  # type: ignore[arg-type]
    res = _ape_run(lab, tmp_path, "execute", "--dry-run", "--max-hops", "2")
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert "dry run" in res.stdout, res.stdout
    assert w3.eth.get_transaction_count(owner) == nonce  # type: ignore[arg-type]


def test_ape_run_scan_on_the_network_given(w3: Web3, lab: Lab, tmp_path: Path) -> None:
    """--network ethereum:mainnet-fork:foundry: ape forks the lab's upstream itself, so the shock
    made on the lab's fork is not there, while the same scan on the lab's fork sees it."""
    shock(w3, v2_pair_address(A.UNISWAP_V2_FACTORY, A.WETH, A.USDC), A.WETH, 500 * 10**18)
    upstream_head = int(Web3(Web3.HTTPProvider(lab.upstream_url)).eth.block_number)
    env_args = ("scan", "--max-hops", "2", "--limit", "3")
    res = _ape_run(
        lab, tmp_path, *env_args, "--network", "ethereum:mainnet-fork:foundry",
        FLASHARB_UPSTREAM_URL=lab.upstream_url,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert f"opportunities at block {upstream_head}" in res.stdout, res.stdout[-2000:]
    assert "no opportunity clears gas" in res.stdout
    on_lab = _ape_run(lab, tmp_path, *env_args)
    assert "│ 1 " in on_lab.stdout, on_lab.stdout[-2000:]


def test_ape_run_scan_refuses_an_unknown_network(lab: Lab, tmp_path: Path) -> None:
    res = _ape_run(lab, tmp_path, "scan", "--network", "ethereum:nowhere:foundry")
    assert res.returncode != 0
    assert "nowhere" in (res.stdout + res.stderr)
