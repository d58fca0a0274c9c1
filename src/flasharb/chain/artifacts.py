"""Contract artifacts: flasharb's own contracts (compiled through the solc shim) and the
canonical protocol artifacts shipped in npm packages."""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from flasharb.chain import toolchain
from flasharb.errors import FlasharbValueError, ToolchainError
from flasharb.paths import build_dir, bundle

SOLC_VERSION = "0.8.28"
EVM_VERSION = "cancun"
OPTIMIZER_RUNS = 10_000  # executed many times, deployed once: favour runtime gas


@dataclass(frozen=True, slots=True, kw_only=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes  # creation code
    deployed_bytecode: bytes  # runtime code (immutables unset)


def _settings() -> dict[str, Any]:
    return {
        "evmVersion": EVM_VERSION,
        "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
        "outputSelection": {
            "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}
        },
    }


def _sources() -> dict[str, dict[str, str]]:
    """Every contract that ships with flasharb, keyed `contracts/...` (the keys are part of the
    metadata hash in the bytecode: the same wherever the package is installed)."""
    root = bundle()
    files = sorted((root / "contracts").rglob("*.sol"))
    return {f.relative_to(root).as_posix(): {"content": f.read_text()} for f in files}


def compile_project(force: bool = False) -> dict[str, Any]:
    """Compile every contract under contracts/ with solc 0.8.28 (cancun); cached by source hash."""
    sources = _sources()
    std_input = {"language": "Solidity", "sources": sources, "settings": _settings()}
    digest = hashlib.sha256(json.dumps(std_input, sort_keys=True).encode()).hexdigest()[:16]
    cache_file = build_dir() / f"contracts-{digest}.json"
    if cache_file.exists() and not force:
        return json.loads(cache_file.read_text())  # type: ignore[no-any-return]
    shim = toolchain.solc_shim()
    proc = subprocess.run(  # every source is inline: the shim reads no file of the project
        [str(shim), "--standard-json", "--base-path", str(bundle())],
        input=json.dumps(std_input),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ToolchainError(f"the solc shim failed ({last})", str(shim))
    out: dict[str, Any] = json.loads(proc.stdout)
    errors = [e for e in out.get("errors", []) if e["severity"] == "error"]
    if errors:
        raise FlasharbValueError(errors[0]["formattedMessage"])
    for old in build_dir().glob("contracts-*.json"):
        old.unlink()
    cache_file.write_text(json.dumps(out))
    return out


@cache
def _compiled() -> dict[str, Any]:
    """`compile_project()` once per process: `contract` is cached per name already (a source
    edited mid-process needs a new process either way), and each call re-read every source and
    parsed the whole 650 kB output, 15-25 ms a name: `flasharb scan` asks for 7 names."""
    return compile_project()


@cache
def contract(name: str) -> Artifact:
    """A flasharb contract by name (e.g. 'Diamond', 'FlashArbFacet')."""
    out = _compiled()
    for _path, contracts in out["contracts"].items():
        if name in contracts:
            c = contracts[name]
            return Artifact(
                name=name,
                abi=c["abi"],
                bytecode=bytes.fromhex(c["evm"]["bytecode"]["object"]),
                deployed_bytecode=bytes.fromhex(c["evm"]["deployedBytecode"]["object"]),
            )
    raise FlasharbValueError(f"contract {name!r} is not in contracts/; check the name")


def _hex(s: str) -> bytes:
    return bytes.fromhex(s[2:] if s.startswith("0x") else s)


@cache
def npm_artifact(relpath: str) -> Artifact:
    """A protocol artifact from node_modules, e.g. '@uniswap/v2-core/build/UniswapV2Factory.json'.

    Understands the waffle format (Uniswap V2: abi, bytecode, evm.deployedBytecode) and the
    hardhat format (Uniswap V3, Balancer: abi, bytecode, deployedBytecode).
    """
    path: Path = toolchain.node_modules() / relpath
    if not path.exists():
        raise ToolchainError(f"protocol artifact {relpath} not found", str(path))
    data = json.loads(path.read_text())
    if "evm" in data:  # waffle
        creation = data["evm"]["bytecode"]["object"]
        runtime = data["evm"]["deployedBytecode"]["object"]
    else:
        creation = data["bytecode"]
        runtime = data.get("deployedBytecode", "")
    return Artifact(
        name=data.get("contractName", path.stem),
        abi=data["abi"],
        bytecode=_hex(creation),
        deployed_bytecode=_hex(runtime),
    )


# ---------------------------------------------------------------- SushiSwap, built from source

SUSHI_SOLC_MODULE = "solc-0.6.12"  # npm alias of solc@0.6.12 (package.json); Sushi pins =0.6.12
SUSHI_ROOT = "@sushiswap/core"
SUSHI_FACTORY_SOURCE = "contracts/uniswapv2/UniswapV2Factory.sol"
SUSHI_OPTIMIZER_RUNS = 5000


def _sushi_input() -> dict[str, Any]:
    root = toolchain.node_modules() / SUSHI_ROOT
    return {
        "language": "Solidity",
        "sources": {SUSHI_FACTORY_SOURCE: {"content": (root / SUSHI_FACTORY_SOURCE).read_text()}},
        "settings": {
            "optimizer": {"enabled": True, "runs": SUSHI_OPTIMIZER_RUNS},
            "outputSelection": {
                "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}
            },
        },
    }


@cache
def sushiswap_artifact(name: str) -> Artifact:
    """SushiSwap's own 'UniswapV2Factory' or 'UniswapV2Pair', compiled from @sushiswap/core's
    sources with solc 0.6.12 (solcjs from npm). Deterministic; cached under build/."""
    std_input = _sushi_input()
    digest = hashlib.sha256(json.dumps(std_input, sort_keys=True).encode()).hexdigest()[:16]
    cache_file = build_dir() / f"sushiswap-{digest}.json"
    if not cache_file.exists():
        tc = toolchain.ensure()
        module_dir = tc.node_modules / SUSHI_SOLC_MODULE
        if not module_dir.is_dir():
            raise ToolchainError("solc 0.6.12 (npm alias solc-0.6.12) not found", str(module_dir))
        tmp = cache_file.with_suffix(".tmp")
        script = tc.shim.with_name("standard-json.js")
        subprocess.run(
            [
                "node",
                str(script),
                "--solc-module",
                str(module_dir),
                "--standard-json",
                "--base-path",
                str(tc.node_modules / SUSHI_ROOT),
                "--out",
                str(tmp),
            ],
            input=json.dumps(std_input),
            text=True,
            check=True,
            capture_output=True,
        )
        out = json.loads(tmp.read_text())
        errors = [e for e in out.get("errors", []) if e["severity"] == "error"]
        if errors:
            raise FlasharbValueError(errors[0]["formattedMessage"])
        tmp.replace(cache_file)
    out = json.loads(cache_file.read_text())
    for contracts in out["contracts"].values():
        if name in contracts:
            c = contracts[name]
            return Artifact(
                name=f"SushiSwap {name}",
                abi=c["abi"],
                bytecode=bytes.fromhex(c["evm"]["bytecode"]["object"]),
                deployed_bytecode=bytes.fromhex(c["evm"]["deployedBytecode"]["object"]),
            )
    raise FlasharbValueError(f"SushiSwap contract {name!r} not found in {SUSHI_FACTORY_SOURCE}")


# ---------------------------------------------------------------- one file outside contracts/


def compile_file(path: Path) -> dict[str, Artifact]:
    """Every contract of one Solidity file outside contracts/ (an example, a user's contract to
    audit), compiled exactly like the project's own (solc 0.8.28 through the shim, cancun, the
    same optimizer runs); cached under build/ by source hash. Imports resolve from the file's
    folder. Returns {contract name: artifact}."""
    path = path.resolve()
    if not path.is_file():
        raise FlasharbValueError(f"Solidity file {path} does not exist; check the path")
    std_input = {
        "language": "Solidity",
        "sources": {path.name: {"content": path.read_text()}},
        "settings": _settings(),
    }
    digest = hashlib.sha256(json.dumps(std_input, sort_keys=True).encode()).hexdigest()[:16]
    cache_file = build_dir() / f"file-{path.stem}-{digest}.json"
    if cache_file.exists():
        out: dict[str, Any] = json.loads(cache_file.read_text())
    else:
        shim = toolchain.solc_shim()
        proc = subprocess.run(  # imports resolve against the file's own folder
            [str(shim), "--standard-json", "--base-path", str(path.parent)],
            input=json.dumps(std_input),
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise ToolchainError(f"the solc shim failed ({last})", str(shim))
        out = json.loads(proc.stdout)
        errors = [e for e in out.get("errors", []) if e["severity"] == "error"]
        if errors:
            raise FlasharbValueError(errors[0]["formattedMessage"])
        for old in build_dir().glob(f"file-{path.stem}-*.json"):
            old.unlink()
        cache_file.write_text(json.dumps(out))
    return {
        name: Artifact(
            name=name,
            abi=c["abi"],
            bytecode=bytes.fromhex(c["evm"]["bytecode"]["object"]),
            deployed_bytecode=bytes.fromhex(c["evm"]["deployedBytecode"]["object"]),
        )
        for contracts in out["contracts"].values()
        for name, c in contracts.items()
    }
