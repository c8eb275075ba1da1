// "If you paid, your poll exists; if you did not get a poll, you were not charged." The server
// process is SIGKILLed at each step between verification and the settlement response, with the
// chain outliving it (DEVNET_RPC_URL); after a restart the poll's state follows the chain, money
// moved at most once, and the agent's retry with the same signature gets the right answer.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentRequired } from "@x402/core/types";
import { agentClient } from "../scripts/lib/agent";
import { startAnvil, type AnvilProcess } from "../src/devnet/anvil";
import { usdcBalanceOf } from "../src/devnet/chain";
import { pollBody } from "./support/harness";
import { freePort } from "./support/ports";
import { startServerProcess, type ServerProcess } from "./support/server-process";

let anvil: AnvilProcess;
const dirs: string[] = [];
beforeAll(async () => {
  anvil = await startAnvil({ chainId: 31337 });
});
afterAll(async () => {
  await anvil?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// The paid resource URL includes the port, so a restart must come back on the same one.
function startServerOn(dataDir: string, port: number, crashAt?: string): Promise<ServerProcess> {
  return startServerProcess({
    PORT: String(port),
    DATA_DIR: dataDir,
    DEVNET_RPC_URL: anvil.rpcUrl,
    ...(crashAt ? { QUALI_TEST_CRASH_AT: crashAt } : {}),
  });
}

function readDb<T>(dataDir: string, sql: string): T[] {
  const db = new BetterSqlite3(join(dataDir, "quali.sqlite"), { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

type Point = "after_verify" | "after_claim" | "after_settlement" | "after_activation";

async function crashDuringPaidCreation(point: Point) {
  const dataDir = mkdtempSync(join(tmpdir(), `quali-crash-${point}-`));
  dirs.push(dataDir);
  const port = await freePort();
  const crashing = await startServerOn(dataDir, port, point);
  const devnet = JSON.parse(readFileSync(join(dataDir, "devnet.json"), "utf8"));
  const payer = devnet.payers[0];
  const balance = () => usdcBalanceOf(anvil.rpcUrl, devnet.asset, payer.address);

  const body = pollBody();
  const challenge = (await (
    await fetch(`${crashing.url}/api/v1/polls`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    })
  ).json()) as PaymentRequired;
  const client = agentClient({ privateKey: payer.privateKey, network: devnet.network, asset: devnet.asset });
  const signature = encodePaymentSignatureHeader(await client.createPaymentPayload(challenge));
  const before = await balance();

  const post = (url: string) =>
    fetch(`${url}/api/v1/polls`, {
      method: "POST",
      headers: { "content-type": "application/json", "PAYMENT-SIGNATURE": signature },
      body: JSON.stringify(body),
    });
  await expect(post(crashing.url)).rejects.toThrow(); // the process died mid-request
  await crashing.exited;

  const restarted = await startServerOn(dataDir, port);
  return { dataDir, devnet, before, balance, retry: () => post(restarted.url), restarted };
}

const stop = (server: ServerProcess) => server.stop();

describe("crash recovery of paid creation", () => {
  it("killed after verification: nothing was written or charged; the same signature then buys the poll", async () => {
    const run = await crashDuringPaidCreation("after_verify");
    try {
      expect(readDb(run.dataDir, "SELECT id FROM polls")).toEqual([]);
      expect(await run.balance()).toBe(run.before);
      const retry = await run.retry();
      expect(retry.status).toBe(201);
      expect(run.before - (await run.balance())).toBe(500_000n);
    } finally {
      await stop(run.restarted);
    }
  });

  it("killed after the claim, before settlement: the retry completes the abandoned poll, charged once", async () => {
    const run = await crashDuringPaidCreation("after_claim");
    try {
      const [abandoned] = readDb<{ id: string; status: string }>(run.dataDir, "SELECT id, status FROM polls");
      expect(abandoned?.status).toBe("pending_payment");
      expect(await run.balance()).toBe(run.before);
      // The authorization is still unused and valid: the retry settles it for the poll that was claimed.
      const retry = await run.retry();
      expect(retry.status).toBe(201);
      const created = await retry.json();
      expect(created.id).toBe(abandoned!.id);
      const statuses = Object.fromEntries(
        readDb<{ id: string; status: string }>(run.dataDir, "SELECT id, status FROM polls").map((p) => [p.id, p.status]),
      );
      expect(statuses).toEqual({ [abandoned!.id]: "active" });
      expect((await run.retry()).status).toBe(409);
      expect(run.before - (await run.balance())).toBe(500_000n);
    } finally {
      await stop(run.restarted);
    }
  });

  it("killed after settlement, before activation: the restart activates the poll from the chain and the retry gets its 201", async () => {
    const run = await crashDuringPaidCreation("after_settlement");
    try {
      expect(run.before - (await run.balance())).toBe(500_000n);
      const [poll] = readDb<{ id: string; status: string }>(run.dataDir, "SELECT id, status FROM polls");
      expect(poll?.status).toBe("active");
      const [payment] = readDb<{ status: string; tx_hash: string }>(run.dataDir, "SELECT status, tx_hash FROM payments");
      expect(payment?.status).toBe("settled");
      expect(payment?.tx_hash).toMatch(/^0x[0-9a-f]{64}$/);
      const visible = await fetch(`${run.restarted.url}/api/v1/polls/${poll!.id}`);
      expect(visible.status).toBe(200);
      // The agent never got its 201 (the process died): the retry delivers it, read token included.
      const retry = await run.retry();
      expect(retry.status).toBe(201);
      const created = await retry.json();
      expect(created).toMatchObject({ id: poll!.id, payment: { txHash: payment!.tx_hash } });
      expect(created.readToken).toMatch(/^[0-9a-f-]{36}$/);
      // Delivered once: from now on it is a replay, as the contract says.
      const replay = await run.retry();
      expect(replay.status).toBe(409);
      expect((await replay.json()).error.details.pollId).toBe(poll!.id);
      expect(run.before - (await run.balance())).toBe(500_000n);
    } finally {
      await stop(run.restarted);
    }
  });

  it("killed after activation, before the response: the poll exists and a retry names it", async () => {
    const run = await crashDuringPaidCreation("after_activation");
    try {
      const [poll] = readDb<{ id: string; status: string }>(run.dataDir, "SELECT id, status FROM polls");
      expect(poll?.status).toBe("active");
      const retry = await run.retry();
      expect(retry.status).toBe(409);
      expect((await retry.json()).error.details.pollId).toBe(poll!.id);
      expect(run.before - (await run.balance())).toBe(500_000n);
    } finally {
      await stop(run.restarted);
    }
  });
});
