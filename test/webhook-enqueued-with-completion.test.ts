// "The webhook is enqueued in the same atomic write that completes (or expires) the poll, exactly once,
// and goes out within 10 seconds." One poll is completed for real through the voting API (100 simulated
// World ID humans); the edge cases drive the lifecycle transition directly on a real SQLite store.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { voteAsSimulatedHuman, prepareVote, submitPrepared } from "../scripts/lib/voter";
import { transitionStatements } from "../src/polls/lifecycle";
import { enqueueDeliveryStatement } from "../src/webhook/outbox";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, mapLimit } from "./support/polls";
import { outboxFixture, PUBLIC_BASE_URL } from "./support/webhook-outbox";
import { startReceiver, type Receiver } from "./support/webhook-receiver";

const CONTRACT_KEYS = ["pollId", "status", "voteCount", "maxResponses", "completedAt", "resultsUrl", "votesUrl", "readToken"];

describe("end to end: the vote that fills the poll enqueues poll.completed", () => {
  let service: LocalService;
  let hook: Receiver;
  beforeAll(async () => {
    hook = await startReceiver(() => ({ status: 200, body: "thanks" }));
    service = await startLocalService({ QUALI_CALLBACK_SECRET: "contract-secret-for-tests" });
  });
  afterAll(async () => {
    await service?.stop();
    await hook?.close();
  });

  it("writes the outbox row with the completion and delivers it within 10 s of the completing vote", async () => {
    const poll = await createPaidPoll(service, { maxResponses: 100, callbackUrl: hook.url });
    const humans = Array.from({ length: 100 }, (_, i) => i);
    const prepared = await mapLimit(humans, 16, async (i) => {
      const step = await prepareVote(service.url, { pollId: poll.id, optionId: poll.options[i % 2]!.id, human: `webhook-e2e-${i}` });
      if ("failed" in step) throw new Error(JSON.stringify(step.failed));
      return step.prepared;
    });
    const first99 = await mapLimit(prepared.slice(0, 99), 16, (vote) => submitPrepared(service.url, vote));
    expect(first99.every((answer) => answer.status === 201)).toBe(true);
    const db = service.store.db;
    expect(await db.selectFrom("webhook_deliveries").selectAll().where("poll_id", "=", poll.id).execute()).toEqual([]);

    const last = await submitPrepared(service.url, prepared[99]!);
    const answeredAt = Date.now();
    expect(last.status).toBe(201);
    expect((last.body as { poll: { status: string } }).poll.status).toBe("completed");
    // Already in the database when the completing vote's 201 arrives: it was part of the same write.
    const rows = await db.selectFrom("webhook_deliveries").selectAll().where("poll_id", "=", poll.id).execute();
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    const pollRow = await db.selectFrom("polls").selectAll().where("id", "=", poll.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ event: "poll.completed", url: hook.url, created_at: pollRow.completed_at });

    const [received] = await hook.waitFor(1, 10_000);
    const latencyMs = received!.receivedAt - answeredAt;
    console.log(`poll.completed arrived ${latencyMs} ms after the completing vote's 201`);
    expect(latencyMs).toBeLessThan(10_000);

    expect(received!.method).toBe("POST");
    expect(received!.headers.get("content-type")).toBe("application/json");
    expect(received!.headers.get("x-quali-event")).toBe("poll.completed");
    expect(received!.headers.get("x-quali-delivery")).toBe(row.id);
    expect(received!.headers.get("x-quali-delivery")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(received!.rawBody).toBe(row.body);
    const body = JSON.parse(received!.rawBody) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(CONTRACT_KEYS);
    expect(body).toEqual({
      pollId: poll.id,
      status: "completed",
      voteCount: 100,
      maxResponses: 100,
      completedAt: pollRow.completed_at,
      resultsUrl: `${service.url}/api/v1/polls/${poll.id}/results`,
      votesUrl: `${service.url}/api/v1/polls/${poll.id}/votes`,
      readToken: poll.readToken,
    });
    // The URLs and token in the body work.
    const results = await fetch(body.resultsUrl as string, { headers: { "x-read-token": body.readToken as string } });
    expect(results.status).toBe(200);

    await expect.poll(async () => (await db.selectFrom("webhook_deliveries").select("state").where("id", "=", row.id).executeTakeFirstOrThrow()).state).toBe("delivered");
    expect(service.logs.join("\n")).not.toContain(poll.readToken);
  });

  it("enqueues nothing for a poll without callbackUrl, and a late vote changes nothing", async () => {
    const poll = await createPaidPoll(service, { maxResponses: 100 }, 1);
    await sql`UPDATE polls SET vote_count = 99 WHERE id = ${poll.id}`.execute(service.store.db);
    const vote = await voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: "no-callback" });
    expect(vote.status).toBe(201);
    expect((vote.body as { poll: { status: string } }).poll.status).toBe("completed");
    expect(await service.store.db.selectFrom("webhook_deliveries").selectAll().where("poll_id", "=", poll.id).execute()).toEqual([]);
  });
});

