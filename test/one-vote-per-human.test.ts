// One vote per human per poll, enforced by UNIQUE(poll, nullifier) in the database (the portal answers
// 200 to a reused nullifier): the same human twenty times at once gets exactly one vote in.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, prepareVote, submitPrepared, type PreparedVote } from "../scripts/lib/voter";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, mapLimit } from "./support/polls";

let service: LocalService;
beforeAll(async () => {
  service = await startLocalService();
});
afterAll(async () => {
  await service?.stop();
});

async function prepare(pollId: string, optionId: string, human: string, payoutAddress?: string): Promise<PreparedVote> {
  const step = await prepareVote(service.url, { pollId, optionId, human, ...(payoutAddress ? { payoutAddress } : {}) });
  if ("failed" in step) throw new Error(JSON.stringify(step.failed));
  return step.prepared;
}

describe("one vote per human per poll", () => {
  it("lets the same human in once when they vote 20 times at once (different options, nonces and payout addresses)", async () => {
    const poll = await createPaidPoll(service, { options: [{ text: "A" }, { text: "B" }, { text: "C" }] });
    const attempts = await mapLimit(Array.from({ length: 20 }, (_, i) => i), 8, (i) =>
      prepare(poll.id, poll.options[i % 3]!.id, "the-same-human", `0x${(i + 1).toString(16).padStart(40, "0")}`),
    );
    const answers = await Promise.all(attempts.map((vote) => submitPrepared(service.url, vote)));

    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    const refused = answers.filter((a) => a.status !== 201);
    expect(refused).toHaveLength(19);
    expect(new Set(refused.map((a) => `${a.status} ${errorCode(a)}`))).toEqual(new Set(["409 already_voted"]));

    const db = service.store.db;
    expect(await db.selectFrom("votes").selectAll().where("poll_id", "=", poll.id).execute()).toHaveLength(1);
    const row = await db.selectFrom("polls").select("vote_count").where("id", "=", poll.id).executeTakeFirstOrThrow();
    expect(row.vote_count).toBe(1);
    const optionTotal = await db.selectFrom("poll_options").select("vote_count").where("poll_id", "=", poll.id).execute();
    expect(optionTotal.reduce((s, o) => s + o.vote_count, 0)).toBe(1);
    const ledger = await db
      .selectFrom("reward_ledger")
      .innerJoin("votes", "votes.id", "reward_ledger.vote_id")
      .select("reward_ledger.address")
      .where("votes.poll_id", "=", poll.id)
      .execute();
    expect(ledger).toHaveLength(1);
  });

  it("lets the same human vote once in each of two polls, and never twice with the same request", async () => {
    const first = await createPaidPoll(service);
    const second = await createPaidPoll(service);
    const inFirst = await prepare(first.id, first.options[0]!.id, "pollster");
    expect((await submitPrepared(service.url, inFirst)).status).toBe(201);
    expect((await submitPrepared(service.url, await prepare(second.id, second.options[1]!.id, "pollster"))).status).toBe(201);

    const replay = await submitPrepared(service.url, inFirst);
    expect(replay.status).toBe(409);
    expect(errorCode(replay)).toBe("nonce_used");
  });
});
