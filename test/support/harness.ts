// Starts the real service in local mode on a loopback port with a fresh data directory: a real
// anvil chain, the test USDC, the official facilitator in-process, real SQLite.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { startServer, type RunningServer, type StartOptions } from "../../src/server";

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
