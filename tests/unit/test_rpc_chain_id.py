"""A lab connection asks the node for its chain id once: web3's validation middleware asks for
it before every `w3.eth.call` / estimate / send otherwise (a round trip each, 35 per block in a
soak). Other requests are never answered from a cache."""

from __future__ import annotations

import json

import pytest
from web3 import Web3

from flasharb.chain.rpc import LabHTTPProvider


def test_chain_id_is_asked_once_and_nothing_else_is_cached(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []
    head = iter(range(100, 200))

    def node(self: LabHTTPProvider, method: str, data: bytes) -> bytes:
        asked.append(method)
        request = json.loads(data)
        result = "0x1" if method == "eth_chainId" else hex(next(head))
        return json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": result}).encode()

    monkeypatch.setattr(LabHTTPProvider, "_make_request", node)
    w3 = Web3(LabHTTPProvider("http://127.0.0.1:9", 1.0))  # nothing listens: the fake answers
    assert w3.eth.chain_id == 1 and w3.eth.chain_id == 1
    target = {"to": "0x" + "11" * 20, "data": "0x"}
    w3.eth.call(target)  # type: ignore[arg-type]
    w3.eth.call(target)  # type: ignore[arg-type]
    assert [w3.eth.block_number, w3.eth.block_number] == [102, 103]
    assert asked == ["eth_chainId", "eth_call", "eth_call", "eth_blockNumber", "eth_blockNumber"]
