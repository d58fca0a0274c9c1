"""Progress on the CLI's long steps: a spinner on stderr for a person at a terminal, never in
--json output or in a pipe (scripts and tests see clean output)."""

from __future__ import annotations

import io
from contextlib import nullcontext

import pytest
from rich.status import Status

from flasharb._cli_support import busy


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_spinner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stderr", _Tty())
    status = busy("reading every pool", as_json=False)
    assert isinstance(status, Status)
    assert status.status == "reading every pool"


@pytest.mark.parametrize(("tty", "as_json"), [(True, True), (False, False), (False, True)])
def test_json_or_a_pipe_gets_nothing(
    monkeypatch: pytest.MonkeyPatch, tty: bool, as_json: bool
) -> None:
    monkeypatch.setattr("sys.stderr", _Tty() if tty else io.StringIO())
    assert isinstance(busy("x", as_json=as_json), nullcontext)
