"""Swaps through the UniversalRouter (and UniswapV2Router02) as a user's wallet sends them, for
the backrun and V4 tests: the `execute(commands, inputs, deadline)` encoding of V2, V3 and V4
swap commands, Permit2 approvals (an on-chain `approve`, or a signed PermitSingle in a
PERMIT2_PERMIT command, as the Uniswap interface does), and a swap sent from a funded account.

The encodings follow the contracts, not flasharb's decoder (src/flasharb/run/backrun.py reads
them back; the UniversalRouter executing them on the fork is what proves them right):
ref: Uniswap/universal-router contracts/libraries/Commands.sol, contracts/base/Dispatcher.sol
(each command's `abi.decode` equivalent), v4-periphery src/libraries/Actions.sol,
src/interfaces/IV4Router.sol (ExactInputSingleParams, ExactInputParams, PathKey), Permit2
src/libraries/PermitHash.sol and src/EIP712.sol (the PermitSingle signature).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import encode
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector as selector
from eth_utils import keccak
from web3 import Web3

from flasharb.amm.uniswap_v4 import PoolKey
from flasharb.chain import addresses as A
from flasharb.chain.rpc import send
from flasharb.execute.keys import dev_key

__all__ = [
    "Command",
    "execute_data",
    "permit2_approve",
    "permit2_permit",
    "v2_exact_in",
    "v2_exact_out",
    "v3_exact_in",
    "v3_exact_out",
    "v3_path",
    "v4_swap",
]

# Commands (universal-router Commands.sol)
V3_SWAP_EXACT_IN, V3_SWAP_EXACT_OUT = 0x00, 0x01
V2_SWAP_EXACT_IN, V2_SWAP_EXACT_OUT, PERMIT2_PERMIT, WRAP_ETH = 0x08, 0x09, 0x0A, 0x0B
V4_SWAP = 0x10
# V4Router actions (v4-periphery Actions.sol)
SWAP_EXACT_IN_SINGLE, SWAP_EXACT_IN, SWAP_EXACT_OUT_SINGLE, SWAP_EXACT_OUT = 0x06, 0x07, 0x08, 0x09
SETTLE_ALL, TAKE_ALL = 0x0C, 0x0F
MSG_SENDER, ADDRESS_THIS = "0x" + "00" * 19 + "01", "0x" + "00" * 19 + "02"  # ActionConstants
CONTRACT_BALANCE = 1 << 255  # ActionConstants.CONTRACT_BALANCE: the router's whole balance
MAX_UINT160, MAX_UINT48 = 2**160 - 1, 2**48 - 1
KEY_T = "(address,address,uint24,int24,address)"

EXECUTE = selector("execute(bytes,bytes[],uint256)")
_APPROVE = selector("approve(address,uint256)")
_PERMIT2_APPROVE = selector("approve(address,address,uint160,uint48)")
_PERMIT2_ALLOWANCE = selector("allowance(address,address,address)")


@dataclass(frozen=True, slots=True)
class Command:
    """One UniversalRouter command: its byte and its ABI-encoded input."""

    code: int
    input: bytes


def execute_data(commands: Sequence[Command], deadline: int = 2**32) -> bytes:
    """`execute(commands, inputs, deadline)` calldata."""
    body = encode(
        ["bytes", "bytes[]", "uint256"],
        [bytes(c.code for c in commands), [c.input for c in commands], deadline],
    )
    return EXECUTE + body


def v3_path(tokens: Sequence[str], fees: Sequence[int]) -> bytes:
    """A V3 path: token (20) | fee (3) | token (20) ... (exact-out paths run backwards)."""
    out = bytes.fromhex(tokens[0][2:])
    for fee, token in zip(fees, tokens[1:], strict=True):
        out += fee.to_bytes(3, "big") + bytes.fromhex(token[2:])
    return out


def v2_exact_in(
    amount_in: int, min_out: int, path: Sequence[str], *, to: str = MSG_SENDER
) -> Command:
    return Command(
        V2_SWAP_EXACT_IN,
        encode(
            ["address", "uint256", "uint256", "address[]", "bool"],
            [to, amount_in, min_out, list(path), True],
        ),
    )


def v2_exact_out(
    amount_out: int, max_in: int, path: Sequence[str], *, to: str = MSG_SENDER
) -> Command:
    return Command(
        V2_SWAP_EXACT_OUT,
        encode(
            ["address", "uint256", "uint256", "address[]", "bool"],
            [to, amount_out, max_in, list(path), True],
        ),
    )


def v3_exact_in(amount_in: int, min_out: int, path: bytes, *, to: str = MSG_SENDER) -> Command:
    return Command(
        V3_SWAP_EXACT_IN,
        encode(
            ["address", "uint256", "uint256", "bytes", "bool"], [to, amount_in, min_out, path, True]
        ),
    )


def v3_exact_out(amount_out: int, max_in: int, path: bytes, *, to: str = MSG_SENDER) -> Command:
    return Command(
        V3_SWAP_EXACT_OUT,
        encode(
            ["address", "uint256", "uint256", "bytes", "bool"], [to, amount_out, max_in, path, True]
        ),
    )


def v4_exact_in_single(
    key: PoolKey, zero_for_one: bool, amount_in: int, min_out: int = 0
) -> tuple[int, bytes]:
    """SWAP_EXACT_IN_SINGLE: abi.encode(ExactInputSingleParams)."""
    return SWAP_EXACT_IN_SINGLE, encode(
        [f"({KEY_T},bool,uint128,uint128,bytes)"],
        [(key.as_tuple(), zero_for_one, amount_in, min_out, b"")],
    )


def v4_exact_out_single(
    key: PoolKey, zero_for_one: bool, amount_out: int, max_in: int
) -> tuple[int, bytes]:
    """SWAP_EXACT_OUT_SINGLE: abi.encode(ExactOutputSingleParams)."""
    return SWAP_EXACT_OUT_SINGLE, encode(
        [f"({KEY_T},bool,uint128,uint128,bytes)"],
        [(key.as_tuple(), zero_for_one, amount_out, max_in, b"")],
    )


def v4_exact_in(
    currency_in: str, path: Sequence[PoolKey], amount_in: int, min_out: int = 0
) -> tuple[int, bytes]:
    """SWAP_EXACT_IN: abi.encode(ExactInputParams); each PathKey names the next currency and
    the pool's fee, spacing and hooks."""
    keys, cur = [], currency_in
    for k in path:
        nxt = k.currency1 if cur == k.currency0 else k.currency0
        keys.append((nxt, k.fee, k.tick_spacing, k.hooks, b""))
        cur = nxt
    return SWAP_EXACT_IN, encode(
        ["(address,(address,uint24,int24,address,bytes)[],uint128,uint128)"],
        [(currency_in, keys, amount_in, min_out)],
    )


