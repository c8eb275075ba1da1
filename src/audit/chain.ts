// What the audit asks one chain about one token: transfers to or from given addresses in a block range
// (getLogs in windows, since public RPCs cap the range), and what a transaction did (its receipt's
// token events). Addresses, hashes and nonces come back lower-case so they compare with the database.
import {
  createPublicClient,
  http,
  parseAbi,
  parseEventLogs,
  TransactionReceiptNotFoundError,
  type Hex,
  type PublicClient,
} from "viem";
import type { Address } from "./types";

const tokenAbi = parseAbi([
  "event Transfer(address indexed from, address indexed to, uint256 value)",
  "event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)",
  "function authorizationState(address authorizer, bytes32 nonce) view returns (bool)",
]);
const transferEvent = tokenAbi[0];

export interface TokenTransfer {
  txHash: string;
  logIndex: number;
  blockNumber: bigint;
  from: string;
  to: string;
  value: bigint;
}

export interface AuthorizationUse {
  authorizer: string;
  nonce: string;
}

/** A mined transaction as far as the token is concerned. */
export interface TxFacts {
  status: "success" | "reverted";
  blockNumber: bigint;
  /** Transfer events emitted by the token (not by any other contract). */
  transfers: TokenTransfer[];
  authorizationsUsed: AuthorizationUse[];
}

export interface AuditChain {
  chainId(): Promise<number>;
  latestBlock(): Promise<bigint>;
  /** The token's part of a transaction, or undefined when the chain has no receipt for it. Cached. */
  tx(hash: string): Promise<TxFacts | undefined>;
  /** The token's Transfer logs with `from` in `from` (or `to` in `to`), fromBlock…toBlock inclusive. */
  transfers(filter: { from?: readonly string[]; to?: readonly string[]; fromBlock: bigint; toBlock: bigint }): Promise<TokenTransfer[]>;
  /** EIP-3009 authorizationState: true once the authorization was used or canceled. */
  authorizationUsed(authorizer: string, nonce: string): Promise<boolean>;
}

export interface AuditChainOptions {
  /** Blocks per getLogs request. */
  windowBlocks?: bigint;
  /** Requests in flight at once. */
  concurrency?: number;
}

export function clientFor(rpcUrl: string): PublicClient {
  return createPublicClient({ transport: http(rpcUrl, { timeout: 20_000, retryCount: 2 }) });
}

const lower = (value: string) => value.toLowerCase();

export function auditChain(client: PublicClient, asset: Address, options: AuditChainOptions = {}): AuditChain {
  const windowBlocks = options.windowBlocks ?? 2_000n;
  const limit = limiter(options.concurrency ?? 8);
  const token = lower(asset);
  const receipts = new Map<string, Promise<TxFacts | undefined>>();

  const readTx = async (hash: string): Promise<TxFacts | undefined> => {
    let receipt;
    try {
      receipt = await client.getTransactionReceipt({ hash: hash as Hex });
    } catch (error) {
      if (error instanceof TransactionReceiptNotFoundError) return undefined;
      throw error;
    }
    const ours = receipt.logs.filter((log) => lower(log.address) === token);
    const events = parseEventLogs({ abi: tokenAbi, logs: ours });
    const facts: TxFacts = { status: receipt.status, blockNumber: receipt.blockNumber, transfers: [], authorizationsUsed: [] };
    for (const event of events) {
      if (event.eventName === "Transfer") {
        facts.transfers.push({
          txHash: lower(receipt.transactionHash),
          logIndex: event.logIndex,
          blockNumber: receipt.blockNumber,
          from: lower(event.args.from),
          to: lower(event.args.to),
          value: event.args.value,
        });
      } else {
        facts.authorizationsUsed.push({ authorizer: lower(event.args.authorizer), nonce: lower(event.args.nonce) });
      }
    }
    return facts;
  };

  return {
    chainId: () => client.getChainId(),
    latestBlock: () => client.getBlockNumber({ cacheTime: 0 }),
    tx(hash) {
      const key = lower(hash);
      let facts = receipts.get(key);
      if (!facts) {
        facts = limit(() => readTx(key));
        receipts.set(key, facts);
      }
      return facts;
    },
    async transfers(filter) {
      if (filter.fromBlock > filter.toBlock) return [];
      const args = {
        ...(filter.from ? { from: filter.from.map((a) => a as Address) } : {}),
        ...(filter.to ? { to: filter.to.map((a) => a as Address) } : {}),
      };
      const windows: [bigint, bigint][] = [];
      for (let start = filter.fromBlock; start <= filter.toBlock; start += windowBlocks) {
        const end = start + windowBlocks - 1n;
        windows.push([start, end < filter.toBlock ? end : filter.toBlock]);
      }
      const pages = await Promise.all(
        windows.map(([fromBlock, toBlock]) => limit(() => client.getLogs({ address: asset, event: transferEvent, args, fromBlock, toBlock }))),
      );
      return pages.flat().flatMap((log) =>
        log.removed || log.transactionHash === null
          ? []
          : [
              {
                txHash: lower(log.transactionHash),
                logIndex: log.logIndex,
                blockNumber: log.blockNumber,
                from: lower(log.args.from!),
                to: lower(log.args.to!),
                value: log.args.value!,
              },
            ],
      );
    },
    authorizationUsed: (authorizer, nonce) =>
      limit(() =>
        client.readContract({ address: asset, abi: tokenAbi, functionName: "authorizationState", args: [authorizer as Address, nonce as Hex] }),
      ),
  };
}

/** Runs at most `max` of the given tasks at once, in call order. */
function limiter(max: number) {
  let running = 0;
  const queue: (() => void)[] = [];
  return <T>(task: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const run = () => {
        running += 1;
        task()
          .then(resolve, reject)
          .finally(() => {
            running -= 1;
            queue.shift()?.();
          });
      };
      if (running < max) run();
      else queue.push(run);
    });
}
