// `npm start` owns its local chain: SIGTERM or Ctrl-C (SIGINT) on the server stops anvil with it,
// and even a SIGKILLed server leaves no anvil behind. A restart on the same DATA_DIR finds the
// chain state it saved.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startServerProcess } from "./support/server-process";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const startIn = (dataDir: string) => startServerProcess({ DATA_DIR: dataDir, NODE_ENV: "test" });

async function chainAnswers(rpcUrl: string): Promise<boolean> {
  try {
    const response = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(1_000),
    });
    return response.ok;
  } catch {
    return false;
  }
}

/** The deadline only bounds a failure (a chain left running), so it is generous. */
async function waitUntil(predicate: () => Promise<boolean>, timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return predicate();
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });

describe("the local chain lives and dies with the server", () => {
  it.each(["SIGTERM", "SIGINT"] as const)("%s stops the server and its anvil", async (signal) => {
    const dataDir = mkdtempSync(join(tmpdir(), "quali-orphan-"));
    dirs.push(dataDir);
    const started = await startIn(dataDir);
    expect(await chainAnswers(started.rpcUrl!)).toBe(true);
    started.child.kill(signal);
    expect(await exited(started.child)).toBe(0);
    expect(await waitUntil(async () => !(await chainAnswers(started.rpcUrl!)))).toBe(true);
  }, 180_000);

  it("a SIGKILLed server leaves no anvil behind, and a restart keeps the chain", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "quali-orphan-"));
    dirs.push(dataDir);
    const first = await startIn(dataDir);
    const asset = JSON.parse(readFileSync(join(dataDir, "devnet.json"), "utf8")).asset;
    first.child.kill("SIGKILL");
    await exited(first.child);
    expect(await waitUntil(async () => !(await chainAnswers(first.rpcUrl!)))).toBe(true);

    const second = await startIn(dataDir);
    try {
      expect(JSON.parse(readFileSync(join(dataDir, "devnet.json"), "utf8")).asset).toBe(asset);
      const quote = await fetch(`${second.url}/api/v1/quote?maxResponses=100`);
      expect(quote.status).toBe(200);
    } finally {
      second.child.kill("SIGTERM");
      await exited(second.child);
    }
  }, 180_000);
});
