// "A vote racing the close is either counted before it or refused: never counted after it." Votes whose
// World ID proofs are already in hand are submitted all at once while the poll's creator closes it. Every
// vote answered 201 is stored and counted, every other one is refused with poll_closed and left no trace
// (no vote row, no reward, no used nonce), and the count the close answered, the poll row and the webhook
// body all equal the number of votes stored. Votes sent after the close answered are all refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, prepareVote, submitPrepared, type PreparedVote } from "../scripts/lib/voter";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, mapLimit } from "./support/polls";
import { startReceiver, type Receiver } from "./support/webhook-receiver";

let service: LocalService;
let hook: Receiver;

beforeAll(async () => {
  hook = await startReceiver();
  service = await startLocalService({ WEBHOOK_DISPATCH_INTERVAL_MS: "100" });
});
afterAll(async () => {
  await service?.stop();
  await hook?.close();
});

const ROUNDS = 3;
const RACING = 24;
const AFTER = 6;

describe("closing a poll while votes arrive", () => {
  it("counts each vote before the close or refuses it, never after", async () => {
    const db = service.store.db;
    let acceptedTotal = 0;
    let refusedTotal = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const poll = await createPaidPoll(service, { maxResponses: 100, callbackUrl: hook.url }, round % 3);
      const prepared = await mapLimit(Array.from({ length: RACING + AFTER }, (_, i) => i), 8, async (i) => {
        const step = await prepareVote(service.url, { pollId: poll.id, optionId: poll.options[i % 2]!.id, human: `race-${round}-${i}` });
        if ("failed" in step) throw new Error(JSON.stringify(step.failed));
        return step.prepared;
      });
      const racing = prepared.slice(0, RACING);
      const after = prepared.slice(RACING);

      // Half the votes are on their way when the close is sent, the rest right behind it.
      const submit = (vote: PreparedVote) => submitPrepared(service.url, vote).then((answer) => ({ vote, answer }));
      const first = racing.slice(0, RACING / 2).map(submit);
      const closing = fetch(`${service.url}/api/v1/polls/${poll.id}/close`, { method: "POST", headers: { "x-read-token": poll.readToken } });
      const second = racing.slice(RACING / 2).map(submit);
      const [closeAnswer, ...answers] = await Promise.all([closing, ...first, ...second]);
      expect(closeAnswer.status).toBe(200);
      const closed = (await closeAnswer.json()) as { status: string; voteCount: number };
      expect(closed.status).toBe("closed");

      const accepted = answers.filter((a) => a.answer.status === 201);
      const refused = answers.filter((a) => a.answer.status !== 201);
      for (const { answer } of refused) {
        expect(answer.status).toBe(409);
        expect(errorCode(answer)).toBe("poll_closed");
      }
      // After the close answered: nothing gets in.
      const late = await Promise.all(after.map((vote) => submitPrepared(service.url, vote)));
      for (const answer of late) {
        expect(answer.status).toBe(409);
        expect(errorCode(answer)).toBe("poll_closed");
      }

      const row = await db.selectFrom("polls").selectAll().where("id", "=", poll.id).executeTakeFirstOrThrow();
      const votes = await db.selectFrom("votes").select(["id", "world_id_nonce"]).where("poll_id", "=", poll.id).execute();
      expect(row.status).toBe("closed");
      expect(votes).toHaveLength(accepted.length);
      expect(row.vote_count).toBe(accepted.length);
      expect(closed.voteCount).toBe(accepted.length);
      const storedNonces = new Set(votes.map((v) => v.world_id_nonce));
      for (const { vote } of accepted) expect(storedNonces.has(vote.request.nonce)).toBe(true);
      for (const vote of [...refused.map((r) => r.vote), ...after]) expect(storedNonces.has(vote.request.nonce)).toBe(false);
      const rewards = await db.selectFrom("reward_ledger").innerJoin("votes", "votes.id", "reward_ledger.vote_id").select("votes.id").where("votes.poll_id", "=", poll.id).execute();
      expect(rewards).toHaveLength(accepted.length);
      const options = await db.selectFrom("poll_options").select("vote_count").where("poll_id", "=", poll.id).execute();
      expect(options.reduce((sum, o) => sum + o.vote_count, 0)).toBe(accepted.length);

      // The webhook tells the creator exactly what was counted.
      const delivered = await expect
        .poll(() => hook.received.find((r) => (JSON.parse(r.rawBody) as { pollId: string }).pollId === poll.id), { timeout: 10_000 })
        .toBeDefined()
        .then(() => hook.received.find((r) => (JSON.parse(r.rawBody) as { pollId: string }).pollId === poll.id)!);
      expect(JSON.parse(delivered.rawBody)).toMatchObject({ pollId: poll.id, status: "closed", voteCount: accepted.length });

      acceptedTotal += accepted.length;
      refusedTotal += refused.length;
    }
    console.log(`racing votes over ${ROUNDS} closes: ${acceptedTotal} counted before the close, ${refusedTotal} refused after it`);
    expect(acceptedTotal + refusedTotal).toBe(ROUNDS * RACING);
  });
});
