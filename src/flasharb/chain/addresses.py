"""The address book: canonical Ethereum mainnet addresses of everything flasharb touches.

The same addresses hold on the replica and on a fork of real mainnet; nothing in the engine
branches on which one it is.
"""

from __future__ import annotations

from eth_utils import to_checksum_address

# Tokens
WETH = to_checksum_address("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2")
USDC = to_checksum_address("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48")
DAI = to_checksum_address("0x6B175474E89094C44Da98b954EedeAC495271d0F")
WBTC = to_checksum_address("0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599")
USDT = to_checksum_address("0xdAC17F958D2ee523a2206206994597C13D831ec7")
LINK = to_checksum_address("0x514910771AF9Ca656af840dff83E8264EcF986CA")

# Uniswap V2 and the SushiSwap venue (both Uniswap-V2-style factories)
UNISWAP_V2_FACTORY = to_checksum_address("0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f")
SUSHISWAP_FACTORY = to_checksum_address("0xC0AEe478e3658e2610c5F7A4A2E1777cE9e4f2Ac")
UNISWAP_V2_PAIR_INIT_CODE_HASH = bytes.fromhex(
    "96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f"
)
UNISWAP_V3_POOL_INIT_CODE_HASH = bytes.fromhex(
    "e34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54"
)

# Balancer V2
BALANCER_VAULT = to_checksum_address("0xBA12222222228d8Ba445958a75a0704d566BF2C8")
BALANCER_AUTHORIZER = to_checksum_address("0xA331D84eC860Bf466b4CdCcFb4aC09a1B43F3aE6")
BALANCER_PROTOCOL_FEES_COLLECTOR = to_checksum_address("0xce88686553686DA562CE7Cea497CE749DA109f9F")

V2_FACTORIES: dict[str, str] = {"uniswap_v2": UNISWAP_V2_FACTORY, "sushiswap": SUSHISWAP_FACTORY}

# Tokens the Balancer Vault lends on the replica (and holds in depth on mainnet).
FLASH_TOKENS: tuple[str, ...] = (WETH, USDC, USDT, DAI, WBTC)


# Uniswap V3 (core from @uniswap/v3-core, periphery from @uniswap/v3-periphery)
UNISWAP_V3_FACTORY = to_checksum_address("0x1F98431c8aD98523631AE4a59f267346ea31F984")
UNISWAP_V3_POSITION_MANAGER = to_checksum_address("0xC36442b4a4522E871399CD717aBDD847Ab11FE88")
UNISWAP_V3_SWAP_ROUTER = to_checksum_address("0xE592427A0AEce92De3Edee1F18E0157C05861564")
UNISWAP_V3_QUOTER_V2 = to_checksum_address("0x61fFE014bA17989E743c5F6cB21bF9697530B21e")
V3_FEE_TIERS: dict[int, int] = {100: 1, 500: 10, 3000: 60, 10000: 200}  # fee -> tick spacing

# Balancer V2 weighted pools and queries
# (@balancer-labs/v2-deployments, tasks/*/output/mainnet.json)
BALANCER_WEIGHTED_POOL_FACTORY = to_checksum_address("0x8E9aa87E45e92bad84D5F8DD1bff34Fb92637dE9")
BALANCER_WEIGHTED_POOL_2TOKENS_FACTORY = to_checksum_address(
    "0xA5bf2ddF098bb0Ef6d120C98217dD6B141c74EE0"
)
BALANCER_QUERIES = to_checksum_address("0xE39B5e3B6D74016b2F6A9673D7d7493B6DF549d5")

# Balancer V2 pools of the 20230206 deployments, the fee provider they read, and the wstETH rate
# provider (@balancer-labs/v2-deployments, tasks/*/output/mainnet.json)
BALANCER_WEIGHTED_POOL_V3_FACTORY = to_checksum_address(
    "0x5Dd94Da3644DDD055fcf6B3E1aa310Bb7801EB8b"
)
BALANCER_COMPOSABLE_STABLE_POOL_V3_FACTORY = to_checksum_address(
    "0xdba127fBc23fb20F5929C546af220A991b5C6e01"
)
BALANCER_PROTOCOL_FEE_PERCENTAGES_PROVIDER = to_checksum_address(
    "0x97207B095e4D5C9a6e4cfbfcd2C3358E03B90c4A"
)
BALANCER_WSTETH_RATE_PROVIDER = to_checksum_address("0x72D07D7DcA67b8A406aD1Ec34ce969c90bFEE768")
WSTETH = to_checksum_address("0x7f39C581F595B53c5cb19bD0b3f8dA6c935E2Ca0")

# Uniswap V4 (@uniswap/v4-core, @uniswap/v4-periphery) and the routers swaps arrive through
# (@uniswap/v2-periphery, @uniswap/universal-router; Permit2 from its DeployPermit2 bytecode)
UNISWAP_V4_POOL_MANAGER = to_checksum_address("0x000000000004444c5dc75cB358380D2e3dE08A90")
UNISWAP_V4_POSITION_MANAGER = to_checksum_address("0xbD216513d74C8cf14cf4747E6AaA6420FF64ee9e")
UNISWAP_V4_QUOTER = to_checksum_address("0x52F0E24D1c21C8A0cB1e5a5dD6198556BD9E1203")
UNISWAP_V4_STATE_VIEW = to_checksum_address("0x7fFE42C4a5DEeA5b0feC41C94C136Cf115597227")
UNISWAP_V2_ROUTER02 = to_checksum_address("0x7a250d5630B4cF539739dF2C5dAcb4c659F2488D")
UNIVERSAL_ROUTER = to_checksum_address("0x66a9893cC07D91D95644AEDD05D03f95e1dBA8Af")
PERMIT2 = to_checksum_address("0x000000000022D473030F116dDEE9F6B43aC78BA3")
NATIVE_ETH = "0x0000000000000000000000000000000000000000"  # a V4 currency: native ether
