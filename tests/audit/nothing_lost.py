"""The "nothing lost" guard of the audit suite: everything an attack could take or corrupt,
read before and after, compared to the wei and to the bit.

What it reads (one batched JSON-RPC request per snapshot):
- ETH of the diamond and the owner, and their balance of every replica token (from pool
  discovery, so a new token is covered) and every extra (zoo) token the test names;
- the diamond's allowance of each of those tokens to the Balancer Vault, the Uniswap V3 routers,
  every pool holding it, and every extra spender the test names;
- the diamond's storage, raw, at the locations the contracts declare: LibDiamond's diamond-1
  slot (selector list, the routing entry of every known selector, ERC-165 flags, the ERC-173
  owner), GuardStorage's and TreasuryStorage's ERC-7201 slots (pause word, executor flags of
  every known account, the cap and the minimum profit of every token, the beneficiary list), and
  slots 0-7 (no facet declares state: a write there is a layout bug).

On exit, besides comparing snapshots (the owner's gas is added back), every transaction mined
inside the guard is traced with the prestate tracer in diff mode: the diamond must not appear
in any post-state, which catches a storage write at a slot nobody thought to list.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from web3 import Web3

from flasharb.chain import addresses as A

DIAMOND_SLOT = int.from_bytes(keccak(b"diamond.standard.diamond.storage"), "big")
GUARD_SLOT = 0x8DE6BFFECF11402B770A82FA0D00899985BB12D5FB80E28DEF8457865D4F0B00
TREASURY_SLOT = 0xC9CCD12C12C218B0FDD4CDEE161DAE1A6EA5EA9975B77C927B8180F86FACB600
INTERFACE_IDS = ("01ffc9a7", "1f931c1c", "48e2b093", "7f5828d0", "f04f2707", "ffffffff")
BENEFICIARY_SLOTS = 4  # read this many list entries past the length too: a stray push shows
LOW_SLOTS = 8  # slots 0..7 of the diamond itself

_BALANCE_OF = function_signature_to_4byte_selector("balanceOf(address)")
_ALLOWANCE = function_signature_to_4byte_selector("allowance(address,address)")


def erc7201(namespace: str) -> int:
    """keccak256(abi.encode(uint256(keccak256(namespace)) - 1)) & ~0xff (ERC-7201)."""
    inner = int.from_bytes(keccak(namespace.encode()), "big") - 1
    return int.from_bytes(keccak(inner.to_bytes(32, "big")), "big") & ~0xFF


def mapping_slot(key: bytes, slot: int) -> int:
    """Solidity's slot of mapping[key] for a mapping at `slot` (key already padded to 32)."""
    return int.from_bytes(keccak(key + slot.to_bytes(32, "big")), "big")


def address_key(a: str) -> bytes:
    return encode(["address"], [a])


def bytes4_key(sel: bytes) -> bytes:
    return sel.ljust(32, b"\x00")  # fixed-size bytes are left-aligned


def array_data(slot: int) -> int:
    return int.from_bytes(keccak(slot.to_bytes(32, "big")), "big")


@dataclass(frozen=True, slots=True, kw_only=True)
class Watch:
    """What one guard watches."""

    diamond: str
    owner: str
    tokens: tuple[str, ...]
    spenders: dict[str, tuple[str, ...]]  # token -> spenders whose allowance is read
    accounts: tuple[str, ...]  # executor flags read for these
    selectors: tuple[bytes, ...]  # routing entries read for these


@dataclass(slots=True)
class Snapshot:
    values: dict[str, int] = field(default_factory=dict)


def _batch(w3: Web3, calls: list[tuple[str, list[Any]]]) -> list[Any]:
    responses = w3.provider.make_batch_request(calls)  # type: ignore[attr-defined]
    if isinstance(responses, dict):  # the node refused the whole batch
        raise AssertionError(f"batch request failed: {responses}")
    out = []
    for (method, params), resp in zip(calls, responses, strict=True):
        if "error" in resp:
            raise AssertionError(f"{method}{params} failed: {resp['error']}")
        out.append(resp["result"])
    return out


