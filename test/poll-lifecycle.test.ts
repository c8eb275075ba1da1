// active → completed (inside the vote write) and active → expired (expiresAt passed): a vote after
// expiry is refused even before any sweep ran; the sweep expires due polls; and statements appended to
// a transition (the webhook outbox, later) take effect exactly once, in the batch that made it.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, prepareVote, submitPrepared } from "../scripts/lib/voter";
import { expireDuePolls, transitionStatements, type TransitionListener } from "../src/polls/lifecycle";
import { recordVote } from "../src/voting/record-vote";
import { futureIso, startLocalService, type LocalService } from "./support/harness";
import { testClock } from "./support/clock";
import { createPaidPoll } from "./support/polls";

const clock = testClock();
let service: LocalService;

type LogTable = {
  transition_log: { poll_id: string; to_status: string; at: string; transition_id: string };
};

/** What the webhook issue will do: an INSERT guarded by this transition's id. */
const logTransitions: TransitionListener = (ctx) => [
  ctx.db
    .withTables<LogTable>()
    .insertInto("transition_log")
    .columns(["poll_id", "to_status", "at", "transition_id"])
    .expression((eb) =>
      eb
        .selectFrom("polls")
        .select(["polls.id as poll_id", eb.val(ctx.to).as("to_status"), eb.val(ctx.at).as("at"), "polls.transition_id as transition_id"])
        .where("polls.id", "=", ctx.pollId)
        .where("polls.transition_id", "=", ctx.transitionId),
    ),
];
const logged = (pollId: string) =>
  service.store.db.withTables<LogTable>().selectFrom("transition_log").selectAll().where("poll_id", "=", pollId).execute();
const statusOf = async (pollId: string) =>
  (await service.store.db.selectFrom("polls").select(["status", "completed_at", "vote_count"]).where("id", "=", pollId).executeTakeFirstOrThrow());

beforeAll(async () => {
  service = await startLocalService({}, { now: clock.now });
  service.store.sqlite.exec("CREATE TABLE transition_log (poll_id TEXT NOT NULL, to_status TEXT NOT NULL, at TEXT NOT NULL, transition_id TEXT)");
});
afterAll(async () => {
  await service?.stop();
});

