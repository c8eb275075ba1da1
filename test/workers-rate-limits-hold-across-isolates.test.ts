// On Workers, a client's requests count in the Workers Rate Limiting bindings (wrangler.toml [[ratelimits]]),
// not in the memory of the isolate that happens to serve them, and a refusal looks exactly as on Node.
//
// Two parts, and what each proves:
//   1. Under `wrangler dev --local` (workerd, the bindings simulated by wrangler), from a configuration with
//      low limits: /readyz names the shared limiter; requests beyond the limit → 429 with the same headers
//      and envelope as the Node server's; the unpaid probe is still never limited; and a refusal comes from
//      the binding itself (a binding configured below its variable refuses while the isolate's own count
//      would still allow). wrangler dev runs the Worker in ONE isolate, and its simulated counter lives in
//      that isolate, so this part cannot show two isolates sharing a count.
//   2. In process: two app instances — two isolates' runtimes, each with its own memory — built by the
//      Worker's adapter (src/http/rate-limit-workers.ts) over ONE binding, wrangler's own simulation of it.
//      A client spreading its requests over both is refused once their sum reaches the limit; over no
//      binding (the per-isolate fallback) the same requests all pass. That is what "shared" means.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workersRateLimits } from "../src/http/rate-limit-workers";
import { inProcessApp, type InProcessApp } from "./support/in-process";
import { freePort } from "./support/ports";
import { simulatedRateLimit } from "./support/rate-limit-bindings";
import { runWrangler, startWranglerDev, writeWranglerConfig, type WranglerDev } from "./support/wrangler";

