"""The world the diamond fuzz runs in, and the checks it makes after every call.

`World` is the session fork with the diamond deployed, stocked with 1,000 units of every
replica token and 1 ETH forced in by SELFDESTRUCT, an allowlisted executor, a bribe cap and a
block producer to pay (bribes are part of the cases), one pool shocked (so honest routes can
profit), the exact state of every pool (to size honest routes), and contract addresses to call
from (impersonated: the Balancer Vault, a V3 pool, a V2 pair, a Balancer pool).

Each case is one call at the diamond. Half are mined (eth_sendTransaction, then the receipt)
and half simulated with eth_simulateV1 (the call and every read after it in one request; no
block is mined). After each: the diamond's balance of every token and of ETH is at least what it
was, less what an owner withdrawal or distribution reported (a bribe comes out of the profit
only, so it never takes the balance below where it started); it holds no allowance to the
Vault, the routers or any pool the call named; and only the callers allowed to succeed did.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from web3 import Web3

from flasharb.amm.pool import PoolState
from flasharb.chain import addresses as A
from flasharb.chain.cheats import deal, set_balance
from flasharb.errors import FlasharbError
from flasharb.kinds import HopKind
from flasharb.search.route import pack_execute_arb
from flasharb.state.reader import read_states
from flasharb.state.registry import PoolInfo
from flasharb_testing import routes as R

FUZZ_EXAMPLES = int(os.environ.get("FLASHARB_FUZZ_EXAMPLES", "1000"))
GAS = 3_000_000  # explicit: reverting calls are mined too, without estimation
V2_ROUTER = to_checksum_address("0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D")
SUSHI_ROUTER = to_checksum_address("0xd9e1cE17f2641f24aE83637ab66a2cca9C378B9F")
SPENDERS = (A.BALANCER_VAULT, A.UNISWAP_V3_SWAP_ROUTER, V2_ROUTER, SUSHI_ROUTER)

TRANSFER = keccak(text="Transfer(address,address,uint256)")
APPROVAL = keccak(text="Approval(address,address,uint256)")
WITHDRAWN = keccak(text="Withdrawn(address,address,uint256)")
ETH_WITHDRAWN = keccak(text="EthWithdrawn(address,uint256)")
DISTRIBUTED = keccak(text="Distributed(address,address,uint256)")
BALANCE_OF = function_signature_to_4byte_selector("balanceOf(address)")
ALLOWANCE = function_signature_to_4byte_selector("allowance(address,address)")

OWNER_ONLY = {
    "withdraw",
    "withdrawEth",
    "distribute",
    "setBeneficiaries",
    "setExecutor",
    "setPaused",
    "setNotionalCap",
    "setMaxBribeBps",
    "setMinProfit",
}
MAX_BRIBE_BPS = 5_000  # the owner's cap in the fuzz world
COINBASE = to_checksum_address("0x" + "c0" * 20)  # the block producer bribes go to
FED_ETH = 10**18  # forced into the diamond (SELFDESTRUCT): withdrawEth has something to move
CALLBACKS = {
    "receiveFlashLoan",
    "uniswapV3SwapCallback",
    "uniswapV3FlashCallback",
    "uniswapV2Call",
    "unlockCallback",
}
SIGNATURES = {
    "executeArb": "executeArb()",  # its arguments follow packed: pack_execute_arb
    "receiveFlashLoan": "receiveFlashLoan(address[],uint256[],uint256[],bytes)",
    "uniswapV3SwapCallback": "uniswapV3SwapCallback(int256,int256,bytes)",
    "uniswapV3FlashCallback": "uniswapV3FlashCallback(uint256,uint256,bytes)",
    "uniswapV2Call": "uniswapV2Call(address,uint256,uint256,bytes)",
    "unlockCallback": "unlockCallback(bytes)",
    "withdraw": "withdraw(address,address,uint256)",
    "withdrawEth": "withdrawEth(address,uint256)",
    "distribute": "distribute(address)",
    "setBeneficiaries": "setBeneficiaries(address[],uint16[])",
    "setExecutor": "setExecutor(address,bool)",
    "setPaused": "setPaused(bool)",
    "setNotionalCap": "setNotionalCap(address,uint256)",
    "setMaxBribeBps": "setMaxBribeBps(uint16)",
    "setMinProfit": "setMinProfit(address,uint256)",
}


def calldata(fn: str, args: Sequence[Any]) -> bytes:
    if fn == "executeArb":  # source, path, amounts, minProfit, terms: packed after the selector
        source, path, amounts, min_profit, terms = args
        return pack_execute_arb(source, path, amounts, min_profit, terms)
    sig = SIGNATURES[fn]
    types = sig[sig.index("(") + 1 : -1].split(",") if not sig.endswith("()") else []
    return function_signature_to_4byte_selector(sig) + encode(types, list(args))


class Rpc:
    """Raw JSON-RPC over one keep-alive session: batches of calls in one round trip."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self._id = 0

    def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        body = []
        for method, params in calls:
            self._id += 1
            body.append({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params})
        replies = self.session.post(self.url, json=body, timeout=60).json()
        by_id = {r["id"]: r for r in replies}
        return [by_id[b["id"]] for b in body]

    def call(self, method: str, params: list[Any]) -> Any:
        reply = self.batch([(method, params)])[0]
        if "error" in reply:
            raise AssertionError(f"{method}: {reply['error']}")
        return reply["result"]


