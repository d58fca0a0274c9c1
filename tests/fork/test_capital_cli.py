"""`flasharb deploy --children N` / `--strategies a,b`: a master and its children in one command,
recorded in the deployment JSON, keys in the project's key store; bad input is one line, exit 2."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests.helpers import Cli


def test_deploy_children_in_one_command(cli: Cli) -> None:
    out = cli.json("deploy", "--children", "2")
    assert set(out) == {"diamond", "facets", "executor", "master", "risk", "children"}
    assert [c["label"] for c in out["children"]] == ["child-1", "child-2"]
    assert out["diamond"] == out["children"][0]["address"]
    assert out["executor"] == out["children"][0]["executor"]
    assert {"MasterFacet", "ChildFacet"} <= set(out["facets"])
    state = Path(cli.env["FLASHARB_STATE_DIR"])
    record = json.loads((state / "deployment.json").read_text())
    assert record["master"] == out["master"] and record["children"] == out["children"]
    for account in (out["risk"], *(c["executor"] for c in out["children"])):
        key = state / "keys" / f"{account}.key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert account not in key.read_text()  # the key, not its address
    assert all(
        (state / "keys" / f"{a}.key").read_text().strip() not in json.dumps(out)
        for a in (out["risk"], *(c["executor"] for c in out["children"]))
    )  # no key is printed


def test_deploy_strategies_names_the_children(cli: Cli) -> None:
    out = cli.json("deploy", "--strategies", "cycles,backrun")
    assert [c["label"] for c in out["children"]] == ["cycles", "backrun"]


def test_the_single_diamond_stays_the_default(cli: Cli) -> None:
    out = cli.json("deploy")
    assert set(out) == {"diamond", "facets", "executor"}


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--children", "2", "--strategies", "a"], "not both"),
        (["--strategies", "a,a"], "distinct"),
        (["--children", "-1"], "children must be 1..64"),
        (["--children", "65"], "children must be 1..64"),
    ],
    ids=["both", "twice", "negative", "too-many"],
)
def test_bad_children_are_one_line_exit_2(cli: Cli, args: list[str], says: str) -> None:
    assert says in cli.error("deploy", *args, code=2)
