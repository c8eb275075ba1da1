// What validation lets through, on the service with its devnet: a body the in-process rules accept is
// challenged (402), and the quote answers the devnet it runs with. The 400s themselves (every rule of the
// request body and of the quote's query) are checked in process: bad-requests-answer-the-envelope-in-process.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pollBody, startLocalService, type LocalService } from "./support/harness";

let service: LocalService;
beforeAll(async () => {
  service = await startLocalService();
});
afterAll(async () => {
  await service?.stop();
});

const post = (body: unknown, headers: Record<string, string> = { "content-type": "application/json" }) =>
  fetch(`${service.url}/api/v1/polls`, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe("a valid body on the service", () => {
  it("accepts http callbacks to loopback in local mode", async () => {
    const response = await post(pollBody({ callbackUrl: "http://127.0.0.1:9999/hook" }));
    expect(response.status).toBe(402);
  });

  it("refuses an invalid body over the wire too, without a challenge", async () => {
    const response = await post(pollBody({ maxResponses: 99 }));
    expect(response.status).toBe(400);
    expect(response.headers.get("PAYMENT-REQUIRED")).toBeNull();
    expect((await response.json()).error).toMatchObject({ code: "validation_error", param: "maxResponses" });
  });

  it("wrote nothing for any of them", async () => {
    const polls = await service.store.db.selectFrom("polls").select(({ fn }) => fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    const payments = await service.store.db.selectFrom("payments").select(({ fn }) => fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    expect(Number(polls.n)).toBe(0);
    expect(Number(payments.n)).toBe(0);
  });
});

describe("the quote on the service", () => {
  it("accepts the devnet's own aliases and CAIP-2 id", async () => {
    for (const network of ["local", "devnet", service.devnet!.network]) {
      const response = await fetch(`${service.url}/api/v1/quote?maxResponses=100&network=${encodeURIComponent(network)}`);
      expect(response.status).toBe(200);
      const quote = await response.json();
      expect(quote.paymentRequired.accepts.map((a: { network: string }) => a.network)).toEqual([service.devnet!.network]);
    }
  });

  it("answers a query string it answered before the same way, with this request's own edge headers", async () => {
    const url = `${service.url}/api/v1/quote?maxResponses=321`;
    const [first, second] = [await fetch(url, { headers: { origin: "https://agent.example" } }), await fetch(url)];
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(await second.text()).toBe(await first.text());
    expect(first.headers.get("x-request-id")).not.toBe(second.headers.get("x-request-id"));
    for (const response of [first, second]) {
      expect(response.headers.get("content-type")).toBe("application/json");
      expect(response.headers.get("access-control-allow-origin")).toBe("*");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
    }
    // A refused query is refused again: errors are never kept.
    for (let i = 0; i < 2; i++) expect((await fetch(`${service.url}/api/v1/quote?maxResponses=99`)).status).toBe(400);
  });

  it("answers the contract's pricing fields", async () => {
    const quote = await (await fetch(`${service.url}/api/v1/quote?maxResponses=100`)).json();
    expect(quote).toMatchObject({
      maxResponses: 100,
      costUsdc: 0.5,
      costAtomic: "500000",
      rewardPoolUsdc: 0.05,
      qualiFeeUsdc: 0.45,
      x402Version: 2,
    });
    expect(Object.keys(quote)).toEqual([
      "maxResponses",
      "costUsdc",
      "costAtomic",
      "rewardPoolUsdc",
      "qualiFeeUsdc",
      "x402Version",
      "paymentRequired",
    ]);
  });
});
