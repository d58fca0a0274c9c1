"""Hand-built routes on a fork, for the execution and audit tests and the gas bench: find a
fork's pools by venue and tokens, read the route's exact states, manufacture an opportunity
with a shock, size a route with the engine's exact sizing, plan it for FlashArbFacet, and send
it through the one trader.

The search engine finds routes by itself (flasharb.search.market); this is the hand-built
counterpart, for trades whose shape is fixed in advance (one per hop kind and capital source)."""

from __future__ import annotations

from typing import cast

from eth_utils import function_signature_to_4byte_selector
from web3 import Web3

from flasharb.amm.pool import PoolState
from flasharb.chain import addresses as A
from flasharb.errors import FlasharbValueError, TransactionFailed
from flasharb.execute.deploy import Deployment
from flasharb.execute.keys import signer
from flasharb.execute.plan import Plan, plan_route
from flasharb.execute.shock import shock
from flasharb.execute.trader import Prepared, SendPolicy, Trade, Trader
from flasharb.kinds import HopKind
from flasharb.search.capital import FlashSource, Lenders, fund
from flasharb.search.cycles import Cycle, Hop
from flasharb.search.exact import size_cycle
from flasharb.search.graph import v2_factory
from flasharb.search.market import Head
from flasharb.search.venue import Venue
from flasharb.state._rpc import batch
from flasharb.state.discovery import discover
from flasharb.state.reader import read_states
from flasharb.state.registry import PoolInfo, PoolRegistry
from flasharb.state.venue import Venues

_REGISTRIES: dict[str, PoolRegistry] = {}
_FEES_COLLECTOR = function_signature_to_4byte_selector("getProtocolFeesCollector()")
_FLASH_FEE = function_signature_to_4byte_selector("getFlashLoanFeePercentage()")


def registry(w3: Web3) -> PoolRegistry:
    """Every pool of the fork (discovered once per node: pools never move, their state does)."""
    key = str(w3.provider.endpoint_uri)  # type: ignore[attr-defined]
    if key not in _REGISTRIES:
        _REGISTRIES[key] = discover(w3)
    return _REGISTRIES[key]


def pool(
    w3: Web3, venue: str, token_a: str, token_b: str, *, fee: int | None = None, n_tokens: int = 2
) -> PoolInfo:
    """The pool of `venue` holding `token_a` and `token_b` (V3: at `fee`; Balancer: with
    `n_tokens` tokens)."""
    found = [
        p
        for p in registry(w3)
        if p.venue == venue
        and token_a in p.tokens
        and token_b in p.tokens
        and (fee is None or p.kind is not HopKind.UNISWAP_V3 or p.fee == fee)
        and sum(1 for t in p.tokens if t != p.address) == n_tokens  # a stable pool's BPT aside
    ]
    if len(found) != 1:
        raise FlasharbValueError(
            f"{len(found)} {venue} pools of {token_a}/{token_b} (fee {fee}) on this fork, not 1"
        )
    return found[0]


def hop(info: PoolInfo, token_in: str, token_out: str) -> Hop:
    """The route hop selling `token_in` for `token_out` in `info` (its venue's gas on top of
    its kind's)."""
    if info.kind is None:
        raise FlasharbValueError(f"{info.venue} pool {info.uid}: the diamond has no hop for it")
    venue = cast(Venue, Venues()[info.venue])
    return Hop(
        pool=info.uid,
        token_in=token_in,
        token_out=token_out,
        fee_pips=info.fee if info.kind is not HopKind.BALANCER else 0,
        kind=info.kind,
        pool_id=info.pool_id,
        factory=v2_factory(info.venue) if info.kind is HopKind.UNISWAP_V2 else 0,
        wide=sum(1 for t in info.tokens if t != info.address) > 2,
        gas=venue.hop_gas,
    )


def cycle(token: str, *legs: tuple[PoolInfo, str]) -> Cycle:
    """A cycle from `token` through `legs` (pool, token bought)."""
    hops, token_in = [], token
    for info, token_out in legs:
        hops.append(hop(info, token_in, token_out))
        token_in = token_out
    return Cycle(token=token, hops=tuple(hops))


def states(w3: Web3, route: Cycle, block: int | str = "latest") -> dict[str, PoolState]:
    """Exact states of the route's pools (one batched read)."""
    reg = registry(w3)
    res = read_states(w3, [reg[p] for p in route.pools], block=block)  # uids
    if res.failed:
        raise FlasharbValueError(f"state reads failed: {res.failed}")
    return dict(res.states)


def vault_flash_fee(w3: Web3, block: int | str = "latest") -> int:
    """The Balancer Vault's flash-loan fee percentage (1e18 = 100%), read from its protocol fees
    collector (the market reads the same figure with its lender balances)."""
    tag = hex(block) if isinstance(block, int) else block

    def call(to: str, data: bytes) -> bytes:
        out = batch(w3, [("eth_call", [{"to": to, "data": "0x" + data.hex()}, tag])], "flash fee")
        return bytes.fromhex(str(out[0])[2:])

    collector = Web3.to_checksum_address(
        "0x" + call(A.BALANCER_VAULT, _FEES_COLLECTOR)[12:32].hex()
    )
    return int.from_bytes(call(collector, _FLASH_FEE)[:32], "big")


def balancer(w3: Web3) -> FlashSource:
    """A Balancer Vault flash loan at the fork's real flash fee."""
    return FlashSource.balancer(vault_flash_fee(w3))


