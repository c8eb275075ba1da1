// The World ID portal is called at most WORLD_ID_PORTAL_CALLS_PER_MINUTE times a minute, all votes
// together. Over the budget a vote is answered 503 world_id_unavailable with Retry-After, the portal is
// not called, nothing is written and the World ID request stays usable for the retry. A replayed nonce is
// refused before the budget is touched, so replays cannot spend it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";
import { createCallBudget } from "../src/voting/world-id-budget";
import { errorCode, prepareVote, submitPrepared, type PreparedVote } from "../scripts/lib/voter";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";

describe("the portal call budget", () => {
  it("grants calls up to the budget, then says when the minute ends", () => {
    let now = 1_000_000;
    const budget = createCallBudget(2, () => now);
    expect(budget.take()).toEqual({ granted: true });
    now += 10_000;
    expect(budget.take()).toEqual({ granted: true });
    expect(budget.take()).toEqual({ granted: false, retryAfterSeconds: 50 });
    now += 49_500;
    expect(budget.take()).toEqual({ granted: false, retryAfterSeconds: 1 });
    now += 500;
    expect(budget.take()).toEqual({ granted: true });
    expect(createCallBudget(0).take()).toEqual({ granted: true });
  });

  it("defaults to 1,200 a minute in production and to off in local mode (the stand-in has no quota)", () => {
    expect(loadConfig({ MODE: "production" }).worldId.portalCallsPerMinute).toBe(1_200);
    expect(loadConfig({ MODE: "local" }).worldId.portalCallsPerMinute).toBe(0);
    expect(loadConfig({ MODE: "local", WORLD_ID_PORTAL_CALLS_PER_MINUTE: "5" }).worldId.portalCallsPerMinute).toBe(5);
  });
});

describe("votes over the portal budget", () => {
  let service: LocalService;
  let poll: CreatedPoll;
  beforeAll(async () => {
    service = await startLocalService({ WORLD_ID_PORTAL_CALLS_PER_MINUTE: "2" });
    poll = await createPaidPoll(service);
  });
  afterAll(async () => {
    await service?.stop();
  });

  const portalCalls = () => service.worldIdStandin!.requests.length;
  async function prepared(human: string): Promise<PreparedVote> {
    const step = await prepareVote(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human });
    if ("failed" in step) throw new Error(`prepare failed: ${step.failed.status}`);
    return step.prepared;
  }

  it("are answered 503 with Retry-After, without a portal call, and write nothing", async () => {
    const [first, second, third] = [await prepared("h1"), await prepared("h2"), await prepared("h3")];
    const before = portalCalls();
    expect((await submitPrepared(service.url, first)).status).toBe(201);
    expect((await submitPrepared(service.url, second)).status).toBe(201);
    expect(portalCalls()).toBe(before + 2);

    const response = await fetch(`${service.url}/api/v1/polls/${poll.id}/votes`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ optionId: third.optionId, payoutAddress: third.payoutAddress, proof: third.proof }),
    });
    expect(response.status).toBe(503);
    const retryAfter = Number(response.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await response.json()).toEqual({
      error: {
        code: "world_id_unavailable",
        message: expect.stringContaining(`after ${retryAfter} s`),
        details: { reason: "portal_budget_exhausted", retryAfterSeconds: retryAfter },
      },
    });
    expect(portalCalls()).toBe(before + 2);
    const votes = await service.store.db.selectFrom("votes").select("id").where("poll_id", "=", poll.id).execute();
    expect(votes).toHaveLength(2);
    // The request was not spent: the same vote is welcome after Retry-After.
    const request = await service.store.db.selectFrom("world_id_requests").select("used_at").where("nonce", "=", third.request.nonce).executeTakeFirstOrThrow();
    expect(request.used_at).toBeNull();

    // A replay of a spent request is refused for what it is, and does not touch the budget or the portal.
    const replay = await submitPrepared(service.url, first);
    expect(replay.status).toBe(409);
    expect(errorCode(replay)).toBe("nonce_used");
    expect(portalCalls()).toBe(before + 2);
  });
});
