// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Diamond, DiamondArgs} from "./Diamond.sol";
import {FlashArbFacet} from "./facets/FlashArbFacet.sol";
import {GuardFacet} from "./facets/GuardFacet.sol";
import {IChild} from "./interfaces/IChild.sol";
import {IDiamondCut} from "./interfaces/IDiamondCut.sol";
import {LibDiamond} from "./libraries/LibDiamond.sol";
import {GuardStorage} from "./storage/GuardStorage.sol";
import {TreasuryStorage} from "./storage/TreasuryStorage.sol";

/// @notice What a child diamond is built with besides the cut (a struct: more than the stack holds).
struct ChildArgs {
    address executor; // its executor key, built in (read without a storage read while no executor was revoked)
    address master; // its master diamond (ChildFacet.recallToMaster's only caller); zero for none
    address riskGuardian; // may pause it (ChildFacet.pause); zero for none
    bytes4[] builtIn; // FlashArbFacet's selectors: routed to the diamond itself (EIP-2535 immutable functions)
    address uniswapV2Factory; // FlashArbFacet's V2 factory index 0 ...
    bytes32 uniswapV2PairCodeHash; // ... and its pair init-code hash
    address sushiSwapFactory; // index 1 ...
    bytes32 sushiSwapPairCodeHash; // ... and its pair init-code hash
}

/// @notice A child diamond (issue 17): one strategy's trading diamond under a master. FlashArbFacet's code is built
///         in (its functions are the diamond's own, EIP-2535 immutable functions); every other facet is cut in.
/// @dev Why built in: the trade is the one call a child exists for, and a facet costs it the routing read (2,100 gas),
///      the cold delegatecall to the facet (2,600) and the same again for each loan callback (bench/gas.py: the
///      2-hop trade's overhead above the opcode floor, this against a plain diamond). The price: the trading code of
///      a child cannot be cut out or replaced (LibDiamond refuses to replace or remove an immutable function); a new
///      version is a new child, and capital moves to it through the master (recall, allocate). Its guard, treasury
///      and capital facets stay upgradeable, and every storage layout is the plain diamond's.
///      The executor is built in as well: LibGuard.enforceCaller accepts it without reading the allowlist (one
///      cold read less) until any executor is ever revoked; the constructor writes its allowlist flag, so the
///      shortcut never allows anyone the allowlist does not.
///      Measured (bench/gas.py, 2-hop V2 with a Balancer loan, executor key, overhead above the opcode floor):
///      before issue 17, 32,134 through the plain diamond (29,953 signed by the owner); after it 28,228 through the
///      plain diamond and 18,440 through a child; with executeArb's arguments packed after its selector and
///      receiveFlashLoan served without the ABI decoder, 26,199 and 16,428; with ArbExecuted one word, one
///      transient word for the lock, lender and kinds, and the route's validation and V2 walk in assembly, 24,151
///      and 14,380; with the loan's in-flight bit instead of its hash, no memory struct, the usual settlement
///      inline, a V2-only validation pass and the guard's limits skipped when none applies, 22,602 and 12,831; with
///      ArbExecuted's profit as its one topic (anonymous, no data), the usual Vault loan's callback told by one
///      comparison and walked and repaid in one frame, and the ends of both calls without the frames' unwinding,
///      21,672 and 11,899. What is left (the child): calldata 1,896, the guard's one cold read 2,100, ArbExecuted
///      750 (a topic-less LOG0, 375 less, breaks readers that take every diamond log's topic 0:
///      tests/audit/fuzz_support), _arbLoan in transient storage 600, seven warm calls 700, the token's own
///      balanceOf code for the profit check ~900 (and its proxy's two warm reads 200); the rest (~4.75k) is
///      dispatch, validation, the loan call, the V2 walk, settlement and glue, spread over many 20-150 gas pieces
///      (docs/contracts.md has the split).
///      Measured and not taken: compiling via IR (~-850 before the walks went to assembly; a build-wide choice, and
///      now stack too deep: Diamond's fallback assembly is not memory-safe, so there is no memory guard).
contract ChildDiamond is Diamond, FlashArbFacet {
    /// @notice The executor key this child was built for.
    address internal immutable BUILT_IN_EXECUTOR;

    /// @notice A zero executor, or one that is the owner.
    error InvalidExecutor(address executor);

    /// @notice Cut the facets, run the initializer, route FlashArbFacet's selectors to the diamond itself, allow the
    ///         executor, and record the master and the risk guardian, in one transaction.
    /// @param _diamondCut The facets and selectors to add (not FlashArbFacet's: built in).
    /// @param _args Owner, initializer and initializer calldata.
    /// @param _child Executor, master, risk guardian, built-in selectors, V2 factories.
    constructor(IDiamondCut.FacetCut[] memory _diamondCut, DiamondArgs memory _args, ChildArgs memory _child)
        Diamond(_diamondCut, _args)
        FlashArbFacet(
            _child.uniswapV2Factory,
            _child.uniswapV2PairCodeHash,
            _child.sushiSwapFactory,
            _child.sushiSwapPairCodeHash
        )
    {
        if (_child.executor == address(0) || _child.executor == _args.owner) revert InvalidExecutor(_child.executor);
        BUILT_IN_EXECUTOR = _child.executor;
        IDiamondCut.FacetCut[] memory own = new IDiamondCut.FacetCut[](1);
        own[0] = IDiamondCut.FacetCut(address(this), IDiamondCut.FacetCutAction.Add, _child.builtIn);
        LibDiamond.diamondCut(own, address(0), ""); // the loupe lists them under the diamond's own address
        GuardStorage.layout().executors[_child.executor] = true; // what enforceCaller's shortcut stands for
        emit GuardFacet.ExecutorSet(_child.executor, true);
        TreasuryStorage.layout().master = _child.master;
        emit IChild.MasterSet(_child.master);
        GuardStorage.layout().riskGuardian = _child.riskGuardian;
        emit IChild.RiskGuardianSet(_child.riskGuardian);
    }

    /// @notice receiveFlashLoan (FlashArbFacet's, built in), else the facet serving msg.sig (Diamond).
    /// @dev The Balancer callback is FlashArbFacet's fallback code (it skips the ABI decoder), so a child, which has a
    ///      fallback of its own, serves it here before routing; every other selector goes where Diamond sends it.
    fallback() external override(Diamond, FlashArbFacet) {
        bool flashLoan; // msg.sig == RECEIVE_FLASH_LOAN, without the compiler's masks (issue 17: ~25 gas a loan)
        assembly ("memory-safe") {
            flashLoan := eq(shr(224, calldataload(0)), 0xf04f2707) // RECEIVE_FLASH_LOAN
        }
        if (flashLoan) return _receiveFlashLoan();
        _delegate();
    }

    /// @dev The built-in executor (FlashArbFacet._builtInExecutor).
    function _builtInExecutor() internal view override returns (address) {
        return BUILT_IN_EXECUTOR;
    }
}
