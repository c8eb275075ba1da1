// Every response carries a request id and the security headers; oversized bodies get a clear 413 and
// write nothing; rate limits follow the peers' convention (X-RateLimit-*, 429 + Retry-After, per IP
// for free endpoints, per voter for votes); /readyz probes each dependency; logs are structured
// JSON lines with the request id and without secrets.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonLogger } from "../src/http/logger";
import { pollBody, startLocalService, type LocalService } from "./support/harness";
import { challengeFor, postPoll, signPayment } from "./support/sign";

let service: LocalService;
const lines: string[] = [];

beforeAll(async () => {
  service = await startLocalService({}, { log: jsonLogger((line) => lines.push(line)) });
});
afterAll(async () => {
  await service?.stop();
});

describe("security headers and request ids", () => {
  it("are on JSON, 402, 404 and HTML responses alike", async () => {
    const responses = [
      await fetch(`${service.url}/healthz`),
      await fetch(`${service.url}/api/v1/polls`, { method: "POST" }),
      await fetch(`${service.url}/no/such/route`),
      await fetch(`${service.url}/docs`),
    ];
    const ids = new Set<string>();
    for (const response of responses) {
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("x-frame-options")).toBe("DENY");
      expect(response.headers.get("x-xss-protection")).toBe("1; mode=block");
      expect(response.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
      expect(response.headers.get("permissions-policy")).toBe("camera=(), microphone=(), geolocation=()");
      expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      const id = response.headers.get("x-request-id");
      expect(id).toMatch(/^[\w-]{8,}$/);
      ids.add(id!);
    }
    expect(ids.size).toBe(responses.length);
  });

  it("give JSON answers a CSP that allows nothing, and keep the document headers for pages", async () => {
    const documentOnly = ["cross-origin-opener-policy", "cross-origin-resource-policy", "origin-agent-cluster", "x-dns-prefetch-control", "x-download-options", "x-permitted-cross-domain-policies"];
    const jsonAnswers = [
      await fetch(`${service.url}/healthz`),
      await fetch(`${service.url}/api/v1/polls`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }), // 400 through onError
      await fetch(`${service.url}/api/v1/polls`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(pollBody()) }), // 402 through respond()
      await fetch(`${service.url}/api/v1/quote?maxResponses=100`), // respond()
      await fetch(`${service.url}/no/such/route`),
      await fetch(`${service.url}/openapi.json`),
    ];
    expect(jsonAnswers.map((r) => r.status)).toEqual([200, 400, 402, 200, 404, 200]);
    for (const response of jsonAnswers) {
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      expect(response.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
      for (const name of documentOnly) expect(response.headers.get(name), `${response.url} ${name}`).toBeNull();
    }
    for (const path of ["/docs", "/assets/poll.js"]) {
      const document = await fetch(`${service.url}${path}`);
      expect(document.status, path).toBe(200);
      expect(document.headers.get("content-type"), path).toMatch(/^(text\/html|text\/javascript|application\/javascript)/);
      expect(document.headers.get("content-security-policy"), path).toContain("default-src 'self'");
      expect(document.headers.get("content-security-policy"), path).toContain("frame-ancestors 'none'");
      for (const name of documentOnly) expect(document.headers.get(name), `${path} ${name}`).not.toBeNull();
    }
  });

  it("keeps a caller's request id so agents can correlate", async () => {
    const response = await fetch(`${service.url}/healthz`, { headers: { "X-Request-Id": "agent-trace-123" } });
    expect(response.headers.get("x-request-id")).toBe("agent-trace-123");
  });
});

describe("body size limit", () => {
  it("answers 413 with the envelope for a body over 64 KB and writes nothing", async () => {
    const huge = pollBody({ description: "x".repeat(70 * 1024) });
    const response = await fetch(`${service.url}/api/v1/polls`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(huge),
    });
    expect(response.status).toBe(413);
    expect((await response.json()).error.code).toBe("payload_too_large");
    const polls = await service.store.db.selectFrom("polls").selectAll().execute();
    expect(polls).toHaveLength(0);
  });
});

