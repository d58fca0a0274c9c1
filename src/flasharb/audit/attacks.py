"""The generic attacks: transactions built from the target's address and ABI, the fork's pools and
the loan data the target itself would send (flasharb.audit.harvest). Nothing here knows the
target's storage or encoding. The attacker is a stranger unless said.

- unsolicited-loan: Vault.flashLoan, a V3 pool.flash and a V2 pair.swap with data, each naming
  the target as borrower: with the target's own (harvested) loan data, and with empty and zero
  data. (A V3 pool calls back whoever called flash, so its flash only hands the target tokens;
  V3 callbacks are reached by the forged-callback rows.)
- forged-callback: receiveFlashLoan, uniswapV3FlashCallback, uniswapV3SwapCallback,
  uniswapV2Call and every callback-looking selector of the ABI, called by the attacker, by its
  relay contract, by its pool look-alike (answers token0()/token1()/fee() like the real pool),
  and by a real lender the target is not calling (the Vault, a V3 pool, a V2 pair: impersonated).
- stranger-call: every state-changing selector of the ABI, with each fill of
  flasharb.audit.abi, and an unknown selector (the fallback).
- hostile-token: flash swaps from the zoo tokens' pairs naming the target; the re-entrant hook
  token sent to the target, its hook calling each callback back mid-transfer; the target's own
  Balancer loan data with its route's tokens swapped for zoo tokens.
- eth: a plain ETH transfer; ETH force-fed with SELFDESTRUCT, then every state-changing selector
  as the attacker, to see whether a stranger can take it out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector as selector
from eth_utils import to_checksum_address

from flasharb.audit.abi import Fill, Function, Market, fill, functions
from flasharb.audit.arena import Arena
from flasharb.audit.harvest import Lender, LoanCall, lender_label, replace_word
from flasharb.chain import addresses as A
from flasharb.replica import zoo

__all__ = ["Attack", "Call", "Kind", "Scene", "plan"]

ONE_ETH = 10**18
JUNK_DATA = (b"", b"\x00" * 128)  # no data; four zero words
JUNK_V2_DATA = (b"\x01", b"\x00" * 128)  # a V2 pair calls back only for non-empty data
FAKE_SELECTOR = bytes.fromhex("deadbeef")
_RELAY = selector("relay((address,bytes)[])")
_LOOKALIKE_RELAY = selector("relay(address,bytes)")
_MIMIC = selector("mimic(address,address,uint24)")
_SET_HOOK = selector("setHook(address,bytes,uint256,bool)")
_TRANSFER = selector("transfer(address,uint256)")


class Kind(StrEnum):
    """The attack families (and the standing approvals found before any attack)."""

    UNSOLICITED_LOAN = "unsolicited-loan"
    FORGED_CALLBACK = "forged-callback"
    STRANGER_CALL = "stranger-call"
    HOSTILE_TOKEN = "hostile-token"
    ETH = "eth"
    STANDING_APPROVAL = "standing-approval"


ATTACK_KINDS = tuple(k for k in Kind if k is not Kind.STANDING_APPROVAL)


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    """One transaction of an attack."""

    sender: str
    to: str | None  # None: a contract creation
    data: bytes = b""
    value: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.sender,
            "to": self.to,
            "data": "0x" + self.data.hex(),
            "value": str(self.value),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Attack:
    kind: Kind
    name: str
    caller: str  # who calls, in words
    calls: tuple[Call, ...]
    prelude: tuple[Call, ...] = ()  # mined first, must succeed, not judged (the set-up)
    impersonate: tuple[str, ...] = ()  # senders to impersonate and fund for gas
    note_if_accepted: bool = True  # a call that succeeds with nothing lost: NOTE (else SAFE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Scene:
    """Everything the attacks are made of."""

    target: str
    functions: tuple[Function, ...]
    market: Market
    arena: Arena
    loans: tuple[LoanCall, ...]  # harvested
    vault_loans: tuple[tuple[str, int], ...]  # (token, amount) the Vault can lend
    v3_flash: tuple[str, int] | None  # (pool, amount of token0) for a generic V3 flash
    v2_flash: tuple[str, int] | None  # (pair, amount of token0) for a generic V2 flash swap
    lender_tokens: dict[str, tuple[str, ...]] = field(default_factory=dict)  # pool -> its tokens
    lender_fees: dict[str, int] = field(default_factory=dict)  # pool -> its fee (pips)
    lender_balances: dict[tuple[str, str], int] = field(default_factory=dict)  # (lender, token)
    symbols: dict[str, str] = field(default_factory=dict)  # token -> symbol, for names
    names: dict[str, str] = field(default_factory=dict)  # lender/spender -> "V3 USDC/WETH 1% pool"

    def name(self, address: str) -> str:
        return self.names.get(address, address)


# ---------------------------------------------------------------- canonical callbacks

CANONICAL_CALLBACKS = functions(
    [
        {
            "type": "function",
            "name": "receiveFlashLoan",
            "stateMutability": "nonpayable",
            "inputs": [
                {"name": "tokens", "type": "address[]"},
                {"name": "amounts", "type": "uint256[]"},
                {"name": "feeAmounts", "type": "uint256[]"},
                {"name": "userData", "type": "bytes"},
            ],
        },
        {
            "type": "function",
            "name": "uniswapV3FlashCallback",
            "stateMutability": "nonpayable",
            "inputs": [
                {"name": "fee0", "type": "uint256"},
                {"name": "fee1", "type": "uint256"},
                {"name": "data", "type": "bytes"},
            ],
        },
        {
            "type": "function",
            "name": "uniswapV3SwapCallback",
            "stateMutability": "nonpayable",
            "inputs": [
                {"name": "amount0Delta", "type": "int256"},
                {"name": "amount1Delta", "type": "int256"},
                {"name": "data", "type": "bytes"},
            ],
        },
        {
            "type": "function",
            "name": "uniswapV2Call",
            "stateMutability": "nonpayable",
            "inputs": [
                {"name": "sender", "type": "address"},
                {"name": "amount0", "type": "uint256"},
                {"name": "amount1", "type": "uint256"},
                {"name": "data", "type": "bytes"},
            ],
        },
    ]
)
_BY_NAME = {f.name: f for f in CANONICAL_CALLBACKS}


def plan(scene: Scene, kinds: Sequence[Kind] = ATTACK_KINDS) -> list[Attack]:
    """Every attack of `kinds` on the scene, in the order of the table above."""
    builders = {
        Kind.UNSOLICITED_LOAN: unsolicited_loans,
        Kind.FORGED_CALLBACK: forged_callbacks,
        Kind.STRANGER_CALL: stranger_calls,
        Kind.HOSTILE_TOKEN: hostile_tokens,
        Kind.ETH: eth,
    }
    out: list[Attack] = []
    for kind in ATTACK_KINDS:
        if kind in kinds:
            out.extend(builders[kind](scene))
    return out


# ---------------------------------------------------------------- unsolicited loans


def _feasible(scene: Scene, loan: LoanCall) -> LoanCall:
    """The loan, with any amount above what the lender holds cut to a tenth of its balance."""
    tokens: tuple[str, ...]
    if loan.lender_kind is Lender.BALANCER:
        tokens = tuple(str(to_checksum_address(t)) for t in loan.args[1])
    else:
        tokens = scene.lender_tokens.get(loan.lender, ())
    if len(tokens) != len(loan.loans):
        return loan  # a lender the scene did not read: as harvested
    amounts = []
    for (_, amount), token in zip(loan.loans, tokens, strict=True):
        held = scene.lender_balances.get((loan.lender, token))
        amounts.append(amount if held is None or amount <= held else held // 10)
    return loan.with_amounts(amounts)


def _loan_call(scene: Scene, loan: LoanCall) -> Call:
    return Call(sender=scene.arena.stranger, to=loan.lender, data=loan.calldata())


def _balancer(scene: Scene, token: str, amount: int, data: bytes) -> Call:
    args = encode(
        ["address", "address[]", "uint256[]", "bytes"], [scene.target, [token], [amount], data]
    )
    return Call(sender=scene.arena.stranger, to=A.BALANCER_VAULT, data=_FLASH_LOAN + args)


_FLASH_LOAN = selector("flashLoan(address,address[],uint256[],bytes)")
_V3_FLASH = selector("flash(address,uint256,uint256,bytes)")
_V2_SWAP = selector("swap(uint256,uint256,address,bytes)")


def _data_label(data: bytes) -> str:
    return "no data" if not data else f"{len(data)}-byte junk data"


def unsolicited_loans(scene: Scene) -> list[Attack]:
    out = []
    for loan in scene.loans:
        out.append(
            Attack(
                kind=Kind.UNSOLICITED_LOAN,
                name=f"{lender_label(loan.lender_kind)} to the target, data of {loan.source}",
                caller="stranger",
                calls=(_loan_call(scene, _feasible(scene, loan)),),
            )
        )
    for token, amount in scene.vault_loans:
        for data in JUNK_DATA:
            out.append(
                Attack(
                    kind=Kind.UNSOLICITED_LOAN,
                    name=(
                        f"Vault.flashLoan to the target, {_sym(scene, token)}, {_data_label(data)}"
                    ),
                    caller="stranger",
                    calls=(_balancer(scene, token, amount, data),),
                )
            )
    if scene.v3_flash is not None:
        pool, amount = scene.v3_flash
        for data in JUNK_DATA:
            args = encode(
                ["address", "uint256", "uint256", "bytes"], [scene.target, amount, 0, data]
            )
            out.append(
                Attack(
                    kind=Kind.UNSOLICITED_LOAN,
                    name=f"V3 pool.flash to the target, {_data_label(data)}",
                    caller="stranger",
                    calls=(Call(sender=scene.arena.stranger, to=pool, data=_V3_FLASH + args),),
                )
            )
    if scene.v2_flash is not None:
        pair, amount = scene.v2_flash
        for data in JUNK_V2_DATA:
            args = encode(
                ["uint256", "uint256", "address", "bytes"], [amount, 0, scene.target, data]
            )
            out.append(
                Attack(
                    kind=Kind.UNSOLICITED_LOAN,
                    name=f"V2 pair.swap (flash) to the target, {_data_label(data)}",
                    caller="stranger",
                    calls=(Call(sender=scene.arena.stranger, to=pair, data=_V2_SWAP + args),),
                )
            )
    return out


def _sym(scene: Scene, token: str) -> str:
    return scene.symbols.get(token, token[:10])


# ---------------------------------------------------------------- forged callbacks


def _canonical_args(scene: Scene, fn: Function) -> Iterator[tuple[str, list[Any], str | None]]:
    """(label, arguments, real lender to impersonate) for a canonical callback."""
    m = scene.market
    loans = scene.loans
    if fn.name == "receiveFlashLoan":
        for loan in loans:
            if loan.lender_kind is Lender.BALANCER:
                tokens, amounts = list(loan.args[1]), list(loan.args[2])
                yield (
                    f"data of {loan.source}",
                    [tokens, amounts, [0] * len(tokens), loan.user_data],
                    A.BALANCER_VAULT,
                )
        yield "no data", [[m.tokens[0]], [10**18], [0], b""], A.BALANCER_VAULT
    elif fn.name == "uniswapV3FlashCallback":
        for loan in loans:
            if loan.lender_kind is Lender.V3_FLASH:
                yield f"data of {loan.source}", [0, 0, loan.user_data], loan.lender
        yield "no data", [1, 1, b""], m.pool
    elif fn.name == "uniswapV3SwapCallback":
        yield "owes token0", [10**6, -1, b""], m.pool
        yield "owes token1", [-1, 10**6, b""], m.pool
    elif fn.name == "uniswapV2Call":
        for loan in loans:
            if loan.lender_kind is Lender.V2_FLASH:
                a0, a1 = loan.args[0], loan.args[1]
                yield f"data of {loan.source}", [scene.target, a0, a1, loan.user_data], loan.lender
        yield "junk data", [scene.target, 10**6, 0, b"\x01"], m.pair


def _abi_callback_args(scene: Scene, fn: Function) -> Iterator[tuple[str, list[Any], str | None]]:
    for variant in (Fill.STRANGER, Fill.MARKET_LARGE):
        yield variant.value, fill(fn, variant, scene.market), None
    if any(i["type"] == "bytes" for i in fn.inputs):
        for loan in scene.loans:
            args = fill(fn, Fill.MARKET_LARGE, scene.market)
            args = [
                loan.user_data if i["type"] == "bytes" else a
                for i, a in zip(fn.inputs, args, strict=True)
            ]
            yield f"data of {loan.source}", args, None


def callbacks(scene: Scene) -> list[Function]:
    """The canonical callbacks, then the ABI's other callback-looking functions."""
    known = {f.selector for f in CANONICAL_CALLBACKS}
    return list(CANONICAL_CALLBACKS) + [
        f for f in scene.functions if f.callback and f.selector not in known
    ]


