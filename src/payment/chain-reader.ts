// Read-only questions we ask a chain about an EIP-3009 authorization: was it used, and by which
// transaction. Used to reconcile payments whose settlement outcome we did not see (a crash, a
// facilitator error) — the chain is the source of truth for money.
import { createPublicClient, http, parseAbi, parseAbiItem, type PublicClient } from "viem";

const eip3009Abi = parseAbi(["function authorizationState(address authorizer, bytes32 nonce) view returns (bool)"]);
const authorizationUsedEvent = parseAbiItem("event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)");

export interface ChainReader {
  /** The chain's latest block number (readiness probe). */
  latestBlock(): Promise<bigint>;
  authorizationUsed(asset: string, authorizer: string, nonce: string): Promise<boolean>;
  /** The transaction that used the authorization, searched in recent blocks; undefined if not found. */
  findAuthorizationTx(asset: string, authorizer: string, nonce: string): Promise<string | undefined>;
}

export interface ChainReaderOptions {
  /** How far back to look for the AuthorizationUsed log, in blocks. */
  lookbackBlocks?: bigint;
  /** getLogs range per request (public RPCs cap it). */
  windowBlocks?: bigint;
}

export function viemChainReader(rpcUrl: string, options: ChainReaderOptions = {}): ChainReader {
  const client: PublicClient = createPublicClient({ transport: http(rpcUrl, { timeout: 10_000, retryCount: 1 }) });
  const lookback = options.lookbackBlocks ?? 50_000n;
  const window = options.windowBlocks ?? 2_000n;
  return {
    latestBlock: () => client.getBlockNumber({ cacheTime: 0 }),
    authorizationUsed: (asset, authorizer, nonce) =>
      client.readContract({
        address: asset as `0x${string}`,
        abi: eip3009Abi,
        functionName: "authorizationState",
        args: [authorizer as `0x${string}`, nonce as `0x${string}`],
      }),
    async findAuthorizationTx(asset, authorizer, nonce) {
      const latest = await client.getBlockNumber();
      const floor = latest > lookback ? latest - lookback : 0n;
      for (let to = latest; to >= floor; ) {
        const from = to >= floor + window ? to - window + 1n : floor;
        const logs = await client.getLogs({
          address: asset as `0x${string}`,
          event: authorizationUsedEvent,
          args: { authorizer: authorizer as `0x${string}`, nonce: nonce as `0x${string}` },
          fromBlock: from,
          toBlock: to,
        });
        const hit = logs.at(-1);
        if (hit?.transactionHash) return hit.transactionHash;
        if (from === floor) break;
        to = from - 1n;
      }
      return undefined;
    },
  };
}
