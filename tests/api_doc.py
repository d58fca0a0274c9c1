"""docs/api.md's fenced code blocks, for the tests that run its examples
(tests/fork/test_docs_api.py) and compare its signatures with the code
(tests/unit/test_docs_api.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.M | re.S)


def blocks(lang: str) -> Iterator[tuple[int, str]]:
    """(line of the block's first code line in docs/api.md, code) for each ```lang block."""
    text = DOC.read_text()
    for m in FENCE.finditer(text):
        if m.group(1) == lang:
            yield text.count("\n", 0, m.start(2)) + 1, m.group(2)
