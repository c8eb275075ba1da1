// Starts the real service in local mode on a loopback port with a fresh data directory: a real
// anvil chain, the test USDC, the official facilitator in-process, real SQLite. Route checks that need
// no chain (validation, 404/401/403/405/503) use the app in process instead: test/support/in-process.ts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { startServer, type RunningServer, type StartOptions } from "../../src/server";
import { freePort } from "./ports";

export interface LocalService extends RunningServer {
  logs: string[];
  dataDir: string;
  stop(): Promise<void>;
}

export async function startLocalService(
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<LocalService> {
  const dataDir = env.DATA_DIR ?? mkdtempSync(join(tmpdir(), "quali-test-"));
  const logs: string[] = [];
  const config = loadConfig({ MODE: "local", PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, ...env });
  const running = await startServer(config, { log: (line) => logs.push(line), ...options });
  return {
    ...running,
    logs,
    dataDir,
    async stop() {
      await running.close();
      if (!env.DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function futureIso(minutes = 60 * 24): string {
  return new Date(Date.now() + minutes * 60_000).toISOString();
}

export function pollBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    question: "Which name is clearer?",
    description: "Optional context for voters",
    options: [{ text: "Option A" }, { text: "Option B" }],
    maxResponses: 100,
    expiresAt: futureIso(),
    ...overrides,
  };
}

export interface ProductionService {
  server: RunningServer;
  url: string;
  /** Every log line, with its structured fields appended as JSON when there are any. */
  logs: string[];
  /** Closes the server and removes its data directory. */
  stop(): Promise<void>;
}

/** The service in production mode on a loopback port with a fresh data directory (no devnet, no stand-ins). */
export async function startProductionService(env: Record<string, string>): Promise<ProductionService> {
  const dataDir = mkdtempSync(join(tmpdir(), "quali-prod-"));
  const logs: string[] = [];
  const port = await freePort();
  const config = loadConfig({ MODE: "production", PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dataDir, ...env });
  const server = await startServer(config, {
    log: (line: string, fields?: unknown) => logs.push(fields ? `${line} ${JSON.stringify(fields)}` : line),
  }).catch((error: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    logs,
    async stop() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
