"""One exact quote of one pool at one block: what the pool pays (or asks), to the wei.

    q = quote(w3, "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc", "WETH", amount_in=10**18)
    q.amount_out    # exactly what UniswapV2Pair.swap would pay for 1 WETH now

The pool is identified on the chain (any venue flasharb prices), its state read in one call,
and quoted with the venue's own integer math (flasharb.amm). A Uniswap V3 quote that needs
tick-bitmap words beyond the window read widens it (`WINDOWS`) rather than guess. `flasharb
quote` is this function.
"""

from __future__ import annotations

from dataclasses import dataclass

from web3 import Web3

from flasharb.chain.rpc import checksum
from flasharb.errors import FlasharbValueError, IncompleteStateError
from flasharb.state.lookup import identify
from flasharb.state.reader import ReadConfig, read_states
from flasharb.state.tokens import resolve_symbol

__all__ = ["WINDOWS", "Quote", "quote"]

WINDOWS = (2, 32, 3000)  # V3 tick-bitmap words read either side of the price, in turn


@dataclass(frozen=True, slots=True, kw_only=True)
class Quote:
    """An exact quote: `amount_in` of `token_in` buys `amount_out` of `token_out` in `pool`."""

    pool: str
    venue: str
    token_in: str
    token_out: str
    amount_in: int
    amount_out: int
    block: int

    def to_json(self) -> dict[str, object]:
        """The `flasharb quote --json` shape: amounts as decimal strings of base units."""
        return {
            "amount_out": str(self.amount_out),
            "amount_in": str(self.amount_in),
            "pool": self.pool,
            "venue": self.venue,
            "token_in": self.token_in,
            "token_out": self.token_out,
            "block": self.block,
        }


def _token(value: str, what: str) -> str:
    return checksum(value, what) if value.startswith("0x") else resolve_symbol(value).address


def quote(
    w3: Web3,
    pool: str,
    token_in: str,
    *,
    amount_in: int | None = None,
    amount_out: int | None = None,
    token_out: str | None = None,
    block: int | None = None,
) -> Quote:
    """The exact quote of selling `amount_in` (or buying `amount_out`) of `token_in` in `pool`
    at `block` (default: the head). Tokens by address or known symbol ("WETH"); `token_out`
    only for pools of three or more tokens.

    Raises:
        FlasharbValueError: not both or neither amount, an amount that is not positive, a pool
            flasharb cannot price, a token not in the pool.
        InsufficientLiquidityError: the pool cannot fill the swap.
    """
    if (amount_in is None) == (amount_out is None):
        raise FlasharbValueError("give exactly one of amount_in or amount_out")
    amount = amount_in if amount_in is not None else amount_out
    if amount is None or amount <= 0:
        raise FlasharbValueError(f"the amount must be a positive integer of base units: {amount}")
    try:
        info = identify(w3, checksum(pool, "pool"), block=block)
    except FlasharbValueError as exc:
        if "check the address" in str(exc):
            raise
        raise FlasharbValueError(f"{exc}; check the address") from exc
    t_in = _token(token_in, "token_in")
    if t_in not in info.tokens:
        raise FlasharbValueError(f"token_in {t_in} is not in pool {info.address} {info.tokens}")
    if token_out is None:
        others = [t for t in info.tokens if t != t_in]
        if len(others) != 1:
            raise FlasharbValueError(
                f"pool {info.address} has {len(info.tokens)} tokens: give token_out"
            )
        t_out = others[0]
    else:
        t_out = _token(token_out, "token_out")
        if t_out not in info.tokens or t_out == t_in:
            raise FlasharbValueError(
                f"token_out {t_out} is not another token of pool {info.address} {info.tokens}"
            )
    for words in WINDOWS:  # V3: widen the tick window until the swap fits in it
        res = read_states(w3, [info], block=block, config=ReadConfig(words_per_side=words))
        state = res.states.get(info.address)
        if state is None:
            raise FlasharbValueError(
                f"pool {info.address} state could not be read: {res.failed.get(info.address)}"
            )
        try:
            if amount_in is not None:
                paid_in, paid_out = amount, state.quote_exact_in(t_in, t_out, amount)
            else:
                paid_in, paid_out = state.quote_exact_out(t_in, t_out, amount), amount
        except IncompleteStateError:
            if words == WINDOWS[-1]:
                raise
            continue
        return Quote(
            pool=info.address,
            venue=info.venue,
            token_in=t_in,
            token_out=t_out,
            amount_in=paid_in,
            amount_out=paid_out,
            block=res.block,
        )
    raise AssertionError("unreachable")  # pragma: no cover