describe("lifecycle level: the outbox INSERT rides in the transition batch", () => {
  it("one row per (poll, event), only when the batch made the transition", async () => {
    const f = outboxFixture();
    try {
      const at = new Date("2026-11-23T10:00:00.000Z");
      const pollId = await f.insertPoll({ callbackUrl: "https://hooks.agent-example.com/q" });
      const notFull = await f.insertPoll({ callbackUrl: "https://hooks.agent-example.com/q", full: false });
      const noCallback = await f.insertPoll({ callbackUrl: null });

      // A transition whose guard fails (not full) enqueues nothing.
      expect(await f.transition(notFull, "completed", at)).toBe(false);
      expect(await f.transition(noCallback, "completed", at)).toBe(true);
      expect(await f.transition(pollId, "completed", at)).toBe(true);
      // Already completed: the second attempt is not a transition and adds nothing.
      expect(await f.transition(pollId, "completed", new Date(at.getTime() + 1000))).toBe(false);
      // Even a genuine second transition (status forced back) cannot enqueue twice: UNIQUE(poll_id, event).
      await sql`UPDATE polls SET status = 'active' WHERE id = ${pollId}`.execute(f.store.db);
      expect(await f.transition(pollId, "completed", new Date(at.getTime() + 2000))).toBe(true);

      const rows = await f.store.db.selectFrom("webhook_deliveries").selectAll().execute();
      expect(rows.map((r) => [r.poll_id, r.event])).toEqual([[pollId, "poll.completed"]]);
      const row = rows[0]!;
      expect(row).toMatchObject({ state: "pending", attempts: 0, next_attempt_at: at.toISOString(), created_at: at.toISOString() });
      expect(row.body).toBe(
        JSON.stringify({
          pollId,
          status: "completed",
          voteCount: 100,
          maxResponses: 100,
          completedAt: at.toISOString(),
          resultsUrl: `${PUBLIC_BASE_URL}/api/v1/polls/${pollId}/results`,
          votesUrl: `${PUBLIC_BASE_URL}/api/v1/polls/${pollId}/votes`,
          readToken: f.readTokens.tokenFor(pollId),
        }),
      );
    } finally {
      await f.close();
    }
  });

  it("enqueues poll.expired on expiry: status expired, completedAt = the expiry transition time", async () => {
    const f = outboxFixture();
    try {
      const pollId = await f.insertPoll({ callbackUrl: "https://hooks.agent-example.com/q", full: false, expiresAt: "2026-11-23T09:00:00.000Z" });
      const at = new Date("2026-11-23T09:00:30.000Z");
      expect(await f.transition(pollId, "expired", at)).toBe(true);
      const row = await f.store.db.selectFrom("webhook_deliveries").selectAll().where("poll_id", "=", pollId).executeTakeFirstOrThrow();
      expect(row.event).toBe("poll.expired");
      const body = JSON.parse(row.body) as Record<string, unknown>;
      expect(Object.keys(body)).toEqual(CONTRACT_KEYS);
      expect(body).toMatchObject({ pollId, status: "expired", voteCount: 50, maxResponses: 100, completedAt: at.toISOString() });
    } finally {
      await f.close();
    }
  });

  it("is atomic with the transition: a batch that fails leaves neither the status change nor the row", async () => {
    const f = outboxFixture();
    try {
      const pollId = await f.insertPoll({ callbackUrl: "https://hooks.agent-example.com/q" });
      const at = new Date().toISOString();
      const { statements } = transitionStatements(f.store.db, { pollId, to: "completed", at }, [
        (ctx) => [enqueueDeliveryStatement(ctx.db, ctx, { publicBaseUrl: PUBLIC_BASE_URL, readTokens: f.readTokens })],
      ]);
      // A later statement of the same write fails (e.g. the process dies mid-batch): all of it rolls back.
      const failing = f.store.db
        .insertInto("webhook_attempts")
        .values({ delivery_id: "x", attempt: 0, started_at: at, duration_ms: null, status: null, error: null, response_snippet: null });
      await expect(f.store.batch([...statements, failing])).rejects.toThrow(/CHECK constraint/);
      expect((await f.store.db.selectFrom("polls").select("status").where("id", "=", pollId).executeTakeFirstOrThrow()).status).toBe("active");
      expect(await f.store.db.selectFrom("webhook_deliveries").selectAll().execute()).toEqual([]);
    } finally {
      await f.close();
    }
  });
});
