"""Property fuzz of the diamond on the replica fork: random routes, amounts, sources, bribes,
callbacks and treasury/guard calls from every kind of caller. After every call (half of them
mined, half simulated with eth_simulateV1) the diamond's balances never fell, except by what an
owner withdrawal or distribution reported; it holds no allowance to the Vault, a router or any pool
the call named; callbacks never succeed outside an arb, and only the owner or an allowed
executor ever runs executeArb or changes the treasury and guard.

FLASHARB_FUZZ_EXAMPLES sets the number of cases (default 1,000; `make fuzz` runs 10,000).
Generation is derandomized: every run sends the same cases.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3 import Web3

from flasharb.chain.node import Lab
from tests.audit.fuzz_strategies import cases
from tests.audit.fuzz_support import FUZZ_EXAMPLES, World, build_world, run_case

pytestmark = pytest.mark.fuzz

REPORT: dict[str, int] = {}


@pytest.fixture
def world(w3: Web3, lab: Lab, deployment: Any, executor_key: str, attacker: str) -> Iterator[World]:
    built = build_world(w3, lab.rpc_url, deployment, executor_key, attacker)
    try:
        yield built
    finally:
        built.rpc.call("anvil_autoImpersonateAccount", [False])
        built.rpc.call(
            "anvil_setCoinbase", ["0x" + "00" * 20]
        )  # node config: no snapshot undoes it


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(data=st.data())
def test_diamond_never_loses_funds_or_leaves_allowances(world: World, data: Any) -> None:
    case = data.draw(cases(world), label="case")
    n = world.stats.get("cases", 0)
    world.stats["cases"] = n + 1
    world.stats[f"fn:{case.fn}"] = world.stats.get(f"fn:{case.fn}", 0) + 1
    run_case(world, case, mined=n % 2 == 0)
    REPORT.clear()
    REPORT.update(world.stats)


def test_fuzz_ran_the_cases_it_was_asked_for(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs after the fuzz (file order): it ran, both modes, and some calls succeeded."""
    if not REPORT:
        pytest.skip("the fuzz test did not run in this session (deselected)")
    with capsys.disabled():
        print(
            f"\ndiamond fuzz: {REPORT['cases']} cases ({REPORT.get('mined', 0)} mined, "
            f"{REPORT.get('simulated', 0)} simulated, {REPORT.get('succeeded', 0)} succeeded); "
            + ", ".join(
                f"{k[3:]} {v} ({REPORT.get('ok:' + k[3:], 0)} ok)"
                for k, v in sorted(REPORT.items())
                if k.startswith("fn:")
            )
        )
    assert REPORT["cases"] >= FUZZ_EXAMPLES
    assert REPORT.get("mined", 0) > 0 and REPORT.get("simulated", 0) > 0
    assert REPORT.get("succeeded", 0) > 0


def test_the_checks_catch_a_loss_and_a_standing_allowance(world: World) -> None:
    """The property checks can fail: the diamond (impersonated) pays a stranger 1 wei of USDC
    and approves the Vault; both are caught."""
    from eth_abi import encode
    from eth_utils import function_signature_to_4byte_selector as selector

    from flasharb.chain import addresses as A
    from tests.audit.fuzz_support import (
        allowance_pairs,
        allowance_reads,
        check_allowances,
        check_balances,
        read_balances,
    )

    world.rpc.call("anvil_setBalance", [world.diamond, hex(10**18)])  # gas for the diamond
    for sig, args in (
        ("transfer(address,uint256)", [world.stranger, 1]),
        ("approve(address,uint256)", [A.BALANCER_VAULT, 5]),
    ):
        data = selector(sig) + encode(["address", "uint256"], args)
        tx = {"from": world.diamond, "to": A.USDC, "data": "0x" + data.hex(), "gas": hex(10**6)}
        world.w3.eth.wait_for_transaction_receipt(world.rpc.call("eth_sendTransaction", [tx]))
    with pytest.raises(AssertionError, match="fell from"):
        check_balances(world, read_balances(world), {}, "planted loss")
    pairs = allowance_pairs(world, [A.USDC], [])
    replies = world.rpc.batch([("eth_call", [c, "latest"]) for c in allowance_reads(world, pairs)])
    with pytest.raises(AssertionError, match="allowances standing"):
        check_allowances(world, pairs, [int(r["result"], 16) for r in replies], "planted approval")
