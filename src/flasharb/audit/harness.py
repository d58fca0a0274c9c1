"""`run_audit(w3, target, abi)`: every generic attack on one contract, each mined on the fork
inside its own snapshot, each with a verdict; the whole audit inside one more snapshot, so the
fork is left exactly as it was found.

The verdict of an attack (flasharb.audit.report.Verdict):
- HOLE: the target's ETH or a token balance went down; it approved someone (an allowance went
  up); or a storage word or its code changed — every attacker here is unauthorized, so a write
  is a stranger changing its state;
- NOTE: a loan, callback or transfer from a stranger was accepted and nothing was lost;
- SAFE: refused (reverted), or accepted with nothing changed (a stranger's harmless call).
Before any attack, an allowance the target already gives anyone is a standing-approval HOLE.

Transactions are mined with explicit gas (ATTACK_GAS), so one that reverts is mined too and its
revert is read from the node's trace; their effects come from the node's prestate diff
(flasharb.audit.watch).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, cast

from eth_abi import decode
from eth_utils import to_checksum_address
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3RPCError

from flasharb.audit.abi import FEE_TIERS, Function, Market, describe_revert, error_table, functions
from flasharb.audit.arena import STRANGER, Arena, build_arena
from flasharb.audit.attacks import ATTACK_KINDS, Attack, Call, Kind, Scene, plan
from flasharb.audit.harvest import Lender, LoanCall, harvest
from flasharb.audit.report import Approval, AuditReport, Row, Verdict
from flasharb.audit.watch import (
    APPROVAL_TOPIC,
    ETH,
    Holdings,
    Watch,
    granted_to_all,
    read,
    state_diff,
)
from flasharb.chain import addresses as A
from flasharb.chain.artifacts import contract
from flasharb.chain.cheats import balance_of, impersonate, set_balance, snapshot, stop_impersonating
from flasharb.chain.rpc import RPC_TIMEOUT, checksum
from flasharb.errors import FlasharbValueError
from flasharb.kinds import HopKind
from flasharb.state.discovery import discover
from flasharb.state.registry import PoolRegistry
from flasharb.state.tokens import token_info

__all__ = ["ATTACK_GAS", "COMMON_SPENDERS", "run_audit"]

ATTACK_GAS = 6_000_000  # explicit: an attack that reverts is mined too
GAS_MONEY = 10 * 10**18  # ETH given to an impersonated lender for gas
APPROVAL_LOOKBACK = 10_000  # blocks of the target's Approval logs searched for spenders
MAX_TOKENS = 64  # tokens watched and dealt as inventory: the most pooled (all of the replica's)
SPENDER_NAMES: dict[str, str] = {
    A.BALANCER_VAULT: "Balancer Vault",
    A.UNISWAP_V3_SWAP_ROUTER: "Uniswap V3 SwapRouter",
    A.UNISWAP_V3_POSITION_MANAGER: "Uniswap V3 position manager",
    to_checksum_address("0x68b3465833fb72a70ecdf485e0e4c7bd8665fc45"): "Uniswap SwapRouter02",
    to_checksum_address("0x7a250d5630b4cf539739df2c5dacb4c659f2488d"): "Uniswap V2 Router02",
    to_checksum_address("0xd9e1ce17f2641f24ae83637ab66a2cca9c378b9f"): "SushiSwap router",
    to_checksum_address("0x3fc91a3afd70395cd496c647d5a6cc9d4b2b7fad"): "Uniswap Universal Router",
    to_checksum_address("0x000000000022d473030f116ddee9f6b43ac78ba3"): "Permit2",
    to_checksum_address("0x1111111254eeb25477b68fb85ed929f73a960582"): "1inch v5 router",
    to_checksum_address("0xdef1c0ded9bec7f1a1670819833240f027b25eff"): "0x exchange proxy",
}
COMMON_SPENDERS = tuple(SPENDER_NAMES)  # every allowance to these is read, for every token
Log = Callable[[str], None]


def run_audit(
    w3: Web3,
    target: str,
    abi: Sequence[dict[str, Any]],
    *,
    owner: str | None = None,
    kinds: Sequence[Kind] = ATTACK_KINDS,
    stranger: str = STRANGER,
    log: Log | None = None,
) -> AuditReport:
    """Audit the contract at `target` (its ABI `abi`) on the fork `w3` talks to.

    `owner` is the account the target trusts (default: what an `owner()` function returns);
    the harness only uses it to harvest the loan data the owner's own trades would send.
    `kinds` restricts the attack families; the standing-approval check always runs.
    """
    say = log or (lambda _msg: None)
    target = checksum(target, "--target")
    if not w3.eth.get_code(cast(Any, target)):
        raise FlasharbValueError(
            f"no contract at --target {target} on this fork (block {w3.eth.block_number}); "
            "deploy it first or check the address"
        )
    fns = functions(abi)
    owner = checksum(owner, "--owner") if owner else _owner_of(w3, target, fns)
    registry = discover(w3)
    tokens = _market_tokens(registry)
    market = _market(registry, tokens, stranger)
    block, chain_id = w3.eth.block_number, w3.eth.chain_id
    say(f"{len(fns)} functions, {len(registry)} pools, {len(tokens)} tokens; owner {owner}")
    with snapshot(w3):
        impersonate(w3, stranger)
        try:
            arena = build_arena(
                w3,
                target,
                tokens,
                registry.decimals,
                stranger=stranger,
                hostile=Kind.HOSTILE_TOKEN in kinds,
            )
            callers = ([("owner", owner)] if owner else []) + [("stranger", stranger)]
            loans = harvest(w3, target, fns, callers, market)
            say(f"harvested {len(loans)} loan call(s) from the target's own functions")
            watch = _watch(w3, target, tokens, registry, arena, loans, block)
            base = read(w3, watch)
            scene = _scene(w3, target, fns, market, arena, loans, registry)
            inherent = granted_to_all(w3, base.allowances)
            rows = _standing_approvals(base, scene.names, inherent)
            errors = error_table(abi) | error_table(contract("AttackerRelay").abi)
            attacks = plan(scene, kinds)
            say(f"{len(attacks)} attacks")
            for attack in attacks:
                rows.append(_run(w3, attack, watch, base, errors))
            shown = {a for r in rows for a, _ in r.moved} | {
                a.token for r in rows for a in r.approvals
            }
            info = token_info(w3, shown - {ETH})
        finally:
            stop_impersonating(w3, stranger)
    return AuditReport(
        target=target,
        block=block,
        chain_id=chain_id,
        owner=owner,
        stranger=stranger,
        inventory=dict(arena.inventory),
        no_inventory=arena.no_inventory,
        harvested=tuple(
            {"lender_kind": x.lender_kind.value, "lender": x.lender, "source": x.source}
            for x in loans
        ),
        rows=tuple(rows),
        tokens=info,
        names=scene.names,
    )


# ---------------------------------------------------------------- what the harness knows


def _owner_of(w3: Web3, target: str, fns: Sequence[Function]) -> str | None:
    """What the target's `owner()` returns, if it has one (ERC-173, Ownable)."""
    fn = next((f for f in fns if f.signature == "owner()"), None)
    if fn is None:
        return None
    try:
        raw = w3.eth.call({"to": target, "data": "0x" + fn.selector.hex()})  # type: ignore[typeddict-item]
        (owner,) = decode(["address"], bytes(raw))
    except Exception:  # noqa: BLE001 - an owner() that is not ERC-173's: no owner known
        return None
    return to_checksum_address(owner) if int(owner, 16) else None


