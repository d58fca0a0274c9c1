// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {FunctionNotFound} from "../Diamond.sol";
import {IBalancerVault} from "../interfaces/IBalancerVault.sol";
import {IERC20} from "../interfaces/IERC20.sol";
import {
    IUniswapV2Callee,
    IUniswapV3FlashCallback,
    IUniswapV3SwapCallback,
    IUnlockCallback
} from "../interfaces/IUniswapCallbacks.sol";
import {IWETH} from "../interfaces/IWETH.sol";
import {LibBalancer} from "../libraries/LibBalancer.sol";
import {LibGuard} from "../libraries/LibGuard.sol";
import {InvalidHopCount, InvalidRoute, LibRoute} from "../libraries/LibRoute.sol";
import {LibSafeERC20, TokenTransferFailed} from "../libraries/LibSafeERC20.sol";
import {LibUniswapV2} from "../libraries/LibUniswapV2.sol";
import {LibUniswapV3} from "../libraries/LibUniswapV3.sol";
import {LibUniswapV4} from "../libraries/LibUniswapV4.sol";
import {GuardStorage} from "../storage/GuardStorage.sol";
import {TransientState} from "../storage/TransientState.sol";

/// @notice Flash-loan arbitrage: take capital (a Balancer, Uniswap V3, Uniswap V2 or Uniswap V4 flash loan, or the
///         diamond's own inventory), swap it around a cycle of Uniswap V2, V3, V4 and Balancer pools, keep the profit.
/// @dev Gas is a product feature here: no storage writes (transient only), no standing approvals, a packed route
///      (LibRoute) with every V2 output computed off-chain (no getReserves; the pair's k check guards the amount),
///      each hop paying the next V2 pair directly, and one balance read before and after for the profit check.
///      Safety does not rest on the route being honest: every token the diamond pays out is either the route token
///      (covered by the final balance check) or exactly what the previous hop delivered (measured, or returned by a
///      pool whose address was derived, not given), so an executor that may trade cannot move inventory out.
///      No pool or lender is ever taken from calldata (issue 14): V3 pools are derived from the Uniswap V3 factory,
///      V2 pairs from an allowed Uniswap-V2-style factory (a one-byte index: UNISWAP_V2_FACTORY, SUSHISWAP_FACTORY,
///      immutables with their pair init-code hashes, read from each factory on the chain it was deployed to), so
///      the profit cannot be routed into a contract the executor wrote. What a route through genuine pools the
///      executor owns could still leave in them is bounded by the owner's minimum profit per token
///      (GuardFacet.setMinProfit), which the executor cannot lower.
///      Uniswap V4 (issue 16): a route with a V4 hop runs inside one PoolManager.unlock (a V4 loan is that unlock);
///      V4 pools are named by a PoolKey built on chain with no hooks, the PoolManager is a constant, and consecutive
///      V4 hops (and a V4 loan with the V4 hops next to it) net their deltas instead of moving tokens.
contract FlashArbFacet is
    IUniswapV3SwapCallback,
    IUniswapV3FlashCallback,
    IUniswapV2Callee,
    IUnlockCallback,
    TransientState
{
    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The Balancer V2 Vault: a flash-loan source, the only caller receiveFlashLoan accepts, Balancer hops.
    IBalancerVault internal constant BALANCER_VAULT = LibBalancer.VAULT; // 0xBA12...F2C8, same address on every chain

    /// @notice The Uniswap V4 PoolManager: a flash-loan source, V4 hops, the only caller unlockCallback accepts.
    address internal constant POOL_MANAGER = LibUniswapV4.POOL_MANAGER; // 0x0000...4444...8A90 (mainnet)

    /// @notice WETH9: a bribe in WETH is unwrapped and paid to block.coinbase in ETH.
    address internal constant WETH = 0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2; // WETH9 (mainnet, and the replica)

    // Capital source: `source` = kind << 248 | V2 factory index << 192 | lender fee << 160 | lender's other token.
    // The lender is derived, never given: the V3 pool of (route token, other token, fee tier), the V2 pair of the
    // indexed factory for (route token, other token). Bits 184..191 and 200..247 are ignored. A V4 loan is
    // kind << 248 | native << 160: the PoolManager lends the route token, or (native = 1, route token WETH) native
    // ETH, wrapped.
    uint8 internal constant SOURCE_BALANCER = 0; // Vault.flashLoan, fee = the Vault's flash fee (0 on mainnet)
    uint8 internal constant SOURCE_UNISWAP_V3 = 1; // pool.flash, fee = the pool's fee tier, rounded up
    uint8 internal constant SOURCE_UNISWAP_V2 = 2; // pair.swap with data (flash swap), repay ceil(amount*1e6/(1e6-fee))
    uint8 internal constant SOURCE_INVENTORY = 3; // the diamond's own balance: no loan, no callback
    uint8 internal constant SOURCE_UNISWAP_V4 = 4; // PoolManager.unlock, take, settle before returning: no fee
    uint256 internal constant V4_NATIVE_SHIFT = 160; // a V4 loan's bit 160: lend native ETH (wrapped) for WETH
    uint256 internal constant LENDER_FEE_MASK = 0xffffff; // bits 160..183: a V3 lender's fee tier, a V2 lender's fee

    // executeArb's `terms` = bribeBps << 240 | loss << 128 | deadlineBlock: one word, so the selector (and every
    // caller that sends no bribe and accepts no loss) is unchanged, and each costs a few calldata bytes, not a word.
    uint256 internal constant BRIBE_SHIFT = 240; // bits 240..255: the bribe in basis points of the profit
    uint256 internal constant LOSS_SHIFT = 128; // bits 128..239: the most the arb may lose of the route token
    uint256 internal constant LOSS_MASK = (1 << 112) - 1; // 112 bits: no pool holds more (LibRoute.MAX_AMOUNT_IN)
    uint256 internal constant DEADLINE_MASK = (1 << 128) - 1; // bits 0..127: the last block the arb may run in
    uint256 internal constant BPS = 10_000; // basis points in a whole
    bytes4 internal constant RECEIVE_FLASH_LOAN = 0xf04f2707; // receiveFlashLoan(address[],uint256[],uint256[],bytes)
    // _arbLoan while the usual loan is in flight: locked, in flight, V2 hops only (LibRoute.SHAPE_UNISWAP_V2), the Vault
    uint256 internal constant VAULT_V2_LOAN =
        ARB_LOCKED | ARB_IN_FLIGHT | (LibRoute.SHAPE_UNISWAP_V2 << ARB_KINDS_SHIFT) | uint160(address(LibBalancer.VAULT));

    // executeArb's arguments, packed after the selector (issue 17: no ABI head, offsets or length words, no padding;
    // the calldata of a 2-hop trade is 165 bytes instead of 356, and nothing is decoded but these fixed offsets):
    // source (32) | minProfit (32) | terms (32) | path length (1) | path | amounts (the rest of the calldata).
    uint256 internal constant ARGS_SOURCE = 4; // the capital source word
    uint256 internal constant ARGS_MIN_PROFIT = 36; // the caller's least profit in the route token
    uint256 internal constant ARGS_TERMS = 68; // bribeBps << 240 | loss << 128 | deadlineBlock
    uint256 internal constant ARGS_PATH_LENGTH = 100; // the path's length in bytes, one byte
    uint256 internal constant ARGS_PATH = 101; // the packed path (LibRoute), then the packed amounts
    uint256 internal constant V2_HOP = 22; // LibRoute.V2_HOP_LENGTH, for assembly (direct constants only)

    /*//////////////////////////////////////////////////////////////
                               IMMUTABLES
    //////////////////////////////////////////////////////////////*/

    // The allowed Uniswap-V2-style factories, by the index a V2 hop or lender names (LibRoute.V2_FACTORY_COUNT).
    // Immutables, not storage: deriving a pair costs no SLOAD. A new factory is a new facet, cut in by the owner.
    address internal immutable UNISWAP_V2_FACTORY; // index 0: Uniswap V2 (0x5C69...aA6f on mainnet)
    bytes32 internal immutable UNISWAP_V2_PAIR_CODE_HASH; // keccak256 of its pair creation code (0x96e8...845f)
    address internal immutable SUSHISWAP_FACTORY; // index 1: SushiSwap (0xC0AE...f2Ac on mainnet)
    bytes32 internal immutable SUSHISWAP_PAIR_CODE_HASH; // its factory's pairCodeHash() on the deployment chain

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice An arb completed in this diamond (the log's address: a child names itself). `token` is the route
    ///         token; `profit` is the diamond's balance change in it, net of the loan fee and the bribe (negative
    ///         only for an arb its executor allowed to lose, within the owner's maximum loss); `bribe` is what
    ///         block.coinbase got, in ETH when `token` is WETH, else in `token`.
    /// @dev Issue 17 dropped what the transaction already says (gas: a LOG2 of two words instead of a LOG3 of five,
    ///      and no keccak of the path): the route id keccak256(path), the source word and amountIn are in
    ///      executeArb's input; the last hop's output is in the input for a V2 hop and in the pool's Swap log (or
    ///      the Vault's) otherwise, and the loan fee in the lender's log (Balancer FlashLoan, Uniswap V3 Flash) or
    ///      the V2 pair's Swap log. What only the diamond knows, its balance change and the bribe, stays.
    ///      Round 2 dropped the route token as well (the path's first 20 bytes in executeArb's input: the trader
    ///      knows it from its plan) and the bribe when there is none: a LOG1 of one word, 631 gas less than the
    ///      LOG2 of two words. An arb that pays a bribe logs ArbExecutedWithBribe instead.
    ///      Round 3 made it anonymous with the profit as its one topic and no data: a LOG1 of no word, 256 gas less
    ///      than the LOG1 of one word (a topic-less LOG0 was 375 less, but readers take every diamond log's topic 0:
    ///      tests/audit/fuzz_support). How it is found and told apart (flasharb.execute.trader reads it so): its
    ///      address is the diamond (only the diamond's own code logs there), it has exactly one topic and no data,
    ///      and no other event of a diamond has that shape (every other one has data or a second topic; none takes
    ///      no argument). A profit word that equals some event's signature hash is not a concern: a profit is a
    ///      balance change, far below 2^160 in magnitude, so its word starts with at least 96 equal bits (zeros, or
    ///      ones for a loss), which a keccak256 signature hash does with probability 2^-95; and a reader that takes
    ///      topic 0 as a signature hash only compares it with its own events' hashes.
    event ArbExecuted(int256 indexed profit) anonymous;

    /// @notice An arb completed in this diamond and paid block.coinbase `bribe` (ArbExecuted's fields otherwise).
    event ArbExecutedWithBribe(int256 profit, uint256 bribe);

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice The transaction was mined after `deadlineBlock`.
    error DeadlinePassed(uint256 deadlineBlock, uint256 blockNumber);
    /// @notice executeArb was re-entered.
    error Reentrancy();
    /// @notice A loan callback came from `caller`, not the lender executeArb is borrowing from right now.
    error UnauthorizedFlashLoanCaller(address caller);
    /// @notice A loan callback for a loan this contract did not request, in this transaction, with this data.
    error UnsolicitedFlashLoan();
    /// @notice The lender returned without calling back, so nothing was traded.
    error FlashLoanNotTaken(address lender);
    /// @notice The source word names no known capital source, a V2 lender fee of 1e6 or more, or a native V4 loan of
    ///         a route token that is not WETH.
    error InvalidFlashSource(uint256 source);
    /// @notice uniswapV3SwapCallback from `caller`, which is not the pool this contract is swapping on right now.
    error UnauthorizedSwapCallback(address caller);
    /// @notice A V3 pool asked for `owed`, more than the hop's input `maxIn`.
    error SwapCallbackOverpay(uint256 owed, uint256 maxIn);
    /// @notice A V3 pool returned without asking to be paid.
    error SwapCallbackMissing(address pool);
    /// @notice V3 hop `hopIndex` paid `amountOut`, less than the `minOut` computed off-chain.
    error InsufficientOutput(uint256 hopIndex, uint256 amountOut, uint256 minOut);
    /// @notice The route returned `profit` (negative: a loss) net of the loan, its fee and the bribe, below `minProfit`
    ///         (the larger of executeArb's argument and the owner's minimum for the token).
    error InsufficientProfit(int256 profit, uint256 minProfit);
    /// @notice The route lowered the diamond's balance of its token by `loss`, more than the `allowed` in its terms.
    error LossAboveAllowance(uint256 loss, uint256 allowed);
    /// @notice The constructor was given a zero factory or pair code hash.
    error InvalidV2Factory(address factory, bytes32 pairCodeHash);

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @notice Fix the allowed Uniswap-V2-style factories and their pair init-code hashes.
    /// @dev flasharb.execute.deploy reads each hash on the chain it deploys to (SushiSwap's factory answers
    ///      pairCodeHash(); Uniswap V2's has no getter and its hash is the canonical one): a replica rebuilt from
    ///      source has other hashes than mainnet, and nothing may branch on which chain this is.
    /// @param uniswapV2Factory Factory index 0.
    /// @param uniswapV2PairCodeHash keccak256 of its pair creation code.
    /// @param sushiSwapFactory Factory index 1.
    /// @param sushiSwapPairCodeHash keccak256 of its pair creation code.
    constructor(
        address uniswapV2Factory,
        bytes32 uniswapV2PairCodeHash,
        address sushiSwapFactory,
        bytes32 sushiSwapPairCodeHash
    ) {
        if (uniswapV2Factory == address(0) || uniswapV2PairCodeHash == bytes32(0)) {
            revert InvalidV2Factory(uniswapV2Factory, uniswapV2PairCodeHash);
        }
        if (sushiSwapFactory == address(0) || sushiSwapPairCodeHash == bytes32(0)) {
            revert InvalidV2Factory(sushiSwapFactory, sushiSwapPairCodeHash);
        }
        UNISWAP_V2_FACTORY = uniswapV2Factory;
        UNISWAP_V2_PAIR_CODE_HASH = uniswapV2PairCodeHash;
        SUSHISWAP_FACTORY = sushiSwapFactory;
        SUSHISWAP_PAIR_CODE_HASH = sushiSwapPairCodeHash;
    }

    /*//////////////////////////////////////////////////////////////
                                  LOGIC
    //////////////////////////////////////////////////////////////*/

    /// @notice Take `amounts[0]` of the route token from `source`, swap it along `path`, repay, keep at least
    ///         `minProfit` of the route token in the diamond, and pay block.coinbase the bribe `terms` asks, out of
    ///         the profit.
    /// @dev Owner or allowed executor (NotExecutor), not paused (ExecutionPaused), within the token's notional cap
    ///      (NotionalCapExceeded) and the owner's bribe cap (BribeAboveCap). Reverts DeadlinePassed after the
    ///      deadline, Reentrancy when re-entered, InvalidHopCount / InvalidAmountIn / InvalidRoute for a malformed
    ///      route, InvalidFlashSource for an unknown source, BalancerHopInBalancerLoan for a Balancer hop inside a
    ///      Balancer loan, InsufficientProfit when the cycle keeps less than max(minProfit, the owner's minimum for
    ///      the token) after the bribe. A cycle of Balancer hops only runs as one Vault batchSwap and needs no capital.
    ///      An arb whose terms allow it a loss (issue 17: at most the owner's maximum loss for the token, LossAboveCap
    ///      before borrowing) may instead end with the balance at most that much lower (LossAboveAllowance).
    ///      Loans carry data = source | path.length (one word each) | path | amounts; the lender's callback is
    ///      accepted once, from that lender, while the loan is in flight (see _acceptLoan).
    ///      The bribe (issue 14: pay the block only out of profit) is bribeBps / 10,000 of the diamond's gain in the
    ///      route token, rounded down, computed after the route ran and paid only if what is left still meets the
    ///      minimum; a loss or a zero gain pays nothing (the arb reverts or the share is 0). Basis points, not an
    ///      amount: the share follows the realized profit (a V3 hop paying more than quoted raises both, a smaller
    ///      gain lowers the bribe instead of reverting the arb), and one owner cap in basis points means the same
    ///      for every token. How it reaches the block: when the route token is WETH, unwrapped and sent as ETH
    ///      (what builders count), with the call's 2,300 gas stipend only, so a contract coinbase cannot spend the
    ///      arb's gas; the diamond's receive() takes ETH from WETH alone. In any other token, transferred as that
    ///      token (swapping it to ETH inside the arb would cost a pool hop and move a price). A coinbase that
    ///      refuses (reverts, or the token refuses it) gets nothing and the diamond keeps the share (WETH is wrapped
    ///      back): the arb still succeeds. No bribe when block.coinbase is the zero address (nobody to pay). Gas of
    ///      a paid bribe (bench/gas.py, the 2-hop trade): in ETH 17,167 (WETH.withdraw and its ETH transfer here,
    ///      the 9,000 gas value call, ArbExecutedWithBribe's second data word; 25,000 more when the coinbase account
    ///      is new), in the route token 8,757 (~17,100 more into a zero balance); 0 when bribeBps is 0.
    ///      Arguments (issue 17: packed after the selector, read at fixed offsets, ARGS_*; InvalidHopCount when the
    ///      fixed fields are missing, InvalidRoute when the path length runs past the calldata):
    ///      source (32): capital source, kind << 248 | V2 factory index << 192 | lender fee << 160 | the lender's
    ///        other token (zero for the Vault and inventory); the V3 pool or V2 pair that lends is derived from it.
    ///      minProfit (32): least acceptable gain in the route token, net of the loan fee and the bribe (0:
    ///        break-even is enough); the owner's minimum for the token applies when it is larger.
    ///      terms (32): bribeBps << 240 | loss << 128 | deadlineBlock: the share of the profit paid to
    ///        block.coinbase, in basis points (at most the owner's cap); the most this arb may lower the diamond's
    ///        balance of the route token (0: it must not lose; at most the owner's maximum loss for the token); the
    ///        last block in which the arb may execute.
    ///      path length (1), then path: the packed route (LibRoute): route token, then the hops.
    ///      amounts (the rest): uint128 amountIn, then each hop's exact output, packed.
    /// @return profit The diamond's balance change in the route token, after the bribe (negative: an allowed loss).
    function executeArb() external returns (int256 profit) {
        uint256 hot = LibGuard.enforceCaller(_builtInExecutor()); // strangers learn nothing else
        if (msg.data.length < ARGS_PATH) revert InvalidHopCount(0); // not even the fixed fields: nothing to run
        uint256 terms = _arg(ARGS_TERMS);
        if (block.number > terms & DEADLINE_MASK) revert DeadlinePassed(terms & DEADLINE_MASK, block.number);
        if (_arbLoan != 0) revert Reentrancy(); // non-zero only while an executeArb runs; _run sets it
        (address token, uint256 balanceBefore, uint256 floor) = _run(terms, hot);
        uint256 minProfit = _arg(ARGS_MIN_PROFIT);
        if (floor < minProfit) floor = minProfit; // the larger of the owner's minimum and the caller's
        uint256 bribe = 0; // what the coinbase got: none unless the terms ask for a share
        if (terms >> LOSS_SHIFT == 0) {
            // no bribe, no loss allowance (the usual trade): _settle's rule for that case, inline
            uint256 balanceAfter = _balanceOf(token);
            bool short;
            assembly ("memory-safe") {
                // a loss, or a gain below floor: both tests, no short-circuit jump (the difference wraps only on a
                // loss, which the first test reports)
                short := or(lt(balanceAfter, balanceBefore), lt(sub(balanceAfter, balanceBefore), floor))
                profit := sub(balanceAfter, balanceBefore) // cannot underflow when `short` is false
            }
            if (short) revert InsufficientProfit(_signedDelta(balanceAfter, balanceBefore), floor);
        } else {
            uint256 loss = (terms >> LOSS_SHIFT) & LOSS_MASK;
            (profit, bribe) = _settle(token, balanceBefore, floor, terms >> BRIBE_SHIFT, loss);
        }
        _arbLoan = 0; // unlocked, no lender
        if (bribe == 0) emit ArbExecuted(profit);
        else emit ArbExecutedWithBribe(profit, bribe);
        assembly ("memory-safe") {
            mstore(0x00, profit) // the ABI encoding of one int256: its word (no encoder, no frames to unwind)
            return(0x00, 0x20)
        }
    }

    /// @notice Balancer V2 flash-loan callback, receiveFlashLoan(address[] tokens, uint256[] amounts,
    ///         uint256[] feeAmounts, bytes userData) (IFlashLoanRecipient): runs the route, repays the Vault. Served
    ///         by the fallback (see `fallback`); any other selector reaching it reverts FunctionNotFound.
    /// @dev Never meant to be called directly; two security properties make that safe:
    ///      (1) The caller must be the Balancer V2 Vault (UnauthorizedFlashLoanCaller otherwise), so nobody else can
    ///      hand this contract tokens plus instructions.
    ///      (2) The loan must have been initiated by this contract, in this transaction, for this exact route.
    ///      Balancer V2 loans are not EIP-3156 and do not pass the initiator, and anyone may ask the Vault to lend
    ///      to any recipient; so executeArb stores the Vault as the expected lender and sets the in-flight bit in
    ///      transient storage just before flashLoan, and this callback requires both (UnsolicitedFlashLoan
    ///      otherwise), then clears the bit: good for one callback, never beyond the transaction. The only
    ///      flashLoan that can call back while the bit is set is executeArb's own (the Vault is nonReentrant), and
    ///      the Vault hands its userData back as it was sent, so the route is executeArb's (see _acceptLoan). The
    ///      profit check runs in executeArb after the loan, on real balances.
    ///      The token repaid is the path's route token, which is what executeArb asked the Vault for: the `tokens`
    ///      argument is not read (issue 17: the element read and its address validation cost ~150 gas).
    ///      Why a fallback and not a Solidity function (issue 17): the compiler's ABI decoding of its four arrays
    ///      cost ~850 gas a loan. Once (1) holds the calldata is the Vault's own ABI encoding, so its offsets are
    ///      read as they are: userData, amounts[0] and feeAmounts[0] (one token was lent: the one executeArb asked
    ///      for); (2) then proves userData is executeArb's, before anything is paid.
    fallback() external virtual {
        if (msg.sig != RECEIVE_FLASH_LOAN) revert FunctionNotFound(msg.sig);
        _receiveFlashLoan();
    }

    /// @dev receiveFlashLoan's body (`fallback`; a child diamond calls it from its own fallback).
    ///      The usual loan (issue 17: ~300 gas less than the general path) is told by one comparison of _arbLoan
    ///      with VAULT_V2_LOAN: the Vault is the lender in flight and the route is V2 hops only. That is exactly
    ///      _acceptLoan's verdict for this caller (the caller, the Vault, is the lender; the in-flight bit is set),
    ///      and _walkV2 then walks and repays in one frame; any other word takes the general path, which accepts or
    ///      refuses it as before.
    function _receiveFlashLoan() internal {
        if (msg.sender != address(BALANCER_VAULT)) revert UnauthorizedFlashLoanCaller(msg.sender);
        bytes calldata userData;
        uint256 owed;
        assembly ("memory-safe") {
            let at := add(4, calldataload(0x64)) // userData's length word (the 4th head word: its offset)
            userData.length := calldataload(at)
            userData.offset := add(at, 0x20)
            // amounts[0] + feeAmounts[0]: each array's first element follows its length word. Cannot overflow: the
            // loan is < 2^112 (validate), its fee smaller (and an unsolicited loan reverts below before paying)
            owed := add(calldataload(add(0x24, calldataload(0x24))), calldataload(add(0x24, calldataload(0x44))))
        }
        uint256 loan = _arbLoan;
        if (loan == VAULT_V2_LOAN) {
            _arbLoan = loan ^ ARB_IN_FLIGHT; // one-shot, as _acceptLoan: still locked, same lender
            // userData = source | path.length | path | amounts (_borrow), as _acceptLoan splits it: where the path
            // starts, its length, where the amounts start (plain offsets: no calldata slice is set field by field)
            uint256 pathAt;
            uint256 pathLength;
            uint256 amountsAt;
            assembly ("memory-safe") {
                pathAt := add(userData.offset, 0x40)
                pathLength := calldataload(add(userData.offset, 0x20))
                amountsAt := add(pathAt, pathLength)
            }
            _walkV2(pathAt, pathLength, amountsAt, owed); // walks, then repays the Vault
            assembly ("memory-safe") {
                stop() // receiveFlashLoan returns nothing: end the call here, not through each frame's unwinding
            }
        }
        (, bytes calldata path, bytes calldata hopAmounts, uint256 kinds) = _acceptLoan(userData, loan);
        _runHops(path, hopAmounts, kinds);
        IERC20 token = IERC20(LibRoute.addressAt(path, 0));
        LibSafeERC20.safeTransfer(token, address(BALANCER_VAULT), owed); // the Vault checks its balance after we return
    }

    /// @notice Uniswap V3 flash callback: runs the route, repays the pool the loan plus its fee.
    /// @dev Same two properties as receiveFlashLoan, with the expected caller taken from transient storage: the pool
    ///      executeArb called flash on, in this transaction (UnauthorizedFlashLoanCaller), while that loan is in
    ///      flight (UnsolicitedFlashLoan). A genuine pool calls back only the contract that called flash.
    /// @param fee0 Token0 fee owed (0 unless the route token is token0).
    /// @param fee1 Token1 fee owed.
    /// @param data The loan data executeArb sent.
    function uniswapV3FlashCallback(uint256 fee0, uint256 fee1, bytes calldata data) external override {
        uint256 loan = _arbLoan;
        if (msg.sender != address(uint160(loan))) revert UnauthorizedFlashLoanCaller(msg.sender); // 0 until borrowing
        (, bytes calldata path, bytes calldata amounts, uint256 kinds) = _acceptLoan(data, loan);
        _runHops(path, amounts, kinds);
        uint256 owed = LibRoute.amountAt(amounts, 0) + fee0 + fee1; // one of the fees is 0: one token was lent
        LibSafeERC20.safeTransfer(IERC20(LibRoute.addressAt(path, 0)), msg.sender, owed); // the pool checks its balance
    }

    /// @notice Uniswap V2 flash-swap callback: runs the route, repays the pair ceil(amount*1e6/(1e6-fee)).
    /// @dev Same two properties as receiveFlashLoan, with the expected caller taken from transient storage (the pair
    ///      executeArb called swap on), plus v2's own: `sender` must be this contract (UnsolicitedFlashLoan).
    /// @param sender Who called the pair's swap.
    /// @param amount0 Token0 lent.
    /// @param amount1 Token1 lent.
    /// @param data The loan data executeArb sent.
    function uniswapV2Call(address sender, uint256 amount0, uint256 amount1, bytes calldata data) external override {
        uint256 loan = _arbLoan;
        if (msg.sender != address(uint160(loan))) revert UnauthorizedFlashLoanCaller(msg.sender); // 0 until borrowing
        if (sender != address(this)) revert UnsolicitedFlashLoan();
        (uint256 source, bytes calldata path, bytes calldata amounts, uint256 kinds) = _acceptLoan(data, loan);
        _runHops(path, amounts, kinds);
        uint256 repay = LibUniswapV2.flashRepayment(amount0 + amount1, (source >> 160) & LENDER_FEE_MASK); // fee < 1e6: checked in _borrow
        LibSafeERC20.safeTransfer(IERC20(LibRoute.addressAt(path, 0)), msg.sender, repay); // the pair's k check verifies it
    }

    /// @notice Uniswap V4 unlock callback: runs the route inside the PoolManager's flash accounting; for a V4 loan,
    ///         also takes the loan and settles it.
    /// @dev Same two properties as receiveFlashLoan: (1) the caller must be the PoolManager, a constant
    ///      (UnauthorizedFlashLoanCaller otherwise); (2) the unlock must be this contract's own, in this transaction,
    ///      for this exact route: executeArb (or the hop walk, for a route with V4 hops on another source) records the
    ///      PoolManager as the lender and sets the in-flight bit just before unlock, and _acceptLoan requires both
    ///      and clears the bit (UnsolicitedFlashLoan). The PoolManager calls back only the contract that called
    ///      unlock, with the data it was given, so nobody else's unlock reaches here.
    ///      data = source | path.length | path | amounts. A V4 loan (source kind SOURCE_UNISWAP_V4) runs the hops here
    ///      and repays: the first V4 hop in the loan's currency swaps against the loan without taking it, a last V4
    ///      hop's output nets against it, and only the difference moves (take the gain; a loss is paid from inventory
    ///      and then fails the profit check). Any other source word means the route's own unlock (the capital is
    ///      already in the diamond): the walk pays V4 inputs in and takes V4 outputs out, netting consecutive hops.
    /// @param data The unlock data this contract sent.
    /// @return Nothing.
    function unlockCallback(bytes calldata data) external override returns (bytes memory) {
        if (msg.sender != POOL_MANAGER) revert UnauthorizedFlashLoanCaller(msg.sender);
        (uint256 source, bytes calldata path, bytes calldata amounts, uint256 kinds) = _acceptLoan(data, _arbLoan);
        uint256 n = (amounts.length >> 4) - 1; // validated: 1..MAX_HOPS
        Step memory s;
        if (uint8(source >> 248) != SOURCE_UNISWAP_V4) {
            _arbAmountOut = _runMixed(path, amounts, n, s); // the route's own unlock: capital is in the diamond
            return "";
        }
        uint256 amountIn = LibRoute.amountAt(amounts, 0);
        address cur = LibUniswapV4.currency(LibRoute.addressAt(path, 0), (source >> V4_NATIVE_SHIFT) & 1 == 1);
        if (kinds & LibRoute.SHAPE_UNISWAP_V4 == 0) {
            LibUniswapV4.take(cur, address(this), amountIn); // no V4 hop to net against: lend, run, repay
            _arbAmountOut = _runHops(path, amounts, kinds);
            LibUniswapV4.pay(cur, amountIn);
            return "";
        }
        s.v4Loan = true;
        s.loanCurrency = cur;
        s.inPM = LibRoute.kindAt(path, LibRoute.TOKEN_LENGTH) == LibRoute.KIND_UNISWAP_V4 &&
            LibUniswapV4.currency(LibRoute.addressAt(path, 0), LibRoute.v4Native(path, LibRoute.TOKEN_LENGTH)) == cur;
        if (!s.inPM) LibUniswapV4.take(cur, address(this), amountIn); // the first hop needs the tokens
        uint256 out = _runMixed(path, amounts, n, s);
        _arbAmountOut = out;
        if (!s.inPM) {
            LibUniswapV4.pay(cur, amountIn); // the output is in the diamond
        } else if (out >= amountIn) {
            if (out > amountIn) LibUniswapV4.take(cur, address(this), out - amountIn); // the gain; the loan nets
        } else {
            LibUniswapV4.pay(cur, amountIn - out); // a loss, from inventory: executeArb's profit check reverts
        }
        return "";
    }

    /// @notice Uniswap V3 swap callback: pays the pool this contract is swapping on right now, in the hop's token.
    /// @dev The pool, the token and the most it may take are recorded in transient storage just before
    ///      pool.swap, by the hop itself; nothing in the callback's arguments decides who is paid or in what
    ///      (UnauthorizedSwapCallback for any other caller, SwapCallbackOverpay above the hop's input). The pool
    ///      address itself was derived from the factory (LibUniswapV3.poolAddress), so it is a real V3 pool.
    /// @param amount0Delta Token0 owed to the pool (positive) or sent by it.
    /// @param amount1Delta Token1 owed to the pool (positive) or sent by it.
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata) external override {
        address pool = _v3Pool;
        if (msg.sender != pool) revert UnauthorizedSwapCallback(msg.sender); // zero when no swap is in flight
        _v3Pool = address(0); // one payment per swap
        uint256 owed = uint256(amount0Delta > 0 ? amount0Delta : amount1Delta); // a negative pair wraps: caught below
        uint256 maxIn = _v3MaxIn;
        if (owed > maxIn) revert SwapCallbackOverpay(owed, maxIn);
        LibSafeERC20.safeTransfer(IERC20(_v3TokenIn), pool, owed);
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev Validate the route, check the guard's limits (`hot`: the guard's slot 0 as enforceCaller read it) for the
    ///      bribe and loss allowance in `terms`, note the balance, then run it on the source's capital. Returns the
    ///      route token, the diamond's balance of it before the route ran, and the owner's minimum profit for it (0:
    ///      none; executeArb raises it to its minProfit). Three values on the stack (issue 17: a memory struct for
    ///      them cost ~150 gas of allocation and zeroing).
    function _run(uint256 terms, uint256 hot) private returns (address token, uint256 balanceBefore, uint256 floor) {
        (bytes calldata path, bytes calldata amounts) = _route();
        uint256 amountIn;
        uint256 kinds;
        // the source word is read where it is needed, not kept: the stack is full (no memory struct, see above)
        (token, amountIn, kinds) = LibRoute.validate(path, amounts, _arg(ARGS_SOURCE) >> 248 == SOURCE_BALANCER); // before anything is borrowed
        // the owner's limits: nothing to check when nothing is paused, capped or given a minimum and the arb asks for
        // no bribe and no loss (one test, the usual trade: ~170 gas less than the call), else LibGuard's checks
        if ((terms >> LOSS_SHIFT) | (hot & GuardStorage.LIMITS_MASK) != 0) { // one test, no short-circuit jump
            floor = LibGuard.enforceLimits(hot, token, amountIn, terms >> LOSS_SHIFT); // bribeBps << 112 | loss
        }
        balanceBefore = _balanceOf(token);
        // locked from here: nothing above could re-enter (pure and view code, a STATICCALL to the token)
        if (_arg(ARGS_SOURCE) >> 248 == SOURCE_INVENTORY) {
            _arbLoan = ARB_LOCKED;
            _runHops(path, amounts, kinds);
        } else {
            _borrow(_arg(ARGS_SOURCE), token, amountIn, path, amounts, kinds); // the callback runs the hops and repays
        }
    }

    /// @dev The executeArb argument word at calldata offset `at` (ARGS_*).
    function _arg(uint256 at) private pure returns (uint256 word) {
        assembly ("memory-safe") {
            word := calldataload(at)
        }
    }

    /// @dev executeArb's packed path and amounts: the path's length is the byte at ARGS_PATH_LENGTH, the amounts are
    ///      the rest of the calldata (InvalidRoute when that length runs past the end; LibRoute.validate checks both).
    ///      Measured and not taken: this inline in _run (~45 gas less), whose slices, set field by field, are a new
    ///      Slither finding there (write-after-write; this function's are explained in slither.triage.json).
    function _route() private pure returns (bytes calldata path, bytes calldata amounts) {
        uint256 end; // where the path ends and the amounts begin
        assembly ("memory-safe") {
            path.offset := ARGS_PATH
            path.length := byte(0, calldataload(ARGS_PATH_LENGTH)) // one byte: a path is at most 232 bytes
            end := add(ARGS_PATH, path.length)
            amounts.offset := end
            amounts.length := sub(calldatasize(), end) // wraps when the path runs past the end: checked next
        }
        if (end > msg.data.length) revert InvalidRoute(0); // the path length names bytes that are not there
    }

    /// @dev Ask the lender `source` describes for `amountIn` of `token`; its callback runs the hops and repays.
    ///      The lender is the Vault, the V4 PoolManager, or derived: the canonical V3 pool of (token, other token,
    ///      fee tier), or the pair of (token, other token) of an allowed V2 factory. A derived address with no code
    ///      never calls back (FlashLoanNotTaken). The loan data is source | path.length | path | amounts (words,
    ///      then the packed route), handed back as sent by the lender's callback, which _acceptLoan accepts once
    ///      (ARB_IN_FLIGHT). The call is encoded by hand: the ABI encoder's generic array and bytes code cost more
    ///      than the whole route's calldata.
    function _borrow(
        uint256 source,
        address token,
        uint256 amountIn,
        bytes calldata path,
        bytes calldata amounts,
        uint256 kinds
    ) private {
        uint8 kind = uint8(source >> 248);
        address lender = kind == SOURCE_BALANCER ? address(BALANCER_VAULT) : _lender(source, token);
        uint256 loan = ARB_LOCKED | ARB_IN_FLIGHT | (kinds << ARB_KINDS_SHIFT) | uint160(lender); // kinds: for the callback
        uint256 p;
        uint256 size;
        assembly ("memory-safe") {
            p := mload(0x40)
            let head // offset of the `data` length word
            switch kind
            case 0 {
                mstore(p, shl(224, 0x5c38449e)) // Vault.flashLoan(address,address[],uint256[],bytes)
                mstore(add(p, 0x04), address()) // recipient
                mstore(add(p, 0x24), 0x80) // offset of tokens
                mstore(add(p, 0x44), 0xc0) // offset of amounts
                mstore(add(p, 0x64), 0x100) // offset of userData
                mstore(add(p, 0x84), 1)
                mstore(add(p, 0xa4), token)
                mstore(add(p, 0xc4), 1)
                mstore(add(p, 0xe4), amountIn)
                head := 0x104
            }
            case 1 {
                let token0 := lt(token, and(source, 0xffffffffffffffffffffffffffffffffffffffff)) // vs the other token
                mstore(p, shl(224, 0x490e6cbc)) // UniswapV3Pool.flash(address,uint256,uint256,bytes)
                mstore(add(p, 0x04), address()) // recipient
                mstore(add(p, 0x24), mul(amountIn, token0)) // amount0
                mstore(add(p, 0x44), mul(amountIn, iszero(token0))) // amount1
                mstore(add(p, 0x64), 0x80) // offset of data
                head := 0x84
            }
            case 4 {
                mstore(p, shl(224, 0x48c89491)) // PoolManager.unlock(bytes)
                mstore(add(p, 0x04), 0x20) // offset of data
                head := 0x24
            }
            default {
                let token0 := lt(token, and(source, 0xffffffffffffffffffffffffffffffffffffffff)) // vs the other token
                mstore(p, shl(224, 0x022c0d9f)) // UniswapV2Pair.swap(uint256,uint256,address,bytes)
                mstore(add(p, 0x04), mul(amountIn, token0)) // amount0Out
                mstore(add(p, 0x24), mul(amountIn, iszero(token0))) // amount1Out
                mstore(add(p, 0x44), address()) // to
                mstore(add(p, 0x64), 0x80) // offset of data: non-empty makes it a flash swap
                head := 0x84
            }
            let data := add(p, add(head, 0x20))
            mstore(data, source)
            mstore(add(data, 0x20), path.length)
            calldatacopy(add(data, 0x40), path.offset, path.length)
            calldatacopy(add(add(data, 0x40), path.length), amounts.offset, amounts.length)
            let len := add(0x40, add(path.length, amounts.length))
            mstore(add(p, head), len)
            mstore(add(data, len), 0) // ABI zero padding of the last word
            size := add(add(head, 0x20), and(add(len, 31), not(31)))
            mstore(0x40, add(p, size)) // claim the payload: nothing may reuse it before the call below
        }
        _arbLoan = loan; // the lender's first callback is accepted, once (_acceptLoan clears ARB_IN_FLIGHT)
        assembly ("memory-safe") {
            if iszero(call(gas(), lender, 0, p, size, 0, 0)) {
                returndatacopy(p, 0, returndatasize())
                revert(p, returndatasize())
            }
        }
        if (_arbLoan & ARB_IN_FLIGHT != 0) revert FlashLoanNotTaken(lender); // a look-alike lender that never called back
    }

    /// @dev The lender `source` names for `token` (see _borrow): the Vault, the PoolManager, or the derived V3 pool
    ///      or V2 pair; InvalidFlashSource for anything else.
    function _lender(uint256 source, address token) private view returns (address) {
        uint8 kind = uint8(source >> 248);
        address other = address(uint160(source)); // the lender's other token
        if (kind == SOURCE_BALANCER) return address(BALANCER_VAULT);
        if (kind == SOURCE_UNISWAP_V3) {
            return LibUniswapV3.poolAddress(token, other, uint24(source >> 160)); // the factory's pool, or no code
        }
        if (kind == SOURCE_UNISWAP_V4 && ((source >> V4_NATIVE_SHIFT) & 1 == 0 || token == WETH)) return POOL_MANAGER;
        if (
            kind == SOURCE_UNISWAP_V2 &&
            (source >> 160) & LENDER_FEE_MASK < 1e6 &&
            uint8(source >> 192) < LibRoute.V2_FACTORY_COUNT
        ) {
            return _v2Pair(uint8(source >> 192), token, other); // the factory's pair, or no code
        }
        revert InvalidFlashSource(source); // inventory never gets here
    }

    /// @dev Check a loan callback is the one in flight (`loan` is _arbLoan, which names the lender and carries
    ///      ARB_IN_FLIGHT from the call to the lender until here), clear the bit, and split data = source | path.length
    ///      | path | amounts (what _borrow or _unlockRoute sent); `kinds` is the route's hop-kind bits, as executeArb
    ///      validated them. UnsolicitedFlashLoan unless the caller is that lender and the bit is set.
    ///      Why the bit is enough (issue 17: it replaced keccak256(data) as the marker, ~350 gas a loan: the hash of
    ///      ~150 bytes in _borrow and again here over a copy, and a transient word written, read and cleared):
    ///      the lender is never taken from calldata (the Vault and the PoolManager are constants, a V3 pool or V2
    ///      pair is derived from its factory), so it runs its canonical code, which hands the data back as it was
    ///      sent; and the bit is set only from just before this contract's own call to that lender until the first
    ///      callback, during which no other request can make that lender call here: the Vault's flashLoan is
    ///      nonReentrant (BAL#400), a V3 pool and a V2 pair hold their lock through flash and swap and call back
    ///      only who called them (a V2 pair names the caller in `sender`, checked), and the PoolManager refuses a
    ///      second unlock and calls back only the unlocker. So the one callback the bit admits carries this
    ///      contract's own data: the route executeArb validated, for the amount it borrowed; the hash proved no
    ///      more. Every other callback (from anyone else, with nothing in flight, or a second one) still reverts.
    function _acceptLoan(bytes calldata data, uint256 loan)
        private
        returns (uint256 source, bytes calldata path, bytes calldata amounts, uint256 kinds)
    {
        bool expected; // the caller is the lender in flight
        assembly ("memory-safe") {
            let lender := and(loan, 0xffffffffffffffffffffffffffffffffffffffff) // _arbLoan's low 160 bits
            expected := and(eq(caller(), lender), iszero(iszero(and(loan, ARB_IN_FLIGHT))))
            source := calldataload(data.offset)
            path.length := calldataload(add(data.offset, 0x20))
            path.offset := add(data.offset, 0x40)
            amounts.offset := add(path.offset, path.length)
            amounts.length := sub(data.length, add(0x40, path.length))
        }
        if (!expected) revert UnsolicitedFlashLoan();
        _arbLoan = loan ^ ARB_IN_FLIGHT; // one-shot: no second callback can reuse it (still locked, same lender)
        kinds = (loan >> ARB_KINDS_SHIFT) & 0xff;
    }

    /// @dev Swap amounts[0] of the route token along the (validated) route; the last hop pays this contract.
    ///      Returns the last hop's output. `kinds` picks the walk: V2 only, Balancer only, mixed, or (some V4 hop) the
    ///      mixed walk inside the PoolManager's unlock. Never called inside an unlock.
    function _runHops(bytes calldata path, bytes calldata amounts, uint256 kinds) private returns (uint256) {
        if (kinds == LibRoute.SHAPE_UNISWAP_V2) return _runV2(path, amounts);
        uint256 n = (amounts.length >> 4) - 1; // validated: 1..MAX_HOPS
        if (kinds == LibRoute.SHAPE_BALANCER) return LibBalancer.batchSwapCycle(path, amounts, n); // net settlement
        if (kinds & LibRoute.SHAPE_UNISWAP_V4 != 0) return _unlockRoute(path, amounts);
        Step memory s;
        return _runMixed(path, amounts, n, s);
    }

    /// @dev Run the route inside PoolManager.unlock (unlockCallback walks it): V4 swaps exist only there. The unlock
    ///      data is 0 | path.length | path | amounts (source word 0: not a V4 loan), accepted once while in flight,
    ///      as for a loan (_acceptLoan); the callback leaves the last hop's output in _arbAmountOut.
    function _unlockRoute(bytes calldata path, bytes calldata amounts) private returns (uint256) {
        uint256 p;
        uint256 size;
        assembly ("memory-safe") {
            p := mload(0x40)
            mstore(p, shl(224, 0x48c89491)) // PoolManager.unlock(bytes)
            mstore(add(p, 0x04), 0x20) // offset of data
            let data := add(p, 0x44)
            mstore(data, 0) // source word: the route's own unlock
            mstore(add(data, 0x20), path.length)
            calldatacopy(add(data, 0x40), path.offset, path.length)
            calldatacopy(add(add(data, 0x40), path.length), amounts.offset, amounts.length)
            let len := add(0x40, add(path.length, amounts.length))
            mstore(add(p, 0x24), len)
            mstore(add(data, len), 0) // ABI zero padding of the last word
            size := add(0x44, and(add(len, 31), not(31)))
            mstore(0x40, add(p, size)) // claim the payload: nothing may reuse it before the call below
        }
        // still locked, same kinds; unlockCallback accepts this unlock, once, and nothing else
        _arbLoan = (_arbLoan & ~ARB_LENDER_MASK) | ARB_IN_FLIGHT | uint160(POOL_MANAGER);
        address pm = POOL_MANAGER; // assembly reads direct constants only
        assembly ("memory-safe") {
            if iszero(call(gas(), pm, 0, p, size, 0, 0)) {
                returndatacopy(p, 0, returndatasize())
                revert(p, returndatasize())
            }
        }
        if (_arbLoan & ARB_IN_FLIGHT != 0) revert FlashLoanNotTaken(POOL_MANAGER); // no PoolManager on this chain
        return _arbAmountOut;
    }

    /// @dev A route of V2 pairs only (_walkV2 on the route's calldata slices, nothing to repay).
    function _runV2(bytes calldata path, bytes calldata amounts) private returns (uint256) {
        uint256 pathAt;
        uint256 amountsAt;
        assembly ("memory-safe") {
            pathAt := path.offset
            amountsAt := amounts.offset
        }
        return _walkV2(pathAt, path.length, amountsAt, 0);
    }

    /// @dev A route of V2 pairs only: pay the first pair, then each pair pays the next, the last pays this contract.
    ///      Each pair is derived once, from its factory index and its two tokens (LibUniswapV2.pairFor's CREATE2
    ///      address, here in assembly with the factories' table in memory: issue 17, ~120 gas a hop less than the
    ///      Solidity walk; LibUniswapV2.swap's call, inlined). Then, when `vaultOwed` is not zero (the usual Balancer
    ///      loan: _receiveFlashLoan), repay the Vault that much of the route token in the same frame (LibSafeERC20's
    ///      safeTransfer, inlined; TokenTransferFailed(route token, Vault, vaultOwed) when it fails). The route is
    ///      given as calldata offsets (`pathAt`, `pathLength`: the path; `amountsAt`: the amounts), validated.
    function _walkV2(uint256 pathAt, uint256 pathLength, uint256 amountsAt, uint256 vaultOwed)
        private
        returns (uint256 amountOut)
    {
        address tokenIn;
        address tokenOut;
        address pair;
        uint256 amountIn;
        uint256 t = _v2Table(); // factory, pair code hash, by index: 0x40 bytes each at t
        bool paid;
        assembly ("memory-safe") {
            // LibUniswapV2.pairFor of the factory at index `f` of the table at `t`, for tokens `a`, `b` (clean)
            function pairOf(table, f, a, b) -> pr {
                if gt(a, b) {
                    let c := a
                    a := b
                    b := c
                }
                let q := add(table, 0x80) // scratch after the table
                mstore(add(q, 0x14), b) // token0 | token1, packed: 40 bytes at q + 0x0c
                mstore(q, a)
                let salt := keccak256(add(q, 0x0c), 0x28)
                let entry := add(table, shl(6, f))
                mstore(add(q, 0x35), mload(add(entry, 0x20))) // 0xff | factory | salt | pair code hash: 85 bytes
                mstore(add(q, 0x01), shl(96, mload(entry)))
                mstore(add(q, 0x15), salt)
                mstore8(q, 0xff)
                pr := and(keccak256(q, 0x55), 0xffffffffffffffffffffffffffffffffffffffff)
            }
            tokenIn := shr(96, calldataload(pathAt)) // the route token (LibRoute.addressAt(path, 0))
            tokenOut := shr(96, calldataload(add(pathAt, 22))) // hop 0's: after the token, kind and factory
            amountIn := shr(128, calldataload(amountsAt)) // LibRoute.amountAt(amounts, 0)
            pair := pairOf(t, byte(1, calldataload(add(pathAt, 20))), tokenIn, tokenOut)
            // V2 pairs are paid before swap: LibSafeERC20.safeTransfer's call and success rule, reverting below
            let p := add(t, 0x100) // the calls, after the table and its scratch
            mstore(p, shl(224, 0xa9059cbb)) // transfer(address,uint256)
            mstore(add(p, 0x04), pair)
            mstore(add(p, 0x24), amountIn)
            paid := call(gas(), tokenIn, 0, p, 0x44, 0x00, 0x20)
            if paid {
                switch returndatasize()
                case 0 { paid := gt(extcodesize(tokenIn), 0) } // USDT-style: no return value, but must be a contract
                default { paid := and(gt(returndatasize(), 0x1f), eq(mload(0x00), 1)) } // must be a full word `true`
            }
            if paid {
                let at := add(pathAt, 20) // calldata position of the hop (after the route token)
                let last := add(pathAt, sub(pathLength, V2_HOP)) // the last hop's (validated: at least one)
                mstore(p, shl(224, 0x022c0d9f)) // swap(uint256,uint256,address,bytes)
                mstore(add(p, 0x64), 0x80) // offset of `data`
                mstore(add(p, 0x84), 0) // data.length = 0: a plain swap, no callback
                for { let i := 1 } 1 { i := add(i, 1) } {
                    amountOut := shr(128, calldataload(add(amountsAt, shl(4, i)))) // hop i - 1's exact output
                    let to := address()
                    let nextOut := 0
                    if lt(at, last) {
                        let next := add(at, V2_HOP)
                        nextOut := shr(96, calldataload(add(next, 2)))
                        to := pairOf(t, byte(1, calldataload(next)), tokenOut, nextOut) // straight into the next pair
                    }
                    let zeroForOne := lt(tokenIn, tokenOut)
                    mstore(add(p, 0x04), mul(amountOut, iszero(zeroForOne))) // amount0Out
                    mstore(add(p, 0x24), mul(amountOut, zeroForOne)) // amount1Out
                    mstore(add(p, 0x44), to)
                    if iszero(call(gas(), pair, 0, p, 0xa4, 0, 0)) {
                        returndatacopy(p, 0, returndatasize())
                        revert(p, returndatasize()) // the pair's reason (UniswapV2: K, ...) unchanged
                    }
                    if iszero(lt(at, last)) { break } // exact: the pair paid it or reverted; the final check sees it
                    pair := to
                    tokenIn := tokenOut
                    tokenOut := nextOut
                    at := add(at, V2_HOP)
                }
                if vaultOwed {
                    // tokenOut is the last hop's: the route token (validated); safeTransfer's success rule
                    mstore(p, shl(224, 0xa9059cbb)) // transfer(address,uint256)
                    mstore(add(p, 0x04), 0xBA12222222228d8Ba445958a75a0704d566BF2C8) // BALANCER_VAULT
                    mstore(add(p, 0x24), vaultOwed)
                    paid := call(gas(), tokenOut, 0, p, 0x44, 0x00, 0x20)
                    if paid {
                        switch returndatasize()
                        case 0 { paid := gt(extcodesize(tokenOut), 0) } // USDT-style: no return value
                        default { paid := and(gt(returndatasize(), 0x1f), eq(mload(0x00), 1)) } // a full word `true`
                    }
                    if iszero(paid) { // reported by the revert below as the transfer it is
                        tokenIn := tokenOut
                        pair := 0xBA12222222228d8Ba445958a75a0704d566BF2C8
                        amountIn := vaultOwed
                    }
                }
            }
        }
        if (!paid) revert TokenTransferFailed(tokenIn, pair, amountIn);
    }

    /// @dev The allowed V2 factories and their pair code hashes, written past the free memory pointer (not claimed:
    ///      _runV2's walk reads them before anything else uses that memory): factory i at t + 0x40 * i, its hash
    ///      after it.
    function _v2Table() private view returns (uint256 t) {
        address f0 = UNISWAP_V2_FACTORY;
        bytes32 h0 = UNISWAP_V2_PAIR_CODE_HASH;
        address f1 = SUSHISWAP_FACTORY;
        bytes32 h1 = SUSHISWAP_PAIR_CODE_HASH;
        assembly ("memory-safe") {
            t := mload(0x40)
            mstore(t, f0)
            mstore(add(t, 0x20), h0)
            mstore(add(t, 0x40), f1)
            mstore(add(t, 0x60), h1)
        }
    }

    /// @dev One hop as _runMixed walks the route (a memory struct: the walk needs more locals than the stack holds).
    struct Step {
        uint8 kind; // LibRoute.KIND_*
        uint256 offset; // byte offset of the hop in the path
        address tokenIn; // sold: the previous hop's tokenOut, the route token for hop 0
        address tokenOut; // bought
        uint256 amount; // the hop's input; after _swap, its output
        uint256 minOut; // the output computed off-chain: exact for V2, a floor for V3 and Balancer
        address recipient; // the next V2 pair, or this contract
        address pair; // this hop's V2 pair when the previous pool already paid it (derived then), else zero
        bool measure; // a V2 output landing here for a V3 or Balancer hop: count what arrives, not what was asked
        bool inPM; // the hop's input is a credit in the V4 PoolManager (a V4 output, or the V4 loan), not tokens here
        bool toPM; // a V4 hop leaves its output as a credit in the PoolManager (the next V4 hop or the loan nets it)
        bool v4Loan; // the walk runs inside a V4 loan (then s.inPM may start true)
        address loanCurrency; // that loan's currency (address(0): native ETH)
    }

    /// @dev Any mix of hop kinds. Where a hop's input comes from: hop 0 from this contract (loan or inventory);
    ///      later V2 hops already hold it (the previous pool paid the pair directly); V3 and Balancer hops from
    ///      this contract, exactly what the previous hop delivered (a V2 output landing here is measured by
    ///      balance, not taken from calldata); V4 hops (inside the unlock) from the PoolManager's credit of the
    ///      previous V4 hop or the V4 loan, or else from this contract. `s` comes zeroed, or with a V4 loan's state.
    function _runMixed(bytes calldata path, bytes calldata amounts, uint256 n, Step memory s)
        private
        returns (uint256)
    {
        s.offset = LibRoute.TOKEN_LENGTH;
        s.tokenIn = LibRoute.addressAt(path, 0);
        s.amount = LibRoute.amountAt(amounts, 0);
        for (uint256 i; i < n; ) {
            s.kind = LibRoute.kindAt(path, s.offset);
            uint256 next = s.offset + LibRoute.hopLength(s.kind);
            s.tokenOut = LibRoute.tokenOut(path, s.offset, s.kind);
            s.minOut = LibRoute.amountAt(amounts, i + 1);
            s.recipient = address(this);
            s.measure = false;
            unchecked {
                ++i; // cannot overflow: i < n <= MAX_HOPS; from here on `i` is the next hop's index
            }
            if (i < n) {
                if (LibRoute.kindAt(path, next) == LibRoute.KIND_UNISWAP_V2) {
                    s.recipient = _v2Pair(
                        LibRoute.v2Factory(path, next),
                        s.tokenOut,
                        LibRoute.tokenOut(path, next, LibRoute.KIND_UNISWAP_V2)
                    ); // pay the next pair directly
                } else {
                    s.measure = true;
                }
            }
            if (s.kind == LibRoute.KIND_UNISWAP_V4) s.toPM = _v4Nets(s, path, next, i < n);
            _swap(s, path, i - 1);
            s.pair = s.recipient == address(this) ? address(0) : s.recipient; // the next hop's pair, already paid
            s.tokenIn = s.tokenOut;
            s.offset = next;
        }
        return s.amount;
    }

    /// @dev Run hop `i` described by `s`; leaves its output in s.amount.
    function _swap(Step memory s, bytes calldata path, uint256 i) private {
        if (s.kind == LibRoute.KIND_UNISWAP_V2) {
            address pair = s.pair;
            if (pair == address(0)) {
                pair = _v2Pair(LibRoute.v2Factory(path, s.offset), s.tokenIn, s.tokenOut);
                LibSafeERC20.safeTransfer(IERC20(s.tokenIn), pair, s.amount); // V2 pairs are paid before swap
            }
            if (s.measure) {
                uint256 held = _balanceOf(s.tokenOut);
                LibUniswapV2.swap(pair, s.tokenIn < s.tokenOut, s.minOut, address(this));
                s.amount = _balanceOf(s.tokenOut) - held; // what really arrived is all the next hop may spend
            } else {
                LibUniswapV2.swap(pair, s.tokenIn < s.tokenOut, s.minOut, s.recipient);
                s.amount = s.minOut; // exact: the pair paid it or reverted (the next pair, or the final check, sees it)
            }
        } else if (s.kind == LibRoute.KIND_UNISWAP_V3) {
            address pool = LibUniswapV3.poolAddress(s.tokenIn, s.tokenOut, LibRoute.v3Fee(path, s.offset));
            _v3Pool = pool;
            _v3TokenIn = s.tokenIn;
            _v3MaxIn = s.amount;
            uint256 out = LibUniswapV3.swap(pool, s.tokenIn < s.tokenOut, s.amount, s.recipient);
            if (_v3Pool != address(0)) revert SwapCallbackMissing(pool);
            if (out < s.minOut) revert InsufficientOutput(i, out, s.minOut);
            s.amount = out;
        } else if (s.kind == LibRoute.KIND_UNISWAP_V4) {
            _swapV4(s, path, i);
        } else {
            s.amount = LibBalancer.swap(
                LibRoute.balancerPoolId(path, s.offset),
                s.tokenIn,
                s.tokenOut,
                s.amount,
                s.minOut,
                s.recipient
            ); // the Vault checks minOut (BAL#507)
        }
    }

    /// @dev V4 hop `i` described by `s` (inside the unlock): pay the input in unless it is already a credit, swap,
    ///      then leave the output as a credit (s.toPM) or take it to s.recipient (the next V2 pair, or this contract;
    ///      native ETH is wrapped here, and the next V2 pair is then paid by its own hop). The pool is the hookless
    ///      key of the hop's tokens, fee and spacing (LibUniswapV4.swap); the PoolManager, a constant, is the only
    ///      contract paid or called.
    function _swapV4(Step memory s, bytes calldata path, uint256 i) private {
        bool native = LibRoute.v4Native(path, s.offset);
        address cIn = LibUniswapV4.currency(s.tokenIn, native);
        address cOut = LibUniswapV4.currency(s.tokenOut, native);
        if (!s.inPM) LibUniswapV4.pay(cIn, s.amount); // exactly what the previous hop delivered
        uint256 out = LibUniswapV4.swap(
            cIn,
            cOut,
            LibRoute.v4Fee(path, s.offset),
            LibRoute.v4TickSpacing(path, s.offset),
            s.amount
        );
        if (out < s.minOut) revert InsufficientOutput(i, out, s.minOut);
        s.inPM = s.toPM;
        s.amount = out;
        if (s.toPM) return; // the next V4 hop (or the loan) nets it: nothing moves
        LibUniswapV4.take(cOut, s.recipient, out);
        if (cOut == address(0)) s.recipient = address(this); // wrapped here: a next V2 hop pays its pair itself
    }

    /// @dev Whether the V4 hop `s` leaves its output in the PoolManager: the next hop (at `next`, if `more`) is a V4
    ///      hop selling the same currency, or this is the last hop of a V4 loan in the loan's currency.
    function _v4Nets(Step memory s, bytes calldata path, uint256 next, bool more) private pure returns (bool) {
        address cOut = LibUniswapV4.currency(s.tokenOut, LibRoute.v4Native(path, s.offset));
        if (more) {
            return LibRoute.kindAt(path, next) == LibRoute.KIND_UNISWAP_V4 &&
                LibUniswapV4.currency(s.tokenOut, LibRoute.v4Native(path, next)) == cOut;
        }
        return s.v4Loan && cOut == s.loanCurrency;
    }

    /// @dev The pair of `tokenA`/`tokenB` of the allowed V2 factory at `factory` (< V2_FACTORY_COUNT: LibRoute.validate
    ///      checked the path's indexes, _borrow the source's).
    function _v2Pair(uint256 factory, address tokenA, address tokenB) private view returns (address) {
        if (factory == 0) return LibUniswapV2.pairFor(UNISWAP_V2_FACTORY, UNISWAP_V2_PAIR_CODE_HASH, tokenA, tokenB);
        return LibUniswapV2.pairFor(SUSHISWAP_FACTORY, SUSHISWAP_PAIR_CODE_HASH, tokenA, tokenB);
    }

    /// @dev This contract's balance of `token` (a plain balanceOf; reverts if the call does).
    function _balanceOf(address token) private view returns (uint256 amount) {
        assembly ("memory-safe") {
            mstore(0x00, shl(224, 0x70a08231)) // balanceOf(address)
            mstore(0x04, address())
            if iszero(staticcall(gas(), token, 0x00, 0x24, 0x00, 0x20)) {
                let p := mload(0x40)
                returndatacopy(p, 0, returndatasize())
                revert(p, returndatasize())
            }
            if lt(returndatasize(), 0x20) { revert(0, 0) } // not an ERC-20
            amount := mload(0x00)
        }
    }

    /// @dev Settle the arb. Without a loss allowance (`loss` 0, the usual case) the diamond's gain in `token` since
    ///      `balanceBefore`, less the bribe (bribeBps of the gain, rounded down; none without a coinbase), must be at
    ///      least `floor` (InsufficientProfit otherwise, and on any loss); then the bribe is paid. With one, the
    ///      balance may end at most `loss` below `balanceBefore` (LossAboveAllowance otherwise) and `floor` does not
    ///      apply: the executor asked to be allowed a loss and the owner's maximum loss bounds it (issue 17); a gain
    ///      pays its bribe as usual, a loss pays none. Returns the diamond's balance change after the bribe and what
    ///      the coinbase got (0 if it refused).
    function _settle(address token, uint256 balanceBefore, uint256 floor, uint256 bribeBps, uint256 loss)
        private
        returns (int256 profit, uint256 bribe)
    {
        uint256 balanceAfter = _balanceOf(token);
        if (balanceAfter < balanceBefore) {
            uint256 lost;
            unchecked {
                lost = balanceBefore - balanceAfter; // cannot underflow: checked just above
            }
            if (loss == 0) revert InsufficientProfit(_signedDelta(balanceAfter, balanceBefore), floor);
            if (lost > loss) revert LossAboveAllowance(lost, loss);
            return (-int256(lost), 0); // lost <= loss < 2^112
        }
        uint256 kept;
        unchecked {
            kept = balanceAfter - balanceBefore; // cannot underflow: checked just above
        }
        if (bribeBps != 0 && block.coinbase != address(0)) {
            bribe = (kept * bribeBps) / BPS; // bribeBps <= the owner's cap <= 10,000: never more than the gain
            kept -= bribe;
        }
        if (kept < floor && loss == 0) revert InsufficientProfit(_signedDelta(kept, 0), floor);
        if (bribe != 0 && !_payBribe(token, bribe)) (kept, bribe) = (kept + bribe, 0); // refused: the diamond keeps it
        profit = int256(kept); // a balance gain below 2^255: far above any real token's supply
    }

    /// @dev The diamond's built-in executor, checked without a storage read (LibGuard.enforceCaller); none here. A
    ///      child diamond (ChildDiamond), which runs this code as its own, returns its immutable executor.
    function _builtInExecutor() internal view virtual returns (address) {
        return address(0);
    }

    /// @dev Pay `amount` of the profit to block.coinbase: as ETH when `token` is WETH (unwrapped here, sent with the
    ///      2,300 gas stipend only), else as `token`. False, with nothing moved, when the coinbase refuses it.
    function _payBribe(address token, uint256 amount) private returns (bool paid) {
        if (token != WETH) return LibSafeERC20.tryTransfer(IERC20(token), block.coinbase, amount);
        IWETH(WETH).withdraw(amount); // WETH9 sends the ETH to the diamond's receive(), which takes it from WETH only
        (paid, ) = block.coinbase.call{value: amount, gas: 0}(""); // the 2,300 stipend: it cannot spend our gas
        if (!paid) IWETH(WETH).deposit{value: amount}(); // refused: wrapped back, the diamond's WETH is whole again
    }

    /// @dev a - b as int256, for error data only (values beyond int256 range are far outside real balances).
    function _signedDelta(uint256 a, uint256 b) private pure returns (int256) {
        return a >= b ? int256(a - b) : -int256(b - a);
    }
}