describe("structured logs", () => {
  it("are JSON lines carrying the request id, never secrets", async () => {
    const body = pollBody();
    const signature = await signPayment(service, await challengeFor(service, body), 0);
    const created = await postPoll(service, body, signature);
    expect(created.status).toBe(201);
    const { readToken } = await created.json();
    const requestId = created.headers.get("x-request-id")!;

    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const access = parsed.find((entry) => entry.msg === "request" && entry.requestId === requestId);
    expect(access).toMatchObject({ method: "POST", path: "/api/v1/polls", status: 201, level: "info" });
    expect(typeof access!.ts).toBe("string");

    const all = lines.join("\n");
    expect(all).not.toContain(readToken);
    expect(all).not.toContain(signature.slice(0, 40));
    const secret = readFileSync(join(service.dataDir, "read-token-secret"), "utf8").trim();
    expect(all).not.toContain(secret);
    for (const payer of service.devnet!.payers) expect(all).not.toContain(payer.privateKey.slice(2));
  });
});

describe("rate limits", () => {
  let limited: LocalService;
  beforeAll(async () => {
    limited = await startLocalService({ RATE_LIMIT_PER_MINUTE: "5", RATE_LIMIT_VOTES_PER_MINUTE: "2" });
  });
  afterAll(async () => {
    await limited?.stop();
  });

  it("count per client IP on free endpoints with X-RateLimit-* and answer 429 with Retry-After", async () => {
    const seen: { status: number; limit: string | null; remaining: string | null; reset: string | null }[] = [];
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`${limited.url}/api/v1/quote?maxResponses=100`, { headers: { Origin: "https://agent.example" } });
      seen.push({
        status: response.status,
        limit: response.headers.get("x-ratelimit-limit"),
        remaining: response.headers.get("x-ratelimit-remaining"),
        reset: response.headers.get("x-ratelimit-reset"),
      });
      if (response.status === 429) {
        const body = await response.json();
        expect(body.error.code).toBe("rate_limited");
        expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        expect(response.headers.get("access-control-allow-origin")).toBe("*");
      }
    }
    expect(seen.map((s) => s.status)).toEqual([200, 200, 200, 200, 200, 429]);
    expect(seen.map((s) => s.remaining)).toEqual(["4", "3", "2", "1", "0", "0"]);
    expect(new Set(seen.map((s) => s.limit))).toEqual(new Set(["5"]));
    expect(Number(seen[0]!.reset)).toBeGreaterThan(Date.now() / 1000);
  });

  it("never limit liveness or pages", async () => {
    for (let i = 0; i < 8; i++) expect((await fetch(`${limited.url}/healthz`)).status).toBe(200);
  });

  it("count votes per voter, not per IP", async () => {
    const pollId = "00000000-0000-4000-8000-000000000000";
    const request = (address: string) =>
      fetch(`${limited.url}/api/v1/polls/${pollId}/world-id-request`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ optionId: "x", payoutAddress: address }),
      });
    const alice = "0x" + "a".repeat(40);
    const bob = "0x" + "b".repeat(40);
    const statuses = [(await request(alice)).status, (await request(alice)).status, (await request(alice)).status];
    expect(statuses.slice(0, 2)).not.toContain(429);
    expect(statuses[2]).toBe(429);
    expect((await request(bob)).status).not.toBe(429);
  });
});

describe("readiness", () => {
  it("reports database, chain, facilitator and moderation", async () => {
    const response = await fetch(`${service.url}/readyz`);
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.status).toBe("ready");
    expect(Object.keys(body.checks)).toEqual(
      expect.arrayContaining(["database", `chain:${service.devnet!.network}`, "facilitator", "moderation"]),
    );
    for (const check of Object.values(body.checks) as { ok: boolean }[]) expect(check.ok).toBe(true);
  });
});
