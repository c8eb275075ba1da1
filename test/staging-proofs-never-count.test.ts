// A proof from another World ID environment (staging: the simulator, no human behind it) is refused
// before the portal is asked, whatever the portal would say. Found by the fuzz suite.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareVote, submitPrepared } from "../scripts/lib/voter";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll } from "./support/polls";

let service: LocalService;
beforeAll(async () => {
  service = await startLocalService();
});
afterAll(async () => {
  await service?.stop();
});

describe("World ID environment", () => {
  it("refuses a staging proof in a production-environment deployment, and records nothing", async () => {
    const poll = await createPaidPoll(service);
    const step = await prepareVote(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: "staging-human" });
    if (!("prepared" in step)) throw new Error("could not prepare a vote");
    const prepared = { ...step.prepared, proof: { ...step.prepared.proof, environment: "staging" } };
    const answer = await submitPrepared(service.url, prepared);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: "invalid_proof", param: "proof.environment" } });
    const votes = await service.store.db.selectFrom("votes").selectAll().execute();
    expect(votes).toHaveLength(0);
    // The untouched proof still works: the refusal was about the environment alone.
    expect((await submitPrepared(service.url, step.prepared)).status).toBe(201);
  });
});