@dataclass(frozen=True, slots=True)
class Cycle:
    """An honest route: the token, then per hop (pool, token_in, token_out)."""

    token: str
    hops: tuple[tuple[PoolInfo, str, str], ...]


@dataclass(repr=False)  # hypothesis prints the fixture with a failing case: keep it short
class World:
    w3: Web3
    rpc: Rpc
    diamond: str
    owner: str
    executor: str
    stranger: str
    contracts: dict[str, str]  # role -> an impersonated contract address
    pools: list[PoolInfo]
    tokens: list[str]
    decimals: dict[str, int]
    states: dict[str, PoolState]
    cycles: list[Cycle]
    baseline: dict[str, int]
    profitable: list[tuple[Cycle, int]] = field(
        default_factory=list
    )  # (cycle, amount in)  # token (or "ETH") -> the diamond's balance
    snapshot: str = ""  # evm_snapshot of the baseline; a mined success reverts to it
    stats: dict[str, int] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"World(diamond={self.diamond}, {len(self.pools)} pools, {len(self.cycles)} cycles)"

    @property
    def callers(self) -> dict[str, str]:
        return {
            "owner": self.owner,
            "executor": self.executor,
            "stranger": self.stranger,
            **self.contracts,
        }


def _cycles(pools: list[PoolInfo]) -> list[Cycle]:
    """2-hop cycles over every pair of pools sharing two tokens, and 3-hop cycles through the
    flash tokens, every venue; deterministic order."""
    by_pair: dict[frozenset[str], list[PoolInfo]] = {}
    for p in pools:
        for i, a in enumerate(p.tokens):
            for b in p.tokens[i + 1 :]:
                by_pair.setdefault(frozenset((a, b)), []).append(p)
    out: list[Cycle] = []
    for pair, ps in sorted(by_pair.items(), key=lambda kv: sorted(kv[0])):
        a, b = sorted(pair)
        for p in ps:
            for q in ps:
                if p.address != q.address:
                    out.append(Cycle(a, ((p, a, b), (q, b, a))))
    big = A.FLASH_TOKENS
    for a in big:
        for b in big:
            for c in big:
                if len({a, b, c}) < 3:
                    continue
                legs = [by_pair.get(frozenset(x), []) for x in ((a, b), (b, c), (c, a))]
                if all(legs):
                    out.append(
                        Cycle(a, ((legs[0][0], a, b), (legs[1][-1], b, c), (legs[2][0], c, a)))
                    )
    return out


