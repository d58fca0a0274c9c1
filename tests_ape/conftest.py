"""`ape test` suite: runs on ethereum:mainnet-fork:foundry with ape's own fixtures and isolation.

Run by tests/test_ape.py inside `make test`; see ape-config.yaml to run it by hand.
"""
