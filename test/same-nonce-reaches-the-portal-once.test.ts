// A World ID request's nonce reaches the portal at most once. Before, a forged proof carrying a valid
// nonce could be sent again and again, each time costing a portal call: enough of them spend the
// portal's quota and turn real votes into 503s. The request is now spent (one conditional UPDATE) before
// the proof goes to the portal, so a replay — sequential or concurrent — is refused 409 nonce_used with
// no portal call. Only when the portal could not judge the proof is the request given back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCode, prepareVote, submitPrepared, type PreparedVote } from "../scripts/lib/voter";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";

let service: LocalService;
beforeAll(async () => {
  service = await startLocalService();
});
afterAll(async () => {
  await service?.stop();
});

const portalCalls = () => service.worldIdStandin!.requests.length;

async function prepared(poll: CreatedPoll, human: string): Promise<PreparedVote> {
  const step = await prepareVote(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human });
  if ("failed" in step) throw new Error(`prepare failed: ${step.failed.status} ${JSON.stringify(step.failed.body)}`);
  return step.prepared;
}

const votesOf = async (pollId: string) => (await service.store.db.selectFrom("votes").select("id").where("poll_id", "=", pollId).execute()).length;

function forged(vote: PreparedVote): PreparedVote {
  const proof = structuredClone(vote.proof) as { responses: { proof: string[] }[] };
  proof.responses[0]!.proof[1] = `0x${"34".repeat(32)}`;
  return { ...vote, proof: proof as never };
}

describe("one portal call per World ID request", () => {
  it("a replayed vote is refused without calling the portal again", async () => {
    const poll = await createPaidPoll(service);
    const vote = await prepared(poll, "replayer");
    const before = portalCalls();
    expect((await submitPrepared(service.url, vote)).status).toBe(201);
    expect(portalCalls()).toBe(before + 1);
    const replay = await submitPrepared(service.url, vote);
    expect(replay.status).toBe(409);
    expect(replay.body).toMatchObject({ error: { code: "nonce_used", param: "proof.nonce" } });
    expect(portalCalls()).toBe(before + 1);
    expect(await votesOf(poll.id)).toBe(1);
  });

  it("a forged proof with a valid nonce reaches the portal once, however often it is sent", async () => {
    const poll = await createPaidPoll(service);
    const vote = await prepared(poll, "forger");
    const before = portalCalls();
    const first = await submitPrepared(service.url, forged(vote));
    expect(first.status).toBe(401);
    expect(errorCode(first)).toBe("proof_rejected");
    expect(portalCalls()).toBe(before + 1);
    for (let i = 0; i < 5; i++) {
      const again = await submitPrepared(service.url, forged(vote));
      expect(again.status).toBe(409);
      expect(errorCode(again)).toBe("nonce_used");
    }
    // Not even the genuine proof for that request: it was spent on the forged one.
    expect(errorCode(await submitPrepared(service.url, vote))).toBe("nonce_used");
    expect(portalCalls()).toBe(before + 1);
    expect(await votesOf(poll.id)).toBe(0);
  });

  it("ten concurrent votes with one nonce make one portal call and one vote", async () => {
    const poll = await createPaidPoll(service);
    const vote = await prepared(poll, "racer");
    const before = portalCalls();
    const answers = await Promise.all(Array.from({ length: 10 }, () => submitPrepared(service.url, vote)));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status !== 201).map((a) => `${a.status} ${errorCode(a)}`)).toEqual(new Array(9).fill("409 nonce_used"));
    expect(portalCalls()).toBe(before + 1);
    expect(await votesOf(poll.id)).toBe(1);
  });

  it("gives the request back when the portal could not judge the proof (an outage), so the same vote can be sent again", async () => {
    const poll = await createPaidPoll(service);
    const vote = await prepared(poll, "patient");
    service.worldIdStandin!.setMode("error-503", { times: 1 });
    const down = await submitPrepared(service.url, vote);
    expect(down.status).toBe(503);
    expect(errorCode(down)).toBe("world_id_unavailable");
    const request = await service.store.db.selectFrom("world_id_requests").select("used_at").where("nonce", "=", vote.request.nonce).executeTakeFirstOrThrow();
    expect(request.used_at).toBeNull();
    expect(await votesOf(poll.id)).toBe(0);
    expect((await submitPrepared(service.url, vote)).status).toBe(201);
  });
});
