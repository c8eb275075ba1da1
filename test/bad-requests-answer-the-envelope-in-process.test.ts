// Bad requests get the error envelope ({ error: { code, message, param? } }), answered by the app in
// process (no chain, no socket): a 400 naming the offending param, before any payment challenge and
// without writing anything; 404 for a poll that does not exist or never settled; 401 without the read
// token and 403 with a wrong one. Every rule of the contract's request body is exercised.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { futureIso, pollBody } from "./support/harness";
import { inProcessApp, type InProcessApp } from "./support/in-process";

let app: InProcessApp;
beforeAll(() => {
  app = inProcessApp();
});
afterAll(async () => {
  await app?.close();
});

const UNKNOWN_ID = "00000000-0000-4000-8000-000000000000";
const longText = (n: number) => "x".repeat(n);
const options = (n: number) => Array.from({ length: n }, (_, i) => ({ text: `Option ${i + 1}` }));

async function expectEnvelope(response: Response, status: number, code: string, param?: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const { error } = await response.json();
  expect(error.code).toBe(code);
  expect(error.message).toEqual(expect.any(String));
  if (param !== undefined) expect(error.param).toBe(param);
}

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
  it("a valid body is challenged (the refusals below are not for want of payments)", async () => {
    const response = await app.postJson("/api/v1/polls", pollBody());
    expect(response.status).toBe(402);
    expect(response.headers.get("PAYMENT-REQUIRED")).toEqual(expect.any(String));
  });

  it.each(cases)("%s → 400 naming %s", async (_name, overrides, param) => {
    const body = pollBody(overrides);
    for (const [key, value] of Object.entries(overrides)) if (value === undefined) delete body[key];
    const response = await app.postJson("/api/v1/polls", body);
    expect(response.headers.get("PAYMENT-REQUIRED")).toBeNull();
    await expectEnvelope(response, 400, "validation_error", param);
  });

  it("refuses a body that is not JSON with invalid_json", async () => {
    await expectEnvelope(await app.postJson("/api/v1/polls", "{not json"), 400, "invalid_json");
  });

  it("refuses a non-JSON content type with 415", async () => {
    const response = await app.postJson("/api/v1/polls", JSON.stringify(pollBody()), { "content-type": "text/plain" });
    await expectEnvelope(response, 415, "unsupported_media_type");
  });

  it("refuses a JSON array or scalar body", async () => {
    for (const body of [[], 42, "poll", null]) {
      await expectEnvelope(await app.postJson("/api/v1/polls", JSON.stringify(body)), 400, "validation_error");
    }
  });

  it("refuses a signed request without a body, without asking the facilitator", async () => {
    const response = await app.request("/api/v1/polls", { method: "POST", headers: { "PAYMENT-SIGNATURE": "e30=" } });
    await expectEnvelope(response, 400, "validation_error");
  });

  it("wrote nothing for any of them", async () => {
    const count = async (table: "polls" | "payments") =>
      Number((await app.store.db.selectFrom(table).select(({ fn }) => fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n);
    expect(await count("polls")).toBe(0);
    expect(await count("payments")).toBe(0);
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
    const response = await app.request(`/api/v1/quote?${query}`);
    expect(response.status).toBe(400);
    const { error } = await response.json();
    expect(error.param).toBe(param);
    expect(["validation_error", "unsupported_network"]).toContain(error.code);
  });
});

describe("reads of a poll that does not exist or never settled", () => {
  const reads = (id: string): [string, string, RequestInit?][] => [
    ["the public poll", `/api/v1/polls/${id}`],
    ["the voter's poll", `/api/v1/voter/polls/${id}`],
    ["results", `/api/v1/polls/${id}/results`, { headers: { "x-read-token": app.readTokens!.tokenFor(id) } }],
    ["votes", `/api/v1/polls/${id}/votes`, { headers: { "x-read-token": app.readTokens!.tokenFor(id) } }],
    ["deliveries", `/api/v1/polls/${id}/deliveries`, { headers: { "x-read-token": app.readTokens!.tokenFor(id) } }],
  ];

  it("answer 404 poll_not_found for an unknown id, with or without its token", async () => {
    for (const [what, path, init] of reads(UNKNOWN_ID)) {
      const response = await app.request(path, init);
      expect(response.status, what).toBe(404);
      expect((await response.json()).error.code, what).toBe("poll_not_found");
    }
  });

  it("answer 404 for a poll whose payment is pending or failed, as for an unknown one", async () => {
    for (const status of ["pending_payment", "payment_failed"] as const) {
      const id = await app.insertPoll({ status });
      for (const [what, path, init] of reads(id)) expect((await app.request(path, init)).status, `${what} (${status})`).toBe(404);
    }
  });

  it("answer 404 for an id that is not a poll id at all", async () => {
    await expectEnvelope(await app.request("/api/v1/polls/not-a-uuid"), 404, "poll_not_found");
  });
});

describe("read tokens", () => {
  const privateEndpoints = ["results", "votes", "deliveries"] as const;
  let pollId: string;
  let otherPollId: string;
  let publicPollId: string;
  beforeAll(async () => {
    [pollId, otherPollId, publicPollId] = [await app.insertPoll(), await app.insertPoll(), await app.insertPoll({ publicResults: true })];
  });

  it.each(privateEndpoints)("%s: 200 with X-Read-Token or Authorization: Bearer", async (endpoint) => {
    const token = app.readTokens!.tokenFor(pollId);
    for (const headers of [{ "x-read-token": token }, { authorization: `Bearer ${token}` }] as Record<string, string>[]) {
      expect((await app.request(`/api/v1/polls/${pollId}/${endpoint}`, { headers })).status).toBe(200);
    }
  });

  it.each(privateEndpoints)("%s: 401 read_token_missing without a token", async (endpoint) => {
    for (const headers of [{}, { authorization: "Basic abc" }, { "x-read-token": "  " }] as Record<string, string>[]) {
      await expectEnvelope(await app.request(`/api/v1/polls/${pollId}/${endpoint}`, { headers }), 401, "read_token_missing");
    }
  });

  it.each(privateEndpoints)("%s: 403 read_token_invalid with another poll's token or a made-up one", async (endpoint) => {
    for (const token of [app.readTokens!.tokenFor(otherPollId), "not-a-token", UNKNOWN_ID]) {
      await expectEnvelope(await app.request(`/api/v1/polls/${pollId}/${endpoint}`, { headers: { "x-read-token": token } }), 403, "read_token_invalid");
    }
  });

  it("public results: open without a token, a wrong token is still refused, votes and deliveries stay token-only", async () => {
    expect((await app.request(`/api/v1/polls/${publicPollId}/results`)).status).toBe(200);
    const wrong = { headers: { "x-read-token": app.readTokens!.tokenFor(pollId) } };
    await expectEnvelope(await app.request(`/api/v1/polls/${publicPollId}/results`, wrong), 403, "read_token_invalid");
    await expectEnvelope(await app.request(`/api/v1/polls/${publicPollId}/votes`), 401, "read_token_missing");
    await expectEnvelope(await app.request(`/api/v1/polls/${publicPollId}/deliveries`), 401, "read_token_missing");
  });
});