describe("poll lifecycle", () => {
  it("refuses a vote after expiresAt even before any sweep ran, and expires the poll on the spot", async () => {
    const poll = await createPaidPoll(service, { expiresAt: futureIso(6) });
    const step = await prepareVote(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: "too-late" });
    if ("failed" in step) throw new Error(JSON.stringify(step.failed));
    clock.advance(7 * 60_000);
    try {
      const answer = await submitPrepared(service.url, step.prepared);
      expect(answer.status).toBe(409);
      expect(errorCode(answer)).toBe("poll_expired");
      expect((await statusOf(poll.id)).status).toBe("expired");
      expect(await service.store.db.selectFrom("votes").select("id").where("poll_id", "=", poll.id).execute()).toEqual([]);
      const pub = await (await fetch(`${service.url}/api/v1/polls/${poll.id}`)).json();
      expect(pub.status).toBe("expired");
    } finally {
      clock.advance(-7 * 60_000);
    }
  });

  it("the vote write itself refuses a poll past its expiry (the guard, not only the early check)", async () => {
    const poll = await createPaidPoll(service);
    const nonce = `0x${"ab".repeat(32)}`;
    const expiresAt = (await service.store.db.selectFrom("polls").select("expires_at").where("id", "=", poll.id).executeTakeFirstOrThrow()).expires_at;
    await service.store.db
      .insertInto("world_id_requests")
      .values({ nonce, poll_id: poll.id, option_id: poll.options[0]!.id, payout_address: `0x${"1".repeat(40)}`, signal: "s", created_at: new Date().toISOString(), expires_at: new Date(Date.parse(expiresAt) + 3600_000).toISOString(), used_at: null })
      .execute();
    const vote = {
      voteId: randomUUID(),
      pollId: poll.id,
      optionId: poll.options[0]!.id,
      nullifier: `0x${"cd".repeat(32)}`,
      nonce,
      shownOrder: null,
      country: null,
      ageBand: null,
      payoutAddress: `0x${"1".repeat(40)}`,
      network: service.devnet!.network,
    };
    const late = await recordVote(service.store, { ...vote, at: new Date(Date.parse(expiresAt) + 1).toISOString() });
    expect(late).toEqual({ accepted: false, reason: "refused" });
    const inTime = await recordVote(service.store, { ...vote, at: new Date(Date.parse(expiresAt) - 1).toISOString() });
    expect(inTime).toEqual({ accepted: true, completed: false });
  });

  it("expireDuePolls expires exactly the due polls, once, with listener statements applied once", async () => {
    const due = await createPaidPoll(service, { expiresAt: futureIso(6) });
    const later = await createPaidPoll(service, { expiresAt: futureIso(60) });
    const now = new Date(clock.now().getTime() + 7 * 60_000);
    const expired = await expireDuePolls(service.store, now, [logTransitions]);
    expect(expired).toContain(due.id);
    expect(expired).not.toContain(later.id);
    expect((await statusOf(due.id)).status).toBe("expired");
    expect((await statusOf(later.id)).status).toBe("active");
    expect(await expireDuePolls(service.store, now, [logTransitions])).toEqual([]);
    const rows = await logged(due.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ to_status: "expired", at: now.toISOString() });
    expect(await logged(later.id)).toEqual([]);
  });

  it("completes the poll in the vote that fills it, recording completedAt; listeners fire once", async () => {
    const poll = await createPaidPoll(service);
    const db = service.store.db;
    await db.updateTable("polls").set({ vote_count: 99 }).where("id", "=", poll.id).execute();
    const nonces = [`0x${"01".repeat(32)}`, `0x${"02".repeat(32)}`];
    for (const nonce of nonces) {
      await db
        .insertInto("world_id_requests")
        .values({ nonce, poll_id: poll.id, option_id: poll.options[1]!.id, payout_address: `0x${"2".repeat(40)}`, signal: "s", created_at: new Date().toISOString(), expires_at: futureIso(30), used_at: null })
        .execute();
    }
    const at = clock.now().toISOString();
    const base = { pollId: poll.id, optionId: poll.options[1]!.id, shownOrder: null, country: "DE", ageBand: "65+", payoutAddress: `0x${"2".repeat(40)}`, network: service.devnet!.network, at };
    const filling = await recordVote(service.store, { ...base, voteId: randomUUID(), nullifier: `0x${"e1".repeat(32)}`, nonce: nonces[0]! }, [logTransitions]);
    expect(filling).toEqual({ accepted: true, completed: true });
    expect(await statusOf(poll.id)).toEqual({ status: "completed", completed_at: at, vote_count: 100 });
    const overflow = await recordVote(service.store, { ...base, voteId: randomUUID(), nullifier: `0x${"e2".repeat(32)}`, nonce: nonces[1]! }, [logTransitions]);
    expect(overflow).toEqual({ accepted: false, reason: "refused" });

    // Re-running the transition (as a retry or a concurrent writer would) changes nothing.
    const again = transitionStatements(db, { pollId: poll.id, to: "completed", at: new Date().toISOString() }, [logTransitions]);
    const results = await service.store.batch(again.statements);
    expect(results[again.updateIndex]!.changes).toBe(0);
    const expiredAttempt = transitionStatements(db, { pollId: poll.id, to: "expired", at: futureIso(60 * 48) }, [logTransitions]);
    await service.store.batch(expiredAttempt.statements);
    const rows = await logged(poll.id);
    expect(rows).toEqual([{ poll_id: poll.id, to_status: "completed", at, transition_id: expect.any(String) }]);
    expect((await statusOf(poll.id)).status).toBe("completed");
  });
});
