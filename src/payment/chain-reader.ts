// What the chain says about an EIP-3009 authorization we claimed: did its transfer reach us, was it
// cancelled, or is it still unused. The chain, not the facilitator, is the source of truth for money:
// every payment outcome is decided from this evidence.
import { createPublicClient, http, pad, parseAbi, toEventSelector, type Hex, type PublicClient, type TransactionReceipt } from "viem";

const eip3009Abi = parseAbi(["function authorizationState(address authorizer, bytes32 nonce) view returns (bool)"]);
const AUTHORIZATION_USED = toEventSelector("AuthorizationUsed(address,bytes32)");
const AUTHORIZATION_CANCELED = toEventSelector("AuthorizationCanceled(address,bytes32)");
const TRANSFER = toEventSelector("Transfer(address,address,uint256)");

/** The transfer a claim stands for: `amountAtomic` from `payer` to `payTo` in `asset`, under `nonce`. */
export interface ClaimedTransfer {
  asset: string;
  payer: string;
  payTo: string;
  nonce: string;
  amountAtomic: string;
}

export type AuthorizationEvidence =
  /** A mined, successful transaction used the authorization and moved exactly the claimed amount to us. */
  | { kind: "transferred"; txHash: string }
  /** The authorization was used, but its transaction does not carry the claimed transfer. */
  | { kind: "transfer_mismatch"; txHash: string }
  /** The payer cancelled the authorization (EIP-3009 cancelAuthorization): it can never move money. */
  | { kind: "canceled"; txHash: string | undefined }
  /** Unused on chain as of the latest block. */
  | { kind: "unused" }
  /** Used on chain, but neither event was found in the blocks searched. */
  | { kind: "used_unlocated" };

export interface ChainReader {
  /** The chain's latest block number (readiness probe). */
  latestBlock(): Promise<bigint>;
  /** Whether the address holds contract code (a smart wallet signs with ERC-1271, not ecrecover). */
  hasCode(address: string): Promise<boolean>;
  /**
   * What the chain says about a claimed authorization. `hintTxHash` (a hash a facilitator reported) is
   * looked at first and waited for up to `waitMs`; the hint is never trusted, only its receipt.
   */
  authorizationEvidence(claim: ClaimedTransfer, hint?: { txHash?: string; waitMs?: number }): Promise<AuthorizationEvidence>;
}

export interface ChainReaderOptions {
  /** How far back to look for the authorization's events, in blocks. */
  lookbackBlocks?: bigint;
  /** getLogs range per request (public RPCs cap it). */
  windowBlocks?: bigint;
  /** How often a hinted receipt is polled while waiting for it. */
  pollingIntervalMs?: number;
}

const TX_HASH = /^0x[0-9a-fA-F]{64}$/;

const topicOf = (address: string): Hex => pad(address.toLowerCase() as Hex, { size: 32 });
const sameHex = (a: string | undefined, b: string): boolean => a !== undefined && a.toLowerCase() === b.toLowerCase();

/** Reads the claim's fate from one receipt, or undefined when the transaction is not about this authorization. */
export function evidenceFromReceipt(receipt: TransactionReceipt, claim: ClaimedTransfer): AuthorizationEvidence | undefined {
  if (receipt.status !== "success") return undefined;
  const fromToken = receipt.logs.filter((log) => sameHex(log.address, claim.asset));
  const aboutClaim = (selector: Hex) =>
    fromToken.some(
      (log) => sameHex(log.topics[0], selector) && sameHex(log.topics[1], topicOf(claim.payer)) && sameHex(log.topics[2], claim.nonce),
    );
  if (aboutClaim(AUTHORIZATION_CANCELED)) return { kind: "canceled", txHash: receipt.transactionHash };
  if (!aboutClaim(AUTHORIZATION_USED)) return undefined;
  const amount = BigInt(claim.amountAtomic);
  const paid = fromToken.some(
    (log) =>
      sameHex(log.topics[0], TRANSFER) &&
      sameHex(log.topics[1], topicOf(claim.payer)) &&
      sameHex(log.topics[2], topicOf(claim.payTo)) &&
      log.data !== "0x" &&
      BigInt(log.data) === amount,
  );
  return paid ? { kind: "transferred", txHash: receipt.transactionHash } : { kind: "transfer_mismatch", txHash: receipt.transactionHash };
}

export function viemChainReader(rpcUrl: string, options: ChainReaderOptions = {}): ChainReader {
  const client: PublicClient = createPublicClient({ transport: http(rpcUrl, { timeout: 10_000, retryCount: 1 }) });
  const lookback = options.lookbackBlocks ?? 50_000n;
  const window = options.windowBlocks ?? 2_000n;
  const pollingInterval = options.pollingIntervalMs ?? 250;

  const receiptOf = async (txHash: string, waitMs: number): Promise<TransactionReceipt | undefined> => {
    // Usually mined already (the facilitator waited for it): one call, no watcher.
    try {
      return await client.getTransactionReceipt({ hash: txHash as Hex });
    } catch {
      if (waitMs <= 0) return undefined;
    }
    try {
      return await client.waitForTransactionReceipt({ hash: txHash as Hex, timeout: waitMs, pollingInterval, retryCount: 0 });
    } catch {
      // Not mined (yet), unknown, or not seen by this node: the other evidence decides.
      return undefined;
    }
  };

  /** The newest transaction that used or cancelled the authorization, searched backwards in windows. */
  const findAuthorizationEvent = async (claim: ClaimedTransfer): Promise<string | undefined> => {
    const latest = await client.getBlockNumber({ cacheTime: 0 });
    const floor = latest > lookback ? latest - lookback : 0n;
    for (let to = latest; to >= floor; ) {
      const from = to >= floor + window ? to - window + 1n : floor;
      const logs = await client.request({
        method: "eth_getLogs",
        params: [
          {
            address: claim.asset as Hex,
            topics: [[AUTHORIZATION_USED, AUTHORIZATION_CANCELED], topicOf(claim.payer), claim.nonce.toLowerCase() as Hex],
            fromBlock: `0x${from.toString(16)}`,
            toBlock: `0x${to.toString(16)}`,
          },
        ],
      });
      const hit = logs.at(-1);
      if (hit?.transactionHash) return hit.transactionHash;
      if (from === floor) break;
      to = from - 1n;
    }
    return undefined;
  };

  return {
    latestBlock: () => client.getBlockNumber({ cacheTime: 0 }),
    async hasCode(address) {
      const code = await client.getCode({ address: address as Hex });
      return code !== undefined && code !== "0x";
    },
    async authorizationEvidence(claim, hint = {}) {
      if (hint.txHash && TX_HASH.test(hint.txHash)) {
        const receipt = await receiptOf(hint.txHash, hint.waitMs ?? 0);
        const evidence = receipt && evidenceFromReceipt(receipt, claim);
        if (evidence) return evidence;
      }
      const used = await client.readContract({
        address: claim.asset as Hex,
        abi: eip3009Abi,
        functionName: "authorizationState",
        args: [claim.payer as Hex, claim.nonce as Hex],
      });
      if (!used) return { kind: "unused" };
      const txHash = await findAuthorizationEvent(claim);
      if (!txHash) return { kind: "used_unlocated" };
      const receipt = await receiptOf(txHash, 0);
      return (receipt && evidenceFromReceipt(receipt, claim)) ?? { kind: "used_unlocated" };
    },
  };
}