def forged_callbacks(scene: Scene) -> list[Attack]:
    out = []
    s = scene.arena.stranger
    for fn in callbacks(scene):
        canonical = fn.name in _BY_NAME and fn.selector == _BY_NAME[fn.name].selector
        cases = _canonical_args(scene, fn) if canonical else _abi_callback_args(scene, fn)
        for label, args, lender in cases:
            data = fn.encode(args)
            name = f"{fn.name}, {label}"
            out.append(
                Attack(
                    kind=Kind.FORGED_CALLBACK,
                    name=name,
                    caller="stranger",
                    calls=(Call(sender=s, to=scene.target, data=data),),
                )
            )
            relayed = _RELAY + encode(["(address,bytes)[]"], [[(scene.target, data)]])
            out.append(
                Attack(
                    kind=Kind.FORGED_CALLBACK,
                    name=name,
                    caller="stranger's contract",
                    calls=(Call(sender=s, to=scene.arena.relay, data=relayed),),
                )
            )
            tokens = scene.lender_tokens.get(lender or "", ())
            if lender is not None and lender != A.BALANCER_VAULT and len(tokens) == 2:
                mimic = _MIMIC + encode(
                    ["address", "address", "uint24"],
                    [*tokens, scene.lender_fees.get(lender, 0)],
                )
                relayed = _LOOKALIKE_RELAY + encode(["address", "bytes"], [scene.target, data])
                out.append(
                    Attack(
                        kind=Kind.FORGED_CALLBACK,
                        name=name,
                        caller=f"stranger's look-alike of the {scene.name(lender)}",
                        prelude=(Call(sender=s, to=scene.arena.lookalike, data=mimic),),
                        calls=(Call(sender=s, to=scene.arena.lookalike, data=relayed),),
                    )
                )
            if lender is not None:
                out.append(
                    Attack(
                        kind=Kind.FORGED_CALLBACK,
                        name=name,
                        caller=f"the real {scene.name(lender)} (impersonated)",
                        calls=(Call(sender=lender, to=scene.target, data=data),),
                        impersonate=(lender,),
                    )
                )
    return out


