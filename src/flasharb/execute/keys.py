"""The keys the trader signs with, locally: no node unlocks accounts for a real bot.

`FLASHARB_EXECUTOR_KEY` (a 0x-hex private key) names the signer. Without it, on a lab fork, the
account the deployment names is signed for with its Anvil development key: Anvil derives its
accounts from a published mnemonic, so their keys are public knowledge and fine for a fork,
never for a chain with value on it.

Issue 17: a master/children deployment generates one executor key per child and a risk key
(the circuit breaker's, which may only pause children), and keeps each in the project's key
store, `<state dir>/keys/<checksum address>.key` (the folder 0700, each file 0600, written
atomically, never printed): random keys nobody else knows, unlike the development keys, and as
many as there are children. `FLASHARB_RISK_KEY` replaces the generated risk key. `signer(address)`
finds a stored key by its address.
"""

from __future__ import annotations

import os
import secrets
from functools import cache
from pathlib import Path

from eth_account import Account
from eth_account.hdaccount import key_from_seed, seed_from_mnemonic
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from flasharb.errors import FlasharbValueError
from flasharb.paths import state_dir

__all__ = [
    "ANVIL_MNEMONIC",
    "EXECUTOR_KEY_ENV",
    "RISK_KEY_ENV",
    "dev_key",
    "generate_key",
    "key_store",
    "signer",
    "stored_key",
]

ANVIL_MNEMONIC = "test test test test test test test test test test test junk"  # Anvil's default
DEV_ACCOUNTS = 10  # accounts anvil funds by default
EXECUTOR_KEY_ENV = "FLASHARB_EXECUTOR_KEY"
RISK_KEY_ENV = "FLASHARB_RISK_KEY"  # the circuit breaker's key: may pause children, nothing else


@cache
def _dev_keys() -> dict[str, bytes]:
    seed = seed_from_mnemonic(ANVIL_MNEMONIC, "")
    keys = {}
    for i in range(DEV_ACCOUNTS):
        key = key_from_seed(seed, f"m/44'/60'/0'/0/{i}")
        keys[Account.from_key(key).address] = key
    return keys


def dev_key(address: str) -> bytes | None:
    """The Anvil development key of `address`, or None if it is not one of Anvil's accounts."""
    return _dev_keys().get(to_checksum_address(address))


def key_store() -> Path:
    """The project's key store: `<state dir>/keys/`, created 0700."""
    d = state_dir() / "keys"
    d.mkdir(mode=0o700, exist_ok=True)
    d.chmod(0o700)
    return d


def generate_key() -> LocalAccount:
    """A new random key, written to the key store as `<address>.key` (0600) before it is
    returned: whatever is funded or registered with it can always be signed for again."""
    account: LocalAccount = Account.from_key(secrets.token_bytes(32))
    path = key_store() / f"{account.address}.key"
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("0x" + bytes(account.key).hex() + "\n")
    tmp.replace(path)
    return account


def stored_key(address: str) -> LocalAccount | None:
    """The key store's key of `address`, or None if it holds none.

    Raises:
        FlasharbValueError: the file is readable by others, or holds no key of `address`.
    """
    path = state_dir(create=False) / "keys" / f"{to_checksum_address(address)}.key"
    if not path.exists():
        return None
    if path.stat().st_mode & 0o077:
        raise FlasharbValueError(f"{path} is readable by others; chmod 600 it")
    account: LocalAccount = Account.from_key(path.read_text().strip())
    if account.address != to_checksum_address(address):
        raise FlasharbValueError(f"{path} holds the key of {account.address}; remove it")
    return account


def _env_key(name: str) -> LocalAccount | None:
    raw = os.environ.get(name)
    if not raw:
        return None
    try:
        account: LocalAccount = Account.from_key(raw.strip())
    except (ValueError, TypeError) as exc:
        raise FlasharbValueError(
            f"{name} is not a 32-byte hex private key; fix or unset it"
        ) from exc
    return account


def signer(address: str | None = None) -> LocalAccount:
    """The account the trader signs with: `FLASHARB_EXECUTOR_KEY` when set (and, if `address`
    is given, it must be that account unless `FLASHARB_RISK_KEY` or the key store holds
    `address`'s key), else the key store's key of `address`, else `address`'s Anvil
    development key.

    Raises:
        FlasharbValueError: a variable holds no valid key, `FLASHARB_EXECUTOR_KEY` names
            another account than `address` (whose key is nowhere else), or there is no
            variable and `address` is neither stored nor an Anvil account.
    """
    executor = _env_key(EXECUTOR_KEY_ENV)
    if address is None:
        if executor is None:
            raise FlasharbValueError(f"no signer: set {EXECUTOR_KEY_ENV} to the executor's key")
        return executor
    want = to_checksum_address(address)
    for account in (executor, _env_key(RISK_KEY_ENV), stored_key(want)):
        if account is not None and account.address == want:
            return account
    if executor is not None:
        raise FlasharbValueError(
            f"{EXECUTOR_KEY_ENV} signs for {executor.address}, not the executor "
            f"{want}; set the executor's key"
        )
    key = dev_key(want)
    if key is None:
        raise FlasharbValueError(
            f"{want} is not an Anvil development account and "
            f"{EXECUTOR_KEY_ENV} is not set; set it to the executor's private key"
        )
    local: LocalAccount = Account.from_key(key)
    return local
