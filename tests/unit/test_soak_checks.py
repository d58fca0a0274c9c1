"""bench/soak.py's reconciliation (issue 17, item 5) on hand-made receipts: a trade whose block
holds other transactions (anvil mined two of the executors' sends together) reconciles against
the block's balance change less what the others moved, and the check still fails when the
journal, the logs or the state disagree."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from eth_utils import to_checksum_address

from flasharb.chain import addresses as A

CHILD = to_checksum_address("0x" + "c1" * 20)
SIBLING = to_checksum_address("0x" + "c2" * 20)
PAIR = to_checksum_address("0x" + "ab" * 20)
MINER = to_checksum_address("0x" + "99" * 20)
BLOCK = 100


def _soak() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "bench" / "soak.py"
    spec = importlib.util.spec_from_file_location("soak_bench", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


soak = _soak()


def _topic(address: str) -> str:
    return "0x" + "00" * 12 + address[2:].lower()


def _transfer(src: str, dst: str, amount: int) -> dict[str, Any]:
    return {
        "address": A.WETH,
        "topics": [soak.TRANSFER, _topic(src), _topic(dst)],
        "data": "0x" + amount.to_bytes(32, "big").hex(),
    }


def _receipt(index: int, to: str, logs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "status": "0x1",
        "gasUsed": hex(150_000),
        "effectiveGasPrice": hex(10**9),
        "blockNumber": hex(BLOCK),
        "transactionIndex": hex(index),
        "to": to,
        "logs": logs,
    }


def _row(tx: str, index: int, child: str, realized: int) -> dict[str, Any]:
    return {
        "tx_hash": tx,
        "status": "executed",
        "gas_used": 150_000,
        "effective_gas_price": 10**9,
        "gas_cost_wei": 150_000 * 10**9,
        "block": BLOCK,
        "tx_index": index,
        "child": child,
        "profit_token": A.WETH,
        "realized_profit": str(realized),
        "bribe": "0",
    }


class _Journal:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self._rows = rows

    def rows(self, sql: str, args: Any = ()) -> list[dict[str, Any]]:
        return self._rows


def _reconcile(
    monkeypatch: pytest.MonkeyPatch,
    rows: list[dict[str, Any]],
    receipts: dict[str, dict[str, Any]],
    order: list[str],
    around: dict[str, int],
) -> dict[str, Any]:
    """Run soak.reconcile over one block holding `order`'s transactions."""
    executors = {to_checksum_address("0x" + "e1" * 20)}

    def fetch(w3: Any, method: str, params: list[list[Any]]) -> list[Any]:
        if method == "eth_getTransactionReceipt":
            return [receipts[p[0]] for p in params]
        assert method == "eth_getBlockByNumber"
        full = params[0][1]
        sender = {r["tx_hash"]: next(iter(executors)) for r in rows}  # the rest: a stranger
        txs = [{"hash": h, "from": sender.get(h, MINER)} for h in order] if full else order
        return [{"transactions": txs, "miner": MINER} for _ in params]

    monkeypatch.setattr(soak, "fetch", fetch)
    got: dict[str, Any] = soak.reconcile(None, _Journal(rows), 1, executors, BLOCK, BLOCK, around)
    return got


class TestSharedBlock:
    """Two trades in one block: the child's own, then a sibling's (which moves nothing of the
    child's) and a transfer into the child that no journal row explains by itself."""

    def receipts(self, profit: int) -> dict[str, dict[str, Any]]:
        return {
            "0xa": _receipt(0, CHILD, [_transfer(PAIR, CHILD, profit)]),
            "0xb": _receipt(1, SIBLING, [_transfer(PAIR, SIBLING, 7)]),
            "0xc": _receipt(2, A.WETH, [_transfer(MINER, CHILD, 1_000)]),  # not journaled
        }

    def run(self, monkeypatch: pytest.MonkeyPatch, realized: int, around: int) -> dict[str, Any]:
        """The block of `receipts(500)`, the child's row journaling `realized` and its balance
        moving by `around` across the block."""
        rows = [_row("0xa", 0, CHILD, realized), _row("0xb", 1, SIBLING, 7)]
        order = ["0xa", "0xb", "0xc"]
        return _reconcile(
            monkeypatch, rows, self.receipts(500), order, around={"0xa": around, "0xb": 7}
        )

    def test_trade_sharing_its_block_reconciles(self, monkeypatch: pytest.MonkeyPatch) -> None:
        got = self.run(monkeypatch, 500, 1_500)
        assert got["mismatches"] == []
        assert got["shared_blocks"] == 1
        assert got["unjournaled"] == [] and got["executor_transactions"] == 2

    def test_wrong_realized_profit_is_a_mismatch(self, monkeypatch: pytest.MonkeyPatch) -> None:
        got = self.run(monkeypatch, 499, 1_500)
        assert sorted(got["mismatches"]) == [
            "0xa: realized=balance change less the block's other txs",
            "0xa: realized=logs",
        ]

    def test_balance_change_the_logs_do_not_explain_is_a_mismatch(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        got = self.run(monkeypatch, 500, 1_501)  # one wei more than the block's logs move
        assert got["mismatches"] == ["0xa: realized=balance change less the block's other txs"]

    def test_balance_not_read_is_a_mismatch(self, monkeypatch: pytest.MonkeyPatch) -> None:
        rows = [_row("0xa", 0, CHILD, 500)]
        receipts = {"0xa": _receipt(0, CHILD, [_transfer(PAIR, CHILD, 500)])}
        got = _reconcile(monkeypatch, rows, receipts, ["0xa"], around={})
        assert got["mismatches"] == ["0xa: realized=balance change less the block's other txs"]
        assert got["shared_blocks"] == 0
