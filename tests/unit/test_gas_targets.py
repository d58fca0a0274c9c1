"""`flasharb bench` shows bench/gas.py's issue 17 targets (overhead above the opcode floor through
a child diamond) with their verdict, as the bench computed it."""

from __future__ import annotations

from flasharb.report.bench import _gas_figures, _table


def test_gas_targets_become_figures_with_their_verdict() -> None:
    payload = {
        "rows": [
            {
                "case": "2-hop V2 (child)",
                "source": "balancer_v2",
                "gas_used": 9,
                "baseline_gas": None,
            }
        ],
        "floor": {"2-hop": 100},
        "overhead": {"2-hop": 13_000},
        "targets": {
            "two_hop_overhead": {"value": 13_000, "target": 12_000, "pass": False},
            "extra_hop_overhead": {"value": [2_100, 2_600], "target": 2_500, "pass": False},
        },
    }
    figures = _gas_figures(payload)
    assert figures[1]["figure"].startswith("2-hop V2 via a child")
    assert figures[2]["value"] == "13,000" and figures[2]["target"] == "<= 12,000 FAIL"
    assert figures[3]["value"] == "2,100, 2,600" and figures[3]["target"] == "<= 2,500 FAIL"
    rows = _table([{"bench": "gas", **f} for f in figures])
    assert rows[3].endswith("<= 12,000 FAIL")
