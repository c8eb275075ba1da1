// The vote that fills a poll completes it inside the same atomic write, so concurrent voters can never
// push it past maxResponses: three times more simultaneous voters than responses wanted → exactly
// maxResponses votes, status completed, completedAt recorded.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, prepareVote, requestWorldId, submitPrepared, type PreparedVote } from "../scripts/lib/voter";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, mapLimit } from "./support/polls";

let service: LocalService;
beforeAll(async () => {
  service = await startLocalService();
});
afterAll(async () => {
  await service?.stop();
});

describe("votes never overshoot maxResponses", () => {
  it("accepts exactly maxResponses of 3× as many simultaneous voters and completes the poll", async () => {
    const maxResponses = 100;
    const poll = await createPaidPoll(service, { maxResponses, options: [{ text: "A" }, { text: "B" }, { text: "C" }] });
    const voters = Array.from({ length: maxResponses * 3 }, (_, i) => i);
    const prepared = await mapLimit(voters, 16, async (i): Promise<PreparedVote> => {
      const step = await prepareVote(service.url, { pollId: poll.id, optionId: poll.options[i % 3]!.id, human: `crowd-${i}` });
      if ("failed" in step) throw new Error(JSON.stringify(step.failed));
      return step.prepared;
    });

    const started = performance.now();
    const answers = await Promise.all(prepared.map((vote) => submitPrepared(service.url, vote)));
    const seconds = (performance.now() - started) / 1000;
    console.log(`${answers.length} simultaneous votes answered in ${seconds.toFixed(2)} s (${(answers.length / seconds).toFixed(0)} votes/s)`);

    const accepted = answers.filter((a) => a.status === 201);
    expect(accepted).toHaveLength(maxResponses);
    const refused = answers.filter((a) => a.status !== 201);
    expect(new Set(refused.map((a) => `${a.status} ${errorCode(a)}`))).toEqual(new Set(["409 poll_full"]));
    const completions = accepted.filter((a) => (a.body as { poll: { status: string } }).poll.status === "completed");
    expect(completions.length).toBeGreaterThanOrEqual(1);

    const db = service.store.db;
    const row = await db.selectFrom("polls").selectAll().where("id", "=", poll.id).executeTakeFirstOrThrow();
    expect(row.status).toBe("completed");
    expect(row.vote_count).toBe(maxResponses);
    expect(row.completed_at).not.toBeNull();
    expect(row.transition_id).not.toBeNull();
    const votes = await db.selectFrom("votes").select(["created_at"]).where("poll_id", "=", poll.id).execute();
    expect(votes).toHaveLength(maxResponses);
    // completedAt is the timestamp of the vote that filled the poll: the last one.
    expect(row.completed_at).toBe(votes.map((v) => v.created_at).sort().at(-1));
    const options = await db.selectFrom("poll_options").select("vote_count").where("poll_id", "=", poll.id).execute();
    expect(options.reduce((s, o) => s + o.vote_count, 0)).toBe(maxResponses);

    const results = await fetch(`${service.url}/api/v1/polls/${poll.id}/results`, { headers: { "x-read-token": poll.readToken } });
    expect(await results.json()).toMatchObject({ status: "completed", voteCount: maxResponses, completedAt: row.completed_at });
    const publicPoll = await (await fetch(`${service.url}/api/v1/polls/${poll.id}`)).json();
    expect(publicPoll).toMatchObject({ status: "completed", voteCount: maxResponses, completedAt: row.completed_at });

    // A full poll starts no new votes and leaves the voter feed.
    const late = await requestWorldId(service.url, poll.id, poll.options[0]!.id, `0x${"2".repeat(40)}`);
    expect(late.status).toBe(409);
    expect(errorCode(late)).toBe("poll_full");
    const feed = (await (await fetch(`${service.url}/api/v1/voter/polls?limit=100`)).json()) as { polls: { id: string }[] };
    expect(feed.polls.map((p) => p.id)).not.toContain(poll.id);
  });
});
