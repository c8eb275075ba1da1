// The MCP server's spend limits refuse before any signature, so a refused poll moves no money: the
// per-poll limit (and the message names QUALI_MAX_USDC_PER_POLL and the value to set), the rolling daily
// limit across a restart of the server, and a poll the service refuses after the payment was signed
// (moderation) releases its reservation. A reservation made before signing survives a crash.
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { usdcBalanceOf } from "../src/devnet/chain";
import { SpendLedger } from "../src/mcp/spend-ledger";
import { data, freshHome, readDevnet, startMcp, text, type DevnetFile } from "./support/mcp";
import { startServerProcess, type ServerProcess } from "./support/server-process";

let dataDir: string;
let service: ServerProcess;
let devnet: DevnetFile;
const homes: string[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "quali-mcp-limits-"));
  service = await startServerProcess({ DATA_DIR: dataDir });
  devnet = readDevnet(dataDir);
});
afterAll(async () => {
  await service?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  for (const home of homes) rmSync(dirname(home), { recursive: true, force: true });
});

const home = () => {
  const dir = freshHome();
  homes.push(dir);
  return dir;
};
const balanceOf = (address: `0x${string}`) => usdcBalanceOf(devnet.rpcUrl, devnet.asset, address);
const pollArgs = (maxResponses: number, question = "Which tagline is clearer?") => ({
  question,
  options: [{ text: "Fast notes" }, { text: "Notes that think" }],
  maxResponses,
});
const ledgerOf = (dir: string) => JSON.parse(readFileSync(join(dir, "spend-ledger.json"), "utf8")) as { entries: { state: string; amountAtomic: string; pollId?: string }[] };

describe("spend limits move no money", () => {
  it("refuses a poll above QUALI_MAX_USDC_PER_POLL before signing, naming the setting and the value it needs", async () => {
    const payer = devnet.payers[1]!;
    const dir = home();
    const mcp = await startMcp({ QUALI_BASE_URL: service.url, QUALI_PAYER_PRIVATE_KEY: payer.privateKey, QUALI_MCP_HOME: dir });
    try {
      const before = await balanceOf(payer.address);
      const quote = await mcp.client.callTool({ name: "quote_poll", arguments: { maxResponses: 250 } });
      expect(data(quote)).toMatchObject({ priceUsdc: "1.25", createPollAllowed: false });
      expect(String(data(quote).createPollRefusal)).toContain("QUALI_MAX_USDC_PER_POLL");

      const result = await mcp.client.callTool({ name: "create_poll", arguments: pollArgs(250) });
      expect(result.isError).toBe(true);
      const message = text(result);
      expect(message).toContain("per-poll limit of 1 USDC");
      expect(message).toContain("set QUALI_MAX_USDC_PER_POLL to at least 1.25");
      expect(message).toContain("at most 200 fit in 1 USDC");
      expect(message).toContain("No money moved");
      expect(await balanceOf(payer.address)).toBe(before);
      // Nothing was reserved: the refusal came before the ledger.
      expect(await new SpendLedger({ home: dir, maxAtomicPerDay: 10_000_000n }).spentAtomic()).toBe(0n);
    } finally {
      await mcp.close();
    }
  });

  it("counts the rolling daily total across a restart and refuses past QUALI_MAX_USDC_PER_DAY with what is left", async () => {
    const payer = devnet.payers[2]!;
    const dir = home();
    const env = { QUALI_BASE_URL: service.url, QUALI_PAYER_PRIVATE_KEY: payer.privateKey, QUALI_MCP_HOME: dir, QUALI_MAX_USDC_PER_DAY: "0.9" };
    const first = await startMcp(env);
    const paid = await first.client.callTool({ name: "create_poll", arguments: pollArgs(100) });
    expect(paid.isError, text(paid)).toBeFalsy();
    await first.close();
    expect(ledgerOf(dir).entries).toEqual([expect.objectContaining({ state: "paid", amountAtomic: "500000", pollId: data(paid).pollId })]);
    expect(statSync(join(dir, "spend-ledger.json")).mode & 0o777).toBe(0o600);

    const restarted = await startMcp(env);
    try {
      const before = await balanceOf(payer.address);
      const refused = await restarted.client.callTool({ name: "create_poll", arguments: pollArgs(100) });
      expect(refused.isError).toBe(true);
      const message = text(refused);
      expect(message).toContain("0.5 USDC was already spent in the last 24 hours");
      expect(message).toContain("daily limit of 0.9 USDC (setting QUALI_MAX_USDC_PER_DAY)");
      expect(message).toContain("0.4 USDC is left");
      expect(message).toContain("No money moved");
      expect(await balanceOf(payer.address)).toBe(before);
      expect(ledgerOf(dir).entries).toHaveLength(1);
    } finally {
      await restarted.close();
    }
  });

  it("releases the reservation when the service refuses the signed payment before settlement (moderation)", async () => {
    const payer = devnet.payers[0]!;
    const dir = home();
    const mcp = await startMcp({ QUALI_BASE_URL: service.url, QUALI_PAYER_PRIVATE_KEY: payer.privateKey, QUALI_MCP_HOME: dir, QUALI_MAX_USDC_PER_DAY: "0.5" });
    try {
      const before = await balanceOf(payer.address);
      const rejected = await mcp.client.callTool({ name: "create_poll", arguments: pollArgs(100, "Which of these is the shit one?") });
      expect(rejected.isError).toBe(true);
      expect(text(rejected)).toContain("code content_rejected");
      expect(text(rejected)).toContain("No money moved");
      expect(await balanceOf(payer.address)).toBe(before);
      expect(ledgerOf(dir).entries).toEqual([]);

      // The whole daily allowance is still there for a poll that passes.
      const accepted = await mcp.client.callTool({ name: "create_poll", arguments: pollArgs(100) });
      expect(accepted.isError, text(accepted)).toBeFalsy();
      expect(before - (await balanceOf(payer.address))).toBe(500_000n);
    } finally {
      await mcp.close();
    }
  });

  it("keeps a reservation made before signing when the process dies before the outcome is known", async () => {
    const dir = home();
    const ledger = new SpendLedger({ home: dir, maxAtomicPerDay: 1_000_000n });
    await ledger.reserve(600_000n, devnet.network);
    // A new process (a new ledger on the same home) sees it, and refuses what would exceed the limit.
    const afterCrash = new SpendLedger({ home: dir, maxAtomicPerDay: 1_000_000n });
    expect(await afterCrash.spentAtomic()).toBe(600_000n);
    await expect(afterCrash.reserve(500_000n, devnet.network)).rejects.toMatchObject({ name: "DailyLimitExceeded", leftAtomic: 400_000n });
    // Outside the 24-hour window it no longer counts.
    const tomorrow = new SpendLedger({ home: dir, maxAtomicPerDay: 1_000_000n, now: () => new Date(Date.now() + 24 * 3_600_000 + 1_000) });
    expect(await tomorrow.spentAtomic()).toBe(0n);
  });
});
