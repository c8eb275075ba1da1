// The service as its own OS process, as `npm start` runs it: the bundle the global setup built once per
// test run (test/support/global-setup.ts), run by plain node. For tests that signal or kill it (SIGTERM,
// SIGKILL, crash points) and restart it on the same DATA_DIR, chain and port.
import { spawn, type ChildProcess } from "node:child_process";
import { inject } from "vitest";
import { START_NODE_FLAGS } from "../../scripts/lib/bundle";

declare module "vitest" {
  export interface ProvidedContext {
    /** Absolute path of the bundle the global setup built. */
    serverBundle: string;
  }
}

export interface SpawnedServer {
  child: ChildProcess;
  /** Resolves with the exit code (null when a signal ended it: see `child.signalCode`). */
  exited: Promise<number | null>;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM (unless it already ended) and wait for the exit code. */
  stop(): Promise<number | null>;
}

/** A spawned server that is listening. */
export interface ServerProcess extends SpawnedServer {
  /** The URL the server printed ("listening on …"). */
  url: string;
  /** The devnet RPC URL it printed, in local mode. */
  rpcUrl: string | undefined;
}

const LISTENING = /listening on (http:\/\/\S+)/;
const DEVNET = /Local devnet \S+ at (http:\/\/\S+),/;
/** Servers spawned in local mode: they print their devnet right after "listening on". */
const localMode = new WeakSet<SpawnedServer>();

/**
 * Spawns the built service and returns at once. Defaults: local mode, a port the OS picks, loopback;
 * `env` adds to or overrides them (PORT, DATA_DIR, DEVNET_RPC_URL, crash points…).
 */
export function spawnServer(env: Record<string, string> = {}): SpawnedServer {
  const child = spawn(process.execPath, [...START_NODE_FLAGS, inject("serverBundle")], {
    env: { ...process.env, MODE: "local", PORT: "0", HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const server: SpawnedServer = {
    child,
    exited,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
  if ((env.MODE ?? "local") === "local") localMode.add(server);
  return server;
}

/**
 * Resolves with the base URL once the server listens (in local mode, once it also printed its devnet);
 * rejects if it exits first or takes longer than `timeoutMs`.
 */
export function listening(server: SpawnedServer, timeoutMs = 40_000): Promise<string> {
  const needsDevnet = localMode.has(server);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within ${timeoutMs} ms:\n${server.output()}`)), timeoutMs);
    const check = () => {
      const url = LISTENING.exec(server.output())?.[1];
      if (url && (!needsDevnet || DEVNET.test(server.output()))) {
        clearTimeout(timer);
        resolve(url);
      }
    };
    server.child.stdout!.on("data", check);
    server.child.stderr!.on("data", check);
    check();
    void server.exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${server.child.exitCode ?? server.child.signalCode} before it was listening:\n${server.output()}`));
    });
  });
}

/** Spawns the built service and waits until it listens. */
export async function startServerProcess(env: Record<string, string> = {}, timeoutMs = 40_000): Promise<ServerProcess> {
  const server = spawnServer(env);
  const url = await listening(server, timeoutMs);
  return { ...server, url, rpcUrl: DEVNET.exec(server.output())?.[1] };
}

/** Waits for a process that must SIGKILL itself (a crash hook) or be killed; fails on any other ending. */
export async function expectKilled(server: SpawnedServer, timeoutMs = 40_000): Promise<void> {
  const ended = await Promise.race([
    server.exited.then(() => "exited" as const),
    new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), timeoutMs).unref()),
  ]);
  if (ended === "timeout") {
    server.child.kill("SIGKILL");
    throw new Error(`server was not killed within ${timeoutMs} ms:\n${server.output()}`);
  }
  const signal = server.child.signalCode;
  if (signal !== "SIGKILL") throw new Error(`server ended with ${signal ?? `exit code ${server.child.exitCode}`}, not SIGKILL:\n${server.output()}`);
}
