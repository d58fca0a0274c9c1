"""Uniswap-V2-style pools: discovery from the factories and batched reserve reads.

Both go through `V2PoolReader`, whose runtime code is passed as an eth_call state override at
an address nobody uses, so nothing is deployed and the same code works on a fork of real
mainnet. One call returns hundreds of pools; larger sets are chunked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from eth_abi import decode, encode
from eth_typing import HexStr
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from web3 import Web3

from flasharb.amm.uniswap_v2 import V2PairState
from flasharb.chain.addresses import V2_FACTORIES
from flasharb.chain.artifacts import contract
from flasharb.errors import FlasharbRuntimeError

READER_ADDRESS = to_checksum_address("0x00000000000000000000000000000000F1a5bEEF")
CHUNK = 500  # pools per eth_call; well under the default 30M call gas at ~7k gas per pool
FEE_PIPS = {"uniswap_v2": 3000, "sushiswap": 3000}  # 0.30% on both venues

_PAIRS_OF = function_signature_to_4byte_selector("pairsOf(address,uint256,uint256)")
_LENGTH = function_signature_to_4byte_selector("allPairsLength(address)")
_RESERVES = function_signature_to_4byte_selector("reservesOf(address[])")


def _call(w3: Web3, data: bytes, block: int | str = "latest") -> bytes:
    code = HexStr("0x" + contract("V2PoolReader").deployed_bytecode.hex())
    try:
        out = w3.eth.call(
            {"to": READER_ADDRESS, "data": "0x" + data.hex()},  # type: ignore[typeddict-item]
            block,  # type: ignore[arg-type]
            {READER_ADDRESS: {"code": code}},
        )
    except Exception as exc:  # a reader revert means a factory/pair is not what we think
        raise FlasharbRuntimeError(f"batched pool read failed: {exc}") from exc
    return bytes(out)


def discover_pairs(
    w3: Web3, factories: dict[str, str] | None = None, block: int | str = "latest"
) -> list[V2PairState]:
    """Every pair of every factory (venue -> factory address), with tokens and reserves."""
    pools: list[V2PairState] = []
    for venue, factory in (factories or V2_FACTORIES).items():
        if not w3.eth.get_code(factory, block):  # type: ignore[arg-type]
            continue  # this venue does not exist on this chain
        (n,) = decode(["uint256"], _call(w3, _LENGTH + encode(["address"], [factory]), block))
        for start in range(0, n, CHUNK):
            raw = _call(
                w3,
                _PAIRS_OF
                + encode(["address", "uint256", "uint256"], [factory, start, start + CHUNK]),
                block,
            )
            (rows,) = decode(["(address,address,address,uint112,uint112)[]"], raw)
            pools.extend(
                V2PairState(
                    address=to_checksum_address(pair),
                    token0=to_checksum_address(t0),
                    token1=to_checksum_address(t1),
                    reserve0=r0,
                    reserve1=r1,
                    fee_pips=FEE_PIPS.get(venue, 3000),
                    venue=venue,
                )
                for pair, t0, t1, r0, r1 in rows
            )
    return pools


def refresh_reserves(
    w3: Web3, pools: Sequence[V2PairState], block: int | str = "latest"
) -> list[V2PairState]:
    """The same pools with reserves read at `block`, in one eth_call per CHUNK pools."""
    out: list[V2PairState] = []
    for start in range(0, len(pools), CHUNK):
        chunk = pools[start : start + CHUNK]
        raw = _call(w3, _RESERVES + encode(["address[]"], [[p.address for p in chunk]]), block)
        r0s, r1s, _ts = decode(["uint112[]", "uint112[]", "uint32[]"], raw)
        out.extend(
            V2PairState(
                address=p.address,
                token0=p.token0,
                token1=p.token1,
                reserve0=r0,
                reserve1=r1,
                fee_pips=p.fee_pips,
                venue=p.venue,
            )
            for p, r0, r1 in zip(chunk, r0s, r1s, strict=True)
        )
    return out


def by_address(pools: Iterable[V2PairState]) -> dict[str, V2PairState]:
    return {p.address: p for p in pools}


def pool_summary(p: V2PairState) -> dict[str, Any]:
    return {
        "pool": p.address,
        "venue": p.venue,
        "token0": p.token0,
        "token1": p.token1,
        "reserve0": str(p.reserve0),
        "reserve1": str(p.reserve1),
    }