def storage_slots(w: Watch) -> dict[str, int]:
    """Name -> slot of every diamond storage word the guard reads (selector list sized below)."""
    slots: dict[str, int] = {f"slot[{i}]": i for i in range(LOW_SLOTS)}
    ds = DIAMOND_SLOT
    slots["ds.owner"] = ds + 3
    slots["ds.selectors.length"] = ds + 1
    for sel in w.selectors:
        slots[f"ds.route[{sel.hex()}]"] = mapping_slot(bytes4_key(sel), ds)
    for iface in INTERFACE_IDS:
        slots[f"ds.erc165[{iface}]"] = mapping_slot(bytes4_key(bytes.fromhex(iface)), ds + 2)
    slots["guard.paused|capCount|maxBribeBps|minProfitCount"] = GUARD_SLOT
    for a in w.accounts:
        slots[f"guard.executors[{a}]"] = mapping_slot(address_key(a), GUARD_SLOT + 1)
    for t in w.tokens:
        slots[f"guard.caps[{t}]"] = mapping_slot(address_key(t), GUARD_SLOT + 2)
        slots[f"guard.minProfits[{t}]"] = mapping_slot(address_key(t), GUARD_SLOT + 3)
    slots["treasury.beneficiaries.length"] = TREASURY_SLOT
    for i in range(BENEFICIARY_SLOTS):
        slots[f"treasury.beneficiaries[{i}]"] = array_data(TREASURY_SLOT) + i
    return slots


