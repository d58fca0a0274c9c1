"""The public API without a chain: every name `flasharb` exports imports and is documented, and
`import flasharb` loads nothing heavy. The same objects on the session fork:
tests/fork/test_api.py; a user's own experiment: tests/experiments/test_experiment_user.py."""

from __future__ import annotations

import enum
import importlib
import inspect
import subprocess
import sys
from typing import Any

import pytest

import flasharb


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
