"""One scan: every pool of every venue at a block, the cycle index, exact sizing, a capital
source per route, and a ranking net of flash fee and gas; the body of `flasharb scan`.

1. Discovery (`state.discovery.discover`): V2-style factories, the Uniswap V3 factory and the
   Balancer Vault, at the block.
2. One batched read of every pool's state (`state.reader.read_states`); pools that fail to read
   are left out and named in `ScanResult.failed`.
3. `CycleIndex` of 2..`max_hops` hops from the tokens the lenders hold (`FLASH_TOKENS`).
4. `rank`: float screen, exact sizing (closed form for constant-product routes, exact integer
   search for V3 and Balancer hops), and per route `flash_source.fund` with the lenders read
   at the block (Vault balances and flash fee, V3 pools' balances, V2 reserves): the cheapest
   source the BAL#400 rule allows, its fee, and the input re-sized for that fee.
5. Net = gross - flash fee - gas estimate x (base fee of the block + priority fee), the gas
   bill converted into the profit token at its deepest WETH pool's price; `select_disjoint`
   picks the pool-disjoint set with the largest total net profit in ETH.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector as selector
from web3 import Web3

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import V2PairState
from flasharb.amm.uniswap_v3 import V3PoolState
from flasharb.chain import addresses as A
from flasharb.errors import FlasharbValueError
from flasharb.search.cycles import MAX_HOPS, MIN_HOPS, CycleIndex
from flasharb.search.flash_source import Funded, Lenders, fund
from flasharb.search.gas import GasModel
from flasharb.search.rank import Opportunity, rank, select_disjoint
from flasharb.search.sizing import SizedCycle
from flasharb.state._rpc import block_param, request, resolve_block
from flasharb.state.discovery import discover
from flasharb.state.reader import read_states
from flasharb.state.registry import PoolInfo

__all__ = ["DEFAULT_PRIORITY_FEE_WEI", "ScanResult", "read_lenders", "scan"]

DEFAULT_PRIORITY_FEE_WEI = 100_000_000  # 0.1 gwei tip on top of the block's base fee

_BALANCE_OF = selector("balanceOf(address)")
_FEES_COLLECTOR = selector("getProtocolFeesCollector()")
_FLASH_FEE_PCT = selector("getFlashLoanFeePercentage()")


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanResult:
    """What one scan saw and found. `opportunities`: every route that nets a profit, best
    first by net profit in ETH; `selected`: the pool-disjoint subset with the largest total."""

    block: int
    base_fee_wei: int
    gas_price_wei: int
    max_hops: int
    pools: list[PoolInfo]  # every pool read, with its venue
    states: dict[str, PoolState]  # pool address -> exact state at `block`
    failed: dict[str, str] = field(default_factory=dict)  # pool -> why it could not be read
    lenders: Lenders = field(default_factory=Lenders)
    cycles: int
    opportunities: list[Opportunity]
    selected: list[Opportunity]

    def to_json(self) -> dict[str, Any]:
        """DESIGN.md section 5: `{"block", "opportunities": [...]}`, plus the scan's figures;
        each opportunity also says whether it is in the disjoint selection."""
        chosen = {id(o) for o in self.selected}
        return {
            "block": self.block,
            "base_fee_wei": str(self.base_fee_wei),
            "gas_price_wei": str(self.gas_price_wei),
            "max_hops": self.max_hops,
            "pools": len(self.pools),
            "unreadable_pools": dict(self.failed),
            "cycles": self.cycles,
            "opportunities": [
                {**o.to_json(), "selected": id(o) in chosen} for o in self.opportunities
            ],
        }


def _call_uint(w3: Web3, to: str, data: bytes, block: int, what: str) -> int:
    raw = bytes.fromhex(
        str(
            request(
                w3, "eth_call", [{"to": to, "data": "0x" + data.hex()}, block_param(block)], what
            )
        )[2:]
    )
    return int.from_bytes(raw[:32], "big") if len(raw) >= 32 else 0


def _balances(w3: Web3, pairs: Sequence[tuple[str, str]], block: int) -> list[int]:
    """balanceOf for each (token, holder), in one JSON-RPC batch."""
    if not pairs:
        return []
    with w3.batch_requests() as batch:
        for token, holder in pairs:
            data = "0x" + (_BALANCE_OF + encode(["address"], [holder])).hex()
            batch.add(w3.eth.call({"to": token, "data": data}, block))  # type: ignore[typeddict-item]
        answers: list[Any] = list(batch.execute())
    out = []
    for answer in answers:
        raw = bytes(answer)
        out.append(int.from_bytes(raw[:32], "big") if len(raw) >= 32 else 0)
    return out


def read_lenders(
    w3: Web3, states: Mapping[str, PoolState], tokens: Sequence[str], block: int
) -> Lenders:
    """What can lend each of `tokens` at `block`: the Balancer Vault (balance and flash fee),
    every V3 pool of the token (its balance) and every V2-style pair (its reserve)."""
    vault = A.BALANCER_VAULT
    fee_pct = 0
    if w3.eth.get_code(vault, block):
        collector = _call_uint(w3, vault, _FEES_COLLECTOR, block, "Vault.getProtocolFeesCollector")
        if collector:
            fee_pct = _call_uint(
                w3,
                Web3.to_checksum_address(f"0x{collector:040x}"),
                _FLASH_FEE_PCT,
                block,
                "ProtocolFeesCollector.getFlashLoanFeePercentage",
            )
    wanted = set(tokens)
    v3: list[tuple[str, V3PoolState]] = []
    for state in states.values():
        if isinstance(state, V3PoolState):
            v3.extend((t, state) for t in state.tokens if t in wanted)
    queries = [(t, vault) for t in tokens] + [(t, s.address) for t, s in v3]
    held = _balances(w3, queries, block)
    vault_balances = dict(zip(tokens, held[: len(tokens)], strict=True))
    v3_pools: dict[str, list[tuple[str, int, int]]] = {}
    for (token, pool), balance in zip(v3, held[len(tokens) :], strict=True):
        v3_pools.setdefault(token, []).append((pool.address, pool.fee, balance))
    v2_pairs: dict[str, list[tuple[str, int, int]]] = {}
    for pair in states.values():
        if isinstance(pair, V2PairState):
            for token in (pair.token0, pair.token1):
                if token in wanted:
                    reserve = pair.reserves_for(token)[0]
                    v2_pairs.setdefault(token, []).append((pair.address, pair.fee_pips, reserve))
    return Lenders(
        vault_balances=vault_balances,
        vault_fee_percentage=fee_pct,
        v3_pools=v3_pools,
        v2_pairs=v2_pairs,
    )


def scan(
    w3: Web3,
    *,
    max_hops: int = 3,
    priority_fee_wei: int = DEFAULT_PRIORITY_FEE_WEI,
    gas_model: GasModel | None = None,
    block: int | None = None,
    min_net_profit_eth: int = 0,
) -> ScanResult:
    """Ranked opportunities at `block` (default: the head), net of flash fee and gas.

    Raises:
        FlasharbValueError: `max_hops` outside 2..4 or a negative priority fee.
    """
    if not MIN_HOPS <= max_hops <= MAX_HOPS:
        raise FlasharbValueError(f"max_hops must be in {MIN_HOPS}..{MAX_HOPS}, got {max_hops}")
    if priority_fee_wei < 0:
        raise FlasharbValueError(f"priority fee must be >= 0 wei, got {priority_fee_wei}")
    number = resolve_block(w3, block)
    header = w3.eth.get_block(number)
    base_fee = int(header.get("baseFeePerGas", 0))
    gas_price = base_fee + priority_fee_wei
    registry = discover(w3, block=number)
    read = read_states(w3, list(registry), block=number)
    states: dict[str, PoolState] = dict(read.states)
    pools = [info for info in registry if info.address in states]
    index = CycleIndex.build(states.values(), A.FLASH_TOKENS, max_hops=max_hops)
    starts = [index.graph.tokens[t] for t in index.graph.token_ids(A.FLASH_TOKENS)]
    lenders = read_lenders(w3, states, starts, number)

    def funding(sized: SizedCycle) -> Funded | None:
        return fund(sized, states, lenders, vault=A.BALANCER_VAULT)

    ranked = rank(
        index,
        states,
        weth=A.WETH,
        gas_price_wei=gas_price,
        gas_model=gas_model or GasModel(),
        min_net_profit_eth=min_net_profit_eth,
        funding=funding,
    )
    return ScanResult(
        block=number,
        base_fee_wei=base_fee,
        gas_price_wei=gas_price,
        max_hops=max_hops,
        pools=pools,
        states=states,
        failed=dict(read.failed),
        lenders=lenders,
        cycles=len(index),
        opportunities=ranked,
        selected=select_disjoint(ranked),
    )
