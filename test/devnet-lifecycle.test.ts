// startDevnet's promises about persistence, attaching, and never leaving anvil behind.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { privateKeyToAccount } from "viem/accounts";
import { x402Client } from "@x402/core/client";
import type { PaymentRequirements } from "@x402/core/types";
import { registerExactEvmScheme } from "@x402/evm/exact/client";
import { startAnvil } from "../src/devnet/anvil.js";
import { authorizationState, publicClientFor, usdcBalanceOf, type Address } from "../src/devnet/chain.js";
import { CHAIN_STATE_FILE, startDevnet, type Devnet } from "../src/devnet/devnet.js";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const PRICE = 500_000n;
const tempDirs: string[] = [];

afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "devnet-lifecycle-"));
  tempDirs.push(dir);
  return dir;
}

/** Alive = exists and is not a zombie (an orphan's exit may wait for init to reap it). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true; // no /proc (macOS): trust kill(0)
  }
}

/** Waits for the process to be gone; the deadline only bounds a failure, so it is generous. */
async function waitUntilDead(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isAlive(pid);
}

/** Pays PRICE from payers[0] to payTo through the devnet's in-process official facilitator. */
async function payOnce(devnet: Devnet): Promise<`0x${string}`> {
  const req: PaymentRequirements = {
    scheme: "exact",
    network: devnet.network,
    amount: PRICE.toString(),
    asset: devnet.asset,
    payTo: devnet.payTo,
    maxTimeoutSeconds: 120,
    extra: { name: devnet.tokenName, version: devnet.tokenVersion },
  };
  const client = new x402Client();
  registerExactEvmScheme(client, { signer: privateKeyToAccount(devnet.payers[0]!.privateKey), networks: [devnet.network] });
  client.setSpendControls({ allowedAssets: [{ network: devnet.network, asset: devnet.asset }] });
  const payload = await client.createPaymentPayload({ x402Version: 2, resource: { url: "http://127.0.0.1/polls" }, accepts: [req] });
  const settled = await devnet.facilitator.settle(payload, req);
  expect(settled).toMatchObject({ success: true });
  return (payload.payload as { authorization: { nonce: `0x${string}` } }).authorization.nonce;
}

async function balancesOf(devnet: Devnet, ...addresses: Address[]): Promise<bigint[]> {
  return Promise.all(addresses.map((a) => usdcBalanceOf(devnet.rpcUrl, devnet.asset, a)));
}

describe("startDevnet with a dataDir", () => {
  it("restarts into the same world: same token address, balances and used authorizations", async () => {
    const dataDir = tempDir();
    const first = await startDevnet({ dataDir });
    const payer = first.payers[0]!.address;
    expect(await balancesOf(first, payer)).toEqual([10_000_000_000n]);
    const nonce = await payOnce(first);
    const balancesBefore = await balancesOf(first, payer, first.payTo);
    expect(balancesBefore).toEqual([10_000_000_000n - PRICE, PRICE]);
    const firstPid = first.anvilPid!;
    await first.stop();
    expect(isAlive(firstPid)).toBe(false);
    expect(existsSync(join(dataDir, CHAIN_STATE_FILE))).toBe(true);

    const second = await startDevnet({ dataDir });
    try {
      expect(second.anvilPid).not.toBe(firstPid);
      expect(second.asset).toBe(first.asset);
      expect(await balancesOf(second, payer, second.payTo)).toEqual(balancesBefore); // not re-funded
      expect(await authorizationState(second.rpcUrl, second.asset, payer, nonce)).toBe(true);
      await payOnce(second); // the restored chain and a fresh facilitator keep settling
      expect(await balancesOf(second, payer)).toEqual([balancesBefore[0]! - PRICE]);
    } finally {
      await second.stop();
    }
    expect(isAlive(second.anvilPid!)).toBe(false);
  });

  it("refuses a restored chain whose token has a different EIP-712 domain", async () => {
    const dataDir = tempDir();
    await (await startDevnet({ dataDir })).stop();
    await expect(startDevnet({ dataDir, tokenName: "USD Coin" })).rejects.toThrow(/different|not \{"name":"USD Coin"/);
  });

  it("puts the token at the same address on every fresh chain", async () => {
    const a = await startDevnet({});
    const b = await startDevnet({ dataDir: tempDir() });
    try {
      expect(a.asset).toBe(b.asset);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    expect(isAlive(a.anvilPid!)).toBe(false);
    expect(isAlive(b.anvilPid!)).toBe(false);
  });
});

describe("startDevnet attached to a running chain via rpcUrl", () => {
  it("sets up once, then reuses the token and funding without a single new transaction", async () => {
    const anvil = await startAnvil({ chainId: 31337 });
    try {
      const first = await startDevnet({ rpcUrl: anvil.rpcUrl });
      expect(first.anvilPid).toBeUndefined();
      await payOnce(first);
      const client = publicClientFor(anvil.rpcUrl);
      const blockBefore = await client.getBlockNumber();
      const balancesBefore = await balancesOf(first, ...first.payers.map((p) => p.address));

      const second = await startDevnet({ rpcUrl: anvil.rpcUrl });
      expect(second.asset).toBe(first.asset);
      expect(await client.getBlockNumber()).toBe(blockBefore); // no deploy, no mint
      expect(await balancesOf(second, ...second.payers.map((p) => p.address))).toEqual(balancesBefore);

      await second.stop(); // attached: must leave the chain running
      expect(isAlive(anvil.pid)).toBe(true);
      expect(await client.getBlockNumber()).toBe(blockBefore);
      await expect(startDevnet({ rpcUrl: anvil.rpcUrl, chainId: 8453 })).rejects.toThrow(/has id 31337/);
    } finally {
      await anvil.stop();
    }
    expect(isAlive(anvil.pid)).toBe(false);
  });
});

describe("anvil never outlives the process that started it", () => {
  // Timing-free: it waits for each condition (the pid, anvil gone), never for a fixed time. A busy machine
  // only makes it slower: the child and the watchdog may take seconds to boot.
  it("dies when that process is SIGKILLed (watchdog), and its state was dumped", { timeout: 150_000 }, async () => {
    const dataDir = tempDir();
    const statePath = join(dataDir, CHAIN_STATE_FILE);
    const code = `
      const { startAnvil } = await import(${JSON.stringify(join(REPO_ROOT, "src/devnet/anvil.ts"))});
      const anvil = await startAnvil({ chainId: 31337, statePath: ${JSON.stringify(statePath)} });
      console.log(JSON.stringify({ pid: anvil.pid }));
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const anvilPid = await new Promise<number>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /\{"pid":(\d+)\}/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once("exit", (c) => reject(new Error(`child exited early (${c}): ${out}`)));
      setTimeout(() => reject(new Error(`no pid from child: ${out}`)), 60_000).unref();
    });
    expect(isAlive(anvilPid)).toBe(true);

    child.kill("SIGKILL");

    // The watchdog notices once it has booted, SIGTERMs anvil, and SIGKILLs it only after a long grace.
    expect(await waitUntilDead(anvilPid, 60_000)).toBe(true);
    // anvil got SIGTERM (not SIGKILL) from the watchdog, and startAnvil resolved only once anvil caught
    // SIGTERM, so it dumped its state on the way out
    expect(() => JSON.parse(readFileSync(statePath, "utf8"))).not.toThrow();
  });
});
