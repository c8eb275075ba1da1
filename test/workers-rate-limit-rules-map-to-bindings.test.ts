// Every rate-limit rule of the app has its Workers Rate Limiting binding, declared in wrangler.toml with the
// limit and period the rule has by default, and counts there under the key Node counts it under — so a rule
// added without a binding, a binding whose limit drifts from src/config.ts, or a rule counting in another
// rule's binding fails here. Where a binding is missing or fails, the rule counts per isolate and says so.
import { getAddress } from "viem";
import { afterAll, describe, expect, it } from "vitest";
import { RATE_LIMIT_BINDINGS, workersRateLimits } from "../src/http/rate-limit-workers";
import type { RateLimitRule } from "../src/http/rate-limit";
import { inProcessApp, type InProcessApp } from "./support/in-process";
import { recordingRateLimit, simulatedRateLimit } from "./support/rate-limit-bindings";
import { REPO_ROOT } from "./support/wrangler";

const POLL_ID = "3f0c2a8e-6a4b-4c1d-9f7e-2b5d8c1a9e40";
// Mixed case (a valid checksum): both rules count it in lower case, as on Node.
const VOTER = getAddress("0xabcdef0123456789abcdef0123456789abcdef01");
const CLIENT_IP = "2001:db8:1:2:3:4:5:6";
// Node counts an IPv6 client per /64 (src/http/client-ip.ts): so must the bindings.
const CLIENT_KEY = "2001:db8:1:2::/64";

const apps: InProcessApp[] = [];
afterAll(async () => {
  for (const app of apps) await app.close();
});

/** Every binding answering from wrangler's simulation with room to spare, except those in `overrides`. */
async function bindings(overrides: Record<string, unknown> = {}) {
  const env: Record<string, unknown> = {};
  for (const [index, name] of Object.values(RATE_LIMIT_BINDINGS).entries()) {
    env[name] = await simulatedRateLimit({ namespaceId: String(90_000 + index), limit: 1_000, period: 60 });
  }
  return { ...env, ...overrides };
}

function workerApp(env: Record<string, unknown>, vars: Record<string, string> = {}) {
  const logs: string[] = [];
  const limits = workersRateLimits(env, { log: (line) => logs.push(line) });
  const app = inProcessApp({
    env: { RATE_LIMIT_VOTER_WRITES_PER_IP_PER_MINUTE: "120", ...vars },
    appDeps: { clientIp: () => CLIENT_IP, rateLimiter: limits.factory, readinessChecks: [limits.readinessCheck] },
  });
  apps.push(app);
  return { app, logs };
}

