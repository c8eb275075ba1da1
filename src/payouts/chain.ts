// The payout wallet on one chain: balances, nonces, signing a USDC `transfer` locally (explicit nonce,
// gas, fees and chain id), broadcasting a raw signed transaction, and reading receipts by hash.
// The private key stays inside this closure: it is never logged, returned or stored.
import {
  BaseError,
  createPublicClient,
  defineChain,
  encodeFunctionData,
  ExecutionRevertedError,
  http,
  keccak256,
  parseAbi,
  TransactionNotFoundError,
  TransactionReceiptNotFoundError,
  type Hex,
  type PublicClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

export type Address = `0x${string}`;

const erc20Abi = parseAbi([
  "function transfer(address to, uint256 value) returns (bool)",
  "function balanceOf(address account) view returns (uint256)",
  // Circle's FiatToken (USDC) and the devnet's TestUSDC; other tokens lack it (the read then throws).
  "function isBlacklisted(address account) view returns (bool)",
]);

export interface TransferPlan {
  gas: bigint;
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

export interface SignedTransfer {
  signedTx: Hex;
  /** keccak256 of the serialized signed transaction: its hash on chain. */
  txHash: Hex;
}

export interface PayoutReceipt {
  status: "success" | "reverted";
  blockNumber: bigint;
}

export interface PayoutChain {
  readonly network: string;
  readonly chainId: number;
  readonly token: Address;
  /** The payout wallet's address. */
  readonly wallet: Address;
  /** How often to look for a receipt while waiting. */
  readonly pollIntervalMs: number;
  usdcBalance(): Promise<bigint>;
  gasBalance(): Promise<bigint>;
  /** An account's nonce in the latest block and counting pending transactions (default: the wallet's). */
  nonces(address?: Address): Promise<{ latest: number; pending: number }>;
  /** Gas limit (estimate + margin) and EIP-1559 fees for transfer(to, amount); throws the revert when the token refuses it. */
  planTransfer(to: Address, amount: bigint): Promise<TransferPlan>;
  /** The token's own blacklist (FiatToken `isBlacklisted`); throws when the token has none or the RPC fails. */
  isBlacklisted(address: Address): Promise<boolean>;
  signTransfer(input: { to: Address; amount: bigint; nonce: number } & TransferPlan): Promise<SignedTransfer>;
  /** eth_sendRawTransaction; throws the node's refusal. */
  broadcast(signedTx: Hex): Promise<void>;
  /** True when the node knows the transaction (pending or mined). */
  knows(txHash: Hex): Promise<boolean>;
  receipt(txHash: Hex): Promise<PayoutReceipt | undefined>;
}

export interface ViemPayoutChainOptions {
  network: string;
  chainId: number;
  rpcUrl: string;
  token: Address;
  privateKey: Hex;
  pollIntervalMs?: number;
}

/** Gas limit = estimate × 3/2: a transaction is never re-signed, so it must not run out of gas. */
const GAS_MARGIN_NUM = 3n;
const GAS_MARGIN_DEN = 2n;

const MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11";

export function viemPayoutChain(options: ViemPayoutChainOptions): PayoutChain {
  const account = privateKeyToAccount(options.privateKey);
  const client: PublicClient = createPublicClient({ transport: http(options.rpcUrl, { timeout: 10_000, retryCount: 1 }) });
  const blacklistClient = createPublicClient({
    // viem batches only on a chain that names its Multicall3 (at its canonical address on Base, World Chain
    // and the devnet); without one it silently makes one call per address.
    chain: defineChain({
      id: options.chainId,
      name: options.network,
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [options.rpcUrl] } },
      contracts: { multicall3: { address: MULTICALL3_ADDRESS } },
    }),
    transport: http(options.rpcUrl, { timeout: 10_000, retryCount: 1 }),
    batch: { multicall: { wait: 5 } },
  });
  const { token } = options;
  return {
    network: options.network,
    chainId: options.chainId,
    token,
    wallet: account.address,
    pollIntervalMs: options.pollIntervalMs ?? 1_000,
    usdcBalance: () => client.readContract({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [account.address] }),
    gasBalance: () => client.getBalance({ address: account.address }),
    async nonces(address = account.address) {
      const [latest, pending] = await Promise.all([
        client.getTransactionCount({ address, blockTag: "latest" }),
        client.getTransactionCount({ address, blockTag: "pending" }),
      ]);
      return { latest, pending };
    },
    async planTransfer(to, amount) {
      const data = encodeFunctionData({ abi: erc20Abi, functionName: "transfer", args: [to, amount] });
      const [estimate, block, priority] = await Promise.all([
        client.estimateGas({ account: account.address, to: token, data }),
        client.getBlock({ blockTag: "latest" }),
        client.estimateMaxPriorityFeePerGas().catch(() => 1_000_000n),
      ]);
      const baseFee = block.baseFeePerGas ?? 0n;
      // Twice the current base fee: room for six full blocks of increases before it waits.
      return { gas: (estimate * GAS_MARGIN_NUM) / GAS_MARGIN_DEN, maxPriorityFeePerGas: priority, maxFeePerGas: baseFee * 2n + priority };
    },
    // Asked once per new voter address on the vote path: concurrent lookups share one Multicall3 call.
    isBlacklisted: (address) => blacklistClient.readContract({ address: token, abi: erc20Abi, functionName: "isBlacklisted", args: [address] }),
    async signTransfer(input) {
      const signedTx = await account.signTransaction({
        type: "eip1559",
        chainId: options.chainId,
        nonce: input.nonce,
        gas: input.gas,
        maxFeePerGas: input.maxFeePerGas,
        maxPriorityFeePerGas: input.maxPriorityFeePerGas,
        to: token,
        value: 0n,
        data: encodeFunctionData({ abi: erc20Abi, functionName: "transfer", args: [input.to, input.amount] }),
      });
      return { signedTx, txHash: keccak256(signedTx) };
    },
    async broadcast(signedTx) {
      await client.sendRawTransaction({ serializedTransaction: signedTx });
    },
    async knows(txHash) {
      try {
        await client.getTransaction({ hash: txHash });
        return true;
      } catch (error) {
        if (error instanceof TransactionNotFoundError) return false;
        throw error;
      }
    },
    async receipt(txHash) {
      try {
        const receipt = await client.getTransactionReceipt({ hash: txHash });
        return { status: receipt.status, blockNumber: receipt.blockNumber };
      } catch (error) {
        if (error instanceof TransactionReceiptNotFoundError) return undefined;
        throw error;
      }
    },
  };
}

/**
 * True when the node executed the call and it reverted (the token refused it), as opposed to the RPC
 * failing: only a revert says something about the transfer itself.
 */
export function isExecutionRevert(error: unknown): boolean {
  return error instanceof BaseError && error.walk((e) => e instanceof ExecutionRevertedError) !== null;
}

/** What a revert said, once ("Execution reverted with reason: …"), for parked payouts; else the error's description. */
export function revertReason(error: unknown): string {
  const reverted = error instanceof BaseError ? error.walk((e) => e instanceof ExecutionRevertedError) : null;
  return reverted instanceof ExecutionRevertedError ? reverted.shortMessage.slice(0, 300) : describeChainError(error);
}

/** A short, key-free description of an RPC error for logs and failure reasons. */
export function describeChainError(error: unknown): string {
  if (error && typeof error === "object") {
    const e = error as { shortMessage?: unknown; details?: unknown; message?: unknown };
    const short = typeof e.shortMessage === "string" ? e.shortMessage : typeof e.message === "string" ? e.message.split("\n")[0] : "";
    const details = typeof e.details === "string" && e.details !== "" ? `: ${e.details}` : "";
    return `${short}${details}`.slice(0, 300);
  }
  return String(error).slice(0, 300);
}
