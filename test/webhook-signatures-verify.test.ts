// "A receiver can prove a webhook came from us, for this poll, recently, and only act on it once." A real
// local receiver verifies both signatures with the recipe documented in docs/webhooks.md (its snippet
// IS test/support/webhook-recipe.ts); forged, tampered, stale and replayed deliveries are caught.
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { voteAsSimulatedHuman } from "../scripts/lib/voter";
import { contractSignature, createCallbackSecrets, deliveryHeaders, pollSignature } from "../src/webhook/signing";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";
import { verifyQualiWebhook, type Verdict } from "./support/webhook-recipe";
import { startReceiver, type ReceivedWebhook, type Receiver } from "./support/webhook-receiver";

const CONTRACT_SECRET = "contract-secret-shared-by-every-agent";
const CONTRACT_201_KEYS = ["id", "url", "readToken", "payment", "pricing", "endpoints"];

let service: LocalService;
let hook: Receiver;
const verdicts: Verdict[] = [];
const seen = new Set<string>();
let secretOfPoll: (pollId: string) => string | undefined = () => undefined;

beforeAll(async () => {
  // The receiver as an agent would write it: verify, then act once per delivery id, answer 2xx.
  hook = await startReceiver((request) => {
    const pollId = (JSON.parse(request.rawBody) as { pollId: string }).pollId;
    const verdict = verifyQualiWebhook(request.headers, request.rawBody, { callbackSecret: secretOfPoll(pollId) ?? "", qualiCallbackSecret: CONTRACT_SECRET }, seen);
    verdicts.push(verdict);
    return verdict.ok ? { status: 200 } : { status: 400, body: verdict.reason };
  });
  service = await startLocalService({ QUALI_CALLBACK_SECRET: CONTRACT_SECRET });
});
afterAll(async () => {
  await service?.stop();
  await hook?.close();
});

async function postPoll(overrides: Record<string, unknown>, payer: number): Promise<CreatedPoll & { callbackSecret?: string }> {
  return (await createPaidPoll(service, overrides, payer)) as CreatedPoll & { callbackSecret?: string };
}

/** Completes the poll through the voting API: 99 votes are taken as given, the 100th is cast for real. */
async function complete(poll: CreatedPoll): Promise<void> {
  await sql`UPDATE polls SET vote_count = max_responses - 1 WHERE id = ${poll.id}`.execute(service.store.db);
  const vote = await voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: `signer-${poll.id}` });
  expect(vote.status).toBe(201);
}

let pollA: CreatedPoll & { callbackSecret?: string };
let pollB: CreatedPoll & { callbackSecret?: string };
let delivered: ReceivedWebhook;

