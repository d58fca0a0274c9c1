"""docs/api.md cannot rot: every ```python block runs, top to bottom in one namespace, against a
real lab (the page opens its own with `open_lab()` and stops it at the end). Its ```pyi blocks
are compared with the code in tests/unit/test_docs_api.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flasharb import paths
from flasharb.chain.node import Lab
from tests.api_doc import DOC, blocks


def test_every_python_block_runs_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As a user's script in an empty project folder: the replica comes from this checkout's
    build (no rebuild), the state (deployment record, journal) and reports go to tmp_path."""
    monkeypatch.setenv("FLASHARB_BUILD_DIR", str(paths.build_dir()))
    monkeypatch.setenv("FLASHARB_STATE_DIR", str(tmp_path / ".flasharb"))
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "docs_api"}
    ran = 0
    try:
        for line, code in blocks("python"):
            # padded so a traceback names the line of docs/api.md
            exec(compile("\n" * (line - 1) + code, str(DOC), "exec"), namespace)  # noqa: S102
            ran += 1
    finally:
        lab = namespace.get("lab")
        if isinstance(lab, Lab):
            lab.stop()  # a failing block must not leave its anvils running
    assert ran >= 15
    assert isinstance(namespace["lab"], Lab) and namespace["lab"].fork.proc is None  # stopped