def v4_exact_out(
    currency_out: str, path: Sequence[PoolKey], amount_out: int, max_in: int
) -> tuple[int, bytes]:
    """SWAP_EXACT_OUT: abi.encode(ExactOutputParams); the path runs from the output back."""
    keys, cur = [], currency_out
    for k in path:
        nxt = k.currency1 if cur == k.currency0 else k.currency0
        keys.append((nxt, k.fee, k.tick_spacing, k.hooks, b""))
        cur = nxt
    return SWAP_EXACT_OUT, encode(
        ["(address,(address,uint24,int24,address,bytes)[],uint128,uint128)"],
        [(currency_out, keys, amount_out, max_in)],
    )


def settle_all(currency: str, max_amount: int) -> tuple[int, bytes]:
    return SETTLE_ALL, encode(["address", "uint256"], [currency, max_amount])


def take_all(currency: str, min_amount: int = 0) -> tuple[int, bytes]:
    return TAKE_ALL, encode(["address", "uint256"], [currency, min_amount])


def v4_swap(actions: Sequence[tuple[int, bytes]]) -> Command:
    """V4_SWAP: abi.encode(bytes actions, bytes[] params), run by the router's V4Router."""
    return Command(
        V4_SWAP,
        encode(["bytes", "bytes[]"], [bytes(a for a, _ in actions), [p for _, p in actions]]),
    )


