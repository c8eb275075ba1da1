// x402 crawlers skip a service that answers their probes 429, and they probe from few addresses: the
// discovery documents and the bare 402 of the paid resource are never rate-limited, even for a client
// that has spent its per-IP budget on the API. A POST that carries a payment is not a probe and counts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pollBody, startLocalService, type LocalService } from "./support/harness";

let service: LocalService;
beforeAll(async () => {
  service = await startLocalService({ RATE_LIMIT_PER_MINUTE: "2" });
});
afterAll(async () => {
  await service?.stop();
});

describe("discovery probes after the per-IP limit is spent", () => {
  it("are answered, never 429", async () => {
    const quotes = [];
    for (let i = 0; i < 3; i++) quotes.push((await fetch(`${service.url}/api/v1/quote?maxResponses=100`)).status);
    expect(quotes).toEqual([200, 200, 429]);

    for (let i = 0; i < 5; i++) {
      const openapi = await fetch(`${service.url}/openapi.json`);
      expect(openapi.status).toBe(200);
      await openapi.arrayBuffer();

      // The bare probe crawlers send, and an unpaid poll body: the 402 challenge, without rate-limit headers.
      for (const init of [{}, { headers: { "content-type": "application/json" }, body: JSON.stringify(pollBody()) }]) {
        const challenge = await fetch(`${service.url}/api/v1/polls`, { method: "POST", ...init });
        expect(challenge.status).toBe(402);
        expect(challenge.headers.get("payment-required")).toBeTruthy();
        expect(challenge.headers.get("x-ratelimit-limit")).toBeNull();
        await challenge.arrayBuffer();
      }
      for (const path of ["/agents.md", "/llms.txt"]) {
        const doc = await fetch(`${service.url}${path}`);
        expect(doc.status).toBe(200);
        await doc.arrayBuffer();
      }
    }
  });

  it("still limit the API, and a POST carrying a payment is no probe", async () => {
    expect((await fetch(`${service.url}/api/v1/quote?maxResponses=100`)).status).toBe(429);
    const paid = await fetch(`${service.url}/api/v1/polls`, {
      method: "POST",
      headers: { "content-type": "application/json", "payment-signature": "not-a-real-payment" },
      body: JSON.stringify(pollBody()),
    });
    expect(paid.status).toBe(429);
    expect(await paid.json()).toMatchObject({ error: { code: "rate_limited", details: { rule: "per-ip" } } });
    expect(await service.store.db.selectFrom("polls").select("id").execute()).toHaveLength(0);
  });
});
