// Stock x402 clients pay at most $1 per payment and only assets of @x402/evm's default table (USDC on
// Base, not on World Chain). A poll that costs more than $1 is answered with a 402 whose `error` names
// the setting that lifts the cap at exactly its price (@x402/fetch's spendControls, quali-mcp's
// QUALI_MAX_USDC_PER_POLL) and the asset entry World Chain needs; following it, a stock client signs.
// A poll of $1 or less keeps the stock 402. Base stays first in accepts; agents.md and x-guidance say
// the same. Checked on a production-mode app in process (Base and World Chain; nothing is settled).
import { x402Client } from "@x402/core/client";
import { decodePaymentRequiredHeader } from "@x402/core/http";
import type { PaymentRequired } from "@x402/core/types";
import { registerExactEvmScheme } from "@x402/evm/exact/client";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderAgentsMarkdown } from "../src/discovery/agent-docs";
import { X_GUIDANCE } from "../src/discovery/guidance";
import { BASE, WORLD_CHAIN } from "../src/payment/networks";
import { pollBody } from "./support/harness";
import { inProcessApp, type InProcessApp } from "./support/in-process";

const PRODUCTION = {
  MODE: "production",
  PUBLIC_BASE_URL: "https://polls.example",
  X402_PAY_TO_ADDRESS_BASE: "0x" + "2".repeat(40),
  X402_PAY_TO_ADDRESS_WORLDCHAIN: "0x" + "3".repeat(40),
  X402_FACILITATOR_URL: "https://facilitator.example",
  READ_TOKEN_SECRET: "x".repeat(32),
  OPENAI_API_KEY: "sk-never-called",
};

let app: InProcessApp;
beforeAll(() => {
  app = inProcessApp({ env: PRODUCTION });
});
afterAll(async () => {
  await app?.close();
});

async function challengeFor(maxResponses: number): Promise<{ body: PaymentRequired; header: PaymentRequired; bytes: number }> {
  const response = await app.postJson("/api/v1/polls", pollBody({ maxResponses }));
  expect(response.status).toBe(402);
  const text = await response.text();
  return { body: JSON.parse(text) as PaymentRequired, header: decodePaymentRequiredHeader(response.headers.get("payment-required")!), bytes: text.length };
}

const signer = privateKeyToAccount(generatePrivateKey());
function sign(challenge: PaymentRequired, network: string, controls?: Parameters<x402Client["setSpendControls"]>[0]) {
  const client = new x402Client();
  registerExactEvmScheme(client, { signer });
  if (controls) client.setSpendControls(controls);
  return client.createPaymentPayload({ ...challenge, accepts: challenge.accepts.filter((a) => a.network === network) });
}

describe("the 402 of a poll over $1", () => {
  it("names the client setting, quali-mcp's setting and World Chain's asset entry at its price, header and body alike", async () => {
    const { body, header } = await challengeFor(500); // 2.5 USDC
    expect(body.accepts.map((a) => a.network)).toEqual([BASE.network, WORLD_CHAIN.network]);
    expect(body.accepts[0]!.amount).toBe("2500000");
    expect(header.error).toBe(body.error);
    const error = body.error!;
    expect(error).toContain("2.5 USDC");
    expect(error).toContain('setSpendControls({ maxAmountPerPayment: "$2.5" })');
    expect(error).toContain("QUALI_MAX_USDC_PER_POLL=2.5");
    expect(error).toContain(WORLD_CHAIN.network);
    expect(error).toContain('allowedAssets: [{ network, asset, maxAmountPerPayment: "2500000" }]');
    expect(error).not.toContain(BASE.network);
    // Small: the 402 travels base64 in a header too.
    expect(error.length).toBeLessThan(500);
  });

  it("is exactly what it takes: a stock client refuses both entries; with the named settings it signs each", async () => {
    const { body } = await challengeFor(500);
    await expect(sign(body, BASE.network)).rejects.toThrow(/maxAmountPerPayment/);
    await expect(sign(body, WORLD_CHAIN.network)).rejects.toThrow(/spendControls/);

    const cap = /maxAmountPerPayment: "(\$[\d.]+)"/.exec(body.error!)![1]!;
    const atomic = /maxAmountPerPayment: "(\d+)"/.exec(body.error!)![1]!;
    const onBase = await sign(body, BASE.network, { maxAmountPerPayment: cap });
    expect(onBase.accepted.amount).toBe("2500000");
    const worldChain = body.accepts[1]!;
    const onWorldChain = await sign(body, WORLD_CHAIN.network, {
      maxAmountPerPayment: cap,
      allowedAssets: [{ network: worldChain.network, asset: worldChain.asset, maxAmountPerPayment: atomic }],
    });
    expect(onWorldChain.accepted.network).toBe(WORLD_CHAIN.network);
    // One atomic unit less than the price is refused: the setting is the price, not a guess.
    await expect(sign(body, BASE.network, { maxAmountPerPayment: "$2.499999" })).rejects.toThrow(/maxAmountPerPayment/);
  });

  it("is the quote's challenge too; narrowed to Base, it leaves World Chain out", async () => {
    const quote = (await (await app.request("/api/v1/quote?maxResponses=500")).json()) as { paymentRequired: PaymentRequired };
    expect(quote.paymentRequired.error).toBe((await challengeFor(500)).body.error);
    const base = (await (await app.request("/api/v1/quote?maxResponses=500&network=base")).json()) as { paymentRequired: PaymentRequired };
    expect(base.paymentRequired.error).toContain('maxAmountPerPayment: "$2.5"');
    expect(base.paymentRequired.error).not.toContain(WORLD_CHAIN.network);
  });
});

describe("the 402 of a poll of $1 or less", () => {
  it("is the stock challenge, unchanged", async () => {
    for (const maxResponses of [100, 200]) {
      const { body, header } = await challengeFor(maxResponses);
      expect(body.error).toBe("Payment required");
      expect(header.error).toBe("Payment required");
      expect(body.accepts[0]!.network).toBe(BASE.network);
    }
    // $1.005 is over the cap.
    expect((await challengeFor(201)).body.error).toContain("QUALI_MAX_USDC_PER_POLL=1.005");
  });
});

describe("agents.md and x-guidance", () => {
  it("name the client setting, the asset entry and quali-mcp's setting", () => {
    const agentsMd = renderAgentsMarkdown({
      publicBaseUrl: "https://polls.example",
      networks: [BASE, WORLD_CHAIN].map((spec) => ({ spec, payTo: "0x9999999999999999999999999999999999999999" as const })),
      mode: "production",
    });
    for (const text of [agentsMd, X_GUIDANCE]) {
      expect(text).toContain("$1");
      expect(text).toContain("maxAmountPerPayment");
      expect(text).toContain("allowedAssets");
      expect(text).toContain("QUALI_MAX_USDC_PER_POLL");
      expect(text).toContain("QUALI_MAX_USDC_PER_DAY");
      expect(text).toMatch(/402 whose `?error`? names these settings/);
    }
    expect(X_GUIDANCE.length).toBeLessThan(4000);
  });
});
