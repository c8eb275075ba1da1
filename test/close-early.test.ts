// "A poll's creator can close it early with its read token: it stops taking votes at once, its status is
// closed, the poll.completed webhook says so with the contract's body, and closing again changes nothing."
// Also: nobody without the token can close it (401/403, nothing changes), and a poll that already ended
// otherwise is not "closed" behind the client's back (409 poll_already_ended).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, prepareVote, submitPrepared, voteAsSimulatedHuman } from "../scripts/lib/voter";
import { startLocalService, type LocalService } from "./support/harness";
import { testClock } from "./support/clock";
import { createPaidPoll, type CreatedPoll } from "./support/polls";
import { verifyQualiWebhook } from "./support/webhook-recipe";
import { startReceiver, type Receiver } from "./support/webhook-receiver";

const CONTRACT_KEYS = ["pollId", "status", "voteCount", "maxResponses", "completedAt", "resultsUrl", "votesUrl", "readToken"];
const CONTRACT_SECRET = "contract-secret-for-close-tests";

const clock = testClock();
let service: LocalService;
let hook: Receiver;
let poll: CreatedPoll & { callbackSecret?: string };

const close = (pollId: string, headers: Record<string, string> = {}) => fetch(`${service.url}/api/v1/polls/${pollId}/close`, { method: "POST", headers });
const pollRow = (pollId: string) => service.store.db.selectFrom("polls").selectAll().where("id", "=", pollId).executeTakeFirstOrThrow();
const deliveries = (pollId: string) => service.store.db.selectFrom("webhook_deliveries").selectAll().where("poll_id", "=", pollId).execute();

beforeAll(async () => {
  hook = await startReceiver();
  service = await startLocalService({ QUALI_CALLBACK_SECRET: CONTRACT_SECRET, WEBHOOK_DISPATCH_INTERVAL_MS: "100" }, { now: clock.now });
  poll = await createPaidPoll(service, { maxResponses: 100, callbackUrl: hook.url });
  for (let i = 0; i < 3; i++) {
    const vote = await voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: poll.options[i % 2]!.id, human: `close-early-${i}` });
    expect(vote.status).toBe(201);
  }
});
afterAll(async () => {
  await service?.stop();
  await hook?.close();
});

