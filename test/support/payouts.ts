// Server processes attached to a chain the test owns (DEVNET_RPC_URL), so the chain outlives a SIGKILL;
// the chain-side view of payouts (the token's Transfer logs out of the payout wallet); and the crash
// tests' bench: one chain, one data directory and one port shared by a series of server processes.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { parseAbiItem, type Hex } from "viem";
import { afterAll, beforeAll } from "vitest";
import { payingFetch } from "../../scripts/lib/agent";
import { startAnvil, type AnvilProcess } from "../../src/devnet/anvil";
import { devAccount, publicClientFor, type Address } from "../../src/devnet/chain";
import { DEVNET_PAYOUT_ACCOUNT_INDEX } from "../../src/devnet/payout-wallet";
import type { PayoutCrashPoint } from "../../src/payouts";
import { pollBody } from "./harness";
import { freePort } from "./ports";
import { spawnServer, type SpawnedServer } from "./server-process";

export function readDb<T>(dataDir: string, query: string, ...params: unknown[]): T[] {
  const db = new BetterSqlite3(join(dataDir, "quali.sqlite"), { readonly: true });
  try {
    return db.prepare(query).all(...params) as T[];
  } finally {
    db.close();
  }
}

export async function waitUntil<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface DevnetFile {
  network: `eip155:${number}`;
  rpcUrl: string;
  asset: Address;
  payers: { address: Address; privateKey: Hex }[];
}

export function devnetFile(dataDir: string): DevnetFile {
  return JSON.parse(readFileSync(join(dataDir, "devnet.json"), "utf8")) as DevnetFile;
}

/** Pays for a poll through the running server (the official x402 client) and returns its id and options. */
export async function createPollOver(url: string, devnet: DevnetFile): Promise<{ id: string; options: { id: string }[] }> {
  const pay = payingFetch({ privateKey: devnet.payers[0]!.privateKey, network: devnet.network, asset: devnet.asset });
  const response = await pay(`${url}/api/v1/polls`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(pollBody()),
  });
  if (response.status !== 201) throw new Error(`poll creation answered ${response.status}: ${await response.text()}`);
  const { id } = (await response.json()) as { id: string };
  const poll = (await (await fetch(`${url}/api/v1/polls/${id}`)).json()) as { options: { id: string }[] };
  return { id, options: poll.options };
}

const transferEvent = parseAbiItem("event Transfer(address indexed from, address indexed to, uint256 value)");

/** Every Transfer of `token` out of `from`, grouped by recipient (lower-case), in chain order. */
export async function transfersFrom(rpcUrl: string, token: Address, from: Address): Promise<Map<string, { value: bigint; tx: Hex }[]>> {
  const logs = await publicClientFor(rpcUrl).getLogs({ address: token, event: transferEvent, args: { from }, fromBlock: 0n, toBlock: "latest" });
  const out = new Map<string, { value: bigint; tx: Hex }[]>();
  for (const log of logs) {
    const to = log.args.to!.toLowerCase();
    out.set(to, [...(out.get(to) ?? []), { value: log.args.value!, tx: log.transactionHash }]);
  }
  return out;
}

/** A raw JSON-RPC call to anvil (its own methods: evm_mine, anvil_dropTransaction…). */
export async function anvilRpc<T = unknown>(rpcUrl: string, method: string, params: unknown[] = []): Promise<T> {
  const response = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const answer = (await response.json()) as { result?: T; error?: { message: string } };
  if (answer.error) throw new Error(`${method}: ${answer.error.message}`);
  return answer.result as T;
}

/** A payouts row as the crash tests read it. */
export interface PayoutRecord {
  id: string;
  address: string;
  status: string;
  amount_atomic: string;
  entries: number;
  nonce: number | null;
  tx_hash: string | null;
  signed_tx: string | null;
  broadcasts: number;
}

export interface CrashBench {
  /** The chain every server process of the test attaches to. */
  readonly rpcUrl: string;
  readonly dataDir: string;
  /** The devnet payout wallet the servers pay from. */
  readonly wallet: Address;
  /** A server on the bench's data directory, chain and port; `crashAt` makes it SIGKILL itself there. */
  spawnAt(crashAt?: PayoutCrashPoint): SpawnedServer;
  /** Every payout, oldest first. */
  payouts(): PayoutRecord[];
  /** The token's transfers out of the payout wallet, by recipient. */
  transfers(): Promise<Map<string, { value: bigint; tx: Hex }[]>>;
}

/**
 * The crash tests' bench, set up before the file's tests and torn down after them: a separate anvil
 * (so the chain outlives each SIGKILLed server), one data directory and one port, shared by a series of
 * server processes started with `env`.
 */
export function payoutCrashBench(options: { dataDirPrefix: string; env: Record<string, string> }): CrashBench {
  let anvil: AnvilProcess | undefined;
  let dataDir: string | undefined;
  let port = 0;
  const live: SpawnedServer[] = [];
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the crash bench is used before its beforeAll ran");
    return value;
  };
  beforeAll(async () => {
    anvil = await startAnvil({ chainId: 31337 });
    dataDir = mkdtempSync(join(tmpdir(), options.dataDirPrefix));
    port = await freePort();
  });
  afterAll(async () => {
    for (const server of live) await server.stop();
    await anvil?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  const bench: CrashBench = {
    get rpcUrl() {
      return started(anvil).rpcUrl;
    },
    get dataDir() {
      return started(dataDir);
    },
    wallet: devAccount(DEVNET_PAYOUT_ACCOUNT_INDEX).address,
    spawnAt(crashAt) {
      const env = { ...options.env, ...(crashAt ? { QUALI_TEST_PAYOUT_CRASH_AT: crashAt } : {}) };
      const server = spawnServer({ ...env, PORT: String(port), DATA_DIR: bench.dataDir, DEVNET_RPC_URL: bench.rpcUrl });
      live.push(server);
      return server;
    },
    payouts: () => readDb<PayoutRecord>(bench.dataDir, "SELECT * FROM payouts ORDER BY created_at"),
    transfers: () => transfersFrom(bench.rpcUrl, devnetFile(bench.dataDir).asset, bench.wallet),
  };
  return bench;
}
