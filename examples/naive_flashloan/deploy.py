"""Deploy NaiveFlashLoan on the running fork and write its ABI, for `flasharb audit` to attack.

    flasharb node up
    python examples/naive_flashloan/deploy.py            # prints the address, writes the ABI
    flasharb audit --target ADDRESS --abi NaiveFlashLoan.abi.json

It is compiled with flasharb's own solc shim (flasharb.chain.artifacts.compile_file) and deployed
from the fork's first account, approving the Uniswap V3 SwapRouter for WETH, USDC and DAI (the
standing approvals the audit reports). DO NOT deploy it anywhere but a local fork.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from eth_abi import encode
from web3 import Web3

from flasharb.chain import addresses as A
from flasharb.chain.artifacts import compile_file
from flasharb.chain.rpc import connect, find_rpc_url, send

SOURCE = Path(__file__).with_name("NaiveFlashLoan.sol")
APPROVED = (A.WETH, A.USDC, A.DAI)  # tokens the constructor approves the router for


def deploy_naive(w3: Web3, owner: str) -> tuple[str, list[dict[str, Any]]]:
    """(address, ABI) of a fresh NaiveFlashLoan owned by `owner`."""
    art = compile_file(SOURCE)["NaiveFlashLoan"]
    code = art.bytecode + encode(["address[]"], [list(APPROVED)])
    receipt = send(w3, {"from": owner, "data": "0x" + code.hex()}, "deploy NaiveFlashLoan")
    return str(receipt["contractAddress"]), art.abi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--abi-out", default="NaiveFlashLoan.abi.json", type=Path)
    args = parser.parse_args()
    w3 = connect(find_rpc_url())
    address, abi = deploy_naive(w3, w3.eth.accounts[0])
    args.abi_out.write_text(json.dumps(abi, indent=2))
    print(f"NaiveFlashLoan at {address}; ABI in {args.abi_out}")
    print(f"flasharb audit --target {address} --abi {args.abi_out}")


if __name__ == "__main__":
    main()