def _market_tokens(registry: PoolRegistry) -> list[str]:
    """The tokens of the fork's pools, the most pooled first (at most MAX_TOKENS of them)."""
    counts = Counter(t for p in registry for t in p.tokens)
    return sorted(counts, key=lambda t: (-counts[t], t))[:MAX_TOKENS]


def _market(registry: PoolRegistry, tokens: Sequence[str], stranger: str) -> Market:
    top = set(tokens[:2])
    v3 = sorted(
        (p for p in registry.of_kind(HopKind.UNISWAP_V3) if top <= set(p.tokens)),
        key=lambda p: -p.fee,
    ) or registry.of_kind(HopKind.UNISWAP_V3)
    v2 = sorted(
        (p for p in registry.of_kind(HopKind.UNISWAP_V2) if top <= set(p.tokens)),
        key=lambda p: p.venue != "uniswap_v2",
    ) or registry.of_kind(HopKind.UNISWAP_V2)
    return Market(
        stranger=stranger,
        tokens=tuple(tokens[:8]),
        pool=v3[0].address if v3 else stranger,
        pool_fee=v3[0].fee if v3 else FEE_TIERS[-1],
        pair=v2[0].address if v2 else stranger,
    )


def _approval_spenders(w3: Web3, target: str, head: int) -> dict[str, set[str]]:
    """token -> spenders of the target's past Approval logs (the last APPROVAL_LOOKBACK blocks)."""
    try:
        logs = w3.eth.get_logs(
            {
                "fromBlock": max(0, head - APPROVAL_LOOKBACK),
                "toBlock": head,
                "topics": [APPROVAL_TOPIC, "0x" + "00" * 12 + target[2:].lower()],
            }
        )
    except Exception:  # noqa: BLE001 - a node that caps log ranges: the fixed spenders only
        return {}
    out: dict[str, set[str]] = {}
    for entry in logs:
        if len(entry["topics"]) == 3:
            spender = to_checksum_address(entry["topics"][2][-20:])
            out.setdefault(to_checksum_address(entry["address"]), set()).add(spender)
    return out


