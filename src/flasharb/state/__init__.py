"""Pool discovery, batched state reads and incremental sync (DESIGN.md §4).

- `discovery.discover(w3, block=, venues=Venues(...)) -> PoolRegistry`: pools from the
  factories (allPairs, PoolCreated) and the Balancer Vault (PoolRegistered), weighted pools only.
- `reader.read_states(w3, pools, block=, config=ReadConfig(...)) -> ReadResult`: the state of
  hundreds of pools per eth_call (`V2PairState`, `V3PoolState`, `WeightedPoolState`).
- `sync.StateSync.start(w3)` then `.sync() -> SyncResult`: re-read only what logs say changed.
- `v2`: the V2-only helpers the search and the CLI use (`discover_pairs`, `refresh_reserves`).
"""
