// Production with missing configuration stays up and answers 503 on the affected endpoints, naming the
// missing variables (code from the problem, message "… (missing VAR)", details.missing), and never
// invites a payment that could not end in a poll. Checked in process on production-mode Configs
// (src/config.ts loadConfig); the startup log and an unreachable facilitator are covered on the running
// service by modes-are-explicit.
import { afterEach, describe, expect, it } from "vitest";
import { pollBody } from "./support/harness";
import { inProcessApp, type InProcessApp } from "./support/in-process";

const PAYMENTS = {
  PUBLIC_BASE_URL: "https://polls.example",
  X402_PAY_TO_ADDRESS_BASE: "0x" + "2".repeat(40),
  X402_FACILITATOR_URL: "https://facilitator.example",
};
const READ_TOKENS = { READ_TOKEN_SECRET: "x".repeat(32) };
const MODERATION = { OPENAI_API_KEY: "sk-never-called" };

let app: InProcessApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});
const production = (env: Record<string, string>) => (app = inProcessApp({ env: { MODE: "production", ...env } }));

async function expect503(response: Response, code: string, missing: string[]) {
  expect(response.status).toBe(503);
  expect(response.headers.get("PAYMENT-REQUIRED")).toBeNull();
  const { error } = await response.json();
  expect(error.code).toBe(code);
  expect(error.message).toContain(`(missing ${missing[0]})`);
  expect(error.details.missing).toEqual(expect.arrayContaining(missing));
}

describe("production with nothing configured", () => {
  it("answers the quote and poll creation with 503 payment_not_configured naming what is missing", async () => {
    const service = production({});
    const missing = ["PUBLIC_BASE_URL", "X402_PAY_TO_ADDRESS_BASE", "CDP_API_KEY_ID"];
    await expect503(await service.request("/api/v1/quote?maxResponses=100"), "payment_not_configured", missing);
    await expect503(await service.request("/api/v1/polls", { method: "POST" }), "payment_not_configured", missing);
    await expect503(await service.postJson("/api/v1/polls", pollBody()), "payment_not_configured", missing);
  });

  it("answers a poll's private reads with 503 read_tokens_not_configured", async () => {
    const service = production({});
    const id = await service.insertPoll();
    for (const endpoint of ["results", "votes", "deliveries"]) {
      await expect503(await service.request(`/api/v1/polls/${id}/${endpoint}`, { headers: { "x-read-token": "anything" } }), "read_tokens_not_configured", ["READ_TOKEN_SECRET"]);
    }
  });

  it("answers a vote's World ID request with 503 world_id_not_configured", async () => {
    const service = production({});
    const id = await service.insertPoll();
    const response = await service.postJson(`/api/v1/polls/${id}/world-id-request`, { optionId: "any", payoutAddress: "0x" + "3".repeat(40) });
    await expect503(response, "world_id_not_configured", ["WORLD_ID_APP_ID"]);
  });

  it("stays up: health, the public poll and the API description still answer", async () => {
    const service = production({});
    expect((await service.request("/healthz")).status).toBe(200);
    expect((await service.request(`/api/v1/polls/${await service.insertPoll()}`)).status).toBe(200);
    expect((await service.request("/openapi.json")).status).toBe(200);
  });
});

describe("production with payments configured", () => {
  it("never invites payment when moderation is missing: 503 moderation_not_configured, not a 402", async () => {
    const service = production({ ...PAYMENTS, ...READ_TOKENS });
    expect((await service.request("/api/v1/quote?maxResponses=100")).status).toBe(200);
    await expect503(await service.postJson("/api/v1/polls", pollBody()), "moderation_not_configured", ["OPENAI_API_KEY"]);
  });

  it("never invites payment when read tokens are missing: 503 read_tokens_not_configured", async () => {
    const service = production({ ...PAYMENTS, ...MODERATION });
    await expect503(await service.postJson("/api/v1/polls", pollBody()), "read_tokens_not_configured", ["READ_TOKEN_SECRET"]);
  });

  it("challenges a valid body once payments, moderation and read tokens are all configured", async () => {
    const service = production({ ...PAYMENTS, ...MODERATION, ...READ_TOKENS });
    const response = await service.postJson("/api/v1/polls", pollBody());
    expect(response.status).toBe(402);
    expect(response.headers.get("PAYMENT-REQUIRED")).toEqual(expect.any(String));
  });
});