FUZZ_VENUES = frozenset({"uniswap_v2", "sushiswap", "uniswap_v3", "balancer"})


def build_world(w3: Web3, rpc_url: str, deployment: Any, executor: str, stranger: str) -> World:
    """Set the stage inside the caller's snapshot: stock, allowlist, shock, read every pool."""
    rpc = Rpc(rpc_url)
    owner, diamond = deployment.owner, deployment.diamond
    reg = R.registry(w3)
    # the venues whose pools the fuzzer's routes name by address (a V4 pool is an entry of the
    # PoolManager, a ComposableStable pool lists its own BPT and native ETH is no ERC-20)
    pools = sorted((p for p in reg if p.venue in FUZZ_VENUES), key=lambda p: p.address)
    tokens = sorted({t for p in pools for t in p.tokens})
    for t in tokens:
        deal(w3, t, diamond, 1000 * 10 ** (reg.decimals.get(t) or 18))
    init = b"\x73" + bytes.fromhex(diamond[2:]) + b"\xff"  # PUSH20 diamond SELFDESTRUCT
    forced = {"from": stranger, "data": "0x" + init.hex(), "value": hex(FED_ETH)}
    assert w3.eth.wait_for_transaction_receipt(rpc.call("eth_sendTransaction", [forced]))["status"]
    rpc.call("anvil_setCoinbase", [COINBASE])
    for fn, args in (
        ("setExecutor", [executor, True]),
        ("setBeneficiaries", [[stranger], [10_000]]),  # so an owner's distribute moves funds
        ("setMaxBribeBps", [MAX_BRIBE_BPS]),
    ):
        tx = {"from": owner, "to": diamond, "data": "0x" + calldata(fn, args).hex()}
        receipt = w3.eth.wait_for_transaction_receipt(rpc.call("eth_sendTransaction", [tx]))
        assert receipt["status"] == 1, fn
    R.shock_v2_weth_usdc(w3)  # 500 WETH into Uniswap V2 WETH/USDC: some honest routes pay
    res = read_states(w3, pools)
    kinds = (HopKind.UNISWAP_V2, HopKind.UNISWAP_V3, HopKind.BALANCER)  # the pools named below
    first = {k: next(p.address for p in pools if p.kind is k) for k in kinds}
    contracts = {
        "vault": A.BALANCER_VAULT,
        "v3_pool": first[HopKind.UNISWAP_V3],
        "v2_pair": first[HopKind.UNISWAP_V2],
        "balancer_pool": first[HopKind.BALANCER],
        "pool_manager": A.UNISWAP_V4_POOL_MANAGER,  # the V4 lender: unlockCallback's one caller
    }
    for addr in contracts.values():
        set_balance(w3, addr, 10**20)
    rpc.call("anvil_autoImpersonateAccount", [True])
    world = World(
        w3=w3,
        rpc=rpc,
        diamond=diamond,
        owner=owner,
        executor=executor,
        stranger=stranger,
        contracts=contracts,
        pools=pools,
        tokens=tokens,
        decimals={t: reg.decimals.get(t) or 18 for t in tokens},
        states=dict(res.states),
        cycles=_cycles([p for p in pools if p.address in res.states]),
        baseline={},
    )
    world.profitable = [
        (c, a)
        for c in world.cycles
        for e in range(world.decimals[c.token] - 2, world.decimals[c.token] + 7)
        for a in (10**e, 2 * 10**e, 5 * 10**e)
        if (outs := honest_outs(world, c, a)) and outs[-1] > a
    ]
    world.baseline = read_balances(world)
    world.snapshot = str(rpc.call("evm_snapshot", []))
    return world


def honest_outs(world: World, cycle: Cycle, amount_in: int) -> list[int] | None:
    """Each hop's exact output from the pool math, or None where a pool cannot quote it."""
    outs, amount = [], amount_in
    try:
        for pool, t_in, t_out in cycle.hops:
            amount = world.states[pool.address].quote_exact_in(t_in, t_out, amount)
            outs.append(amount)
    except FlasharbError:
        return None
    return outs


