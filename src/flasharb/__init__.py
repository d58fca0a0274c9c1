"""flasharb: a lab for flash-loan arbitrage on a local forked Ethereum chain."""

__version__ = "0.1.0"
