// Server processes attached to a chain the test owns (DEVNET_RPC_URL), so the chain outlives a SIGKILL;
// and the chain-side view of payouts: the token's Transfer logs out of the payout wallet.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { parseAbiItem, type Hex } from "viem";
import { payingFetch } from "../../scripts/lib/agent";
import { publicClientFor, type Address } from "../../src/devnet/chain";
import { builtServerArgs } from "./built-server";
import { pollBody } from "./harness";

export interface ServerProcess {
  child: ChildProcess;
  /** Resolves with the signal that ended the process (null after a normal exit). */
  exited: Promise<NodeJS.Signals | null>;
  output(): string;
}

export function spawnServer(opts: { dataDir: string; port: number; rpcUrl: string; env?: Record<string, string> }): ServerProcess {
  const child = spawn(process.execPath, builtServerArgs(), {
    env: {
      ...process.env,
      MODE: "local",
      PORT: String(opts.port),
      HOST: "127.0.0.1",
      DATA_DIR: opts.dataDir,
      DEVNET_RPC_URL: opts.rpcUrl,
      ...opts.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
  return { child, exited, output: () => output };
}

/** Resolves with the base URL once the server listens; rejects if it exits first. */
export function listening(server: ServerProcess, timeoutMs = 40_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${server.output()}`)), timeoutMs);
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(server.output());
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    server.child.stdout!.on("data", check);
    server.child.stderr!.on("data", check);
    check();
    void server.exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`server exited before listening:\n${server.output()}`));
    });
  });
}

/** Waits for a process that must SIGKILL itself (a crash hook) or be killed. */
export async function expectKilled(server: ServerProcess, timeoutMs = 40_000): Promise<void> {
  const signal = await Promise.race([
    server.exited,
    new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), timeoutMs).unref()),
  ]);
  if (signal === "timeout") {
    server.child.kill("SIGKILL");
    throw new Error(`server was not killed within ${timeoutMs} ms:\n${server.output()}`);
  }
  if (signal !== "SIGKILL") throw new Error(`server ended with ${String(signal)}, not SIGKILL:\n${server.output()}`);
}

export async function stopServer(server: ServerProcess): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill("SIGTERM");
  await server.exited;
}

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

export async function anvilRpc<T = unknown>(rpcUrl: string, method: string, params: unknown[] = []): Promise<T> {
  return (await publicClientFor(rpcUrl).request({ method: method as "eth_chainId", params: params as never })) as T;
}