# ---------------------------------------------------------------- every selector as a stranger


def sweep(scene: Scene) -> list[tuple[Function, Fill, bytes]]:
    """(function, fill, calldata) of every state-changing non-callback function, deduplicated."""
    seen: set[bytes] = set()
    out = []
    for fn in scene.functions:
        if not fn.state_changing or fn.callback:
            continue
        for variant in Fill:
            data = fn.encode(fill(fn, variant, scene.market))
            if data not in seen:
                seen.add(data)
                out.append((fn, variant, data))
    return out


def stranger_calls(scene: Scene) -> list[Attack]:
    s = scene.arena.stranger
    out = [
        Attack(
            kind=Kind.STRANGER_CALL,
            name=f"{fn.signature}, {variant.value} arguments",
            caller="stranger",
            calls=(Call(sender=s, to=scene.target, data=data),),
            note_if_accepted=False,
        )
        for fn, variant, data in sweep(scene)
    ]
    out.append(
        Attack(
            kind=Kind.STRANGER_CALL,
            name="unknown selector 0xdeadbeef (fallback)",
            caller="stranger",
            calls=(Call(sender=s, to=scene.target, data=FAKE_SELECTOR),),
            note_if_accepted=False,
        )
    )
    return out


# ---------------------------------------------------------------- hostile tokens


