"""What every replica venue module gets: the build chain, the data, and a few verbs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_abi import encode
from web3 import Web3
from web3.contract import Contract

from flasharb.chain.artifacts import Artifact, contract
from flasharb.chain.rpc import connect, contract_at, send
from flasharb.replica.spec import ReplicaSpec

# The account that deploys and seeds everything; it keeps the supply not put in pools or the Vault.
BUILDER = Web3.to_checksum_address("0x00000000000000000000000000000000000f1a5B")
BUILDER_ETH = 10**9 * 10**18  # enough to wrap every WETH the data file asks for
TX_GAS = 8_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class BuiltPool:
    """A pool the builder created, as `flasharb replica build --json` reports it."""

    venue: str
    address: str
    tokens: tuple[str, ...]  # addresses, in the pool's own order
    extra: dict[str, Any] = field(default_factory=dict)  # fee, pool_id, weights, ...

    def to_json(self) -> dict[str, Any]:
        return {
            "venue": self.venue,
            "address": self.address,
            "tokens": list(self.tokens),
        } | self.extra


class BuildContext:
    def __init__(self, url: str, spec: ReplicaSpec) -> None:
        self.url = url
        self.spec = spec
        self.w3 = connect(url)

    def tx(self, to: str, data: bytes | str, what: str, value: int = 0) -> Any:
        """Send from the builder (impersonated) and wait; raises on revert."""
        payload = data if isinstance(data, str) else "0x" + data.hex()
        tx = {"from": BUILDER, "to": to, "data": payload, "value": value, "gas": TX_GAS}
        return send(self.w3, tx, what)

    def call(self, c: Contract, fn: str, args: list[Any], what: str, value: int = 0) -> Any:
        return self.tx(c.address, c.encode_abi(fn, args), what, value)

    def at(self, address: str, abi: list[dict[str, Any]]) -> Contract:
        return contract_at(self.w3, address, abi)

    def erc20(self, address: str) -> Contract:
        return contract_at(self.w3, address, contract("ReplicaERC20").abi)

    def token_address(self, symbol: str) -> str:
        return self.spec.token(symbol).address

    def transfer(self, symbol: str, to: str, amount: int) -> None:
        token = self.erc20(self.token_address(symbol))
        self.call(token, "transfer", [to, amount], f"{symbol} transfer")

    def approve(self, symbol: str, spender: str, amount: int) -> None:
        token = self.erc20(self.token_address(symbol))
        self.call(token, "approve", [spender, amount], f"{symbol} approve")


def deploy_code(art: Artifact, types: list[str], args: list[Any]) -> bytes:
    """Creation code with ABI-encoded constructor arguments appended."""
    return art.bytecode + encode(types, args)
