// SIGTERM during a paid request: the server stops accepting new work but lets the request finish
// (moderation, settlement, activation), answers the agent, and after a restart the poll is active.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { encodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentRequired } from "@x402/core/types";
import { agentClient } from "../scripts/lib/agent";
import { startAnvil, type AnvilProcess } from "../src/devnet/anvil";
import { usdcBalanceOf } from "../src/devnet/chain";
import { pollBody } from "./support/harness";
import { startOpenAIModerationStandin, type OpenAIModerationStandin } from "./support/openai-moderation-standin";
import { freePort } from "./support/ports";
import { startServerProcess } from "./support/server-process";

let anvil: AnvilProcess;
let openai: OpenAIModerationStandin;
let dataDir: string;
beforeAll(async () => {
  anvil = await startAnvil({ chainId: 31337 });
  openai = await startOpenAIModerationStandin();
  dataDir = mkdtempSync(join(tmpdir(), "quali-sigterm-"));
});
afterAll(async () => {
  await openai?.close();
  await anvil?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const startOn = (port: number) =>
  startServerProcess({
    PORT: String(port),
    DATA_DIR: dataDir,
    DEVNET_RPC_URL: anvil.rpcUrl,
    OPENAI_API_KEY: openai.apiKey,
    OPENAI_BASE_URL: openai.url,
  });

describe("graceful shutdown", () => {
  it("completes an in-flight paid creation after SIGTERM", async () => {
    const port = await freePort();
    const server = await startOn(port);
    const devnet = JSON.parse(readFileSync(join(dataDir, "devnet.json"), "utf8"));
    const payer = devnet.payers[0];
    const body = pollBody();
    const challenge = (await (
      await fetch(`${server.url}/api/v1/polls`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
    ).json()) as PaymentRequired;
    const client = agentClient({ privateKey: payer.privateKey, network: devnet.network, asset: devnet.asset });
    const signature = encodePaymentSignatureHeader(await client.createPaymentPayload(challenge));
    const before = await usdcBalanceOf(anvil.rpcUrl, devnet.asset, payer.address);

    // The request is held in moderation when SIGTERM arrives (room for a slow machine to send it;
    // well inside the 10 s moderation timeout).
    openai.setDelay(3_000);
    openai.requests.length = 0;
    const inFlight = fetch(`${server.url}/api/v1/polls`, {
      method: "POST",
      headers: { "content-type": "application/json", "PAYMENT-SIGNATURE": signature },
      body: JSON.stringify(body),
    });
    // The deadline only bounds a failure (the request never reached moderation), so it is generous.
    await vi.waitUntil(() => openai.requests.length > 0, { timeout: 60_000, interval: 20 });
    server.child.kill("SIGTERM");

    const response = await inFlight;
    expect(response.status).toBe(201);
    const created = await response.json();
    expect(await server.exited).toBe(0);
    openai.setDelay(0);
    expect(before - (await usdcBalanceOf(anvil.rpcUrl, devnet.asset, payer.address))).toBe(500_000n);

    const restarted = await startOn(port);
    try {
      const poll = await (await fetch(`${restarted.url}/api/v1/polls/${created.id}`)).json();
      expect(poll.status).toBe("active");
    } finally {
      await restarted.stop();
    }
  }, 180_000);
});
