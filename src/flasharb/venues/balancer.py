"""What every Balancer V2 pool venue shares: the Vault.

- Discovery: the Vault's `PoolRegistered(poolId, pool, specialization)` logs; each Balancer venue
  claims the pools its factories created (`isPoolFromFactory`, one batched call) and probes
  them; a pool no venue claims is skipped: flasharb has no math for its factory.
- Sync: the Vault's `Swap`, `PoolBalanceChanged`, `PoolBalanceManaged` (topic 1 is the pool id)
  and the pool's own `SwapFeePercentageChanged`.
- Hop: LibRoute's `KIND_BALANCER (1) | poolId (32) | tokenOut (20)`, swapped through the Vault;
  a cycle of Balancer hops alone is one `batchSwap` (no capital). A Balancer hop cannot run
  inside a Vault flash loan: the Vault's one reentrancy guard covers `flashLoan` and `swap`
  (BAL#400), so such a route borrows elsewhere (`locks`).
- Lending: the Vault lends every token it holds (all Balancer pools' tokens) at the flash fee its
  ProtocolFeesCollector sets (0 on mainnet today).

ref: balancer-v2-monorepo pkg/vault/contracts/PoolRegistry.sol, Swaps.sol, FlashLoans.sol,
pkg/pool-utils/contracts/factories/BasePoolFactory.sol `isPoolFromFactory`
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector as selector

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.chain import addresses as A
from flasharb.errors import FlasharbValueError
from flasharb.kinds import HopKind, SourceKind
from flasharb.search.capital import FlashSource, Lender
from flasharb.search.cycles import Hop
from flasharb.state._rpc import RawLog, block_param, request
from flasharb.state.discovery import multicall
from flasharb.state.events import topic
from flasharb.state.registry import PoolInfo, PoolRegistry
from flasharb.state.venue import Scan, Watch
from flasharb.venues.base import BaseVenue, address_word, balance_read, uint_of, word_address

__all__ = [
    "FLASH_FEE_CHANGED",
    "POOL_REGISTERED",
    "SWAP_FEE_CHANGED",
    "VAULT_TOPICS",
    "BalancerVenue",
    "pool_tokens",
]

POOL_REGISTERED = topic("PoolRegistered(bytes32,address,uint8)")
VAULT_TOPICS = (
    topic("Swap(bytes32,address,address,uint256,uint256)"),
    topic("PoolBalanceChanged(bytes32,address,address[],int256[],uint256[])"),
    topic("PoolBalanceManaged(bytes32,address,address,int256,int256)"),
)
SWAP_FEE_CHANGED = topic("SwapFeePercentageChanged(uint256)")  # emitted by the pool itself
# Not a pool's state: the Vault's flash-loan fee (a lender's price), set in its fees collector.
FLASH_FEE_CHANGED = topic("FlashLoanFeePercentageChanged(uint256)")
IS_POOL_FROM_FACTORY = selector("isPoolFromFactory(address)")
GET_POOL_TOKENS = selector("getPoolTokens(bytes32)")
GET_SWAP_FEE = selector("getSwapFeePercentage()")
_FLASH_FEE = selector("getFlashLoanFeePercentage()")
_FLASH_FEE_READ = (A.BALANCER_PROTOCOL_FEES_COLLECTOR, _FLASH_FEE)
ONE_18 = 10**18


def pool_tokens(raw: bytes) -> list[str] | None:
    """The tokens of a `Vault.getPoolTokens` answer (None: it reverted)."""
    if len(raw) < 96:
        return None
    tokens, _balances, _block = decode(["address[]", "uint256[]", "uint256"], raw)
    return [checksum_address(t) for t in tokens]


@dataclass(frozen=True, slots=True, kw_only=True)
class BalancerVenue(BaseVenue):
    """The pools of some Balancer V2 factories, registered in the Vault (module doc)."""

    factories: tuple[str, ...]

    hop_kind: ClassVar[HopKind | None] = HopKind.BALANCER
    gas_per_hop: ClassVar[int] = 65_224  # approve, Vault.swap (the Vault warm), allowance check
    hop_bytes: ClassVar[int] = 53
    locks: ClassVar[frozenset[SourceKind]] = frozenset({SourceKind.BALANCER_V2})
    batch: ClassVar[bool] = True
    vault: ClassVar[str] = A.BALANCER_VAULT

    def __post_init__(self) -> None:
        object.__setattr__(self, "factories", tuple(checksum_address(f) for f in self.factories))

    # ------------------------------------------------------------ discovery

    def creation(self) -> tuple[tuple[str, ...], tuple[bytes, ...]]:
        return (self.vault,), (POOL_REGISTERED,)

    def created(self, scan: Scan, registry: PoolRegistry, logs: Sequence[RawLog]) -> list[PoolInfo]:
        found = [
            (log.topics[1], word_address(log.topics[2]))
            for log in logs
            if log.topics[0] == POOL_REGISTERED and len(log.topics) == 3
        ]
        if not found:
            return []
        probes = [
            (factory, IS_POOL_FROM_FACTORY + encode(["address"], [pool]))
            for _, pool in found
            for factory in self.factories
        ]
        answers = multicall(scan.w3, probes, scan.block)
        k, mine = len(self.factories), []
        for n, (pool_id, pool) in enumerate(found):
            if any(uint_of(a) == 1 for a in answers[n * k : (n + 1) * k]):
                mine.append((pool_id, pool))
            elif pool not in registry:
                registry.skip(
                    pool,
                    f"Balancer pool {pool}: not created by a factory flasharb has math for "
                    "(Balancer weighted 20210418 / 20230206, ComposableStable 20230206)",
                )
        return self.probe(scan, registry, mine) if mine else []

    def probe(
        self, scan: Scan, registry: PoolRegistry, pools: Sequence[tuple[bytes, str]]
    ) -> list[PoolInfo]:
        """PoolInfos of the (pool id, pool) its factories created (decimals still to read)."""
        raise NotImplementedError

    def identify(self, scan: Scan, uid: str) -> RawLog | None:
        def call(to: str, data: bytes) -> bytes:
            try:
                params = [{"to": to, "data": "0x" + data.hex()}, block_param(scan.block)]
                out = request(scan.w3, "eth_call", params, "probe")
            except Exception:  # noqa: BLE001 - a revert means "not this kind of pool"
                return b""
            return bytes.fromhex(str(out).removeprefix("0x"))

        raw = call(uid, selector("getPoolId()"))
        if len(raw) < 32:
            return None
        pool_id = raw[:32]
        got = call(self.vault, selector("getPool(bytes32)") + pool_id)
        if len(got) < 64 or decode(["address", "uint8"], got[:64])[0].lower() != uid.lower():
            return None
        return RawLog(
            address=self.vault,
            topics=(POOL_REGISTERED, pool_id, address_word(uid)),
            data=bytes(32),
            block=scan.block,
            index=0,
        )

    # ------------------------------------------------------------ sync

    def watches(self) -> tuple[Watch, ...]:
        return (*(Watch(t, self.vault) for t in VAULT_TOPICS), Watch(SWAP_FEE_CHANGED))

    # ------------------------------------------------------------ search

    def fee_pips(self, state: PoolState) -> int:
        fee: int = getattr(state, "swap_fee")  # noqa: B009 - every Balancer state has one
        return fee // 10**12  # 18-decimal fixed point to pips, floored

    def _hop_fields(self, state: PoolState) -> tuple[bytes, int]:
        pool_id: bytes = getattr(state, "pool_id")  # noqa: B009 - every Balancer state has one
        return pool_id, 0

    def encode_hop(self, hop: Hop) -> bytes:
        if len(hop.pool_id) != 32:
            raise FlasharbValueError(f"Balancer hop via {hop.pool}: no 32-byte pool id")
        return b"\x02" + hop.pool_id + bytes.fromhex(hop.token_out[2:])

    def refreshed(self, info: PoolInfo, state: PoolState) -> PoolInfo | None:
        """A pool's owner may change its fee: keep the registry's copy current."""
        from dataclasses import replace

        fee: int = getattr(state, "swap_fee")  # noqa: B009
        return replace(info, fee=fee) if fee != info.fee else None

    # ------------------------------------------------------------ lending

    def lender_reads(
        self, states: Sequence[PoolState], tokens: frozenset[str]
    ) -> Iterable[tuple[str, bytes]]:
        """The Vault's balance of every borrowable token, and its flash fee."""
        yield _FLASH_FEE_READ
        for token in sorted(tokens):
            yield balance_read(token, self.vault)

    def lenders(
        self,
        states: Sequence[PoolState],
        tokens: frozenset[str],
        reads: Mapping[tuple[str, bytes], bytes],
    ) -> Iterable[tuple[str, tuple[object, ...], Lender]]:
        fee = uint_of(reads.get(_FLASH_FEE_READ))
        if fee > ONE_18:
            return
        for token in sorted(tokens):
            held = uint_of(reads.get(balance_read(token, self.vault)))
            if held > 0:
                src = FlashSource.balancer(fee)
                yield token, (0, 0, -held, ""), Lender(source=src, capacity=held)

    def lender_logs(self) -> tuple[tuple[str, ...], tuple[bytes, ...]]:
        return (self.vault, A.BALANCER_PROTOCOL_FEES_COLLECTOR), (FLASH_FEE_CHANGED,)
