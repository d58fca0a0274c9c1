"""The keys the trader signs with, locally: no node unlocks accounts for a real bot.

`FLASHARB_EXECUTOR_KEY` (a 0x-hex private key) names the signer. Without it, on a lab fork, the
account the deployment names is signed for with its Anvil development key: Anvil derives its
accounts from a published mnemonic, so their keys are public knowledge and fine for a fork,
never for a chain with value on it.
"""

from __future__ import annotations

import os
from functools import cache

from eth_account import Account
from eth_account.hdaccount import key_from_seed, seed_from_mnemonic
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from flasharb.errors import FlasharbValueError

__all__ = ["ANVIL_MNEMONIC", "EXECUTOR_KEY_ENV", "dev_key", "signer"]

ANVIL_MNEMONIC = "test test test test test test test test test test test junk"  # Anvil's default
DEV_ACCOUNTS = 10  # accounts anvil funds by default
EXECUTOR_KEY_ENV = "FLASHARB_EXECUTOR_KEY"


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


def signer(address: str | None = None) -> LocalAccount:
    """The account the trader signs with: `FLASHARB_EXECUTOR_KEY` when set (and, if `address`
    is given, it must be that account), else `address`'s Anvil development key.

    Raises:
        FlasharbValueError: the variable holds no valid key, names another account than
            `address`, or there is no variable and `address` is not an Anvil account.
    """
    raw = os.environ.get(EXECUTOR_KEY_ENV)
    if raw:
        try:
            account: LocalAccount = Account.from_key(raw.strip())
        except (ValueError, TypeError) as exc:
            raise FlasharbValueError(
                f"{EXECUTOR_KEY_ENV} is not a 32-byte hex private key; fix or unset it"
            ) from exc
        if address is not None and account.address != to_checksum_address(address):
            raise FlasharbValueError(
                f"{EXECUTOR_KEY_ENV} signs for {account.address}, not the executor "
                f"{to_checksum_address(address)}; set the executor's key"
            )
        return account
    if address is None:
        raise FlasharbValueError(f"no signer: set {EXECUTOR_KEY_ENV} to the executor's key")
    key = dev_key(address)
    if key is None:
        raise FlasharbValueError(
            f"{to_checksum_address(address)} is not an Anvil development account and "
            f"{EXECUTOR_KEY_ENV} is not set; set it to the executor's private key"
        )
    local: LocalAccount = Account.from_key(key)
    return local
