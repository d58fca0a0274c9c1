"""`make audit`'s summary, a pytest plugin (registered by tests/conftest.py): how many
adversarial cases ran and passed, Slither's findings by severity and how many are explained,
and how many fuzz cases (tests marked `fuzz`, with their hypothesis example budget) ran."""

from __future__ import annotations

from typing import Any

import pytest


class AuditSummary:
    """Counts in the process that collects and runs the tests; under pytest-xdist the workers
    do, and the controller, which prints, `merge`s what each worker `export`s."""

    def __init__(self) -> None:
        self.marked: dict[str, set[str]] = {"audit": set(), "fuzz": set()}
        self.outcomes: dict[str, str] = {}
        self.examples: dict[str, int] = {}
        self.slither: dict[str, Any] | None = None  # from a worker that ran Slither
        self.fuzz: dict[str, int] = {}  # the workers' fuzz counters, added up

    def export(self) -> dict[str, Any]:
        """What this worker saw, as plain data for the controller."""
        return {
            "marked": {m: sorted(ids) for m, ids in self.marked.items()},
            "examples": dict(self.examples),
            "slither": _slither(),
            "fuzz": _fuzz_report(),
        }

    def merge(self, seen: dict[str, Any]) -> None:
        """Add what a worker saw (its `export()`); the outcomes come to the controller as
        reports already."""
        for marker, ids in seen["marked"].items():
            self.marked[marker].update(ids)
        self.examples.update(seen["examples"])
        self.slither = seen["slither"] or self.slither
        for k, v in seen["fuzz"].items():
            self.fuzz[k] = self.fuzz.get(k, 0) + v

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            for marker, ids in self.marked.items():
                if item.get_closest_marker(marker) is not None:
                    ids.add(item.nodeid)
            if item.get_closest_marker("fuzz") is not None:
                obj = getattr(item, "obj", None)
                settings = getattr(obj, "_hypothesis_internal_use_settings", None)
                if settings is not None:
                    self.examples[item.nodeid] = int(settings.max_examples)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.outcomes[report.nodeid] = report.outcome

    def _tally(self, ids: list[str]) -> str:
        c = {
            o: sum(1 for n in ids if self.outcomes[n] == o) for o in ("passed", "failed", "skipped")
        }
        return (
            f"{len(ids)} cases ({c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped)"
        )

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        from tests.audit.static_analysis import SEVERITIES, TRIAGE

        ran = {m: sorted(n for n in ids if n in self.outcomes) for m, ids in self.marked.items()}
        if not ran["audit"] and not ran["fuzz"]:
            return
        tr = terminalreporter
        tr.section("audit summary")
        fuzz = set(ran["fuzz"])  # the fuzz lives in tests/audit too: counted on its own line
        adversarial = [n for n in ran["audit"] if "test_static_analysis" not in n and n not in fuzz]
        tr.write_line(f"adversarial  {self._tally(adversarial)}")
        slither = _slither() or self.slither
        if slither is None:
            tr.write_line("slither      not run")
        else:
            counts = slither["counts"]
            tr.write_line(
                "slither      "
                + ", ".join(f"{counts[s]} {s.lower()}" for s in SEVERITIES)
                + f"; high/medium explained in {TRIAGE}: {slither['explained']}, "
                f"unexplained: {slither['unexplained']}"
            )
        budget = sum(self.examples.get(n, 0) for n in ran["fuzz"])
        run = _fuzz_report() or self.fuzz
        tr.write_line(
            f"fuzz         {self._tally(ran['fuzz'])}"
            + (
                f"; {run['cases']} hypothesis cases run ({run.get('mined', 0)} mined, "
                f"{run.get('simulated', 0)} simulated) of {budget} asked"
                if run.get("cases")
                else (f", up to {budget} hypothesis examples (none ran)" if budget else "")
            )
        )


def _slither() -> dict[str, Any] | None:
    """Slither's counts from this process's run (None if it did not run here)."""
    from tests.audit.static_analysis import LAST_REPORT

    report = LAST_REPORT.get("report")
    if report is None:
        return None
    return {
        "counts": report.counts(),
        "explained": len(report.explained),
        "unexplained": len(report.unexplained),
    }


def _fuzz_report() -> dict[str, int]:
    """What the diamond fuzz counted as it ran (empty if it did not run in this session)."""
    import sys

    module = sys.modules.get("tests.audit.test_fuzz_diamond")
    return dict(getattr(module, "REPORT", {}) or {})
