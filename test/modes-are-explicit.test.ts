// Operators get explicit modes and clear errors: local is the default, NODE_ENV=production refuses
// it, and production with missing configuration answers 503 on the affected endpoints while the
// startup log names each missing variable.
// Each endpoint's 503 is checked in process too: missing-configuration-answers-503-in-process.
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config";
import { startProductionService, type ProductionService } from "./support/harness";
import { freePort } from "./support/ports";

describe("loadConfig", () => {
  it("defaults to local mode on port 8787 with data under .data", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ mode: "local", port: 8787, dataDir: ".data", problems: [] });
    expect(config.publicBaseUrl).toBe("http://localhost:8787");
  });

  it("refuses local mode when NODE_ENV=production, explicit or implied", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: "production", MODE: "local" })).toThrow(/NODE_ENV=production/);
    expect(loadConfig({ NODE_ENV: "production", MODE: "production" }).mode).toBe("production");
  });

  it("names every invalid variable", () => {
    try {
      loadConfig({ MODE: "staging", X402_PAY_TO_ADDRESS_BASE: "0x123", PORT: "http" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).toContain("MODE");
      expect(message).toContain("X402_PAY_TO_ADDRESS_BASE");
      expect(message).toContain("PORT");
    }
  });

  it("lists each missing production variable as a problem with its endpoint code", () => {
    const { problems } = loadConfig({ MODE: "production" });
    expect(problems.map((p) => [p.variable, p.code])).toEqual(expect.arrayContaining([
      ["PUBLIC_BASE_URL", "payment_not_configured"],
      ["X402_PAY_TO_ADDRESS_BASE", "payment_not_configured"],
      ["CDP_API_KEY_ID", "payment_not_configured"],
      ["OPENAI_API_KEY", "moderation_not_configured"],
      ["READ_TOKEN_SECRET", "read_tokens_not_configured"],
    ]));
  });

  it("accepts the CDP key pair or a facilitator URL", () => {
    const base = { MODE: "production", PUBLIC_BASE_URL: "https://polls.example", X402_PAY_TO_ADDRESS_BASE: "0x" + "1".repeat(40) };
    expect(loadConfig({ ...base, CDP_API_KEY_ID: "id", CDP_API_KEY_SECRET: "secret" }).problems.map((p) => p.area)).not.toContain("payment");
    expect(loadConfig({ ...base, X402_FACILITATOR_URL: "https://facilitator.example" }).problems.map((p) => p.area)).not.toContain("payment");
    expect(loadConfig({ ...base, CDP_API_KEY_ID: "id" }).problems.find((p) => p.area === "payment")?.variable).toBe("CDP_API_KEY_SECRET");
  });
});

describe("production with missing configuration", () => {
  let running: ProductionService | undefined;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  async function start(env: Record<string, string>) {
    running = await startProductionService(env);
    return running;
  }

  it("answers 503 payment_not_configured and logs the missing variables, but stays up", async () => {
    const { logs, url } = await start({});
    for (const variable of ["PUBLIC_BASE_URL", "X402_PAY_TO_ADDRESS_BASE", "CDP_API_KEY_ID", "OPENAI_API_KEY", "READ_TOKEN_SECRET"]) {
      expect(logs.some((line) => line.includes(variable))).toBe(true);
    }
    const quote = await fetch(`${url}/api/v1/quote?maxResponses=100`);
    expect(quote.status).toBe(503);
    expect((await quote.json()).error.code).toBe("payment_not_configured");
    const create = await fetch(`${url}/api/v1/polls`, { method: "POST" });
    expect(create.status).toBe(503);
    expect(create.headers.get("PAYMENT-REQUIRED")).toBeNull();
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
  });

  it("answers 503 facilitator_unavailable when the facilitator cannot be reached", async () => {
    const closedPort = await freePort();
    const { url, logs } = await start({
      PUBLIC_BASE_URL: `https://polls.example`,
      X402_PAY_TO_ADDRESS_WORLDCHAIN: "0x" + "3".repeat(40),
      X402_FACILITATOR_URL: `http://127.0.0.1:${closedPort}`,
      READ_TOKEN_SECRET: "x".repeat(32),
      OPENAI_API_KEY: "sk-unused",
    });
    expect(logs.some((line) => line.includes("facilitator not usable yet"))).toBe(true);
    const quote = await fetch(`${url}/api/v1/quote?maxResponses=100`);
    expect(quote.status).toBe(503);
    expect((await quote.json()).error.code).toBe("facilitator_unavailable");
  });
});
