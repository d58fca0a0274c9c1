"""The public API without a chain: every name `flasharb` exports imports and is documented, and
`import flasharb` loads nothing heavy. The same objects on the session fork:
tests/fork/test_api.py; a user's own experiment: tests/experiments/test_experiment_user.py."""

from __future__ import annotations

import inspect
import subprocess
import sys

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


def test_import_flasharb_loads_nothing_heavy() -> None:
    code = "import flasharb, sys; print(sorted(m for m in sys.modules if m.startswith('web3')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
