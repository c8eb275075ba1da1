// Bad input gets a clear 400 with the offending param, before any payment challenge, and writes
// nothing. Every rule of the contract's request body is exercised.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { futureIso, pollBody, startLocalService, type LocalService } from "./support/harness";

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

const longText = (n: number) => "x".repeat(n);
const options = (n: number) => Array.from({ length: n }, (_, i) => ({ text: `Option ${i + 1}` }));

const cases: [string, Record<string, unknown>, string][] = [
  ["missing question", { question: undefined }, "question"],
  ["blank question", { question: "   " }, "question"],
  ["question over 200 characters", { question: longText(201) }, "question"],
  ["description over 1000 characters", { description: longText(1001) }, "description"],
  ["one option", { options: options(1) }, "options"],
  ["eleven options", { options: options(11) }, "options"],
  ["option text over 120 characters", { options: [{ text: "A" }, { text: longText(121) }] }, "options[1].text"],
  ["empty option text", { options: [{ text: "" }, { text: "B" }] }, "options[0].text"],
  ["unknown option field", { options: [{ text: "A", colour: "red" }, { text: "B" }] }, "options[0].colour"],
  ["http option media", { options: [{ text: "A", mediaUrl: "http://example.com/a.png" }, { text: "B" }] }, "options[0].mediaUrl"],
  ["maxResponses below 100", { maxResponses: 99 }, "maxResponses"],
  ["maxResponses above 1,000,000", { maxResponses: 1_000_001 }, "maxResponses"],
  ["fractional maxResponses", { maxResponses: 100.5 }, "maxResponses"],
  ["maxResponses as a string", { maxResponses: "100" }, "maxResponses"],
  ["missing maxResponses", { maxResponses: undefined }, "maxResponses"],
  ["expiresAt not a timestamp", { expiresAt: "tomorrow" }, "expiresAt"],
  ["expiresAt in the past", { expiresAt: "2020-01-01T00:00:00Z" }, "expiresAt"],
  ["expiresAt only 4 minutes ahead", { expiresAt: futureIso(4) }, "expiresAt"],
  ["expiresAt beyond the 365-day limit", { expiresAt: futureIso(366 * 24 * 60) }, "expiresAt"],
  ["expiresAt with a 5-digit year", { expiresAt: "+010000-01-01T00:00:00Z" }, "expiresAt"],
  ["expiresAt leaving 4 digits in UTC", { expiresAt: "9999-12-31T23:59:59.999-14:00" }, "expiresAt"],
  ["moreInfoUrl over http", { moreInfoUrl: "http://example.com" }, "moreInfoUrl"],
  ["moreInfoUrl over 500 characters", { moreInfoUrl: `https://example.com/${longText(490)}` }, "moreInfoUrl"],
  ["moreInfoUrl with credentials", { moreInfoUrl: "https://user:pw@example.com" }, "moreInfoUrl"],
  ["mediaType other than image", { mediaUrl: "https://example.com/a.png", mediaType: "video" }, "mediaType"],
  ["mediaType without mediaUrl", { mediaType: "image" }, "mediaType"],
  ["unknown layoutType", { layoutType: "carousel" }, "layoutType"],
  ["callbackUrl over plain http to a public host", { callbackUrl: "http://example.com/hook" }, "callbackUrl"],
  ["callbackUrl not a URL", { callbackUrl: "not a url" }, "callbackUrl"],
  ["unknown top-level field", { price: 0 }, "price"],
];

describe("invalid poll bodies are refused before any challenge", () => {
  it.each(cases)("%s → 400 naming %s", async (_name, overrides, param) => {
    const body = pollBody(overrides);
    for (const [key, value] of Object.entries(overrides)) if (value === undefined) delete body[key];
    const response = await post(body);
    expect(response.status).toBe(400);
    expect(response.headers.get("PAYMENT-REQUIRED")).toBeNull();
    const json = await response.json();
    expect(json.error.code).toBe("validation_error");
    expect(json.error.param).toBe(param);
    expect(json.error.message).toEqual(expect.any(String));
  });

  it("refuses a body that is not JSON with invalid_json", async () => {
    const response = await post("{not json");
    expect(response.status).toBe(400);
    expect((await response.json()).error.code).toBe("invalid_json");
  });

  it("refuses a non-JSON content type with 415", async () => {
    const response = await post(JSON.stringify(pollBody()), { "content-type": "text/plain" });
    expect(response.status).toBe(415);
    expect((await response.json()).error.code).toBe("unsupported_media_type");
  });

  it("refuses a JSON array or scalar body", async () => {
    for (const body of [[], 42, "poll", null]) {
      const response = await post(JSON.stringify(body));
      expect(response.status).toBe(400);
      expect((await response.json()).error.code).toBe("validation_error");
    }
  });

  it("accepts http callbacks to loopback in local mode", async () => {
    const response = await post(pollBody({ callbackUrl: "http://127.0.0.1:9999/hook" }));
    expect(response.status).toBe(402);
  });

  it("refuses a signed request without a body, without asking the facilitator", async () => {
    const response = await fetch(`${service.url}/api/v1/polls`, {
      method: "POST",
      headers: { "PAYMENT-SIGNATURE": "e30=" },
    });
    expect(response.status).toBe(400);
    expect((await response.json()).error.code).toBe("validation_error");
  });

  it("wrote nothing for any of them", async () => {
    const polls = await service.store.db.selectFrom("polls").select(({ fn }) => fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    const payments = await service.store.db.selectFrom("payments").select(({ fn }) => fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    expect(Number(polls.n)).toBe(0);
    expect(Number(payments.n)).toBe(0);
  });
});

describe("quote validation", () => {
  it.each([
    ["", "maxResponses"],
    ["maxResponses=abc", "maxResponses"],
    ["maxResponses=99", "maxResponses"],
    ["maxResponses=1000001", "maxResponses"],
    ["maxResponses=100.5", "maxResponses"],
    ["maxResponses=-100", "maxResponses"],
    ["maxResponses=100&network=solana", "network"],
    ["maxResponses=100&network=base", "network"],
    ["maxResponses=100&maxResponses=200", "maxResponses"],
    ["maxResponses=100&network=local&network=devnet", "network"],
  ])("?%s → 400 naming %s", async (query, param) => {
    const response = await fetch(`${service.url}/api/v1/quote?${query}`);
    expect(response.status).toBe(400);
    const json = await response.json();
    expect(json.error.param).toBe(param);
    expect(["validation_error", "unsupported_network"]).toContain(json.error.code);
  });

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
