// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

// Minimal stand-in for Multicall3, written for the local devnet. Its runtime code is placed at
// Multicall3's canonical address 0xcA11bde05977b3631167028862bE2a173976CA11 with anvil_setCode.
//
// Why: @x402/evm's facilitator diagnoses a failed EIP-3009 simulation by calling
// `tryAggregate(false, calls)` there (balanceOf, name, version, authorizationState); without code at
// that address every failure degrades to "..._simulation_failed". `aggregate3` is included because
// viem's `multicall` action uses it. Same ABI and semantics as Multicall3 for these two functions;
// calls are made with CALL (not STATICCALL), as in Multicall3, and the contract keeps no state.
contract Multicall {
    struct Call {
        address target;
        bytes callData;
    }

    struct Call3 {
        address target;
        bool allowFailure;
        bytes callData;
    }

    struct Result {
        bool success;
        bytes returnData;
    }

    function tryAggregate(bool requireSuccess, Call[] calldata calls)
        external
        payable
        returns (Result[] memory returnData)
    {
        returnData = new Result[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            (bool success, bytes memory ret) = calls[i].target.call(calls[i].callData);
            if (requireSuccess) {
                require(success, "Multicall3: call failed");
            }
            returnData[i] = Result(success, ret);
        }
    }

    function aggregate3(Call3[] calldata calls) external payable returns (Result[] memory returnData) {
        returnData = new Result[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            (bool success, bytes memory ret) = calls[i].target.call(calls[i].callData);
            require(success || calls[i].allowFailure, "Multicall3: call failed");
            returnData[i] = Result(success, ret);
        }
    }

    function getBlockNumber() external view returns (uint256) {
        return block.number;
    }

    function getCurrentBlockTimestamp() external view returns (uint256) {
        return block.timestamp;
    }

    function getChainId() external view returns (uint256) {
        return block.chainid;
    }
}
