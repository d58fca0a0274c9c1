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

from eth_abi import encode
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.anvil import Anvil, rpc_request
from flasharb.chain.artifacts import Artifact, contract, npm_artifact, sushiswap_artifact
from flasharb.chain.etch import create2_address, etch
from flasharb.chain.rpc import connect, contract_at, send
from flasharb.errors import FlasharbRuntimeError
from flasharb.paths import build_dir, repo_root
from flasharb.replica.spec import ReplicaSpec, load_spec

# The account that deploys and seeds everything; it keeps the supply not put in pools or the Vault.
BUILDER = Web3.to_checksum_address("0x00000000000000000000000000000000000f1a5B")
BUILDER_ETH = 10**9 * 10**18  # enough to wrap every WETH the data file asks for

PAUSE_WINDOW = 90 * 24 * 3600  # Balancer Vault constructor args on mainnet: 90 days ...
BUFFER_PERIOD = 30 * 24 * 3600  # ... and 30 days

ARTIFACTS = {
    "weth9": "@uniswap/v2-periphery/build/WETH9.json",
    "v2_factory": "@uniswap/v2-core/build/UniswapV2Factory.json",
    "v2_pair": "@uniswap/v2-core/build/UniswapV2Pair.json",
    "vault": "@balancer-labs/v2-deployments/dist/tasks/20210418-vault/artifact/Vault.json",
    "authorizer": (
        "@balancer-labs/v2-deployments/dist/tasks/20210418-authorizer/artifact/Authorizer.json"
    ),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class BuiltPool:
    venue: str
    address: str
    token0: str
    token1: str

    def to_json(self) -> dict[str, str]:
        return {
            "venue": self.venue,
            "address": self.address,
            "token0": self.token0,
            "token1": self.token1,
        }


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


def v2_factory_artifact(venue: str) -> Artifact:
    """Uniswap's factory from @uniswap/v2-core; SushiSwap's own, built from @sushiswap/core."""
    if venue == "sushiswap":
        return sushiswap_artifact("UniswapV2Factory")
    return npm_artifact(ARTIFACTS["v2_factory"])


def v2_pair_init_code_hash(venue: str) -> bytes:
    if venue == "sushiswap":
        return Web3.keccak(sushiswap_artifact("UniswapV2Pair").bytecode)
    return A.UNISWAP_V2_PAIR_INIT_CODE_HASH


def default_state_path() -> Path:
    d = build_dir() / "replica"
    d.mkdir(exist_ok=True)
    return d / "mainnet-v0.state.json"


def inputs_digest(spec: ReplicaSpec) -> str:
    """Hash of everything that determines the dump: data, artifacts, replica contracts, code."""
    h = hashlib.sha256()
    h.update(spec.path.read_bytes())
    for rel in ARTIFACTS.values():
        h.update(npm_artifact(rel).bytecode)
    h.update(contract("ReplicaERC20").bytecode)
    h.update(sushiswap_artifact("UniswapV2Factory").bytecode)
    for mod in ("build.py", "spec.py"):
        h.update((Path(__file__).parent / mod).read_bytes())
    h.update((repo_root() / "src/flasharb/chain/etch.py").read_bytes())
    return h.hexdigest()


def _deploy_code(art: Artifact, types: list[str], args: list[Any]) -> bytes:
    return art.bytecode + encode(types, args)


class _Builder:
    def __init__(self, url: str, spec: ReplicaSpec) -> None:
        self.url = url
        self.spec = spec
        self.w3 = connect(url)

    def tx(self, to: str, data: bytes | str, what: str, value: int = 0) -> Any:
        payload = data if isinstance(data, str) else "0x" + data.hex()
        return send(
            self.w3,
            {"from": BUILDER, "to": to, "data": payload, "value": value, "gas": 5_000_000},
            what,
        )

    def erc20(self, address: str) -> Any:
        return contract_at(self.w3, address, contract("ReplicaERC20").abi)

    def run(self) -> list[BuiltPool]:
        spec = self.spec
        rpc_request(self.url, "anvil_impersonateAccount", [BUILDER])
        rpc_request(self.url, "anvil_setBalance", [BUILDER, hex(BUILDER_ETH)])

        # Tokens at their canonical addresses.
        token_art = contract("ReplicaERC20")
        for t in spec.tokens:
            if t.kind == "weth9":
                etch(self.url, BUILDER, npm_artifact(ARTIFACTS["weth9"]).bytecode, t.address)
            else:
                code = _deploy_code(
                    token_art,
                    ["string", "string", "uint8", "address", "uint256"],
                    [t.name, t.symbol, t.decimals, BUILDER, t.supply],
                )
                etch(self.url, BUILDER, code, t.address)

        # Balancer V2: Authorizer, then the Vault, whose constructor CREATEs the fees collector.
        authorizer = _deploy_code(npm_artifact(ARTIFACTS["authorizer"]), ["address"], [BUILDER])
        etch(self.url, BUILDER, authorizer, A.BALANCER_AUTHORIZER)
        vault = _deploy_code(
            npm_artifact(ARTIFACTS["vault"]),
            ["address", "address", "uint256", "uint256"],
            [A.BALANCER_AUTHORIZER, A.WETH, PAUSE_WINDOW, BUFFER_PERIOD],
        )
        etch(
            self.url,
            BUILDER,
            vault,
            A.BALANCER_VAULT,
            children={1: A.BALANCER_PROTOCOL_FEES_COLLECTOR},
        )

        # V2-style factories: Uniswap's canonical bytecode, SushiSwap's own built from source.
        for venue, address in A.V2_FACTORIES.items():
            code = _deploy_code(v2_factory_artifact(venue), ["address"], [BUILDER])
            etch(self.url, BUILDER, code, address)

        # Wrap the WETH the pools and the Vault need.
        weth = spec.token("WETH")
        need = sum(p.amount_a for p in spec.pools if p.token_a == "WETH")
        need += sum(p.amount_b for p in spec.pools if p.token_b == "WETH")
        need += spec.vault.get("WETH", 0)
        weth_c = contract_at(self.w3, weth.address, npm_artifact(ARTIFACTS["weth9"]).abi)
        self.tx(weth.address, weth_c.encode_abi("deposit", []), "WETH.deposit", value=need)

        pools = [self.seed_pool(p) for p in spec.pools]
        # One block later, sync() every pair: price accumulators become non-zero, as on any
        # mainnet pair with a trading history, and reserves do not move.
        for pool in pools:
            pair = contract_at(self.w3, pool.address, npm_artifact(ARTIFACTS["v2_pair"]).abi)
            self.tx(pool.address, pair.encode_abi("sync", []), f"sync {pool.address}")

        for sym, amount in spec.vault.items():
            t = spec.token(sym)
            self.tx(
                t.address,
                self.erc20(t.address).encode_abi("transfer", [A.BALANCER_VAULT, amount]),
                f"{sym} to Vault",
            )
        rpc_request(self.url, "anvil_stopImpersonatingAccount", [BUILDER])
        return pools

    def seed_pool(self, p: Any) -> BuiltPool:
        ta, tb = self.spec.token(p.token_a), self.spec.token(p.token_b)
        factory_addr = A.V2_FACTORIES[p.venue]
        factory = contract_at(self.w3, factory_addr, v2_factory_artifact(p.venue).abi)
        self.tx(
            factory_addr, factory.encode_abi("createPair", [ta.address, tb.address]), "createPair"
        )
        pair_addr = factory.functions.getPair(ta.address, tb.address).call()
        t0, t1 = sorted([ta.address, tb.address], key=lambda a: int(a, 16))
        expected = create2_address(
            factory_addr,
            Web3.keccak(bytes.fromhex(t0[2:] + t1[2:])),
            v2_pair_init_code_hash(p.venue),
        )
        if pair_addr != expected:
            raise FlasharbRuntimeError(
                f"{p.venue} pair {ta.symbol}/{tb.symbol} at {pair_addr}, expected {expected}"
            )
        for t, amount in ((ta, p.amount_a), (tb, p.amount_b)):
            self.tx(
                t.address,
                self.erc20(t.address).encode_abi("transfer", [pair_addr, amount]),
                "fund pair",
            )
        pair = contract_at(self.w3, pair_addr, npm_artifact(ARTIFACTS["v2_pair"]).abi)
        self.tx(pair_addr, pair.encode_abi("mint", [BUILDER]), f"mint {ta.symbol}/{tb.symbol}")
        return BuiltPool(venue=p.venue, address=pair_addr, token0=t0, token1=t1)


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
        pools = _Builder(node.url, spec).run()
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
