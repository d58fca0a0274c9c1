"""Value any token in ETH through its deepest WETH pool of any venue, exactly.

The price is the pool's marginal (mid) price, without fee or slippage: good enough to order
opportunities across tokens and to convert a gas bill, not to quote a trade. It is kept as an
exact ratio, `1 token wei = num/den ETH wei`, so the amounts shown are integer conversions
(floored); the float form only feeds the screen.

Each venue quotes its pools against WETH (`flasharb.search.venue.Venue.weth_quotes`). Depth,
to pick the pool: the WETH reserve (V2), the WETH balance (Balancer), or the WETH virtual
reserve of the current range, `L*2^96/sqrtP` or `L*sqrtP/2^96` (V3, V4). Ties go to the lower
pool uid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flasharb.amm.pool import PoolState
from flasharb.amm.uniswap_v2 import checksum_address
from flasharb.errors import FlasharbValueError
from flasharb.search.venue import venue_of

__all__ = ["EthPrice", "PriceBook", "eth_price", "token_value_in_eth", "weth_prices"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EthPrice:
    """`1 token wei = num / den ETH wei`, read from `pool`."""

    token: str
    pool: str  # uid
    num: int
    den: int
    depth_weth: int  # what made this pool the deepest, in WETH wei

    def to_eth(self, amount: int) -> int:
        """`amount` token wei in ETH wei, floored."""
        return amount * self.num // self.den

    def from_eth(self, wei: int) -> int:
        """`wei` ETH wei in token wei, floored."""
        return wei * self.den // self.num

    @property
    def as_float(self) -> float:
        """ETH wei per token wei, for the screen only."""
        return self.num / self.den


def _quotes(state: PoolState, weth: str) -> Iterable[tuple[str, int, int, int]]:
    """(token, num, den, depth) for each token the pool prices against WETH."""
    return venue_of(state).weth_quotes(state, weth)


def weth_prices(states: Iterable[PoolState], weth: str) -> dict[str, EthPrice]:
    """token -> its price through its deepest WETH pool, for every token that has one."""
    weth = checksum_address(weth)
    best: dict[str, EthPrice] = {}
    for state in states:
        for token, num, den, depth in _quotes(state, weth):
            seen = best.get(token)
            mine = (depth, seen.pool.lower() if seen else "")
            if seen is None or mine > (seen.depth_weth, state.uid.lower()):
                best[token] = EthPrice(
                    token=token, pool=state.uid, num=num, den=den, depth_weth=depth
                )
    return best


def eth_price(prices: Mapping[str, EthPrice], token: str, weth: str) -> EthPrice:
    """The price of `token` (WETH is worth itself); FlasharbValueError naming the token when
    no pool prices it against WETH."""
    if token == weth:
        return EthPrice(token=weth, pool=weth, num=1, den=1, depth_weth=0)
    price = prices.get(token)
    if price is None:
        raise FlasharbValueError(
            f"token {token} has no pool with WETH {weth} and reserves: cannot value it in ETH"
        )
    return price


def token_value_in_eth(token: str, amount: int, states: Mapping[str, PoolState], weth: str) -> int:
    """`amount` of `token` in ETH wei at the mid price of its deepest WETH pool (floor)."""
    token, weth = checksum_address(token), checksum_address(weth)
    if token == weth:
        return amount
    return eth_price(weth_prices(states.values(), weth), token, weth).to_eth(amount)


class PriceBook:
    """`weth_prices`, kept current as pools change: each token's WETH pools and their quotes,
    re-ranked only for the tokens of the pools that moved."""

    def __init__(self, states: Iterable[PoolState], weth: str) -> None:
        self.weth = checksum_address(weth)
        self._quotes: dict[str, dict[str, EthPrice]] = {}  # token -> pool -> its quote
        self._priced: dict[str, set[str]] = {}  # pool -> the tokens it quotes
        self._best: dict[str, EthPrice] = {}
        self.update(states)

    def update(self, states: Iterable[PoolState]) -> set[str]:
        """Take new states (new pools too); re-rank the tokens they price. Returns those
        tokens."""
        touched: set[str] = set()
        for state in states:
            for token in self._priced.pop(state.uid, ()):  # its old quotes go first
                self._quotes[token].pop(state.uid, None)
                touched.add(token)
            priced = set()
            for token, num, den, depth in _quotes(state, self.weth):
                self._quotes.setdefault(token, {})[state.uid] = EthPrice(
                    token=token, pool=state.uid, num=num, den=den, depth_weth=depth
                )
                priced.add(token)
            if priced:
                self._priced[state.uid] = priced
                touched |= priced
        for token in touched:
            quotes = self._quotes.get(token, {})
            if not quotes:
                self._best.pop(token, None)
                continue
            self._best[token] = min(  # the deepest; among equals the lowest address
                quotes.values(), key=lambda p: (-p.depth_weth, p.pool.lower())
            )
        return touched

    def get(self, token: str) -> EthPrice | None:
        """The token's price (WETH: itself), or None when no WETH pool prices it."""
        if token == self.weth:
            return EthPrice(token=self.weth, pool=self.weth, num=1, den=1, depth_weth=0)
        return self._best.get(token)

    def price(self, token: str) -> EthPrice:
        """As `get`; FlasharbValueError naming the token when nothing prices it."""
        return eth_price(self._best, token, self.weth)

    def as_dict(self) -> dict[str, EthPrice]:
        return dict(self._best)