def _watch(
    w3: Web3,
    target: str,
    tokens: Sequence[str],
    registry: PoolRegistry,
    arena: Arena,
    loans: Sequence[LoanCall],
    head: int,
) -> Watch:
    pools: dict[str, list[str]] = {t: [] for t in tokens}
    for p in registry:
        for t in p.tokens:
            if t in pools:
                pools[t].append(p.address)
    for x in loans:
        for t in x.args[1] if x.lender_kind is Lender.BALANCER else ():
            pools.setdefault(t, [])
    for name, token in arena.zoo.items():
        pools.setdefault(token, []).append(arena.zoo_pairs[name])
    extra = (arena.stranger, arena.relay, arena.lookalike, *{x.lender for x in loans})
    logged = _approval_spenders(w3, target, head)
    spenders = {
        t: tuple(dict.fromkeys([*COMMON_SPENDERS, *ps, *extra, *sorted(logged.get(t, ()))]))
        for t, ps in pools.items()
    }
    for t, ss in logged.items():
        spenders.setdefault(t, tuple(sorted(ss)))
    return Watch(target=target, tokens=tuple(spenders), spenders=spenders)


def _scene(
    w3: Web3,
    target: str,
    fns: Sequence[Function],
    market: Market,
    arena: Arena,
    loans: Sequence[LoanCall],
    registry: PoolRegistry,
) -> Scene:
    """The scene, with what each lender holds (to size loans it can make)."""
    lender_tokens: dict[str, tuple[str, ...]] = {}
    lender_fees: dict[str, int] = {}
    for address in {market.pool, market.pair, *(x.lender for x in loans)}:
        pool = registry.get(address)
        if pool is not None and pool.kind is not HopKind.BALANCER:
            lender_tokens[address] = pool.tokens
            lender_fees[address] = pool.fee
    for name, token in arena.zoo.items():
        pair = arena.zoo_pairs[name]
        lender_tokens[pair] = tuple(sorted((token, A.WETH), key=lambda a: int(a, 16)))
    balances: dict[tuple[str, str], int] = {}
    for lender, ts in lender_tokens.items():
        for t in ts:
            balances[(lender, t)] = balance_of(w3, t, lender)
    vault_tokens = {t for x in loans if x.lender == A.BALANCER_VAULT for t in x.args[1]}
    for t in {*market.tokens[:2], *vault_tokens}:
        balances[(A.BALANCER_VAULT, to_checksum_address(t))] = balance_of(w3, t, A.BALANCER_VAULT)
    vault_loans = tuple(
        (t, balances[(A.BALANCER_VAULT, t)] // 1000)
        for t in market.tokens[:2]
        if balances[(A.BALANCER_VAULT, t)] > 0
    )

    def flash(pool: str) -> tuple[str, int] | None:
        ts = lender_tokens.get(pool)
        return (pool, balances[(pool, ts[0])] // 1000) if ts else None

    info = token_info(
        w3,
        {
            *market.tokens[:2],
            *arena.zoo.values(),
            *(t for ts in lender_tokens.values() for t in ts),
        },
    )
    symbols = {t: str(i["symbol"]) for t, i in info.items()}
    names = _names(registry, lender_tokens, symbols)
    return Scene(
        target=target,
        functions=tuple(fns),
        market=market,
        arena=arena,
        loans=tuple(loans),
        vault_loans=vault_loans,
        v3_flash=flash(market.pool),
        v2_flash=flash(market.pair),
        lender_tokens=lender_tokens,
        lender_fees=lender_fees,
        lender_balances=balances,
        symbols=symbols,
        names=names,
    )


def _names(
    registry: PoolRegistry, lender_tokens: dict[str, tuple[str, ...]], symbols: dict[str, str]
) -> dict[str, str]:
    """Known spenders and the pools the attacks use, by name: "V3 USDC/WETH 0.05% pool"."""
    names: dict[str, str] = dict(SPENDER_NAMES)
    for address, tokens in lender_tokens.items():
        pool = registry.get(address)
        pair = "/".join(symbols.get(t, t[:8]) for t in tokens)
        if pool is None:
            names[address] = f"{pair} pair (the attacker's)"
        elif pool.kind is HopKind.UNISWAP_V3:
            names[address] = f"V3 {pair} {Decimal(pool.fee) / 10_000}% pool"  # fee in pips
        else:
            names[address] = f"{pool.venue} {pair} pair"
    return names


def _standing_approvals(
    base: Holdings, names: dict[str, str], inherent: set[tuple[str, str]]
) -> list[Row]:
    return [
        Row(
            kind=Kind.STANDING_APPROVAL,
            attack=f"allowance to the {names.get(spender, spender)} left standing",
            caller="-",
            result=Verdict.HOLE,
            detail="the spender can pull this token at any time, as long as the approval stands",
            approvals=(Approval(token=token, spender=spender, before=amount, after=amount),),
        )
        for (token, spender), amount in sorted(base.allowances.items())
        if amount > 0 and (token, spender) not in inherent  # (a token's own grant: not given)
    ]


# ---------------------------------------------------------------- one attack


def _mine(w3: Web3, call: Call) -> tuple[int | None, str | None, Any, str]:
    """(status, tx hash, receipt, error) of `call` mined with explicit gas; status None: the
    node refused to mine it (error says why)."""
    tx: dict[str, Any] = {
        "from": call.sender,
        "data": "0x" + call.data.hex(),
        "value": call.value,
        "gas": ATTACK_GAS,
    }
    if call.to is not None:
        tx["to"] = call.to
    try:
        tx_hash = w3.eth.send_transaction(cast(Any, tx))
    except (ContractLogicError, ValueError, Web3RPCError) as exc:
        return None, None, None, str(exc).splitlines()[0][:200]
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RPC_TIMEOUT, poll_latency=0.01)
    return int(receipt["status"]), tx_hash.to_0x_hex(), receipt, ""


def _revert(w3: Web3, tx_hash: str, errors: dict[bytes, dict[str, Any]]) -> str:
    resp = w3.provider.make_request(
        "debug_traceTransaction",  # type: ignore[arg-type]
        [tx_hash, {"tracer": "callTracer"}],
    )
    result = resp.get("result") or {}
    out = result.get("output")
    data = bytes.fromhex(out[2:]) if isinstance(out, str) and len(out) > 2 else None
    if data is None and "gas" in str(result.get("error", "")).lower():
        return f"out of gas ({result['error']})"
    return describe_revert(data, errors)


def _run(
    w3: Web3, attack: Attack, watch: Watch, base: Holdings, errors: dict[bytes, dict[str, Any]]
) -> Row:
    with snapshot(w3):
        for account in attack.impersonate:
            set_balance(w3, account, GAS_MONEY)
            impersonate(w3, account)
        try:
            return _play(w3, attack, watch, base, errors)
        finally:
            for account in attack.impersonate:
                stop_impersonating(w3, account)


def _play(
    w3: Web3, attack: Attack, watch: Watch, base: Holdings, errors: dict[bytes, dict[str, Any]]
) -> Row:
    before = base
    for call in attack.prelude:
        status, tx_hash, receipt, err = _mine(w3, call)
        if status != 1 or tx_hash is None:
            why = err or (_revert(w3, tx_hash, errors) if tx_hash else "not mined")
            return _row(attack, Verdict.NOTE, f"could not set up the attack: {why}")
        changed = state_diff(w3, tx_hash, watch.target, receipt["logs"]).touched
        allowances = [t for t in watch.tokens if t in changed]
        before = before.updated(read(w3, watch, allowance_tokens=allowances))
    first_block = w3.eth.block_number + 1
    mined: list[tuple[Call, int | None]] = []
    reasons: list[str] = []
    touched: set[str] = set()
    approvals: set[tuple[str, str]] = set()
    storage: list[tuple[str, str, str]] = []
    code_changed = False
    for call in attack.calls:
        status, tx_hash, receipt, err = _mine(w3, call)
        mined.append((call, status))
        if status is None or tx_hash is None:
            reasons.append(f"not mined: {err}")
            continue
        if status == 0:  # a reverted transaction changes nothing but its sender's gas
            reasons.append(_revert(w3, tx_hash, errors))
            continue
        diff = state_diff(w3, tx_hash, watch.target, receipt["logs"])
        touched |= diff.touched
        approvals |= set(diff.approvals)
        storage.extend(diff.target_storage)
        code_changed |= diff.target_code_changed
    if not any(status == 1 for _, status in mined):
        return _judge(attack, before, before, mined, reasons, storage, code_changed)
    logged = {(t, s) for t, s in approvals if s not in watch.spenders.get(t, ())}
    w = watch.with_spenders({t: [s] for t, s in logged}) if logged else watch
    after = read(w3, w, allowance_tokens=[t for t in w.tokens if t in touched])
    if logged:  # spenders nobody watched: their allowance before the attack, from history
        new = Watch(
            target=w.target,
            tokens=tuple({t for t, _ in logged}),
            spenders={t: tuple(s for tt, s in logged if tt == t) for t, _ in logged},
        )
        before = before.updated(read(w3, new, with_balances=False, block=first_block - 1))
    return _judge(attack, before, after, mined, reasons, storage, code_changed)


def _row(attack: Attack, verdict: Verdict, detail: str, **more: Any) -> Row:
    return Row(
        kind=attack.kind,
        attack=attack.name,
        caller=attack.caller,
        result=verdict,
        detail=detail,
        **more,
    )


def _judge(
    attack: Attack,
    before: Holdings,
    after: Holdings,
    mined: Sequence[tuple[Call, int | None]],
    reasons: Sequence[str],
    storage: Sequence[tuple[str, str, str]],
    code_changed: bool,
) -> Row:
    moved = tuple(
        (asset, after.balances[asset] - amount)
        for asset, amount in before.balances.items()
        if asset in after.balances and after.balances[asset] != amount
    )
    approvals = tuple(
        Approval(token=t, spender=s, before=before.allowances.get((t, s), 0), after=value)
        for (t, s), value in sorted(after.allowances.items())
        if value > before.allowances.get((t, s), 0)
    )
    accepted = sum(1 for _, status in mined if status == 1)
    if len(mined) == 1:
        detail = "accepted" if accepted else reasons[0]
    else:
        distinct = sorted(set(reasons))
        detail = f"{accepted} of {len(mined)} calls accepted" + (
            f"; reverts: {'; '.join(distinct[:3])}" + (" …" if len(distinct) > 3 else "")
            if distinct
            else ""
        )
    if code_changed:
        detail = f"the target's code changed; {detail}"
    lost = any(delta < 0 for _, delta in moved)
    if lost or approvals or storage or code_changed:
        verdict = Verdict.HOLE
    elif (accepted and attack.note_if_accepted) or any(st is None for _, st in mined):
        verdict = Verdict.NOTE  # accepted with nothing lost, or not even mined: look at it
    else:
        verdict = Verdict.SAFE
    return _row(
        attack,
        verdict,
        detail,
        moved=moved,
        approvals=approvals,
        storage=tuple(storage),
        txs=tuple(mined),
    )
