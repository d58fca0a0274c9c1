"""A whale swap that moves one pool, on any venue: the usual way to manufacture an opportunity.

The venue is read from the pool itself (a Balancer pool answers getPoolId, a Uniswap V3 pool
answers slot0, a V2-style pair answers getReserves), so `flasharb shock` takes any pool address.
V2 pairs are swapped directly (transfer, then swap for the exact V2 output); V3 pools through the
canonical SwapRouter; Balancer pools through the Vault. The amount out is what the whale received.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from web3 import Web3

from flasharb.amm.uniswap_v2 import get_amount_out
from flasharb.chain import addresses as A
from flasharb.chain.cheats import balance_of, deal, impersonating
from flasharb.chain.rpc import send
from flasharb.errors import FlasharbValueError
from flasharb.state.tokens import resolve_symbol

WHALE = to_checksum_address("0x000000000000000000000000000000000000a11E")
MAX_UINT = 2**256 - 1
FAR_DEADLINE = 2**32


@dataclass(frozen=True, slots=True, kw_only=True)
class ShockResult:
    """A whale swap that was mined: its hash, what the whale got, and the swap it made."""

    tx_hash: str
    amount_out: int
    pool: str
    venue: str
    token_in: str
    token_out: str
    amount_in: int

    def to_json(self) -> dict[str, str]:
        """The `flasharb shock --json` shape: amounts as decimal strings."""
        return {
            "tx_hash": self.tx_hash,
            "amount_out": str(self.amount_out),
            "pool": self.pool,
            "venue": self.venue,
            "token_in": self.token_in,
            "token_out": self.token_out,
            "amount_in": str(self.amount_in),
        }


def _sel(sig: str) -> bytes:
    return function_signature_to_4byte_selector(sig)


def _call(
    w3: Web3, to: str, sig: str, types: list[str] | None = None, args: list[Any] | None = None
) -> bytes:
    data = _sel(sig) + (encode(types, args or []) if types else b"")
    return bytes(w3.eth.call({"to": to, "data": "0x" + data.hex()}))  # type: ignore[typeddict-item]


def _try(w3: Web3, to: str, sig: str) -> bytes | None:
    try:
        out = _call(w3, to, sig)
    except Exception:  # noqa: BLE001 - "does this pool answer sig?" has a yes/no answer
        return None
    return out if len(out) >= 32 else None


def _send(w3: Web3, to: str, data: bytes, what: str, value: int = 0) -> Any:
    return send(w3, {"from": WHALE, "to": to, "data": "0x" + data.hex(), "value": value}, what)


def _fund(w3: Web3, token: str, amount: int) -> None:
    if token == A.WETH:  # wrap real ETH rather than minting unbacked WETH
        _send(w3, A.WETH, _sel("deposit()"), "WETH.deposit", value=amount)
    else:
        deal(w3, token, WHALE, balance_of(w3, token, WHALE) + amount)


def _approve(w3: Web3, token: str, spender: str) -> None:
    # zero first: USDT-style tokens refuse to change a non-zero allowance
    for value in (0, MAX_UINT):
        _send(
            w3,
            token,
            _sel("approve(address,uint256)") + encode(["address", "uint256"], [spender, value]),
            "approve",
        )


def venue_of(w3: Web3, pool: str) -> str:
    """'balancer' | 'uniswap_v3' | 'uniswap_v2' (any V2-style pair), from what the pool answers."""
    if not w3.eth.get_code(pool):  # type: ignore[arg-type]
        raise FlasharbValueError(f"pool {pool} has no code on this fork; check the address")
    if _try(w3, pool, "getPoolId()") is not None:
        return "balancer"
    if _try(w3, pool, "slot0()") is not None:
        return "uniswap_v3"
    if _try(w3, pool, "getReserves()") is not None:
        return "uniswap_v2"
    raise FlasharbValueError(f"{pool} is not a Uniswap V2/V3 or Balancer pool")


def _pair_tokens(w3: Web3, pool: str) -> tuple[str, str]:
    t0 = to_checksum_address(_call(w3, pool, "token0()")[12:32])
    t1 = to_checksum_address(_call(w3, pool, "token1()")[12:32])
    return t0, t1


def _balancer_tokens(w3: Web3, pool: str) -> tuple[bytes, list[str]]:
    pool_id = _call(w3, pool, "getPoolId()")[:32]
    raw = _call(w3, A.BALANCER_VAULT, "getPoolTokens(bytes32)", ["bytes32"], [pool_id])
    tokens, _balances, _block = decode(["address[]", "uint256[]", "uint256"], raw)
    return pool_id, [to_checksum_address(t) for t in tokens]


def _pick_out(tokens: list[str], token_in: str, token_out: str | None, pool: str) -> str:
    if token_in not in tokens:
        raise FlasharbValueError(f"token {token_in} is not in pool {pool} ({', '.join(tokens)})")
    others = [t for t in tokens if t != token_in]
    if token_out is None:
        return others[0]
    if token_out not in others:
        raise FlasharbValueError(f"--token-out {token_out} is not another token of pool {pool}")
    return token_out


def shock(
    w3: Web3, pool: str, token_in: str, amount_in: int, token_out: str | None = None
) -> ShockResult:
    """Swap `amount_in` of `token_in` (an address, or a known symbol: "WETH") through `pool`
    from a whale account."""
    if amount_in <= 0:
        raise FlasharbValueError(f"--amount-in must be positive, got {amount_in}")
    if not token_in.startswith("0x"):
        token_in = resolve_symbol(token_in).address
    if token_out is not None and not token_out.startswith("0x"):
        token_out = resolve_symbol(token_out).address
    venue = venue_of(w3, pool)
    if venue == "balancer":
        pool_id, tokens = _balancer_tokens(w3, pool)
    else:
        pool_id, tokens = b"", list(_pair_tokens(w3, pool))
    out_token = _pick_out(tokens, token_in, token_out, pool)

    with impersonating(w3, WHALE, eth=10**24 + amount_in):  # gas money, and ETH to wrap
        _fund(w3, token_in, amount_in)
        before = balance_of(w3, out_token, WHALE)
        if venue == "uniswap_v2":
            receipt = _swap_v2(w3, pool, token_in, amount_in, tokens)
        elif venue == "uniswap_v3":
            receipt = _swap_v3(w3, pool, token_in, out_token, amount_in)
        else:
            receipt = _swap_balancer(w3, pool_id, token_in, out_token, amount_in)
        got = balance_of(w3, out_token, WHALE) - before
    return ShockResult(
        tx_hash="0x" + receipt["transactionHash"].hex().removeprefix("0x"),
        amount_out=got,
        pool=pool,
        venue=venue,
        token_in=token_in,
        token_out=out_token,
        amount_in=amount_in,
    )


def _swap_v2(w3: Web3, pool: str, token_in: str, amount_in: int, tokens: list[str]) -> Any:
    r = _call(w3, pool, "getReserves()")
    r0, r1 = int.from_bytes(r[:32], "big"), int.from_bytes(r[32:64], "big")
    zero_for_one = token_in == tokens[0]
    r_in, r_out = (r0, r1) if zero_for_one else (r1, r0)
    out = get_amount_out(amount_in, r_in, r_out, 3000)  # every V2-style venue here charges 0.30%
    data = _sel("transfer(address,uint256)") + encode(["address", "uint256"], [pool, amount_in])
    _send(w3, token_in, data, "shock transfer")
    outs = [0, out] if zero_for_one else [out, 0]
    swap = _sel("swap(uint256,uint256,address,bytes)")
    return _send(
        w3,
        pool,
        swap + encode(["uint256", "uint256", "address", "bytes"], [*outs, WHALE, b""]),
        "shock swap",
    )


def _swap_v3(w3: Web3, pool: str, token_in: str, token_out: str, amount_in: int) -> Any:
    fee = int.from_bytes(_call(w3, pool, "fee()")[:32], "big")
    _approve(w3, token_in, A.UNISWAP_V3_SWAP_ROUTER)
    params = (token_in, token_out, fee, WHALE, FAR_DEADLINE, amount_in, 0, 0)
    data = _sel(
        "exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))"
    )
    data += encode(["(address,address,uint24,address,uint256,uint256,uint256,uint160)"], [params])
    return _send(w3, A.UNISWAP_V3_SWAP_ROUTER, data, "shock swap (V3 SwapRouter)")


def _swap_balancer(w3: Web3, pool_id: bytes, token_in: str, token_out: str, amount_in: int) -> Any:
    _approve(w3, token_in, A.BALANCER_VAULT)
    single = (pool_id, 0, token_in, token_out, amount_in, b"")  # kind 0 = GIVEN_IN
    funds = (WHALE, False, WHALE, False)
    single_t = "(bytes32,uint8,address,address,uint256,bytes)"  # SingleSwap
    funds_t = "(address,bool,address,bool)"  # FundManagement
    types = [single_t, funds_t, "uint256", "uint256"]
    sig = f"swap({','.join(types)})"
    data = _sel(sig) + encode(types, [single, funds, 0, FAR_DEADLINE])
    return _send(w3, A.BALANCER_VAULT, data, "shock swap (Balancer Vault)")