def _zoo_flash(scene: Scene, name: str, data: bytes) -> Call:
    token, pair = scene.arena.zoo[name], scene.arena.zoo_pairs[name]
    amount = scene.lender_balances.get((pair, token), 10**18) // 100
    token_is_0 = int(token, 16) < int(A.WETH, 16)
    out0, out1 = (amount, 0) if token_is_0 else (0, amount)
    args = encode(["uint256", "uint256", "address", "bytes"], [out0, out1, scene.target, data])
    return Call(sender=scene.arena.stranger, to=pair, data=_V2_SWAP + args)


def hostile_tokens(scene: Scene) -> list[Attack]:
    out: list[Attack] = []
    arena = scene.arena
    v2_data = [
        (f"data of {x.source}", x.user_data)
        for x in scene.loans
        if x.lender_kind is Lender.V2_FLASH
    ]
    for name, token in arena.zoo.items():
        label = _sym(scene, token)
        for what, data in [("junk data", b"\x01"), *v2_data]:
            out.append(
                Attack(
                    kind=Kind.HOSTILE_TOKEN,
                    name=f"{label}/WETH pair flash swap to the target, {what}",
                    caller="stranger",
                    calls=(_zoo_flash(scene, name, data),),
                )
            )
        if name == zoo.REENTRANT_HOOK:
            out.extend(_hook_attacks(scene, token, label))
    for loan in scene.loans:
        if loan.lender_kind is not Lender.BALANCER:
            continue
        lent = {to_checksum_address(t) for t in loan.args[1]}
        for token in arena.zoo.values():
            data = loan.user_data
            for t in scene.market.tokens:
                if t not in lent:
                    data = replace_word(data, _word(t), _word(token))
            if data == loan.user_data:
                continue
            out.append(
                Attack(
                    kind=Kind.HOSTILE_TOKEN,
                    name=(
                        f"Vault.flashLoan to the target, data of {loan.source} routed through "
                        f"{_sym(scene, token)}"
                    ),
                    caller="stranger",
                    calls=(_loan_call(scene, _feasible(scene, loan.with_data(data))),),
                )
            )
    return out


