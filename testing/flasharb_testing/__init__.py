"""Scaffolding for flasharb's own tests and benchmarks (not shipped with the package):
synthetic mainnet-shaped markets, pool-state builders, a Bellman-Ford cross-check of the cycle
index, and hand-built routes on a fork."""
