"""A whale swap that moves one pool: the usual way to manufacture an opportunity on a fork."""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from web3 import Web3

from flasharb.amm.uniswap_v2 import get_amount_out
from flasharb.chain import addresses as A
from flasharb.chain.cheats import balance_of, deal, impersonate, set_balance, stop_impersonating
from flasharb.chain.rpc import send
from flasharb.errors import FlasharbValueError
from flasharb.state.v2 import FEE_PIPS

WHALE = to_checksum_address("0x000000000000000000000000000000000000a11E")
_TRANSFER = function_signature_to_4byte_selector("transfer(address,uint256)")
_SWAP = function_signature_to_4byte_selector("swap(uint256,uint256,address,bytes)")
_DEPOSIT = function_signature_to_4byte_selector("deposit()")


@dataclass(frozen=True, slots=True, kw_only=True)
class ShockResult:
    tx_hash: str
    amount_out: int
    pool: str
    token_in: str
    token_out: str
    amount_in: int

    def to_json(self) -> dict[str, str]:
        return {
            "tx_hash": self.tx_hash,
            "amount_out": str(self.amount_out),
            "pool": self.pool,
            "token_in": self.token_in,
            "token_out": self.token_out,
            "amount_in": str(self.amount_in),
        }


def _v2_pair(w3: Web3, pool: str) -> tuple[str, str, int, int]:
    def call(sig: str) -> bytes:
        sel = function_signature_to_4byte_selector(sig)
        return bytes(w3.eth.call({"to": pool, "data": "0x" + sel.hex()}))  # type: ignore[typeddict-item]

    if not w3.eth.get_code(pool):  # type: ignore[arg-type]
        raise FlasharbValueError(f"pool {pool} has no code on this fork; check the address")
    try:
        t0 = to_checksum_address(call("token0()")[12:32])
        t1 = to_checksum_address(call("token1()")[12:32])
        r = call("getReserves()")
    except Exception as exc:
        raise FlasharbValueError(f"{pool} is not a Uniswap-V2-style pair") from exc
    return t0, t1, int.from_bytes(r[:32], "big"), int.from_bytes(r[32:64], "big")


def shock(
    w3: Web3, pool: str, token_in: str, amount_in: int, venue_fee_pips: int | None = None
) -> ShockResult:
    """Swap `amount_in` of `token_in` through the V2-style `pool` from a whale account."""
    if amount_in <= 0:
        raise FlasharbValueError(f"--amount-in must be positive, got {amount_in}")
    t0, t1, r0, r1 = _v2_pair(w3, pool)
    if token_in not in (t0, t1):
        raise FlasharbValueError(f"token {token_in} is not in pool {pool} ({t0}, {t1})")
    zero_for_one = token_in == t0
    fee = venue_fee_pips if venue_fee_pips is not None else FEE_PIPS["uniswap_v2"]
    r_in, r_out = (r0, r1) if zero_for_one else (r1, r0)
    out = get_amount_out(amount_in, r_in, r_out, fee)
    token_out = t1 if zero_for_one else t0

    set_balance(w3, WHALE, 10**24)  # gas money, and ETH to wrap
    impersonate(w3, WHALE)
    try:
        if token_in == A.WETH:
            send(
                w3,
                {"from": WHALE, "to": A.WETH, "value": amount_in, "data": "0x" + _DEPOSIT.hex()},
                "WETH.deposit",
            )
        else:
            deal(w3, token_in, WHALE, balance_of(w3, token_in, WHALE) + amount_in)
        before = balance_of(w3, token_out, WHALE)
        data = _TRANSFER + encode(["address", "uint256"], [pool, amount_in])
        send(w3, {"from": WHALE, "to": token_in, "data": "0x" + data.hex()}, "shock transfer")
        outs = [0, out] if zero_for_one else [out, 0]
        data = _SWAP + encode(["uint256", "uint256", "address", "bytes"], [*outs, WHALE, b""])
        receipt = send(w3, {"from": WHALE, "to": pool, "data": "0x" + data.hex()}, "shock swap")
    finally:
        stop_impersonating(w3, WHALE)
    got = balance_of(w3, token_out, WHALE) - before
    if got != out:
        raise FlasharbValueError(f"shock on {pool} paid {got}, expected {out}")
    return ShockResult(
        tx_hash="0x" + receipt["transactionHash"].hex().removeprefix("0x"),
        amount_out=out,
        pool=pool,
        token_in=token_in,
        token_out=token_out,
        amount_in=amount_in,
    )