const POLL_ID = "3f0c2a8e-6a4b-4c1d-9f7e-2b5d8c1a9e40";
const PAYOUT_ADDRESS = "0x1111111111111111111111111111111111111111";
const RATE_LIMIT_HEADERS = ["retry-after", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"];

/** What a client sees of a refusal, whichever runtime answered it (the message's seconds vary). */
async function refusal(response: Response) {
  const body = (await response.json()) as { error: { code: string; message: string; details: Record<string, unknown> } };
  return {
    status: response.status,
    headers: Object.fromEntries(RATE_LIMIT_HEADERS.map((name) => [name, response.headers.get(name) === null ? "absent" : "present"])),
    limit: response.headers.get("x-ratelimit-limit"),
    remaining: response.headers.get("x-ratelimit-remaining"),
    fields: Object.keys(body.error).sort(),
    code: body.error.code,
    message: body.error.message.replace(/\d+ s\.$/, "N s."),
    details: body.error.details,
  };
}

/**
 * The bindings count in fixed 60-s periods on the clock (as Cloudflare's do): a burst that straddles a
 * period's end would start over half-way. Waits, if need be, until the current period has `ms` left.
 */
async function periodWithAtLeast(ms: number) {
  const deadline = Date.now() + 61_000;
  while (60_000 - (Date.now() % 60_000) < ms) {
    if (Date.now() > deadline) throw new Error("the clock did not move");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe("under wrangler dev --local, with the bindings of a low-limit configuration", () => {
  let worker: WranglerDev;
  let stateDir: string;
  let base: string;

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), "quali-workers-rate-limits-"));
    // A binding's limit is set in the configuration only: this test's copy of wrangler.toml lowers them.
    // The voter writes' binding is set BELOW its variable (2 < 3), so its refusals can only be the binding's.
    const bindingLimits: Record<string, number> = { RATE_LIMITER_PER_IP: 3, RATE_LIMITER_VOTER_WRITES_PER_IP: 2, RATE_LIMITER_PER_VOTER: 50 };
    const config = await writeWranglerConfig(stateDir, (raw) => {
      for (const binding of raw.ratelimits as { name: string; simple: { limit: number } }[]) {
        if (bindingLimits[binding.name] !== undefined) binding.simple.limit = bindingLimits[binding.name]!;
      }
    });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    await runWrangler(["d1", "migrations", "apply", "quali", "--local", "--persist-to", stateDir, "--config", config], stateDir);
    worker = await startWranglerDev({
      port,
      inspectorPort: await freePort(),
      stateDir,
      config,
      vars: {
        PUBLIC_BASE_URL: base,
        RATE_LIMIT_PER_MINUTE: "3",
        RATE_LIMIT_VOTER_WRITES_PER_IP_PER_MINUTE: "3",
        RATE_LIMIT_VOTES_PER_MINUTE: "50",
      },
    });
  }, 120_000);

  afterAll(async () => {
    // On failure, what the Worker logged is the first thing to read.
    if (process.env.WORKERS_RATE_LIMITS_LOG && worker) writeFileSync(process.env.WORKERS_RATE_LIMITS_LOG, worker.output());
    await worker?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it("says on /readyz that the limits are shared (the bindings), and warns of no fallback", async () => {
    const response = await fetch(`${base}/readyz`);
    const body = (await response.json()) as { checks: Record<string, { ok: boolean; detail?: string }> };
    expect(body.checks["rate-limits"]).toMatchObject({ ok: true, detail: "shared: Workers Rate Limiting bindings" });
    expect(worker.output()).not.toContain("no Rate Limiting binding");
  });

  it("refuses the request beyond the limit with 429, the Node server's headers and envelope", async () => {
    await periodWithAtLeast(8_000);
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${base}/api/v1/quote?maxResponses=100`);
      await response.arrayBuffer();
      expect(response.status).not.toBe(429);
      expect(response.headers.get("x-ratelimit-limit")).toBe("3");
      remaining.push(response.headers.get("x-ratelimit-remaining"));
    }
    expect(remaining).toEqual(["2", "1", "0"]);
    const refused = await fetch(`${base}/api/v1/quote?maxResponses=100`);
    const periodEnd = Math.ceil(Date.now() / 60_000) * 60;
    const workers = await refusal(refused.clone());
    expect(Number(refused.headers.get("x-ratelimit-reset"))).toBe(periodEnd);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);

    // The same rule refused by the Node server's limiter (in memory).
    const node = inProcessApp({ env: { RATE_LIMIT_PER_MINUTE: "3" }, appDeps: { clientIp: () => "198.51.100.7" } });
    try {
      let last: Response | undefined;
      for (let i = 0; i < 4; i++) last = await node.request("/api/v1/quote?maxResponses=100");
      expect(workers).toEqual(await refusal(last!));
    } finally {
      await node.close();
    }
    expect(workers).toMatchObject({ status: 429, code: "rate_limited", remaining: "0", details: { rule: "per-ip", limit: 3, windowSeconds: 60 } });
  });

  it("never counts the unpaid probe of the paid resource, even with the budget spent", async () => {
    await periodWithAtLeast(6_000);
    let status = 0;
    for (let i = 0; i < 5 && status !== 429; i++) {
      const response = await fetch(`${base}/api/v1/quote?maxResponses=100`);
      status = response.status;
      await response.arrayBuffer();
    }
    expect(status).toBe(429);
    const probe = await fetch(`${base}/api/v1/polls`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    await probe.arrayBuffer();
    expect(probe.status).not.toBe(429);
  });

  it("refuses what the binding refuses, though this isolate alone counted less", async () => {
    await periodWithAtLeast(6_000);
    const write = () =>
      fetch(`${base}/api/v1/polls/${POLL_ID}/world-id-request`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ optionId: "a", payoutAddress: PAYOUT_ADDRESS }),
      });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 3; i++) {
      last = await write();
      statuses.push(last.status);
      if (i < 2) await last.arrayBuffer();
    }
    // The variable says 3 (the isolate's own count allows a third); the binding holds 2.
    expect(statuses.slice(0, 2)).not.toContain(429);
    expect(statuses[2]).toBe(429);
    const third = await refusal(last!);
    expect(third).toMatchObject({ code: "rate_limited", remaining: "0", details: { rule: "voter-writes-per-ip", limit: 3, windowSeconds: 60 } });
  });
});

describe("in process: two isolates' runtimes over one binding (wrangler's simulation of it)", () => {
  const apps: InProcessApp[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  /** An app as one isolate builds it: its own limiter memory, the Worker's adapter over `env`'s bindings. */
  const isolate = (env: Record<string, unknown>) => {
    const logs: string[] = [];
    const limits = workersRateLimits(env, { log: (line) => logs.push(line) });
    const app = inProcessApp({ env: { RATE_LIMIT_PER_MINUTE: "3" }, appDeps: { clientIp: () => "203.0.113.9", rateLimiter: limits.factory } });
    apps.push(app);
    return { app, logs };
  };

  const spread = async (first: InProcessApp, second: InProcessApp) => {
    const statuses: number[] = [];
    for (const app of [first, first, second, second]) statuses.push((await app.request("/api/v1/quote?maxResponses=100")).status);
    return statuses;
  };

  it("refuses a client that spreads its requests over both once their sum passes the limit", async () => {
    await periodWithAtLeast(5_000);
    const env = { RATE_LIMITER_PER_IP: await simulatedRateLimit({ namespaceId: "71001", limit: 3, period: 60 }) };
    const statuses = await spread(isolate(env).app, isolate(env).app);
    expect(statuses.slice(0, 3)).not.toContain(429);
    expect(statuses[3]).toBe(429);
  });

  it("without the binding each isolate counts alone (the fallback), and says so once", async () => {
    const a = isolate({});
    const b = isolate({});
    const statuses = await spread(a.app, b.app);
    expect(statuses).not.toContain(429);
    expect(a.logs.filter((line) => line.includes("no Rate Limiting binding"))).toHaveLength(1);
  });
});