def take(w3: Web3, w: Watch) -> Snapshot:
    """One batched read of everything `w` watches."""
    calls: list[tuple[str, list[Any]]] = []
    names: list[str] = []
    for who, label in ((w.diamond, "diamond"), (w.owner, "owner")):
        calls.append(("eth_getBalance", [who, "latest"]))
        names.append(f"{label}.ETH")
        for t in w.tokens:
            data = "0x" + (_BALANCE_OF + address_key(who)).hex()
            calls.append(("eth_call", [{"to": t, "data": data}, "latest"]))
            names.append(f"{label}.balance[{t}]")
    for t in w.tokens:
        for s in w.spenders.get(t, ()):
            data = "0x" + (_ALLOWANCE + address_key(w.diamond) + address_key(s)).hex()
            calls.append(("eth_call", [{"to": t, "data": data}, "latest"]))
            names.append(f"diamond.allowance[{t}][{s}]")
    slots = storage_slots(w)
    for name, slot in slots.items():
        calls.append(("eth_getStorageAt", [w.diamond, hex(slot), "latest"]))
        names.append(f"storage.{name}")
    # the selector list itself: 8 selectors per word
    length_index = names.index("storage.ds.selectors.length")
    results = _batch(w3, calls)
    values = {
        n: int(r, 16) if r not in ("0x", None) else 0 for n, r in zip(names, results, strict=True)
    }
    length = values[names[length_index]]
    words = [array_data(DIAMOND_SLOT + 1) + i for i in range((length + 7) // 8 + 1)]
    extra = _batch(w3, [("eth_getStorageAt", [w.diamond, hex(s), "latest"]) for s in words])
    for i, r in enumerate(extra):
        values[f"storage.ds.selectors.word[{i}]"] = int(r, 16)
    return Snapshot(values=values)


def _gas_paid(w3: Web3, sender: str, first_block: int) -> int:
    paid = 0
    for n in range(first_block, w3.eth.block_number + 1):
        block = w3.eth.get_block(n, full_transactions=True)
        for tx in cast(list[Any], block["transactions"]):
            if to_checksum_address(tx["from"]) == to_checksum_address(sender):
                r = w3.eth.get_transaction_receipt(tx["hash"])
                paid += r["gasUsed"] * r["effectiveGasPrice"]
    return paid


def diamond_writes(w3: Web3, diamond: str, first_block: int) -> list[str]:
    """Transactions mined since `first_block` whose post-state touches the diamond (prestate
    tracer, diff mode): any storage word or balance change, wherever the slot. A reverted one
    is not traced: the EVM rolled back all it did (and the state it would replay on may be
    gone: after an evm_revert the session fork, `--prune-history 256`, has dropped the state
    of the block reverted to once enough states followed it; "Resource not found")."""
    hits = []
    for n in range(first_block, w3.eth.block_number + 1):
        for h in w3.eth.get_block(n)["transactions"]:
            tx_hash = h.hex() if isinstance(h, bytes) else str(h)
            if not tx_hash.startswith("0x"):
                tx_hash = "0x" + tx_hash
            if w3.eth.get_transaction_receipt(tx_hash)["status"] == 0:  # type: ignore[arg-type]
                continue  # reverted: it changed no state but its sender's nonce and gas
            resp = w3.provider.make_request(
                "debug_traceTransaction",  # type: ignore[arg-type]
                [tx_hash, {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}],
            )
            if "result" not in resp:  # say why (a KeyError said nothing)
                raise AssertionError(
                    f"debug_traceTransaction {tx_hash} (block {n}) failed: {resp.get('error')}"
                )
            post = resp["result"]["post"]
            for addr, state in post.items():
                if to_checksum_address(addr) == diamond and (
                    state.get("storage") or "balance" in state or "code" in state
                ):
                    hits.append(f"{tx_hash}: {state}")
    return hits


class NothingLost:
    """Builds Watches for one deployment; `guard(...)` is the context manager."""

    def __init__(
        self,
        w3: Web3,
        diamond: str,
        owner: str,
        replica_tokens: Sequence[str],
        pools_by_token: dict[str, tuple[str, ...]],
        accounts: Sequence[str],
        selectors: Sequence[bytes],
    ) -> None:
        self.w3 = w3
        self.diamond = to_checksum_address(diamond)
        self.owner = to_checksum_address(owner)
        self.replica_tokens = tuple(replica_tokens)
        self.pools_by_token = pools_by_token
        self.accounts = tuple(accounts)
        self.selectors = tuple(selectors)

    def watch(
        self,
        tokens: Iterable[str] = (),
        spenders: Iterable[str] = (),
        accounts: Iterable[str] = (),
        selectors: Iterable[bytes] = (),
    ) -> Watch:
        extra_tokens = tuple(to_checksum_address(t) for t in tokens)
        all_tokens = self.replica_tokens + tuple(
            t for t in extra_tokens if t not in self.replica_tokens
        )
        common = (A.BALANCER_VAULT, A.UNISWAP_V3_SWAP_ROUTER, A.UNISWAP_V3_POSITION_MANAGER)
        extra_spenders = tuple(to_checksum_address(s) for s in spenders)
        allowance_to = {
            t: common + self.pools_by_token.get(t, ()) + extra_spenders for t in all_tokens
        }
        return Watch(
            diamond=self.diamond,
            owner=self.owner,
            tokens=all_tokens,
            spenders=allowance_to,
            accounts=self.accounts + tuple(to_checksum_address(a) for a in accounts),
            selectors=self.selectors + tuple(selectors),
        )

    @contextmanager
    def guard(self, **watch: Any) -> Iterator[Watch]:
        """Assert on exit that nothing the Watch covers changed (owner's gas excepted)."""
        w = self.watch(**watch)
        before = take(self.w3, w)
        first = self.w3.eth.block_number + 1
        yield w
        after = take(self.w3, w)
        after.values["owner.ETH"] += _gas_paid(self.w3, self.owner, first)
        changed = {
            k: (before.values.get(k), after.values.get(k))
            for k in before.values.keys() | after.values.keys()
            if before.values.get(k) != after.values.get(k)
        }
        assert not changed, f"the attack changed {len(changed)} watched values: {changed}"
        writes = diamond_writes(self.w3, self.diamond, first)
        assert not writes, f"a transaction wrote to the diamond: {writes}"
