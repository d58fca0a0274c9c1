"""Build the mainnet replica: canonical bytecode at canonical addresses, seeded from a data file,
dumped as an Anvil state file. Deterministic: the same inputs give a byte-identical dump."""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flasharb.chain.anvil import Anvil, rpc_request
from flasharb.chain.artifacts import contract, npm_artifact
from flasharb.paths import build_dir
from flasharb.replica import (
    balancer,
    balancer_2023,
    routers,
    tokens,
    uniswap_v2,
    uniswap_v3,
    uniswap_v4,
)
from flasharb.replica.context import BUILDER, BUILDER_ETH, BuildContext, BuiltPool
from flasharb.replica.spec import (
    ReplicaSpec,
    StablePoolSpec,
    V2PoolSpec,
    V3PoolSpec,
    V4PoolSpec,
    WeightedPoolSpec,
    WeightedV3PoolSpec,
    load_spec,
    spec_path,
)

VENUE_MODULES = (tokens, uniswap_v2, uniswap_v3, balancer, balancer_2023, uniswap_v4, routers)


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildResult:
    path: Path
    block: int
    tokens: list[dict[str, Any]]
    pools: list[BuiltPool]
    sha256: str
    inputs_digest: str
    seconds: float = field(default=0.0, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "block": self.block,
            "tokens": self.tokens,
            "pools": [p.to_json() for p in self.pools],
            "sha256": self.sha256,
        }


def default_state_path() -> Path:
    """build/replica/<data file stem>.state.json: each data file has its own state file."""
    d = build_dir() / "replica"
    d.mkdir(exist_ok=True)
    return d / f"{spec_path().stem}.state.json"


def inputs_digest(spec: ReplicaSpec) -> str:
    """Hash of everything that determines the dump: data, artifacts, contracts, builder code."""
    h = hashlib.sha256()
    h.update(spec.path.read_bytes())
    for mod in VENUE_MODULES:
        for rel in getattr(mod, "ARTIFACTS", []):
            h.update(npm_artifact(rel).bytecode)
        for name in getattr(mod, "CONTRACTS", []):
            h.update(contract(name).bytecode)
    h.update(uniswap_v2.code_fingerprint())
    h.update(balancer.code_fingerprint())
    h.update(uniswap_v4.code_fingerprint())
    h.update(routers.code_fingerprint())
    here = Path(__file__).parent
    builder_code = [
        "build.py",
        "context.py",
        "spec.py",
        *(f"{m.__name__.rsplit('.', 1)[1]}.py" for m in VENUE_MODULES),
    ]
    for name in builder_code:  # only what shapes the dump: editing zoo.py or lab.py never rebuilds
        h.update((here / name).read_bytes())
    h.update((here.parent / "chain" / "etch.py").read_bytes())
    return h.hexdigest()


def _run(ctx: BuildContext) -> list[BuiltPool]:
    spec = ctx.spec
    rpc_request(ctx.url, "anvil_impersonateAccount", [BUILDER])
    rpc_request(ctx.url, "anvil_setBalance", [BUILDER, hex(BUILDER_ETH)])
    tokens.deploy_tokens(ctx)
    balancer.deploy(ctx)
    uniswap_v2.deploy(ctx)
    uniswap_v3.deploy(ctx)
    pools = uniswap_v2.seed(ctx, spec.pools_of(V2PoolSpec))
    pools += uniswap_v3.seed(ctx, spec.pools_of(V3PoolSpec))
    pools += balancer.seed(ctx, spec.pools_of(WeightedPoolSpec))
    balancer.fund_vault(ctx)
    # Issue 16's venues come after everything above, so the older venues' state is unchanged.
    balancer_2023.deploy(ctx)
    uniswap_v4.deploy(ctx)
    routers.deploy(ctx)
    pools += balancer_2023.seed_weighted(ctx, spec.pools_of(WeightedV3PoolSpec))
    pools += balancer_2023.seed_stable(ctx, spec.pools_of(StablePoolSpec))
    pools += uniswap_v4.seed(ctx, spec.pools_of(V4PoolSpec))
    rpc_request(ctx.url, "anvil_stopImpersonatingAccount", [BUILDER])
    return pools


def _canonical(state: dict[str, Any]) -> dict[str, Any]:
    """Anvil dumps blocks and transactions in hash-map order; sort them so the file is stable."""
    state["blocks"] = sorted(
        state.get("blocks") or [], key=lambda b: int(b["header"]["number"], 16)
    )
    state["transactions"] = sorted(
        state.get("transactions") or [],
        key=lambda t: (int(t["block_number"]), int(t["info"]["transaction_index"])),
    )
    return state


def build(out: Path | None = None, spec_path: Path | None = None) -> BuildResult:
    """Build the replica and write its Anvil state file (plain JSON, loadable with --load-state)."""
    started = time.monotonic()
    spec = load_spec(spec_path)
    out = out or default_state_path()
    digest = inputs_digest(spec)
    args = [
        "--chain-id",
        str(spec.chain_id),
        "--timestamp",
        str(spec.genesis_timestamp),
        "--hardfork",
        "cancun",
        "--accounts",
        "1",
    ]
    with Anvil(args=args) as node:
        rpc_request(node.url, "anvil_setBlockTimestampInterval", [spec.block_time])
        pools = _run(BuildContext(node.url, spec))
        block = int(rpc_request(node.url, "eth_blockNumber"), 16)
        raw = gzip.decompress(bytes.fromhex(rpc_request(node.url, "anvil_dumpState")[2:]))
    state = _canonical(json.loads(raw))
    payload = json.dumps(state, sort_keys=True, separators=(",", ":")).encode()
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(payload)
    tmp.replace(out)  # atomic: a reader never sees half a state file
    result = BuildResult(
        path=out,
        block=block,
        tokens=[
            {"symbol": t.symbol, "address": t.address, "decimals": t.decimals} for t in spec.tokens
        ],
        pools=pools,
        sha256=hashlib.sha256(payload).hexdigest(),
        inputs_digest=digest,
        seconds=time.monotonic() - started,
    )
    meta = result.to_json() | {"inputs_digest": digest}
    out.with_suffix(".meta.json").write_text(json.dumps(meta, indent=2))
    return result


def ensure_built(out: Path | None = None) -> dict[str, Any]:
    """The replica's metadata, building it first if it is missing or its inputs changed."""
    out = out or default_state_path()
    meta_path = out.with_suffix(".meta.json")
    if out.exists() and meta_path.exists():
        meta: dict[str, Any] = json.loads(meta_path.read_text())
        if meta.get("inputs_digest") == inputs_digest(load_spec()):
            return meta
    return build(out).to_json()
