"""Audit: Slither on contracts/ through the solcjs shim (slither.config.json); every High or
Medium finding in scope must be explained in slither.triage.json."""

from __future__ import annotations

import pytest

from tests.audit import static_analysis as sa

pytestmark = pytest.mark.slow


def test_no_unexplained_high_or_medium_finding() -> None:
    report = sa.audit()
    sa.LAST_REPORT["report"] = report  # for the audit summary (tests/audit/conftest.py)
    assert report.findings, "slither reported nothing at all: is it analysing the contracts?"
    assert not report.unexplained, "\n".join(
        f"{f.impact} {f.check} at {f.where} — explain it in {sa.TRIAGE} or fix it:\n{f.description}"
        for f in report.unexplained
    )
