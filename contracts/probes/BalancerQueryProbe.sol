// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The BalancerQueries function the probe calls (20220721-balancer-queries task).
interface IBalancerQueriesForProbe {
    /// @notice One swap against one pool (IVault.SingleSwap).
    struct SingleSwap {
        bytes32 poolId; // the Vault's pool id
        uint8 kind; // IVault.SwapKind: 0 GIVEN_IN, 1 GIVEN_OUT
        address assetIn;
        address assetOut;
        uint256 amount; // exact in for GIVEN_IN, exact out for GIVEN_OUT
        bytes userData;
    }

    /// @notice Where a swap's tokens come from and go to (IVault.FundManagement).
    struct FundManagement {
        address sender;
        bool fromInternalBalance;
        address payable recipient;
        bool toInternalBalance;
    }

    /// @notice What Vault.swap would return for `singleSwap`, computed by a reverted batch swap.
    /// @param singleSwap The swap.
    /// @param funds Sender and recipient; not checked by a query.
    /// @return The amount out for GIVEN_IN, the amount in for GIVEN_OUT (token units).
    function querySwap(SingleSwap memory singleSwap, FundManagement memory funds) external returns (uint256);
}

/// @notice Many BalancerQueries.querySwap calls in one eth_call, each answered or reverted on its own.
/// @dev Never deployed: the parity tests place its runtime code at an unused address with an eth_call state
///      override, so it has no constructor, no immutables and no storage. Not a view, because querySwap is not
///      one (the Vault answers a query by reverting a nested call); call it only through eth_call.
contract BalancerQueryProbe {
    /// @notice One query: a single swap against one pool.
    struct Query {
        bytes32 poolId; // the Vault's pool id
        uint8 kind; // IVault.SwapKind: 0 GIVEN_IN, 1 GIVEN_OUT
        address assetIn;
        address assetOut;
        uint256 amount; // exact in for GIVEN_IN, exact out for GIVEN_OUT
    }

    /// @notice querySwap for each of `queries`, in order; a query that reverts does not stop the others.
    /// @param balancerQueries The BalancerQueries contract.
    /// @param queries The swaps to quote.
    /// @return ok Whether each query returned.
    /// @return amounts Each query's answer in token units (0 where it reverted).
    /// @return reverts Each query's revert data (empty where it returned).
    function querySwaps(address balancerQueries, Query[] calldata queries)
        external
        returns (bool[] memory ok, uint256[] memory amounts, bytes[] memory reverts)
    {
        uint256 n = queries.length;
        ok = new bool[](n);
        amounts = new uint256[](n);
        reverts = new bytes[](n);
        IBalancerQueriesForProbe.FundManagement memory funds = IBalancerQueriesForProbe.FundManagement({
            sender: address(this),
            fromInternalBalance: false,
            recipient: payable(address(this)),
            toInternalBalance: false
        });
        for (uint256 i; i < n; ++i) {
            Query calldata q = queries[i];
            IBalancerQueriesForProbe.SingleSwap memory swap = IBalancerQueriesForProbe.SingleSwap({
                poolId: q.poolId,
                kind: q.kind,
                assetIn: q.assetIn,
                assetOut: q.assetOut,
                amount: q.amount,
                userData: ""
            });
            try IBalancerQueriesForProbe(balancerQueries).querySwap(swap, funds) returns (uint256 amount) {
                ok[i] = true;
                amounts[i] = amount;
            } catch (bytes memory reason) {
                reverts[i] = reason; // e.g. Error("BAL#304")
            }
        }
    }
}