describe("callbackSecret in the 201", () => {
  it("is returned last, as whsec_…, only when callbackUrl is set, and differs per poll", async () => {
    pollA = await postPoll({ callbackUrl: hook.url }, 0);
    pollB = await postPoll({ callbackUrl: hook.url }, 1);
    const plain = await postPoll({}, 2);
    expect(Object.keys(pollA).filter((k) => k !== "options")).toEqual([...CONTRACT_201_KEYS, "callbackSecret"]);
    expect(pollA.callbackSecret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(pollB.callbackSecret).not.toBe(pollA.callbackSecret);
    expect(Object.keys(plain).filter((k) => k !== "options")).toEqual(CONTRACT_201_KEYS);
    // Never stored: derived from the server secret, like the read token.
    const serverSecret = readFileSync(`${service.dataDir}/read-token-secret`, "utf8").trim();
    expect(createCallbackSecrets(serverSecret).secretFor(pollA.id)).toBe(pollA.callbackSecret);
    const dump = JSON.stringify(await service.store.db.selectFrom("polls").selectAll().execute());
    expect(dump).not.toContain(pollA.callbackSecret!);
    const secrets = new Map([
      [pollA.id, pollA.callbackSecret!],
      [pollB.id, pollB.callbackSecret!],
    ]);
    secretOfPoll = (id) => secrets.get(id);
  });
});

describe("a real delivery", () => {
  it("verifies with the documented recipe: both signatures, fresh timestamp, first time seen", async () => {
    await complete(pollA);
    delivered = (await hook.waitFor(1, 10_000))[0]!;
    expect(verdicts[0]).toEqual({ ok: true, deliveryId: delivered.headers.get("x-quali-delivery"), event: "poll.completed", duplicate: false });
    const deliveries = await service.store.db.selectFrom("webhook_deliveries").selectAll().where("poll_id", "=", pollA.id).execute();
    await expect.poll(async () => (await service.store.db.selectFrom("webhook_deliveries").select("state").where("poll_id", "=", pollA.id).executeTakeFirst())?.state).toBe("delivered");
    expect(deliveries).toHaveLength(1);
  });

  it("carries exactly the documented headers and signature formulas", () => {
    const h = delivered.headers;
    const id = h.get("x-quali-delivery")!;
    const t = h.get("x-quali-timestamp")!;
    expect(t).toMatch(/^\d{10}$/);
    expect(Math.abs(Number(t) - Date.now() / 1000)).toBeLessThan(30);
    const hex = (key: string, message: string) => createHmac("sha256", key).update(message).digest("hex");
    expect(h.get("x-quali-signature")).toBe(`sha256=${hex(CONTRACT_SECRET, `${id}.${delivered.rawBody}`)}`);
    expect(h.get("x-quali-poll-signature")).toBe(`t=${t},v1=${hex(pollA.callbackSecret!, `${t}.${id}.${delivered.rawBody}`)}`);
    expect(h.get("x-quali-event")).toBe("poll.completed");
    expect(h.get("x-quali-attempt")).toBe("1");
    expect(h.get("content-type")).toBe("application/json");
  });

  it("catches replays, stale timestamps, tampering and forgeries by another agent", () => {
    const { headers, rawBody } = delivered;
    const id = headers.get("x-quali-delivery")!;
    const t = Number(headers.get("x-quali-timestamp"));
    const secrets = { callbackSecret: pollA.callbackSecret!, qualiCallbackSecret: CONTRACT_SECRET };
    // The same delivery again (a retry): valid, flagged as a duplicate to acknowledge without acting.
    expect(verifyQualiWebhook(headers, rawBody, secrets, seen, t + 10)).toMatchObject({ ok: true, duplicate: true });
    // Captured and replayed later than 5 minutes.
    expect(verifyQualiWebhook(headers, rawBody, secrets, new Set(), t + 301)).toEqual({ ok: false, reason: "stale timestamp" });
    // Body altered in transit.
    const tampered = rawBody.replace('"voteCount":100', '"voteCount":1');
    expect(tampered).not.toBe(rawBody);
    expect(verifyQualiWebhook(headers, tampered, secrets, new Set(), t)).toEqual({ ok: false, reason: "bad signature" });
    // Agent B knows the shared QUALI_CALLBACK_SECRET and its own callbackSecret: it can produce a valid
    // contract signature for poll A, but not A's per-poll signature.
    const forged = rawBody.replace('"voteCount":100', '"voteCount":99');
    const now = Math.floor(Date.now() / 1000);
    const forgedHeaders = new Headers({
      "x-quali-event": "poll.completed",
      "x-quali-delivery": id,
      "x-quali-signature": contractSignature(CONTRACT_SECRET, id, forged),
      "x-quali-timestamp": String(now),
      "x-quali-poll-signature": pollSignature(pollB.callbackSecret!, now, id, forged),
    });
    expect(verifyQualiWebhook(forgedHeaders, forged, secrets, new Set(), now)).toEqual({ ok: false, reason: "bad signature" });
    // Without the poll signature at all.
    forgedHeaders.delete("x-quali-poll-signature");
    expect(verifyQualiWebhook(forgedHeaders, forged, secrets, new Set(), now)).toMatchObject({ ok: false });
  });

  it("omits X-Quali-Signature when QUALI_CALLBACK_SECRET is not set", () => {
    const headers = deliveryHeaders({
      deliveryId: "d",
      event: "poll.completed",
      rawBody: "{}",
      at: new Date(),
      attempt: 1,
      contractSecret: undefined,
      callbackSecret: "whsec_x",
    });
    expect(Object.keys(headers)).not.toContain("X-Quali-Signature");
    expect(Object.keys(headers)).toEqual(
      expect.arrayContaining(["X-Quali-Event", "X-Quali-Delivery", "X-Quali-Timestamp", "X-Quali-Poll-Signature"]),
    );
  });
});

describe("GET /api/v1/polls/{id}/deliveries", () => {
  it("shows the delivery and its attempts to the read-token holder", async () => {
    const url = `${service.url}/api/v1/polls/${pollA.id}/deliveries`;
    const response = await fetch(url, { headers: { "x-read-token": pollA.readToken } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { pollId: string; deliveries: Record<string, unknown>[] };
    expect(body.pollId).toBe(pollA.id);
    expect(body.deliveries).toHaveLength(1);
    const [d] = body.deliveries;
    expect(d).toEqual({
      id: delivered.headers.get("x-quali-delivery"),
      event: "poll.completed",
      state: "delivered",
      attempts: 1,
      maxAttempts: 6,
      nextAttemptAt: null,
      lastStatus: 200,
      lastError: null,
      createdAt: expect.any(String),
      deliveredAt: expect.any(String),
      history: [{ attempt: 1, at: expect.any(String), status: 200, error: null, durationMs: expect.any(Number) }],
    });
    // Bearer works too.
    expect((await fetch(url, { headers: { authorization: `Bearer ${pollA.readToken}` } })).status).toBe(200);
  });

  it("answers 401 without a token, 403 with another poll's, 404 for an unknown poll, [] before completion", async () => {
    const url = `${service.url}/api/v1/polls/${pollA.id}/deliveries`;
    const missing = await fetch(url);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("read_token_missing");
    const wrong = await fetch(url, { headers: { "x-read-token": pollB.readToken } });
    expect(wrong.status).toBe(403);
    const unknown = await fetch(`${service.url}/api/v1/polls/00000000-0000-4000-8000-000000000000/deliveries`, { headers: { "x-read-token": pollA.readToken } });
    expect(unknown.status).toBe(404);
    const pending = await fetch(`${service.url}/api/v1/polls/${pollB.id}/deliveries`, { headers: { "x-read-token": pollB.readToken } });
    expect(await pending.json()).toEqual({ pollId: pollB.id, deliveries: [] });
  });

  it("is documented in OpenAPI (route + the webhook itself)", async () => {
    const doc = (await (await fetch(`${service.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { security?: unknown }>>;
      webhooks: Record<string, unknown>;
    };
    expect(doc.paths["/api/v1/polls/{id}/deliveries"]?.get?.security).toEqual([{ ReadToken: [] }, { ReadTokenBearer: [] }, { SignInWithX: [] }]);
    expect(Object.keys(doc.webhooks)).toEqual(["poll.completed", "poll.expired"]);
  });
});

describe("docs/webhooks.md", () => {
  it("documents the receiver recipe verbatim (the code this test runs)", () => {
    const doc = readFileSync(new URL("../docs/webhooks.md", import.meta.url), "utf8");
    const recipe = readFileSync(new URL("./support/webhook-recipe.ts", import.meta.url), "utf8").trim();
    expect(doc).toContain(recipe);
  });
});
