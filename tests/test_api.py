"""The public API: the objects a script needs, importable from `flasharb`, each documented; the
pytest plugin's fixtures (this suite runs on them); a user's own experiment, named
module:attribute, run by `flasharb experiment` with the journal and report of any other."""

from __future__ import annotations

import enum
import importlib
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

import flasharb
from flasharb.chain import addresses as A

UNI = "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc"


def test_every_public_name_imports_and_is_documented() -> None:
    for name in flasharb.__all__:
        if name == "__version__":
            continue
        obj = getattr(flasharb, name)
        assert inspect.getdoc(obj), f"flasharb.{name} has no docstring"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = flasharb.nope  # type: ignore[attr-defined]


# What the public functions hand back: documented like the exported names (docs/api.md shows them).
RETURNED = (
    "flasharb.execute.shock:ShockResult",
    "flasharb.search.market:Head",
    "flasharb.search.market:MarketUpdate",
    "flasharb.search.cycles:Cycle",
    "flasharb.search.cycles:Hop",
    "flasharb.execute.plan:Plan",
    "flasharb.execute.trader:Prepared",
    "flasharb.execute.trader:Trade",
    "flasharb.experiments.base:Context",
    "flasharb.experiments.base:Figure",
    "flasharb.audit.report:AuditReport",
    "flasharb.audit.report:Row",
)


def _public_objects() -> list[tuple[str, Any]]:
    out = [  # what `from flasharb import n` loads (flasharb.audit can be its subpackage)
        (n, getattr(importlib.import_module(flasharb._EXPORTS[n]), n))
        for n in flasharb.__all__
        if n != "__version__"
    ]
    for spec in RETURNED:
        module, _, name = spec.partition(":")
        out.append((name, getattr(importlib.import_module(module), name)))
    return out


def _members(cls: type) -> list[tuple[str, Any]]:
    """The public methods and properties a class defines itself (not inherited, not fields)."""
    found = []
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, property):
            found.append((name, value.fget))
        elif isinstance(value, classmethod | staticmethod):
            found.append((name, value.__func__))
        elif inspect.isfunction(value):
            found.append((name, value))
    return found


def _unannotated(fn: Any) -> list[str]:
    sig = inspect.signature(fn)
    missing = [
        p.name
        for p in sig.parameters.values()
        if p.name not in ("self", "cls") and p.annotation is inspect.Parameter.empty
    ]
    if sig.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


def test_every_public_object_is_typed_and_each_member_documented() -> None:
    """Exported names and what they return: a docstring of their own (a dataclass's generated
    signature does not count), every parameter and return annotated, every public method and
    property documented."""
    gaps: list[str] = []
    for name, obj in _public_objects():
        doc = inspect.getdoc(obj) or ""
        if not doc or doc.startswith(f"{getattr(obj, '__name__', name)}("):
            gaps.append(f"{name}: no docstring of its own")
        if inspect.isclass(obj):
            if issubclass(obj, BaseException | enum.Enum):
                continue
            for member, fn in _members(obj):
                if not inspect.getdoc(fn):
                    gaps.append(f"{name}.{member}: no docstring")
                gaps += [f"{name}.{member}: {p} not annotated" for p in _unannotated(fn)]
        elif callable(obj):
            gaps += [f"{name}: {p} not annotated" for p in _unannotated(obj)]
    assert not gaps, "\n".join(gaps)


def test_run_audit_is_the_function_whatever_was_imported_first() -> None:
    code = "import flasharb.audit; from flasharb import run_audit; print(callable(run_audit))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_import_flasharb_loads_nothing_heavy() -> None:
    code = "import flasharb, sys; print(sorted(m for m in sys.modules if m.startswith('web3')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.fork
class TestScriptApi:
    """What docs/api.md shows, on the session fork."""

    def test_quote_shock_market(self, w3: Web3) -> None:
        before = flasharb.quote(w3, UNI, "WETH", amount_in=10**18)
        assert before.token_in == A.WETH and before.token_out == A.USDC and before.amount_out > 0
        whale = flasharb.shock(w3, UNI, "WETH", 500 * 10**18)
        after = flasharb.quote(w3, UNI, A.WETH, amount_in=10**18)
        assert after.amount_out < before.amount_out and whale.amount_out > 0
        back = flasharb.quote(w3, UNI, "USDC", amount_out=10**18)  # exact out: the input
        assert back.amount_out == 10**18 and back.amount_in > 0
        market = flasharb.Market.build(w3, flasharb.MarketConfig(max_hops=2))
        best = market.select(top=1)
        assert best and UNI in best[0].cycle.pools

    def test_plugin_fixtures(
        self, w3: Web3, owner: str, executor: str, attacker: str, deal: Any, deployment: Any
    ) -> None:
        assert len({owner, executor, attacker}) == 3
        deal("USDC", attacker, 7)
        abi = [
            {
                "name": "balanceOf",
                "type": "function",
                "stateMutability": "view",
                "inputs": [{"name": "a", "type": "address"}],
                "outputs": [{"name": "", "type": "uint256"}],
            }
        ]
        usdc = w3.eth.contract(address=A.USDC, abi=abi)
        assert usdc.functions.balanceOf(attacker).call() == 7
        assert w3.eth.get_code(deployment.diamond)


EXPERIMENT_MODULE = """
from flasharb import Experiment, quote

UNI = "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc"


def run_point(ctx, p):
    return {"amount_out": str(quote(ctx.w3, UNI, "WETH", amount_in=int(p["weth"])).amount_out)}


def rows(points):
    return [{"weth": pt["params"]["weth"], "out": pt["metrics"]["amount_out"]} for pt in points]


def plots(table, out):
    return []


PRICE = Experiment(
    name="my-price",
    title="My price curve",
    question="What does Uniswap V2 WETH/USDC pay for growing sales?",
    grid=lambda size: [{"weth": str(10**18 * k)} for k in (1, 10)],
    run_point=run_point,
    rows=rows,
    plots=plots,
)
"""


@pytest.mark.fork
def test_a_users_own_experiment_runs_like_the_built_in_ones(tmp_path: Path) -> None:
    (tmp_path / "my_sweeps.py").write_text(EXPERIMENT_MODULE)
    env = {
        **os.environ,
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "FLASHARB_STATE_DIR": str(tmp_path / "state"),
    }
    out = tmp_path / "report"
    args = ["experiment", "my_sweeps:PRICE", "--size", "small", "--out", str(out), "--json"]
    res = subprocess.run(
        [sys.executable, "-m", "flasharb.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    outs = [int(r["out"]) for r in report["rows"]]
    assert len(outs) == 2 and 0 < outs[0] < outs[1] < 10 * outs[0]  # concave: slippage
    assert (out / "index.html").exists() and (out / "points.csv").exists()
    bad = subprocess.run(
        [sys.executable, "-m", "flasharb.cli", "experiment", "my_sweeps:NOPE"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "my_sweeps" in bad.stderr
