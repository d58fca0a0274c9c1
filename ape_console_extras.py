"""`ape console` in this project: `Contract(address)` knows the canonical mainnet contracts, the
pools and the recorded diamond on the fork (their ABIs come from flasharb's npm artifacts)."""

from flasharb.ape_support import ape_init_extras  # noqa: F401 - ape calls it at start-up
