"""Slither on contracts/, offline, through the solcjs shim; findings checked against the
explained triage list.

How it runs: every contracts/**/*.sol goes into one solc standard-JSON input (by content, so
solcjs needs no file access beyond its import callback), written to build/audit/; Slither reads
it with crytic-compile's `solc-json` platform and compiles it with tools/solc/solc (no compiler
download). slither.config.json (repo root) sets all of that plus the detector exclusions and
path filters, each explained in the file. slither.triage.json lists every High/Medium finding
left in scope with the reason it is not a bug; anything else fails the audit.

    .venv/bin/python -m tests.audit.static_analysis     # run it and print the summary
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flasharb.chain.artifacts import EVM_VERSION, OPTIMIZER_RUNS
from flasharb.paths import build_dir

CONFIG = "slither.config.json"
TRIAGE = "slither.triage.json"
SEVERITIES = ("High", "Medium", "Low", "Informational", "Optimization")
BLOCKING = ("High", "Medium")
REPO = Path(__file__).resolve().parents[2]  # the checkout: its contracts and triage file
LAST_REPORT: dict[str, Report] = {}  # the last audit() of this process, for the summary


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    check: str
    impact: str
    where: str  # Contract.function[.variable], or Contract
    description: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    findings: tuple[Finding, ...]
    explained: tuple[Finding, ...]  # High/Medium with a triage entry
    unexplained: tuple[Finding, ...]  # High/Medium without one: the audit fails
    stale: tuple[str, ...]  # triage entries no finding matched any more

    def counts(self) -> dict[str, int]:
        c = Counter(f.impact for f in self.findings)
        return {s: c.get(s, 0) for s in SEVERITIES}

    def to_json(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "explained": len(self.explained),
            "unexplained": [f"{f.check} {f.where}" for f in self.unexplained],
            "stale_triage": list(self.stale),
        }


def _where(element: dict[str, Any]) -> str:
    parts = [element["name"]]
    parent = element.get("type_specific_fields", {}).get("parent")
    while parent is not None:
        parts.append(parent["name"])
        parent = parent.get("type_specific_fields", {}).get("parent")
    return ".".join(reversed(parts))


def _input_file() -> Path:
    root = REPO
    sources = {
        str(f.relative_to(root)): {"content": f.read_text()}
        for f in sorted((root / "contracts").rglob("*.sol"))
    }
    std_input = {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "evmVersion": EVM_VERSION,
            "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
        },
    }
    out = build_dir() / "audit" / "slither-input.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(std_input))
    return out


def run_slither() -> list[Finding]:
    """Run Slither with slither.config.json; return every finding left after its filters."""
    root = REPO
    target = _input_file()
    result_file = target.with_name("slither-results.json")
    result_file.unlink(missing_ok=True)
    slither = Path(sys.executable).with_name("slither")
    proc = subprocess.run(
        [
            str(slither),
            str(target),
            "--config-file",
            str(root / CONFIG),
            "--json",
            str(result_file),
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if not result_file.exists():
        raise RuntimeError(
            f"slither produced no results (exit {proc.returncode}): {proc.stderr[-2000:]}"
        )
    data = json.loads(result_file.read_text())
    if not data.get("success"):
        raise RuntimeError(f"slither failed: {data.get('error')}")
    return [
        Finding(
            check=r["check"],
            impact=r["impact"],
            where=_where(r["elements"][0]) if r["elements"] else "",
            description=r["description"].strip(),
        )
        for r in data["results"].get("detectors", [])
    ]


def triage() -> list[dict[str, str]]:
    entries: list[dict[str, str]] = json.loads((REPO / TRIAGE).read_text())["findings"]
    for e in entries:
        missing = {"check", "where", "why"} - e.keys()
        if missing or not e["why"].strip():
            raise ValueError(f"{TRIAGE}: entry {e} lacks {missing or 'a reason'}")
    return entries


def audit() -> Report:
    findings = run_slither()
    entries = triage()
    keys = {(e["check"], e["where"]) for e in entries}
    blocking = [f for f in findings if f.impact in BLOCKING]
    explained = tuple(f for f in blocking if (f.check, f.where) in keys)
    unexplained = tuple(f for f in blocking if (f.check, f.where) not in keys)
    matched = {(f.check, f.where) for f in explained}
    stale = tuple(f"{c} {w}" for c, w in sorted(keys - matched))
    report = Report(
        findings=tuple(findings), explained=explained, unexplained=unexplained, stale=stale
    )
    (build_dir() / "audit" / "slither-summary.json").write_text(
        json.dumps(report.to_json(), indent=2)
    )
    return report


def main() -> int:
    report = audit()
    counts = report.counts()
    print("slither: " + ", ".join(f"{counts[s]} {s.lower()}" for s in SEVERITIES))
    explained, unexplained = len(report.explained), len(report.unexplained)
    print(f"  high/medium explained in {TRIAGE}: {explained}, unexplained: {unexplained}")
    for f in report.unexplained:
        print(f"  UNEXPLAINED {f.impact} {f.check} {f.where}: {f.description.splitlines()[0]}")
    for s in report.stale:
        print(f"  stale triage entry (no finding matches): {s}")
    return 1 if report.unexplained else 0


if __name__ == "__main__":
    raise SystemExit(main())
