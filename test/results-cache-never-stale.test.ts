// /results serves a document computed once per poll state (issue 8): the promise guarded here is that it
// is never stale — every accepted vote shows in the very next read, the token is checked on every
// request (a cached document is never a way around it), and one poll's document never answers another.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { voteAsSimulatedHuman } from "../scripts/lib/voter";
import { startLocalService, type LocalService } from "./support/harness";
import { createPaidPoll, type CreatedPoll } from "./support/polls";

interface Results {
  pollId: string;
  voteCount: number;
  options: { id: string; count: number; share: number }[];
  demographics: { country: { value: string; count: number }[] };
}

let service: LocalService;
let poll: CreatedPoll;
let other: CreatedPoll;

beforeAll(async () => {
  service = await startLocalService();
  poll = await createPaidPoll(service);
  other = await createPaidPoll(service, {}, 1);
});
afterAll(async () => {
  await service?.stop();
});

async function results(target: CreatedPoll, token = target.readToken): Promise<{ status: number; body: Results }> {
  const response = await fetch(`${service.url}/api/v1/polls/${target.id}/results`, { headers: { "x-read-token": token } });
  return { status: response.status, body: (await response.json()) as Results };
}

describe("results served from a per-state document", () => {
  it("show every accepted vote in the next read, option by option", async () => {
    const [first, second] = poll.options;
    expect((await results(poll)).body.voteCount).toBe(0);
    for (let i = 1; i <= 3; i++) {
      const option = i === 2 ? second! : first!;
      const vote = await voteAsSimulatedHuman(service.url, { pollId: poll.id, optionId: option.id, human: `fresh-${i}`, demographics: { country: "DE" } });
      expect(vote.status).toBe(201);
      // Read twice: the second read is the one a cache would answer.
      await results(poll);
      const { body } = await results(poll);
      expect(body.voteCount).toBe(i);
      expect(body.options.find((o) => o.id === first!.id)!.count).toBe(i === 1 ? 1 : i - 1);
      expect(body.options.find((o) => o.id === second!.id)!.count).toBe(i >= 2 ? 1 : 0);
      expect(body.demographics.country.find((b) => b.value === "DE")?.count).toBe(i);
    }
  });

  it("check the read token on every request, cached or not", async () => {
    expect((await results(poll)).status).toBe(200);
    expect((await results(poll, other.readToken)).status).toBe(403);
    const response = await fetch(`${service.url}/api/v1/polls/${poll.id}/results`);
    expect(response.status).toBe(401);
  });

  it("never answer one poll with another's document", async () => {
    const mine = await results(poll);
    const theirs = await results(other);
    expect(mine.body.pollId).toBe(poll.id);
    expect(theirs.body.pollId).toBe(other.id);
    expect(theirs.body.voteCount).toBe(0);
  });
});
