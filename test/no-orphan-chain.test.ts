// `npm start` owns its local chain: SIGTERM or Ctrl-C (SIGINT) on the server stops anvil with it,
// and even a SIGKILLed server leaves no anvil behind. A restart on the same DATA_DIR finds the
// chain state it saved.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  baseUrl: string;
  rpcUrl: string;
  dataDir: string;
}

function startServerProcess(dataDir: string): Promise<Started> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], {
    env: { ...process.env, MODE: "local", PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, NODE_ENV: "test" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const listening = /listening on (http:\/\/\S+)/.exec(output);
      const devnet = /Local devnet \S+ at (http:\/\/\S+),/.exec(output);
      if (listening && devnet) {
        clearTimeout(timer);
        resolve({ child, baseUrl: listening[1]!, rpcUrl: devnet[1]!, dataDir });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
}

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

async function waitUntil(predicate: () => Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
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
    const started = await startServerProcess(dataDir);
    expect(await chainAnswers(started.rpcUrl)).toBe(true);
    started.child.kill(signal);
    expect(await exited(started.child)).toBe(0);
    expect(await waitUntil(async () => !(await chainAnswers(started.rpcUrl)))).toBe(true);
  });

  it("a SIGKILLed server leaves no anvil behind, and a restart keeps the chain", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "quali-orphan-"));
    dirs.push(dataDir);
    const first = await startServerProcess(dataDir);
    const asset = JSON.parse(readFileSync(join(dataDir, "devnet.json"), "utf8")).asset;
    first.child.kill("SIGKILL");
    await exited(first.child);
    expect(await waitUntil(async () => !(await chainAnswers(first.rpcUrl)))).toBe(true);

    const second = await startServerProcess(dataDir);
    try {
      expect(JSON.parse(readFileSync(join(dataDir, "devnet.json"), "utf8")).asset).toBe(asset);
      const quote = await fetch(`${second.baseUrl}/api/v1/quote?maxResponses=100`);
      expect(quote.status).toBe(200);
    } finally {
      second.child.kill("SIGTERM");
      await exited(second.child);
    }
  });
});