# ---------------------------------------------------------------- reads and checks


def _eth_call(to: str, data: bytes) -> tuple[str, list[Any]]:
    return "eth_call", [{"to": to, "data": "0x" + data.hex()}, "latest"]


def balance_reads(world: World) -> list[dict[str, str]]:
    """One balanceOf(diamond) call per token, as call objects."""
    data = "0x" + (BALANCE_OF + encode(["address"], [world.diamond])).hex()
    return [{"to": t, "data": data} for t in world.tokens]


def allowance_reads(world: World, pairs: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    return [
        {
            "to": t,
            "data": "0x" + (ALLOWANCE + encode(["address", "address"], [world.diamond, s])).hex(),
        }
        for t, s in pairs
    ]


def read_balances(world: World) -> dict[str, int]:
    calls = [("eth_call", [c, "latest"]) for c in balance_reads(world)]
    replies = world.rpc.batch([*calls, ("eth_getBalance", [world.diamond, "latest"])])
    out = {t: int(r["result"], 16) for t, r in zip(world.tokens, replies, strict=False)}
    out["ETH"] = int(replies[-1]["result"], 16)
    return out


def allowance_pairs(
    world: World, named: Sequence[str], logs: Sequence[dict[str, Any]]
) -> list[tuple[str, str]]:
    """(token, spender) pairs to check: every token of the pools the call named (and every
    token the call named) against the Vault, the routers and those pools; plus every pair an
    Approval by the diamond in `logs` names."""
    named_set = {to_checksum_address(a) for a in named}
    pools = [p for p in world.pools if p.address in named_set]
    toks = {t for p in pools for t in p.tokens} | (named_set & set(world.tokens))
    spenders = set(SPENDERS) | {p.address for p in pools}
    pairs = {(t, s) for t in toks for s in spenders}
    for log in logs:
        topics = [bytes.fromhex(str(x)[2:]) for x in log["topics"]]
        if len(topics) == 3 and topics[0] == APPROVAL and _addr(topics[1]) == world.diamond:
            pairs.add((to_checksum_address(log["address"]), _addr(topics[2])))
    return sorted(pairs)


def _addr(word: bytes) -> str:
    return to_checksum_address("0x" + word[12:].hex())


def allowed_decrease(world: World, caller: str, logs: Sequence[dict[str, Any]]) -> dict[str, int]:
    """What an owner withdrawal or distribution took out, per token (from its events)."""
    out: dict[str, int] = {}
    if caller != world.owner:
        return out
    for log in logs:
        topics = [bytes.fromhex(str(x)[2:]) for x in log["topics"]]
        if log["address"].lower() == world.diamond.lower() and topics[0] == ETH_WITHDRAWN:
            (amount,) = decode(["uint256"], bytes.fromhex(log["data"][2:]))
            out["ETH"] = out.get("ETH", 0) + int(amount)
        elif log["address"].lower() == world.diamond.lower() and topics[0] in (
            WITHDRAWN,
            DISTRIBUTED,
        ):
            token = _addr(topics[1])
            (amount,) = decode(["uint256"], bytes.fromhex(log["data"][2:]))
            out[token] = out.get(token, 0) + int(amount)
    return out


def check_balances(world: World, after: dict[str, int], allowed: dict[str, int], what: str) -> None:
    for token, before in world.baseline.items():
        floor = before - allowed.get(token, 0)
        assert after[token] >= floor, (
            f"{what}: the diamond's {token} fell from {before} to {after[token]} "
            f"(an owner withdrawal accounts for {allowed.get(token, 0)})"
        )


def check_allowances(
    world: World, pairs: Sequence[tuple[str, str]], values: Sequence[int], what: str
) -> None:
    left = [(t, s, v) for (t, s), v in zip(pairs, values, strict=True) if v != 0]
    assert not left, f"{what}: the diamond left allowances standing: {left}"


def check_authority(world: World, fn: str, caller: str, ok: bool, what: str) -> None:
    if not ok:
        return
    assert fn not in CALLBACKS, f"{what}: a callback succeeded outside any arb"
    if fn == "executeArb":
        assert caller in (world.owner, world.executor), f"{what}: executeArb ran for {caller}"
    if fn in OWNER_ONLY:
        assert caller == world.owner, f"{what}: {fn} ran for {caller}"


# ---------------------------------------------------------------- one case


@dataclass(frozen=True, slots=True)
class Case:
    """One call at the diamond: function (or "raw"), caller role, calldata, and the addresses
    it names (pools and tokens whose allowances are checked afterwards)."""

    fn: str
    caller: str
    data: bytes
    named: tuple[str, ...] = ()


def run_case(world: World, case: Case, mined: bool) -> None:
    """Send `case` (mined) or simulate it (eth_simulateV1), then check every property."""
    sender = world.callers[case.caller]
    what = f"{case.fn} from {case.caller} ({'mined' if mined else 'simulated'})"
    tx = {"from": sender, "to": world.diamond, "data": "0x" + case.data.hex(), "gas": hex(GAS)}
    key = f"{'mined' if mined else 'simulated'}"
    world.stats[key] = world.stats.get(key, 0) + 1
    if mined:
        ok, logs = _mine(world, tx)
        after = read_balances(world)
    else:
        ok, logs, after = _simulate(world, tx)
    world.stats["succeeded"] = world.stats.get("succeeded", 0) + int(ok)
    if ok:
        world.stats[f"ok:{case.fn}"] = world.stats.get(f"ok:{case.fn}", 0) + 1
    check_authority(world, case.fn, sender, ok, what)
    check_balances(world, after, allowed_decrease(world, sender, logs), what)
    if not ok:
        return  # a reverted call changes nothing: no allowance can be left standing
    pairs = allowance_pairs(world, case.named, logs)
    if pairs:
        if mined:
            replies = world.rpc.batch(
                [("eth_call", [c, "latest"]) for c in allowance_reads(world, pairs)]
            )
            values = [int(r["result"], 16) for r in replies]
        else:
            values = [
                int(c["returnData"], 16)
                for c in _simulate_calls(world, tx, allowance_reads(world, pairs))[1:]
            ]
        check_allowances(world, pairs, values, what)
    if mined:  # back to the baseline for the next case
        world.rpc.call("evm_revert", [world.snapshot])
        world.snapshot = str(world.rpc.call("evm_snapshot", []))


def _mine(world: World, tx: dict[str, Any]) -> tuple[bool, list[dict[str, Any]]]:
    tx_hash = world.rpc.call("eth_sendTransaction", [tx])
    receipt = None
    while receipt is None:
        receipt = world.rpc.call("eth_getTransactionReceipt", [tx_hash])
    return int(receipt["status"], 16) == 1, list(receipt["logs"])


def _simulate_calls(
    world: World, tx: dict[str, Any], reads: list[dict[str, str]]
) -> list[dict[str, Any]]:
    payload = {"blockStateCalls": [{"calls": [tx, *reads]}], "validation": False}
    blocks = world.rpc.call("eth_simulateV1", [payload, "latest"])
    return list(blocks[0]["calls"])


def _simulate(
    world: World, tx: dict[str, Any]
) -> tuple[bool, list[dict[str, Any]], dict[str, int]]:
    calls = _simulate_calls(world, tx, balance_reads(world))
    ok = int(calls[0]["status"], 16) == 1
    after = {t: int(c["returnData"], 16) for t, c in zip(world.tokens, calls[1:], strict=True)}
    after["ETH"] = world.baseline["ETH"]  # not read here: the mined half checks ETH
    return ok, list(calls[0].get("logs", [])), after