describe("the Workers rate limits", () => {
  it("have one binding per rule the app builds, declared in wrangler.toml with the rule's default limit and window", async () => {
    const rules: RateLimitRule[] = [];
    const limits = workersRateLimits({}, { log: () => {} });
    // Production mode: the defaults a Worker runs with (its configuration is production only).
    apps.push(
      inProcessApp({
        env: { MODE: "production" },
        appDeps: {
          rateLimiter: (rule) => {
            rules.push(rule);
            return limits.factory(rule);
          },
        },
      }),
    );
    expect(rules.map((rule) => rule.name).sort()).toEqual(Object.keys(RATE_LIMIT_BINDINGS).sort());

    const { unstable_readConfig } = await import("wrangler");
    const declared: { name: string; namespace_id: string; simple: { limit: number; period: number } }[] = unstable_readConfig({ config: `${REPO_ROOT}wrangler.toml` }).ratelimits;
    for (const rule of rules) {
      const binding = declared.find((entry) => entry.name === RATE_LIMIT_BINDINGS[rule.name as keyof typeof RATE_LIMIT_BINDINGS]);
      expect(binding, rule.name).toBeDefined();
      expect({ rule: rule.name, limit: binding!.simple.limit, windowMs: binding!.simple.period * 1000 }).toEqual({ rule: rule.name, limit: rule.limit, windowMs: rule.windowMs });
    }
    expect(new Set(declared.map((entry) => entry.namespace_id)).size).toBe(declared.length);
  });

  const cases: { rule: keyof typeof RATE_LIMIT_BINDINGS; key: string; send: (app: InProcessApp) => Promise<Response> }[] = [
    { rule: "per-ip", key: CLIENT_KEY, send: (app) => app.request("/api/v1/quote?maxResponses=100") },
    { rule: "voter-writes-per-ip", key: CLIENT_KEY, send: (app) => app.postJson(`/api/v1/polls/${POLL_ID}/world-id-request`, { optionId: "a", payoutAddress: VOTER }) },
    { rule: "per-voter", key: VOTER.toLowerCase(), send: (app) => app.postJson(`/api/v1/polls/${POLL_ID}/world-id-request`, { optionId: "a", payoutAddress: VOTER }) },
    { rule: "reports-per-ip", key: CLIENT_KEY, send: (app) => app.postJson(`/api/v1/polls/${POLL_ID}/reports`, { reason: "spam" }) },
    { rule: "voter-payouts", key: VOTER.toLowerCase(), send: (app) => app.postJson("/api/v1/voter/payouts", { address: VOTER }) },
  ];

  it.each(cases)("count $rule in its own binding, under the key Node uses, and refuse as Node does", async ({ rule, key, send }) => {
    const refusing = recordingRateLimit();
    const { app } = workerApp(await bindings({ [RATE_LIMIT_BINDINGS[rule]]: refusing }));
    const response = await send(app);
    expect(response.status).toBe(429);
    expect(refusing.keys).toEqual([key]);
    const body = (await response.json()) as { error: { code: string; param?: string; details?: { rule: string } } };
    expect(body.error.code).toBe("rate_limited");
    expect(response.headers.get("retry-after")).toMatch(/^\d+$/);
    // The payout request answers its own refusal (param address), as on Node; every other rule through the middleware.
    if (rule === "voter-payouts") expect(body.error.param).toBe("address");
    else {
      expect(body.error.details?.rule).toBe(rule);
      expect(response.headers.get("x-ratelimit-remaining")).toBe("0");
    }
  });

  it("leave a rule turned off (0) unasked", async () => {
    const asked = recordingRateLimit();
    const { app } = workerApp(await bindings({ RATE_LIMITER_PER_IP: asked }), { RATE_LIMIT_PER_MINUTE: "0" });
    expect((await app.request("/api/v1/quote?maxResponses=100")).status).toBe(200);
    expect(asked.keys).toEqual([]);
  });

  it("count a rule without its binding per isolate, warn once, and say so on /readyz", async () => {
    const env = await bindings();
    delete env.RATE_LIMITER_REPORTS_PER_IP;
    const { app, logs } = workerApp(env, { RATE_LIMIT_REPORTS_PER_IP_PER_MINUTE: "1" });
    expect((await app.postJson(`/api/v1/polls/${POLL_ID}/reports`, { reason: "spam" })).status).not.toBe(429);
    expect((await app.postJson(`/api/v1/polls/${POLL_ID}/reports`, { reason: "spam" })).status).toBe(429);
    expect(logs.filter((line) => line.includes("no Rate Limiting binding"))).toEqual([expect.stringContaining("RATE_LIMITER_REPORTS_PER_IP")]);
    const ready = (await (await app.request("/readyz")).json()) as { checks: Record<string, { detail?: string }> };
    expect(ready.checks["rate-limits"]?.detail).toContain("per isolate: reports-per-ip");
  });

  it("keep answering on the isolate's own count while a binding fails, and log it once", async () => {
    const failing = { limit: async () => Promise.reject(new Error("binding unavailable")) };
    const { app, logs } = workerApp(await bindings({ RATE_LIMITER_PER_IP: failing }), { RATE_LIMIT_PER_MINUTE: "2" });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await app.request("/api/v1/quote?maxResponses=100")).status);
    expect(statuses).toEqual([200, 200, 429]);
    expect(logs.filter((line) => line.includes("binding failed"))).toHaveLength(1);
  });
});
