// Results and votes belong to the agent holding the poll's read token: sent as X-Read-Token or
// Authorization: Bearer. No token → 401, another poll's or a made-up token → 403, unknown or unsettled
// poll → 404.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { voteAsSimulatedHuman } from "../scripts/lib/voter";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";

let service: LocalService;
let poll: CreatedPoll;
let other: CreatedPoll;

beforeAll(async () => {
  service = await startLocalService();
  poll = await createPaidPoll(service);
  other = await createPaidPoll(service, {}, 1);
  expect((await voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: "reader-test" })).status).toBe(201);
});
afterAll(async () => {
  await service?.stop();
});

const endpoints = ["results", "votes"] as const;
const get = async (pollId: string, endpoint: string, headers: Record<string, string> = {}) => {
  const response = await fetch(`${service.url}/api/v1/polls/${pollId}/${endpoint}`, { headers });
  return { status: response.status, body: (await response.json()) as { error?: { code: string } } & Record<string, unknown> };
};

describe("read-token access to results and votes", () => {
  for (const endpoint of endpoints) {
    it(`${endpoint}: 200 with X-Read-Token or Authorization: Bearer`, async () => {
      const viaHeader = await get(poll.id, endpoint, { "X-Read-Token": poll.readToken });
      expect(viaHeader.status).toBe(200);
      const viaBearer = await get(poll.id, endpoint, { Authorization: `Bearer ${poll.readToken}` });
      expect(viaBearer.status).toBe(200);
      expect(viaBearer.body).toEqual(viaHeader.body);
      const upperCase = await get(poll.id, endpoint, { authorization: `bearer ${poll.readToken.toUpperCase()}` });
      expect(upperCase.status).toBe(200);
    });

    it(`${endpoint}: 401 without a token`, async () => {
      const attempts: Record<string, string>[] = [{}, { Authorization: "Bearer" }, { Authorization: `Basic ${poll.readToken}` }, { "X-Read-Token": "" }];
      for (const headers of attempts) {
        const { status, body } = await get(poll.id, endpoint, headers);
        expect(status).toBe(401);
        expect(body.error?.code).toBe("read_token_missing");
      }
    });

    it(`${endpoint}: 403 with another poll's token or a made-up one`, async () => {
      for (const token of [other.readToken, "00000000-0000-4000-8000-000000000000", "not-a-token"]) {
        const { status, body } = await get(poll.id, endpoint, { "X-Read-Token": token });
        expect(status).toBe(403);
        expect(body.error?.code).toBe("read_token_invalid");
      }
    });

    it(`${endpoint}: 404 for an unknown poll and for one whose payment never settled`, async () => {
      const unknown = await get("7d0c1f3e-0000-4000-8000-000000000000", endpoint, { "X-Read-Token": poll.readToken });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error?.code).toBe("poll_not_found");
      await service.store.db.updateTable("polls").set({ status: "pending_payment" }).where("id", "=", other.id).execute();
      try {
        const pending = await get(other.id, endpoint, { "X-Read-Token": other.readToken });
        expect(pending.status).toBe(404);
      } finally {
        await service.store.db.updateTable("polls").set({ status: "active" }).where("id", "=", other.id).execute();
      }
    });
  }

  it("results: counts, shares and 95% Wilson intervals per option", async () => {
    const { body } = await get(poll.id, "results", { "X-Read-Token": poll.readToken });
    expect(Object.keys(body)).toEqual(["pollId", "status", "voteCount", "maxResponses", "completedAt", "options", "demographics"]);
    expect(body).toMatchObject({ pollId: poll.id, status: "active", voteCount: 1, maxResponses: 100, completedAt: null });
    expect(body.options).toEqual([
      { id: poll.options[0]!.id, text: "Option A", count: 1, share: 1, ci95: [0.2065, 1] },
      { id: poll.options[1]!.id, text: "Option B", count: 0, share: 0, ci95: [0, 0.7935] },
    ]);
  });

  it("the public poll and the payer's list never show a read token", async () => {
    const pub = await fetch(`${service.url}/api/v1/polls/${poll.id}`);
    expect(await pub.text()).not.toContain(poll.readToken);
    const list = await fetch(`${service.url}/api/v1/polls?payer=${poll.payment.payer}`);
    expect(list.status).toBe(200);
    expect(await list.text()).not.toContain(poll.readToken);
  });
});
