"""What a pending transaction swaps, and the pool states it leaves behind: the backrunner's
decoder and overlay.

`decode_swap` reads a transaction of the pool (txpool_content's shape) into `SwapPath`s, each a
run of pools the same tokens flow through, with the exact input or output the caller fixed:

- Uniswap V3 SwapRouter `exactInputSingle`; a Balancer Vault `swap` (given in); a V2-style
  pair's `swap` paid by a pending `transfer` to it (how `flasharb shock` trades V2);
- UniswapV2Router02: swapExactTokensForTokens, swapTokensForExactTokens, swapExactETHForTokens,
  swapTokensForExactETH, swapExactTokensForETH, swapETHForExactTokens and the three
  fee-on-transfer variants (read as exact input: for a token without a transfer fee they
  swap exactly the same amounts; the market's token screen keeps fee-on-transfer tokens out);
- the UniversalRouter's `execute(commands, inputs[, deadline])`: V2_SWAP_EXACT_IN/OUT,
  V3_SWAP_EXACT_IN/OUT (multi-hop paths), V4_SWAP with the V4Router's SWAP_EXACT_IN_SINGLE,
  SWAP_EXACT_IN, SWAP_EXACT_OUT_SINGLE and SWAP_EXACT_OUT actions, WRAP_ETH, and
  EXECUTE_SUB_PLAN (read recursively); permits, payments and sweeps move no pool. An amount
  of CONTRACT_BALANCE (the router's balance), ALREADY_PAID (V2: 0) or OPEN_DELTA (V4: 0) is
  what the previous command left the router: the wrapped ETH, or the previous path's output.

`apply_swap` moves the states of the pools a swap touches with each pool's exact math, in the
order the router runs them, as each router computes its amounts (they differ on exact
output): UniswapV2Router02 asks every pair for the `getAmountsIn` amounts; the
UniversalRouter's V2 exact output pays the first pair `getAmountsIn`'s input and lets every
pair pay `getAmountOut` (its `_v2Swap`); V3 and V4 pools swap exact output themselves, the
last pool first. A pool the market has no state for (a V4 pool, until the market reads V4;
a hooked V4 pool, ever) cannot be followed: it and every pool after it on the path are
reported as `blind`, so no backrun trusts them.

ref: Uniswap/v2-periphery contracts/UniswapV2Router02.sol (`_swap`, `getAmountsOut/In`),
Uniswap/universal-router contracts/base/Dispatcher.sol, contracts/modules/uniswap/v2/
V2SwapRouter.sol, contracts/modules/uniswap/v3/V3SwapRouter.sol, contracts/libraries/
Constants.sol and Commands.sol; Uniswap/v4-periphery src/V4Router.sol, src/libraries/
Actions.sol, src/libraries/ActionConstants.sol, src/libraries/PathKey.sol.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from eth_abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils import function_signature_to_4byte_selector as selector

from flasharb.amm.balancer_weighted import WeightedPoolState
from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import V2PairState, checksum_address, get_amount_in
from flasharb.amm.uniswap_v3 import V3PoolState
from flasharb.amm.uniswap_v4 import NATIVE, PoolKey, V4PoolState
from flasharb.chain import addresses as A
from flasharb.errors import FlasharbError, FlasharbValueError
from flasharb.search.route import v2_pair_address, v3_pool_address

__all__ = ["Mode", "PendingSwap", "SwapLeg", "SwapPath", "apply_swap", "decode_swap"]

Mode = Literal["in", "out", "v2_out_in", "pair"]

_EXACT_INPUT_SINGLE = selector(
    "exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))"
)
_VAULT_SWAP = selector(
    "swap((bytes32,uint8,address,address,uint256,bytes),(address,bool,address,bool),uint256,uint256)"
)
_PAIR_SWAP = selector("swap(uint256,uint256,address,bytes)")
_TRANSFER = selector("transfer(address,uint256)")
_EXECUTE = selector("execute(bytes,bytes[])")
_EXECUTE_DEADLINE = selector("execute(bytes,bytes[],uint256)")

# UniswapV2Router02: selector -> (argument types, where amountIn / amountOut is, exact output)
_ADDRS = "address[]"
_Fixes = Literal["in", "out", "value"]  # the amount a Router02 swap fixes: input, output, ETH sent
_ROUTER02_SIGS: tuple[tuple[str, list[str], _Fixes], ...] = (
    (
        "swapExactTokensForTokens(uint256,uint256,address[],address,uint256)",
        ["uint256", "uint256", _ADDRS, "address", "uint256"],
        "in",
    ),
    (
        "swapTokensForExactTokens(uint256,uint256,address[],address,uint256)",
        ["uint256", "uint256", _ADDRS, "address", "uint256"],
        "out",
    ),
    (
        "swapExactETHForTokens(uint256,address[],address,uint256)",
        ["uint256", _ADDRS, "address", "uint256"],
        "value",
    ),
    (
        "swapTokensForExactETH(uint256,uint256,address[],address,uint256)",
        ["uint256", "uint256", _ADDRS, "address", "uint256"],
        "out",
    ),
    (
        "swapExactTokensForETH(uint256,uint256,address[],address,uint256)",
        ["uint256", "uint256", _ADDRS, "address", "uint256"],
        "in",
    ),
    (
        "swapETHForExactTokens(uint256,address[],address,uint256)",
        ["uint256", _ADDRS, "address", "uint256"],
        "out",
    ),
    (
        "swapExactTokensForTokensSupportingFeeOnTransferTokens("
        "uint256,uint256,address[],address,uint256)",
        ["uint256", "uint256", _ADDRS, "address", "uint256"],
        "in",
    ),
    (
        "swapExactETHForTokensSupportingFeeOnTransferTokens(uint256,address[],address,uint256)",
        ["uint256", _ADDRS, "address", "uint256"],
        "value",
    ),
    (
        "swapExactTokensForETHSupportingFeeOnTransferTokens("
        "uint256,uint256,address[],address,uint256)",
        ["uint256", "uint256", _ADDRS, "address", "uint256"],
        "in",
    ),
)
_ROUTER02 = {selector(sig): (types, how) for sig, types, how in _ROUTER02_SIGS}

# UniversalRouter commands (Commands.sol) and V4Router actions (Actions.sol)
_COMMAND_MASK = 0x3F  # the top bit is FLAG_ALLOW_REVERT
V3_SWAP_EXACT_IN, V3_SWAP_EXACT_OUT = 0x00, 0x01
V2_SWAP_EXACT_IN, V2_SWAP_EXACT_OUT, WRAP_ETH = 0x08, 0x09, 0x0B
V4_SWAP, EXECUTE_SUB_PLAN = 0x10, 0x21
SWAP_EXACT_IN_SINGLE, SWAP_EXACT_IN, SWAP_EXACT_OUT_SINGLE, SWAP_EXACT_OUT = 0x06, 0x07, 0x08, 0x09
CONTRACT_BALANCE = 1 << 255  # ActionConstants.CONTRACT_BALANCE
_V3_INPUT = ["address", "uint256", "uint256", "bytes", "bool"]
_V2_INPUT = ["address", "uint256", "uint256", "address[]", "bool"]
_KEY = "(address,address,uint24,int24,address)"
_SINGLE = f"({_KEY},bool,uint128,uint128,bytes)"
_MULTI = "(address,(address,uint24,int24,address,bytes)[],uint128,uint128)"


@dataclass(frozen=True, slots=True, kw_only=True)
class SwapLeg:
    """One pool a swap goes through: its state key (a pool's address, or a V4 pool's PoolId in
    hex) and the tokens in and out (a V4 pool's currencies: native ETH is the zero address)."""

    pool: str
    token_in: str
    token_out: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SwapPath:
    """Pools the same amount flows through, and the amount the caller fixed.

    mode "in": `amount` is the exact input of the first pool, each pool's output the next
    one's input. "out": `amount` is the exact output of the last pool, each pool swaps exact
    output (V3, V4, and UniswapV2Router02's `getAmountsIn` pairs). "v2_out_in": the
    UniversalRouter's V2 exact output: the first pair gets `getAmountsIn`'s input for
    `amount`, then every pair pays `getAmountOut`. "pair": a bare V2 pair swap, `amount` paid
    in and `amounts_out` asked for. `amount` None: what the previous path delivered (or the
    router's wrapped ETH), `input_from_router`.
    """

    legs: tuple[SwapLeg, ...]
    amount: int | None
    mode: Mode = "in"
    amounts_out: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingSwap:
    """One decoded swap waiting in the pool, and what it pays for inclusion."""

    tx_hash: str
    paths: tuple[SwapPath, ...]
    tip_wei: int  # effective priority fee per gas
    max_fee_wei: int
    call: Mapping[str, str]  # the transaction as an eth_simulateV1 call (it runs first)

    @property
    def legs(self) -> tuple[SwapLeg, ...]:
        return tuple(leg for path in self.paths for leg in path.legs)

    @property
    def pools(self) -> tuple[str, ...]:
        """Every pool it swaps through, in order (once each)."""
        return tuple(dict.fromkeys(leg.pool for leg in self.legs))

    @property
    def pool(self) -> str:
        """The first pool it swaps through."""
        return self.legs[0].pool

    @property
    def token_in(self) -> str:
        return self.legs[0].token_in

    @property
    def token_out(self) -> str:
        return self.legs[-1].token_out

    @property
    def amount_in(self) -> int:
        """The exact input it fixes (0: it fixes an output, or the amount is a router balance)."""
        first = self.paths[0]
        return first.amount or 0 if first.mode in ("in", "pair") else 0

    @property
    def amount_out(self) -> int:
        """The exact output it fixes (0: it fixes an input)."""
        last = self.paths[-1]
        return last.amount or 0 if last.mode in ("out", "v2_out_in") else 0


def _tip(tx: Mapping[str, Any], base_fee: int) -> tuple[int, int]:
    if tx.get("maxPriorityFeePerGas") is not None:
        return int(tx["maxPriorityFeePerGas"], 16), int(tx["maxFeePerGas"], 16)
    price = int(tx["gasPrice"], 16)
    return max(price - base_fee, 0), price


def _call(tx: Mapping[str, Any]) -> dict[str, str]:
    """A pending transaction (txpool_content) as an eth_simulateV1 call object."""
    call = {k: str(tx[k]) for k in ("from", "to", "input", "value", "gas", "nonce") if tx.get(k)}
    for k in ("maxFeePerGas", "maxPriorityFeePerGas", "gasPrice"):
        if tx.get(k) is not None:
            call[k] = str(tx[k])
    return call


def _v2_legs(path: Sequence[str]) -> tuple[SwapLeg, ...]:
    """Uniswap V2 pairs of a token path (the routers' factory and init-code hash)."""
    tokens = [checksum_address(t) for t in path]
    if len(tokens) < 2:
        raise FlasharbValueError(f"a V2 path needs two tokens: {tokens}")
    return tuple(
        SwapLeg(
            pool=v2_pair_address(A.UNISWAP_V2_FACTORY, A.UNISWAP_V2_PAIR_INIT_CODE_HASH, a, b),
            token_in=a,
            token_out=b,
        )
        for a, b in zip(tokens, tokens[1:], strict=False)
    )


def _v3_legs(path: bytes, *, reverse: bool = False) -> tuple[SwapLeg, ...]:
    """V3 pools of a packed path token (20) | fee (3) | token (20) ... (`reverse`: an exact
    output path, which starts from the output token)."""
    if len(path) < 43 or (len(path) - 20) % 23:
        raise FlasharbValueError(f"not a V3 path: {len(path)} bytes")
    tokens = [checksum_address("0x" + path[i : i + 20].hex()) for i in range(0, len(path), 23)]
    fees = [int.from_bytes(path[i + 20 : i + 23], "big") for i in range(0, len(path) - 20, 23)]
    if reverse:
        tokens, fees = tokens[::-1], fees[::-1]
    return tuple(
        SwapLeg(pool=v3_pool_address(a, b, fee), token_in=a, token_out=b)
        for a, b, fee in zip(tokens, tokens[1:], fees, strict=False)
    )


def _v4_leg(c_in: str, c_out: str, fee: int, spacing: int, hooks: str) -> SwapLeg:
    c_in, c_out = checksum_address(c_in), checksum_address(c_out)
    c0, c1 = sorted((c_in, c_out), key=lambda t: int(t, 16))
    key = PoolKey(currency0=c0, currency1=c1, fee=fee, tick_spacing=spacing, hooks=hooks)
    return SwapLeg(pool="0x" + key.pool_id().hex(), token_in=c_in, token_out=c_out)


def _v4_actions(data: bytes) -> list[SwapPath]:
    """The swaps of a V4_SWAP input: abi.encode(bytes actions, bytes[] params)."""
    actions, params = decode(["bytes", "bytes[]"], data)
    out = []
    for action, p in zip(actions, params, strict=True):
        if action in (SWAP_EXACT_IN_SINGLE, SWAP_EXACT_OUT_SINGLE):
            (c0, c1, fee, spacing, hooks), zfo, amount, _, _ = decode([_SINGLE], p)[0]
            c_in, c_out = (c0, c1) if zfo else (c1, c0)
            leg = _v4_leg(c_in, c_out, fee, spacing, hooks)
            mode: Mode = "in" if action == SWAP_EXACT_IN_SINGLE else "out"
            out.append(SwapPath(legs=(leg,), amount=amount or None, mode=mode))  # 0: OPEN_DELTA
        elif action == SWAP_EXACT_IN:
            cur, keys, amount, _ = decode([_MULTI], p)[0]
            legs = []
            for nxt, fee, spacing, hooks, _ in keys:
                legs.append(_v4_leg(cur, nxt, fee, spacing, hooks))
                cur = nxt
            out.append(SwapPath(legs=tuple(legs), amount=amount or None))
        elif action == SWAP_EXACT_OUT:  # the path runs backwards: keys[i].intermediate is in
            cur_out, keys, amount, _ = decode([_MULTI], p)[0]
            currencies = [k[0] for k in keys] + [cur_out]
            legs = [
                _v4_leg(currencies[i], currencies[i + 1], k[1], k[2], k[3])
                for i, k in enumerate(keys)
            ]
            out.append(SwapPath(legs=tuple(legs), amount=amount or None, mode="out"))
    return out


def _universal(commands: bytes, inputs: Sequence[bytes], value: int) -> list[SwapPath]:
    """The swaps of a UniversalRouter `execute`, in order."""
    out: list[SwapPath] = []
    wrapped: int | None = None  # ETH the router wrapped for a CONTRACT_BALANCE input

    def amount(x: int) -> int | None:
        nonlocal wrapped
        if x == CONTRACT_BALANCE:
            held, wrapped = wrapped, None
            return held  # None: the previous path's output
        return x

    for code, data in zip(commands, inputs, strict=True):
        command = code & _COMMAND_MASK
        if command in (V3_SWAP_EXACT_IN, V3_SWAP_EXACT_OUT):
            _, x, _, path, _ = decode(_V3_INPUT, data)
            exact_in = command == V3_SWAP_EXACT_IN
            legs = _v3_legs(path, reverse=not exact_in)
            out.append(SwapPath(legs=legs, amount=amount(x), mode="in" if exact_in else "out"))
        elif command in (V2_SWAP_EXACT_IN, V2_SWAP_EXACT_OUT):
            _, x, _, path, _ = decode(_V2_INPUT, data)
            if command == V2_SWAP_EXACT_IN:  # 0: ALREADY_PAID, the pair holds the input
                out.append(SwapPath(legs=_v2_legs(path), amount=amount(x) or None))
            else:
                out.append(SwapPath(legs=_v2_legs(path), amount=x, mode="v2_out_in"))
        elif command == WRAP_ETH:
            _, x = decode(["address", "uint256"], data)
            wrapped = value if x == CONTRACT_BALANCE else x
        elif command == V4_SWAP:
            out += _v4_actions(data)
        elif command == EXECUTE_SUB_PLAN:
            sub_commands, sub_inputs = decode(["bytes", "bytes[]"], data)
            out += _universal(sub_commands, sub_inputs, 0)
    return out


def decode_swap(
    tx: Mapping[str, Any],
    states: Mapping[str, PoolState],
    paid: dict[tuple[str, str], int],
    base_fee: int,
) -> PendingSwap | None:
    """The swap `tx` makes, or None. Pending transfers to a V2 pair of `states` are added to
    `paid` ((pair, token) -> amount), to be used by that pair's swap."""
    to = checksum_address(tx["to"]) if tx.get("to") else ""
    data = bytes.fromhex(str(tx["input"])[2:])
    sel, args = data[:4], data[4:]
    value = int(str(tx.get("value") or "0x0"), 16)
    paths: list[SwapPath]
    try:
        if to == A.UNISWAP_V3_SWAP_ROUTER and sel == _EXACT_INPUT_SINGLE:
            (t_in, t_out, fee, _to, _dl, x, _min, _limit) = decode(
                ["(address,address,uint24,address,uint256,uint256,uint256,uint160)"], args
            )[0]
            leg = SwapLeg(
                pool=v3_pool_address(t_in, t_out, fee),
                token_in=checksum_address(t_in),
                token_out=checksum_address(t_out),
            )
            paths = [SwapPath(legs=(leg,), amount=x)]
        elif to == A.BALANCER_VAULT and sel == _VAULT_SWAP:
            single = decode(
                [
                    "(bytes32,uint8,address,address,uint256,bytes)",
                    "(address,bool,address,bool)",
                    "uint256",
                    "uint256",
                ],
                args,
            )[0]
            if single[1] != 0:  # GIVEN_OUT: not decoded
                return None
            leg = SwapLeg(
                pool=checksum_address("0x" + single[0][:20].hex()),
                token_in=checksum_address(single[2]),
                token_out=checksum_address(single[3]),
            )
            paths = [SwapPath(legs=(leg,), amount=single[4])]
        elif to == A.UNISWAP_V2_ROUTER02 and sel in _ROUTER02:
            types, how = _ROUTER02[sel]
            values = decode(types, args)
            if how == "value":  # swapExactETHFor...: the ETH sent is the input
                paths = [SwapPath(legs=_v2_legs(values[1]), amount=value)]
            elif how == "in":
                paths = [SwapPath(legs=_v2_legs(values[2]), amount=values[0])]
            else:  # exact output: amountOut first; the path follows amountInMax, if any
                path = values[2] if len(types) == 5 else values[1]
                paths = [SwapPath(legs=_v2_legs(path), amount=values[0], mode="out")]
        elif to == A.UNIVERSAL_ROUTER and sel in (_EXECUTE, _EXECUTE_DEADLINE):
            types = ["bytes", "bytes[]"] + (["uint256"] if sel == _EXECUTE_DEADLINE else [])
            commands, inputs = decode(types, args)[:2]
            paths = _universal(commands, inputs, value)
        elif sel == _TRANSFER and len(args) >= 64:
            recipient, amount = decode(["address", "uint256"], args[:64])
            pair = states.get(checksum_address(recipient))
            if isinstance(pair, V2PairState) and to in (pair.token0, pair.token1):
                paid[pair.address, to] = paid.get((pair.address, to), 0) + amount
            return None
        elif sel == _PAIR_SWAP and isinstance(states.get(to), V2PairState):
            out0, out1, _to, _data = decode(["uint256", "uint256", "address", "bytes"], args)
            pair = states[to]
            assert isinstance(pair, V2PairState)
            t_in, t_out = (pair.token1, pair.token0) if out0 else (pair.token0, pair.token1)
            leg = SwapLeg(pool=pair.address, token_in=t_in, token_out=t_out)
            x = paid.pop((pair.address, t_in), 0)
            paths = [SwapPath(legs=(leg,), amount=x, mode="pair", amounts_out=(out0, out1))]
        else:
            return None
    except (DecodingError, ValueError, TypeError, FlasharbError):  # malformed: not readable
        return None
    if not paths:
        return None
    tip, max_fee = _tip(tx, base_fee)
    return PendingSwap(
        tx_hash=tx["hash"],
        paths=tuple(paths),
        tip_wei=tip,
        max_fee_wei=max_fee,
        call=_call(tx),
    )


# ---------------------------------------------------------------- the overlay


def _exact_in(state: PoolState, leg: SwapLeg, x: int) -> tuple[PoolState, int]:
    """`state` after selling exactly `x` of leg.token_in, and what it paid."""
    if isinstance(state, V2PairState):
        out = state.quote_exact_in(leg.token_in, leg.token_out, x)
        return _v2_moved(state, leg.token_in, x, out), out
    if isinstance(state, V3PoolState):
        r = state.swap(leg.token_in == state.token0, x)
        if not r.filled:
            raise FlasharbValueError(f"V3 pool {state.address} cannot take {x}")
        return state.apply(r), r.amount_out
    if isinstance(state, V4PoolState):
        v4 = state.swap(_v4_zero_for_one(state, leg), -x)
        if not v4.filled:
            raise FlasharbValueError(f"V4 pool {leg.pool} cannot take {x}")
        return state.apply(v4), v4.amount_out
    if isinstance(state, WeightedPoolState):
        out = state.quote_exact_in(leg.token_in, leg.token_out, x)
        return state.apply_swap(leg.token_in, leg.token_out, x, out), out
    raise FlasharbValueError(f"pool {leg.pool}: no exact-input overlay for {type(state).__name__}")


def _exact_out(state: PoolState, leg: SwapLeg, y: int) -> tuple[PoolState, int]:
    """`state` after buying exactly `y` of leg.token_out, and what it was paid (V2: the
    router's getAmountIn)."""
    if isinstance(state, V2PairState):
        r_in, r_out = state.reserves_for(leg.token_in)
        x = get_amount_in(y, r_in, r_out, state.fee_pips)
        return _v2_moved(state, leg.token_in, x, y), x
    if isinstance(state, V3PoolState):
        r = state.swap(leg.token_in == state.token0, -y)
        if not r.filled:
            raise FlasharbValueError(f"V3 pool {state.address} cannot pay {y}")
        return state.apply(r), r.amount_in
    if isinstance(state, V4PoolState):
        v4 = state.swap(_v4_zero_for_one(state, leg), y)
        if not v4.filled:
            raise FlasharbValueError(f"V4 pool {leg.pool} cannot pay {y}")
        return state.apply(v4), v4.amount_in
    raise FlasharbValueError(f"pool {leg.pool}: no exact-output overlay for {type(state).__name__}")


def _v4_zero_for_one(state: V4PoolState, leg: SwapLeg) -> bool:
    c0 = state.key.currency0
    token_in = checksum_address(leg.token_in)
    return token_in == c0 or (c0 == NATIVE and token_in == A.WETH)


def _v2_moved(state: V2PairState, token_in: str, x: int, out: int) -> V2PairState:
    if checksum_address(token_in) == state.token0:
        return replace(state, reserve0=state.reserve0 + x, reserve1=state.reserve1 - out)
    return replace(state, reserve0=state.reserve0 - out, reserve1=state.reserve1 + x)


def apply_swap(
    states: Mapping[str, PoolState], swap: PendingSwap
) -> tuple[dict[str, PoolState], frozenset[str]]:
    """The states of the pools `swap` moves, after it (an overlay: `states` is untouched), and
    the pools it touches that could not be followed (no state, or the amount reaching them is
    unknown): `(moved, blind)`.

    Raises:
        FlasharbError: a pool's own math refuses the swap (it would revert on chain).
    """
    moved: dict[str, PoolState] = {}
    blind: set[str] = set()
    carry: int | None = None  # what the previous path delivered

    def state_of(pool: str) -> PoolState | None:
        return moved.get(pool) or states.get(pool)

    for path in swap.paths:
        amount = path.amount if path.amount is not None else carry
        carry = None
        if amount is None or amount <= 0:
            blind.update(leg.pool for leg in path.legs)
            continue
        if path.mode == "pair":
            state = state_of(path.legs[0].pool)
            if not isinstance(state, V2PairState) or path.amounts_out is None:
                blind.add(path.legs[0].pool)
                continue
            out0, out1 = path.amounts_out
            in0, in1 = (amount, 0) if path.legs[0].token_in == state.token0 else (0, amount)
            moved[state.address] = replace(
                state, reserve0=state.reserve0 + in0 - out0, reserve1=state.reserve1 + in1 - out1
            )
            continue
        if path.mode == "in" or path.mode == "v2_out_in":
            x = amount
            if path.mode == "v2_out_in":  # the UniversalRouter pays getAmountsIn's input...
                missing = [leg.pool for leg in path.legs if state_of(leg.pool) is None]
                if missing:
                    blind.update(leg.pool for leg in path.legs)
                    continue
                for leg in reversed(path.legs):
                    _, x = _exact_out(state_of(leg.pool), leg, x)  # type: ignore[arg-type]
            for i, leg in enumerate(path.legs):  # ... and every pair pays getAmountOut
                state = state_of(leg.pool)
                if state is None:
                    blind.update(later.pool for later in path.legs[i:])
                    break
                moved[leg.pool], x = _exact_in(state, leg, x)
            else:
                carry = x
            continue
        # exact output: the last pool first, each paid what the next one needs
        y = amount
        for i in range(len(path.legs) - 1, -1, -1):
            leg = path.legs[i]
            state = state_of(leg.pool)
            if state is None:
                blind.update(earlier.pool for earlier in path.legs[: i + 1])
                break
            moved[leg.pool], y = _exact_out(state, leg, y)
        else:
            carry = amount
    for pool in blind:
        moved.pop(pool, None)
    return moved, frozenset(blind)