# ---------------------------------------------------------------- Permit2


def token_approve_permit2(w3: Web3, user: str, token: str) -> None:
    """The user's one-time ERC-20 approval of Permit2 (what a wallet asks for first)."""
    data = _APPROVE + encode(["address", "uint256"], [A.PERMIT2, 2**256 - 1])
    send(w3, {"from": user, "to": token, "data": "0x" + data.hex()})


def permit2_approve(w3: Web3, user: str, token: str, spender: str = A.UNIVERSAL_ROUTER) -> None:
    """Permit2 allowance for `spender` by an on-chain `approve` (after the token approval)."""
    token_approve_permit2(w3, user, token)
    data = _PERMIT2_APPROVE + encode(
        ["address", "address", "uint160", "uint48"], [token, spender, MAX_UINT160, MAX_UINT48]
    )
    send(w3, {"from": user, "to": A.PERMIT2, "data": "0x" + data.hex()})


def _nonce(w3: Web3, user: str, token: str, spender: str) -> int:
    data = _PERMIT2_ALLOWANCE + encode(["address", "address", "address"], [user, token, spender])
    raw = w3.eth.call({"to": A.PERMIT2, "data": "0x" + data.hex()})  # type: ignore[typeddict-item]
    return int.from_bytes(bytes(raw)[64:96], "big")


def permit2_permit(
    w3: Web3, user: str, token: str, amount: int, *, spender: str = A.UNIVERSAL_ROUTER
) -> Command:
    """A PERMIT2_PERMIT command carrying the user's EIP-712 signature of a PermitSingle for
    `amount` of `token` to `spender` (the user must be an Anvil account: its key signs)."""
    key = dev_key(user)
    assert key is not None, f"{user} is not an Anvil development account"
    nonce, expiration, deadline = _nonce(w3, user, token, spender), MAX_UINT48, 2**48
    details_t = keccak(
        text="PermitDetails(address token,uint160 amount,uint48 expiration,uint48 nonce)"
    )
    single_t = keccak(
        text="PermitSingle(PermitDetails details,address spender,uint256 sigDeadline)"
        "PermitDetails(address token,uint160 amount,uint48 expiration,uint48 nonce)"
    )
    details = keccak(
        encode(
            ["bytes32", "address", "uint160", "uint48", "uint48"],
            [details_t, token, amount, expiration, nonce],
        )
    )
    struct = keccak(
        encode(["bytes32", "bytes32", "address", "uint256"], [single_t, details, spender, deadline])
    )
    domain = keccak(
        encode(
            ["bytes32", "bytes32", "uint256", "address"],
            [
                keccak(text="EIP712Domain(string name,uint256 chainId,address verifyingContract)"),
                keccak(text="Permit2"),
                w3.eth.chain_id,
                A.PERMIT2,
            ],
        )
    )
    signed = Account.from_key(key).unsafe_sign_hash(keccak(b"\x19\x01" + domain + struct))
    signature = signed.r.to_bytes(32, "big") + signed.s.to_bytes(32, "big") + bytes([signed.v])
    return Command(
        PERMIT2_PERMIT,
        encode(
            ["((address,uint160,uint48,uint48),address,uint256)", "bytes"],
            [((token, amount, expiration, nonce), spender, deadline), signature],
        ),
    )


def execute(w3: Web3, user: str, commands: Sequence[Command], *, value: int = 0, **tx: Any) -> Any:
    """Send `execute(commands, inputs, deadline)` from `user` and mine it; the receipt."""
    data = execute_data(commands)
    return send(
        w3,
        {"from": user, "to": A.UNIVERSAL_ROUTER, "data": "0x" + data.hex(), "value": value, **tx},
    )