describe("POST /api/v1/polls/{id}/close", () => {
  it("refuses a caller without the read token (401) or with another token (403), and changes nothing", async () => {
    const before = await pollRow(poll.id);
    const missing = await close(poll.id);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("read_token_missing");
    // Another poll's real token: a token is bound to its poll.
    const other = await createPaidPoll(service, { maxResponses: 100 }, 1);
    const wrongTokens: Record<string, string>[] = [{ "x-read-token": other.readToken }, { authorization: `Bearer ${other.readToken}` }, { "x-read-token": "not-a-token" }];
    for (const headers of wrongTokens) {
      const wrong = await close(poll.id, headers);
      expect(wrong.status).toBe(403);
      expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe("read_token_invalid");
    }
    expect(await pollRow(poll.id)).toEqual(before);
    expect(before.status).toBe("active");
    expect(await deliveries(poll.id)).toEqual([]);
  });

  it("closes the poll at once: status closed, completedAt set, later votes refused, the webhook delivered", async () => {
    // A voter who started before the close (World ID request and proof in hand) submits after it.
    const late = await prepareVote(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: "close-early-late" });
    if ("failed" in late) throw new Error(JSON.stringify(late.failed));

    const answer = await close(poll.id, { authorization: `Bearer ${poll.readToken}` });
    expect(answer.status).toBe(200);
    const closed = (await answer.json()) as { id: string; status: string; voteCount: number; maxResponses: number; completedAt: string | null };
    expect(closed).toMatchObject({ id: poll.id, status: "closed", voteCount: 3, maxResponses: 100 });
    const row = await pollRow(poll.id);
    expect(row.status).toBe("closed");
    expect(row.completed_at).toBe(closed.completedAt);
    expect(Date.parse(row.completed_at!)).toBeLessThanOrEqual(clock.now().getTime());

    const refused = await submitPrepared(service.url, late.prepared);
    expect(refused.status).toBe(409);
    expect(errorCode(refused)).toBe("poll_closed");
    const fresh = await voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: poll.options[1]!.id, human: "close-early-after" });
    expect(fresh.status).toBe(409);
    expect(errorCode(fresh)).toBe("poll_closed");
    expect((await pollRow(poll.id)).vote_count).toBe(3);
    const votes = await service.store.db.selectFrom("votes").select("id").where("poll_id", "=", poll.id).execute();
    expect(votes).toHaveLength(3);

    // Every read says closed.
    const read = (await (await fetch(`${service.url}/api/v1/polls/${poll.id}`)).json()) as { status: string; completedAt: string };
    expect(read).toMatchObject({ status: "closed", completedAt: closed.completedAt });
    const results = await fetch(`${service.url}/api/v1/polls/${poll.id}/results`, { headers: { "x-read-token": poll.readToken } });
    expect(results.status).toBe(200);
    expect(((await results.json()) as { status: string }).status).toBe("closed");
    const feed = (await (await fetch(`${service.url}/api/v1/voter/polls?limit=100`)).json()) as { polls: { id: string }[] };
    expect(feed.polls.map((p) => p.id)).not.toContain(poll.id);

    // The documented webhook: poll.completed, the contract's body in the contract's order, status "closed".
    const [received] = await hook.waitFor(1, 10_000);
    expect(received!.headers.get("x-quali-event")).toBe("poll.completed");
    const body = JSON.parse(received!.rawBody) as Record<string, unknown>;
    expect(Object.keys(body).slice(0, CONTRACT_KEYS.length)).toEqual(CONTRACT_KEYS);
    expect(body).toMatchObject({
      pollId: poll.id,
      status: "closed",
      voteCount: 3,
      maxResponses: 100,
      completedAt: closed.completedAt,
      resultsUrl: `${service.url}/api/v1/polls/${poll.id}/results`,
      votesUrl: `${service.url}/api/v1/polls/${poll.id}/votes`,
      readToken: poll.readToken,
    });
    const verdict = verifyQualiWebhook(received!.headers, received!.rawBody, { callbackSecret: poll.callbackSecret!, qualiCallbackSecret: CONTRACT_SECRET }, new Set());
    expect(verdict).toMatchObject({ ok: true, event: "poll.completed" });
    await expect.poll(async () => (await deliveries(poll.id)).map((d) => d.state)).toEqual(["delivered"]);
  });

  it("is idempotent: closing a closed poll answers the same 200 and changes nothing", async () => {
    const before = await pollRow(poll.id);
    const first = await (await close(poll.id, { "x-read-token": poll.readToken })).text();
    const again = await close(poll.id, { "x-read-token": poll.readToken });
    expect(again.status).toBe(200);
    expect(await again.text()).toBe(first);
    expect(JSON.parse(first)).toMatchObject({ status: "closed", completedAt: before.completed_at, voteCount: 3 });
    expect(await pollRow(poll.id)).toEqual(before);
    expect(await deliveries(poll.id)).toHaveLength(1);
    expect(hook.received).toHaveLength(1);
  });

  it("answers 409 poll_already_ended for a poll that completed, and leaves it completed", async () => {
    const full = await createPaidPoll(service, { maxResponses: 100 }, 2);
    await service.store.db.updateTable("polls").set({ vote_count: 99 }).where("id", "=", full.id).execute();
    const last = await voteAsSimulatedHuman(service.url, { pollId: full.id, optionId: full.options[0]!.id, human: "fills-it" });
    expect(last.status).toBe(201);
    const before = await pollRow(full.id);
    const answer = await close(full.id, { "x-read-token": full.readToken });
    expect(answer.status).toBe(409);
    expect(await answer.json()).toMatchObject({ error: { code: "poll_already_ended", details: { status: "completed" } } });
    expect(await pollRow(full.id)).toEqual(before);
  });

  it("answers 404 for an unknown poll", async () => {
    const answer = await close("3f0c2a8e-6a4b-4c1d-9f7e-2b5d8c1a9e40", { "x-read-token": poll.readToken });
    expect(answer.status).toBe(404);
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe("poll_not_found");
  });

  it("answers 409 for a poll past its expiry, which expires (poll.expired) instead of closing", async () => {
    const expiring = await createPaidPoll(service, { maxResponses: 100, callbackUrl: hook.url, expiresAt: new Date(clock.now().getTime() + 10 * 60_000).toISOString() }, 0);
    clock.advance(11 * 60_000);
    const answer = await close(expiring.id, { "x-read-token": expiring.readToken });
    expect(answer.status).toBe(409);
    expect(await answer.json()).toMatchObject({ error: { code: "poll_already_ended", details: { status: "expired" } } });
    expect((await pollRow(expiring.id)).status).toBe("expired");
    expect((await deliveries(expiring.id)).map((d) => d.event)).toEqual(["poll.expired"]);
  });
});
