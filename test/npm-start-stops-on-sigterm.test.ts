// `npm start` under a process manager: the manager signals npm, npm forwards the signal to the shell that
// runs the "start" script, and a shell that does not exec its command dies and leaves node (and the local
// chain it started) running with nobody to stop it. The promise guarded here: SIGTERM to `npm start` ends
// in the service's own graceful shutdown — the port closes and the devnet chain stops with it.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../src/project-paths";

const dataDir = mkdtempSync(join(tmpdir(), "quali-npm-start-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}', signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

async function until(probe: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

describe("npm start", () => {
  it("shuts the service and its local chain down when npm gets SIGTERM", async () => {
    const npm = spawn("npm", ["start", "--silent"], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, MODE: "local", PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    npm.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const npmExited = new Promise<void>((resolve) => npm.once("exit", () => resolve()));
    try {
      const started = await until(async () => /listening on http:\/\/\S+/.test(output) && /Local devnet \S+ at http:\/\/\S+,/.test(output), 60_000);
      expect(started, output).toBe(true);
      const serviceUrl = /listening on (http:\/\/\S+)/.exec(output)![1]!;
      const chainUrl = /Local devnet \S+ at (http:\/\/\S+),/.exec(output)![1]!;
      expect(await answers(`${serviceUrl}/healthz`)).toBe(true);
      expect(await answers(chainUrl)).toBe(true);

      npm.kill("SIGTERM");
      await npmExited;
      // The service ran its own shutdown (not merely lost its parent) …
      expect(await until(async () => output.includes("SIGTERM: shutting down"), 15_000), output).toBe(true);
      // … and nothing is left listening: neither the service nor the chain it started.
      expect(await until(async () => !(await answers(`${serviceUrl}/healthz`)), 20_000)).toBe(true);
      expect(await until(async () => !(await answers(chainUrl)), 20_000)).toBe(true);
    } finally {
      if (npm.exitCode === null) npm.kill("SIGKILL");
    }
  }, 120_000);
});
