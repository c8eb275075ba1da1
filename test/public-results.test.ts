// `publicResults` (issue 4): results stay private by default, as the contract says. A poll created with
// `publicResults: true` answers GET /results without a read token (a presented token must still match);
// its votes stay token-only. The flag is in the create body (OpenAPI, bazaar schema) and the public poll.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { voteAsSimulatedHuman } from "../scripts/lib/voter";
import { startLocalService, pollBody, type LocalService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";

let service: LocalService;
let privatePoll: CreatedPoll;
let publicPoll: CreatedPoll;

beforeAll(async () => {
  service = await startLocalService();
  privatePoll = await createPaidPoll(service, { question: "Private by default?" });
  publicPoll = await createPaidPoll(service, { question: "Public results?", publicResults: true });
  for (const [i, poll] of [privatePoll, publicPoll].entries()) {
    const vote = await voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: poll.options[0]!.id, human: `public-results-${i}` });
    expect(vote.status).toBe(201);
  }
});
afterAll(async () => {
  await service?.stop();
});

const get = async (path: string, headers: Record<string, string> = {}) => {
  const response = await fetch(`${service.url}${path}`, { headers });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
};

describe("publicResults", () => {
  it("is false by default and shown in the public poll metadata", async () => {
    expect((await get(`/api/v1/polls/${privatePoll.id}`)).body.publicResults).toBe(false);
    expect((await get(`/api/v1/polls/${publicPoll.id}`)).body.publicResults).toBe(true);
    const row = await service.store.db.selectFrom("polls").select(["id", "public_results"]).where("id", "in", [privatePoll.id, publicPoll.id]).execute();
    expect(Object.fromEntries(row.map((r) => [r.id, r.public_results]))).toEqual({ [privatePoll.id]: 0, [publicPoll.id]: 1 });
  });

  it("private poll: results need the read token (401 without, 403 with another poll's)", async () => {
    const none = await get(`/api/v1/polls/${privatePoll.id}/results`);
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe("read_token_missing");
    expect(JSON.stringify(none.body)).not.toContain("voteCount");
    expect((await get(`/api/v1/polls/${privatePoll.id}/results`, { "x-read-token": publicPoll.readToken })).status).toBe(403);
    const owner = await get(`/api/v1/polls/${privatePoll.id}/results`, { "x-read-token": privatePoll.readToken });
    expect(owner.status).toBe(200);
    expect(owner.body.voteCount).toBe(1);
  });

  it("public poll: aggregate results without a token; a wrong token is still refused; votes stay token-only", async () => {
    const anyone = await get(`/api/v1/polls/${publicPoll.id}/results`);
    expect(anyone.status).toBe(200);
    expect(anyone.body).toMatchObject({ pollId: publicPoll.id, voteCount: 1, status: "active" });
    expect(anyone.body.options).toHaveLength(2);
    const owner = await get(`/api/v1/polls/${publicPoll.id}/results`, { authorization: `Bearer ${publicPoll.readToken}` });
    expect(owner.body).toEqual(anyone.body);
    expect((await get(`/api/v1/polls/${publicPoll.id}/results`, { "x-read-token": privatePoll.readToken })).status).toBe(403);
    const votes = await get(`/api/v1/polls/${publicPoll.id}/votes`);
    expect(votes.status).toBe(401);
    expect((await get(`/api/v1/polls/${publicPoll.id}/deliveries`)).status).toBe(401);
  });

  it("is validated as a boolean before any payment challenge, and is declared in OpenAPI and the bazaar schema", async () => {
    const invalid = await fetch(`${service.url}/api/v1/polls`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(pollBody({ publicResults: "yes" })),
    });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get("payment-required")).toBeNull();
    expect(((await invalid.json()) as { error: { param: string } }).error.param).toBe("publicResults");

    const challenge = await fetch(`${service.url}/api/v1/polls`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(pollBody({ publicResults: true })),
    });
    expect(challenge.status).toBe(402);
    const required = JSON.parse(Buffer.from(challenge.headers.get("payment-required")!, "base64").toString("utf8"));
    expect(JSON.stringify(required.extensions.bazaar)).toContain('"publicResults"');

    const openapi = (await get("/openapi.json")).body;
    expect(openapi.components.schemas.CreatePollRequest.properties.publicResults).toMatchObject({ type: "boolean" });
    expect(openapi.components.schemas.Poll.properties.publicResults).toMatchObject({ type: "boolean" });
  });
});