def token0(info: PoolInfo, token: str) -> bool:
    """`token` is `info`'s token0 (what a V3 or V2 lender's source word names)."""
    if token not in info.tokens:
        raise FlasharbValueError(f"pool {info.address} does not hold {token}")
    return info.tokens[0] == token  # a V2 or V3 pool lists token0 first


def _other(info: PoolInfo, token: str) -> str:
    return info.tokens[1] if token0(info, token) else info.tokens[0]


def v3_lender(info: PoolInfo, token: str) -> FlashSource:
    """A flash loan of `token` from the V3 pool `info`, at its fee tier."""
    return FlashSource.uniswap_v3(
        info.address, token0=token0(info, token), fee_pips=info.fee, other=_other(info, token)
    )


def v2_lender(info: PoolInfo, token: str) -> FlashSource:
    """A flash swap of `token` from the V2-style pair `info` (its venue's factory index), at its
    swap fee."""
    return FlashSource.uniswap_v2(
        info.address,
        token0=token0(info, token),
        fee_pips=info.fee,
        other=_other(info, token),
        factory=v2_factory(info.venue),
    )


def plan_at(w3: Web3, route: Cycle, amount_in: int, source: FlashSource) -> Plan:
    """`route` at `amount_in` from `source`, quoted on the fork's current states."""
    return plan_route(route, amount_in, source, states(w3, route))


def sized_plan(
    w3: Web3, route: Cycle, source: FlashSource, *, min_profit: int = 1
) -> tuple[Plan, dict[str, PoolState]]:
    """Read the route's pools, size it with the engine (best net of `source`'s fee), plan it;
    FlasharbValueError unless it pays at least `min_profit`."""
    st = states(w3, route)
    funded = fund(size_cycle(route, st), st, Lenders(), source=source, keep_loss=True)
    if funded is None:
        raise FlasharbValueError(f"route {route.pools} makes no profit at any input")
    p = plan_route(route, funded.sized.amount_in, source, st)
    if p.predicted_profit < min_profit:
        raise FlasharbValueError(
            f"route {route.pools} makes {p.predicted_profit} at its best size {p.amount_in}"
        )
    return p, st


def head(w3: Web3) -> Head:
    """The fork's head block."""
    return Head.of(batch(w3, [("eth_getBlockByNumber", ["latest", False])], "head")[0])


def trader(w3: Web3, deployment: Deployment, sender: str | None = None) -> Trader:
    """A trader signing as `sender` (an Anvil account; the diamond's owner by default)."""
    return Trader(w3, deployment, signer(sender or deployment.owner), policy=SendPolicy())


def prepare(t: Trader, p: Plan, *, min_profit: int = 0) -> Prepared:
    """`p` signed and simulated as mined on the next block. The nonce is read afresh: tests mine
    other transactions from the same account (owner calls, attacks) between trades."""
    t.resync_nonce()
    return t.prepare_plans([p], head(t.w3), min_profit=min_profit)[0]


def execute(t: Trader, p: Plan, *, min_profit: int = 0) -> Trade:
    """Prepare, send and reconcile `p`; TransactionFailed if it is refused or reverts."""
    return t.reconcile(t.send(prepare(t, p, min_profit=min_profit)))


def simulate(t: Trader, p: Plan, *, min_profit: int = 0) -> int:
    """The profit `p` makes in simulation as mined; TransactionFailed with the decoded revert."""
    prepared = prepare(t, p, min_profit=min_profit)
    if prepared.simulated_profit is None:
        raise TransactionFailed("executeArb simulation", prepared.error or "reverted")
    return prepared.simulated_profit


def shock_v2_weth_usdc(w3: Web3, weth: int = 500) -> None:
    """The demo's opportunity: `weth` WETH sold into Uniswap V2 WETH/USDC."""
    shock(w3, pool(w3, "uniswap_v2", A.WETH, A.USDC).address, A.WETH, weth * 10**18)


def v2_routes(w3: Web3) -> dict[str, Cycle]:
    """USDC cycles that buy the WETH made cheap on Uniswap V2 WETH/USDC, 2 to 4 V2 hops."""
    uni = pool(w3, "uniswap_v2", A.WETH, A.USDC)
    return {
        "2-hop": cycle(A.USDC, (uni, A.WETH), (pool(w3, "sushiswap", A.WETH, A.USDC), A.USDC)),
        "3-hop": cycle(
            A.USDC,
            (uni, A.WETH),
            (pool(w3, "uniswap_v2", A.WETH, A.DAI), A.DAI),
            (pool(w3, "uniswap_v2", A.USDC, A.DAI), A.USDC),
        ),
        "4-hop": cycle(
            A.USDC,
            (uni, A.WETH),
            (pool(w3, "uniswap_v2", A.WETH, A.DAI), A.DAI),
            (pool(w3, "uniswap_v2", A.DAI, A.USDT), A.USDT),
            (pool(w3, "uniswap_v2", A.USDC, A.USDT), A.USDC),
        ),
    }


def usdc(amount: int) -> int:
    """`amount` whole USDC in base units."""
    return amount * 10**6


__all__ = [
    "balancer",
    "cycle",
    "execute",
    "head",
    "hop",
    "plan_at",
    "pool",
    "prepare",
    "registry",
    "shock_v2_weth_usdc",
    "simulate",
    "sized_plan",
    "states",
    "token0",
    "trader",
    "usdc",
    "v2_lender",
    "v2_routes",
    "v3_lender",
    "vault_flash_fee",
]