def _word(address: str) -> bytes:
    return encode(["address"], [address])


def _hook_attacks(scene: Scene, token: str, label: str) -> list[Attack]:
    """The hook token calls the target back (a forged callback, from the token, in the middle of
    a transfer to it); a failing hook reverts the transfer with the target's own error."""
    out = []
    pay = _TRANSFER + encode(["address", "uint256"], [scene.target, 10**18])
    for fn in CANONICAL_CALLBACKS:
        for what, args, _lender in _canonical_args(scene, fn):
            arm = _SET_HOOK + encode(
                ["address", "bytes", "uint256", "bool"], [scene.target, fn.encode(args), 1, True]
            )
            out.append(
                Attack(
                    kind=Kind.HOSTILE_TOKEN,
                    name=f"{label} sent to the target, its hook calls {fn.name} ({what})",
                    caller="stranger's hook token",
                    prelude=(Call(sender=scene.arena.stranger, to=token, data=arm),),
                    calls=(Call(sender=scene.arena.stranger, to=token, data=pay),),
                )
            )
    return out


# ---------------------------------------------------------------- ETH


def force_feed_code(target: str) -> bytes:
    """Creation code that sends its whole value to `target` with SELFDESTRUCT: no receive() or
    fallback runs, nothing can refuse it (EIP-6780 keeps this for a contract created and
    destroyed in the same transaction)."""
    return b"\x73" + bytes.fromhex(target[2:]) + b"\xff"  # PUSH20 target; SELFDESTRUCT


def eth(scene: Scene) -> list[Attack]:
    s = scene.arena.stranger
    sweep_calls = tuple(
        Call(sender=s, to=scene.target, data=data) for _fn, _variant, data in sweep(scene)
    )
    return [
        Attack(
            kind=Kind.ETH,
            name="plain ETH transfer (1 ETH)",
            caller="stranger",
            calls=(Call(sender=s, to=scene.target, value=ONE_ETH),),
        ),
        Attack(
            kind=Kind.ETH,
            name=(
                "1 ETH force-fed (SELFDESTRUCT), then every state-changing selector: "
                "can a stranger take ETH out?"
            ),
            caller="stranger",
            prelude=(Call(sender=s, to=None, data=force_feed_code(scene.target), value=ONE_ETH),),
            calls=sweep_calls or (Call(sender=s, to=scene.target, data=FAKE_SELECTOR),),
            note_if_accepted=False,
        ),
    ]
